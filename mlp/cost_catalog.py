"""Which resource types the estimate prices, and why every other type is not estimated.

The table is data: a type that is not in it (a new component's Lambda function, ECR repository, MLflow
tracking server, feature group, ...) is listed under "not estimated" with `NO_PRICE_SOURCE`, so a new
resource type can never vanish from `mlp cost`. To price a type, add its price to mlp/data/prices.json and
its estimator to mlp/cost_estimate.py, then mark it `ESTIMATED` here.

Resources made through Cloud Control (`aws:cloudcontrol/resource:Resource`) are looked up by the
CloudFormation type they create (`typeName`, e.g. AWS::SageMaker::ModelQualityJobDefinition).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ESTIMATED = "estimated"
USAGE_BASED = "usage-based"
NO_CHARGE_OF_ITS_OWN = "no bill line of its own"
CLUSTER = "billed with the cluster"
NO_PRICE_SOURCE = "no price source"

STATUSES = (ESTIMATED, NO_PRICE_SOURCE, USAGE_BASED, NO_CHARGE_OF_ITS_OWN, CLUSTER)
"""In the order `mlp cost` lists them: what still needs a price first."""

CLOUD_CONTROL = "aws:cloudcontrol/resource:Resource"


@dataclass(frozen=True)
class Coverage:
    status: str
    reason: str


_SETTING = Coverage(NO_CHARGE_OF_ITS_OWN, "a setting of another resource")
_CLUSTER = Coverage(CLUSTER, "runs on the cluster's nodes (Kubecost/OpenCost read its labels)")

CATALOG: Mapping[str, Coverage] = {
    # Priced by mlp/cost_estimate.py.
    "aws:sagemaker/endpoint:Endpoint": Coverage(ESTIMATED, "its configuration's variants, per instance-hour"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": Coverage(ESTIMATED, "with the endpoint using it"),
    "aws:sagemaker/pipeline:Pipeline": Coverage(ESTIMATED, "training and processing steps x scheduled runs"),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": Coverage(ESTIMATED, "executions x processing hours"),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": Coverage(
        ESTIMATED, "priced through the monitoring schedule that runs it"
    ),
    "AWS::SageMaker::ModelQualityJobDefinition": Coverage(ESTIMATED, "priced through its monitoring schedule"),
    "aws:kms/key:Key": Coverage(ESTIMATED, "key-month fee"),
    # Prices from the AmazonCloudWatch offer file (mlp/price_list.py); the per-account free tier is not subtracted.
    "aws:cloudwatch/metricAlarm:MetricAlarm": Coverage(ESTIMATED, "alarm metrics x the standard-resolution month"),
    "aws:cloudwatch/dashboard:Dashboard": Coverage(ESTIMATED, "dashboard-month fee"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": Coverage(
        NO_PRICE_SOURCE, "a composite alarm has its own price (CompositeAlarmMonitorUsage), not read yet"
    ),
    # Usage-based: the plan cannot know the usage.
    "aws:s3/bucket:Bucket": Coverage(USAGE_BASED, "storage, requests and transfer; depends on the data kept"),
    "aws:sns/topic:Topic": Coverage(USAGE_BASED, "per notification delivered"),
    "aws:scheduler/schedule:Schedule": Coverage(USAGE_BASED, "per invocation; no sourced price"),
    "aws:sfn/stateMachine:StateMachine": Coverage(
        USAGE_BASED, "per state transition (a sourced price exists), but executions follow approvals, not a schedule"
    ),
    "aws:cloudwatch/eventRule:EventRule": Coverage(USAGE_BASED, "per event; no sourced price"),
    "aws:cloudwatch/eventTarget:EventTarget": _SETTING,
    "aws:cloudwatch/eventApiDestination:EventApiDestination": Coverage(USAGE_BASED, "per call; no sourced price"),
    "aws:cloudwatch/eventConnection:EventConnection": _SETTING,
    "aws:sagemaker/model:Model": Coverage(NO_CHARGE_OF_ITS_OWN, "billed as the endpoint instances serving it"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": Coverage(USAGE_BASED, "its artifacts' S3 storage"),
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": _SETTING,
    # Who may use the MLflow tracking server from another account (components/mlflow.py).
    "aws:ram/resourceShare:ResourceShare": _SETTING,
    "aws:ram/resourceAssociation:ResourceAssociation": _SETTING,
    "aws:ram/principalAssociation:PrincipalAssociation": _SETTING,
    # Fixed charges without a price we could source.
    "aws:budgets/budget:Budget": Coverage(NO_PRICE_SOURCE, "AWS Budgets price not sourced"),
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": Coverage(NO_PRICE_SOURCE, "not sourced"),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": _SETTING,
    "aws:costexplorer/costAllocationTag:CostAllocationTag": _SETTING,
    # Settings of other resources.
    "aws:iam/role:Role": _SETTING,
    "aws:iam/rolePolicy:RolePolicy": _SETTING,
    "aws:iam/policy:Policy": _SETTING,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _SETTING,
    "aws:kms/alias:Alias": _SETTING,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _SETTING,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _SETTING,
    "aws:s3/bucketPolicy:BucketPolicy": _SETTING,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _SETTING,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _SETTING,
    "aws:s3/bucketVersioning:BucketVersioning": _SETTING,
    "aws:sns/topicPolicy:TopicPolicy": _SETTING,
    "aws:sns/topicSubscription:TopicSubscription": Coverage(USAGE_BASED, "per notification delivered"),
    "aws:appautoscaling/target:Target": Coverage(ESTIMATED, "sets the endpoint variant's min..max instances"),
    # Alert triage (components/triage.py): billed per use, which follows the alarms that fire.
    "aws:lambda/function:Function": Coverage(USAGE_BASED, "per request and GB-second; runs once per alarm that fires"),
    "aws:lambda/permission:Permission": _SETTING,
    "aws:cloudwatch/logGroup:LogGroup": Coverage(USAGE_BASED, "per GB ingested and stored, until its retention"),
    "aws:dynamodb/table:Table": Coverage(USAGE_BASED, "on-demand: per request and GB stored (the hourly call counter)"),
    "aws:bedrock/guardrail:Guardrail": Coverage(USAGE_BASED, "per text unit assessed; only with triage.llm"),
    "aws:bedrock/guardrailVersion:GuardrailVersion": _SETTING,
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration": Coverage(
        NO_CHARGE_OF_ITS_OWN, "the logs are billed as the audit bucket's storage"
    ),
    # Feature store (components/features.py).
    "aws:sagemaker/featureGroup:FeatureGroup": Coverage(
        USAGE_BASED, "online store per read/write and GB-month, offline store as S3 storage; follows ingestion volume"
    ),
    "aws:glue/catalogDatabase:CatalogDatabase": Coverage(USAGE_BASED, "Data Catalog objects and requests"),
    "aws:s3/bucketObjectv2:BucketObjectv2": Coverage(NO_CHARGE_OF_ITS_OWN, "a job script, stored in its bucket"),
    "aws:appautoscaling/policy:Policy": _SETTING,
    "aws:appautoscaling/scheduledAction:ScheduledAction": _SETTING,
}
"""Status and reason per type token (or Cloud Control typeName)."""

DEFAULT = Coverage(NO_PRICE_SOURCE, "no price source for this resource type yet")


def type_of(resource: Mapping[str, Any]) -> str:
    """The type the catalog knows a resource by: its type token, or the CloudFormation type Cloud Control makes."""
    type_ = str(resource.get("type", ""))
    if type_ == CLOUD_CONTROL:
        name = (resource.get("inputs") or {}).get("typeName")
        if isinstance(name, str) and name:
            return name
    return type_


def coverage(type_: str) -> Coverage:
    if type_.startswith("kubernetes:"):
        return _CLUSTER
    return CATALOG.get(type_, DEFAULT)
