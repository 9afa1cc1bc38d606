"""Realistic resources as the plan document has them, to break one field at a time.

Inputs use the engine's camelCase names of pulumi-aws 7 (see each type's `_internal_init`). The endpoint,
pipeline, registry and budget resources mirror what the serving, pipelines, registry and FinOps components
(issues 3, 4, 5) create, so the rules are exercised before those components land.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from typing import Any

from components.tagging import MANAGED_BY
from policies.rules.base import Resource, Rule

STACK = "prod"
ACCOUNT = "630417952386"
REGION = "eu-west-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b7c2f3e-51a4-4d7e-9f0a-3c2d1e0f9a8b"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/prod-fraud-scoring-sagemaker"
PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:418295730164:model-package/fraud-scoring/12"
CAPTURE_BUCKET = f"mlp-prod-capture-{ACCOUNT}-{REGION}"
ALARM_NAME = "prod-fraud-scoring-5xx"
VPC = {"SecurityGroupIds": ["sg-0f1e2d3c4b5a69701"], "Subnets": ["subnet-0f1e2d3c4b5a69791"]}

Res = dict[str, Any]


def cost_tags(team: str = "fraud", **extra: str) -> dict[str, str]:
    return {
        "environment": STACK,
        "team": team,
        "cost-center": "CC-4100",
        "managed-by": MANAGED_BY,
        "repository": "payments-co/ml-platform",
        **extra,
    }


def resource(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    *,
    protect: bool = False,
    dependencies: Iterable[str] = (),
    custom: bool = True,
) -> Res:
    return {
        "urn": f"urn:pulumi:{STACK}::ml-platform::{type_}::{name}",
        "type": type_,
        "name": name,
        "parent": None,
        "custom": custom,
        "protect": protect,
        "dependencies": list(dependencies),
        "inputs": inputs,
    }


def bucket(name: str, physical: str, *, protect: bool = True) -> Res:
    return resource("aws:s3/bucket:Bucket", name, {"bucket": physical, "tags": cost_tags()}, protect=protect)


def bucket_encryption(of: Res) -> Res:
    return resource(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        f"{of['name']}-encryption",
        {
            "bucket": of["inputs"]["bucket"],
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {"kmsMasterKeyId": KEY_ARN, "sseAlgorithm": "aws:kms"},
                    "bucketKeyEnabled": True,
                }
            ],
        },
        dependencies=[of["urn"]],
    )


def public_access_block(of: Res) -> Res:
    return resource(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        f"{of['name']}-public-access",
        {
            "bucket": of["inputs"]["bucket"],
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        dependencies=[of["urn"]],
    )


def tls_only_policy(of: Res) -> Res:
    arn = f"arn:aws:s3:::{of['inputs']['bucket']}"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    return resource(
        "aws:s3/bucketPolicy:BucketPolicy",
        f"{of['name']}-tls-only",
        {"bucket": of["inputs"]["bucket"], "policy": json.dumps(document)},
        dependencies=[of["urn"]],
    )


def capture_lifecycle(of: Res, prefix: str = "data-capture/", days: int = 30) -> Res:
    return resource(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        f"{of['name']}-lifecycle",
        {
            "bucket": of["inputs"]["bucket"],
            "rules": [
                {
                    "id": "expire-captured-payloads",
                    "status": "Enabled",
                    "filter": {"prefix": prefix},
                    "expiration": {"days": days},
                }
            ],
        },
        dependencies=[of["urn"]],
    )


def private_bucket(name: str, physical: str) -> list[Res]:
    """A bucket with everything the storage and encryption rules ask for."""
    b = bucket(name, physical)
    return [b, bucket_encryption(b), public_access_block(b), tls_only_policy(b)]


def kms_key() -> Res:
    return resource(
        "aws:kms/key:Key",
        "prod-foundation-key",
        {"enableKeyRotation": True, "deletionWindowInDays": 30, "tags": cost_tags("platform")},
        protect=True,
    )


def topic() -> Res:
    return resource(
        "aws:sns/topic:Topic",
        "prod-fraud-alerts",
        {"name": "prod-fraud-alerts", "kmsMasterKeyId": KEY_ARN, "tags": cost_tags()},
    )


def model() -> Res:
    return resource(
        "aws:sagemaker/model:Model",
        "prod-fraud-scoring-model",
        {
            "executionRoleArn": ROLE_ARN,
            "enableNetworkIsolation": True,
            "containers": [{"modelPackageName": PACKAGE_ARN}],
            "vpcConfig": {"securityGroupIds": VPC["SecurityGroupIds"], "subnets": VPC["Subnets"]},
            "tags": cost_tags(model="fraud-scoring"),
        },
    )


def endpoint_config(instance_type: str = "ml.c5.2xlarge") -> Res:
    return resource(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "prod-fraud-scoring-config",
        {
            "kmsKeyArn": KEY_ARN,
            "productionVariants": [
                {
                    "variantName": "AllTraffic",
                    "modelName": "prod-fraud-scoring-model",
                    "initialInstanceCount": 4,
                    "instanceType": instance_type,
                }
            ],
            "dataCaptureConfig": {
                "enableCapture": True,
                "initialSamplingPercentage": 20,
                "destinationS3Uri": f"s3://{CAPTURE_BUCKET}/data-capture/fraud-scoring",
                "kmsKeyId": KEY_ARN,
                "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
            },
            "tags": cost_tags(model="fraud-scoring"),
        },
    )


def alarm(name: str = ALARM_NAME) -> Res:
    return resource(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        name,
        {
            "name": name,
            "namespace": "AWS/SageMaker",
            "metricName": "Invocation5XXErrors",
            "statistic": "Sum",
            "period": 60,
            "evaluationPeriods": 2,
            "threshold": 1,
            "comparisonOperator": "GreaterThanOrEqualToThreshold",
            "dimensions": {"EndpointName": "prod-fraud-scoring", "VariantName": "AllTraffic"},
            "tags": cost_tags(model="fraud-scoring"),
        },
    )


def endpoint(routing: str = "CANARY", alarms: Sequence[str] = (ALARM_NAME,)) -> Res:
    return resource(
        "aws:sagemaker/endpoint:Endpoint",
        "prod-fraud-scoring",
        {
            "name": "prod-fraud-scoring",
            "endpointConfigName": "prod-fraud-scoring-config",
            "deploymentConfig": {
                "blueGreenUpdatePolicy": {
                    "trafficRoutingConfiguration": {
                        "type": routing,
                        "waitIntervalInSeconds": 600,
                        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
                    },
                    "terminationWaitInSeconds": 300,
                },
                "autoRollbackConfiguration": {"alarms": [{"alarmName": a} for a in alarms]},
            },
            "tags": cost_tags(model="fraud-scoring"),
        },
    )


def training_step(**overrides: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/xgb:1.7-1",
                "TrainingInputMode": "File",
            },
            "ResourceConfig": {
                "InstanceType": "ml.m5.4xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
                "VolumeKmsKeyId": KEY_ARN,
            },
            "OutputDataConfig": {"S3OutputPath": "s3://mlp-prod-artifacts/fraud-scoring/models", "KmsKeyId": KEY_ARN},
            "RoleArn": ROLE_ARN,
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "VpcConfig": VPC,
        },
    }
    step["Arguments"].update(overrides)
    return step


def processing_step(**overrides: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "Name": "Evaluate",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": "ml.m5.xlarge",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                    "VolumeKmsKeyId": KEY_ARN,
                }
            },
            "ProcessingOutputConfig": {"Outputs": [], "KmsKeyId": KEY_ARN},
            "AppSpecification": {"ImageUri": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sklearn:1.2-1"},
            "RoleArn": ROLE_ARN,
            "NetworkConfig": {"VpcConfig": VPC, "EnableNetworkIsolation": True},
        },
    }
    step["Arguments"].update(overrides)
    return step


def pipeline(steps: Sequence[dict[str, Any]] | None = None) -> Res:
    definition = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": list(steps) if steps is not None else [processing_step(), training_step()],
    }
    return resource(
        "aws:sagemaker/pipeline:Pipeline",
        "prod-fraud-scoring-training",
        {
            "pipelineName": "prod-fraud-scoring-training",
            "pipelineDisplayName": "prod-fraud-scoring-training",
            "roleArn": ROLE_ARN,
            "pipelineDefinition": json.dumps(definition),
            "tags": cost_tags(model="fraud-scoring"),
        },
    )


def model_package_group(*, protect: bool = True) -> Res:
    return resource(
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
        "dev-fraud-scoring-registry",
        {"modelPackageGroupName": "fraud-scoring", "tags": cost_tags(model="fraud-scoring")},
        protect=protect,
    )


def iam_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def scoped_statement() -> dict[str, Any]:
    return {
        "Sid": "ReadWriteArtifacts",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": ["arn:aws:s3:::mlp-prod-artifacts/*"],
    }


def role(*statements: dict[str, Any]) -> Res:
    return resource(
        "aws:iam/role:Role",
        "prod-fraud-scoring-sagemaker",
        {
            "assumeRolePolicy": iam_document(
                {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ),
            "inlinePolicies": [{"name": "artifacts", "policy": iam_document(*(statements or (scoped_statement(),)))}],
            "tags": cost_tags(),
        },
    )


def role_policy(*statements: dict[str, Any]) -> Res:
    return resource(
        "aws:iam/rolePolicy:RolePolicy",
        "prod-fraud-scoring-pipeline",
        {"role": "prod-fraud-scoring-sagemaker", "policy": iam_document(*statements)},
    )


def managed_policy(*statements: dict[str, Any]) -> Res:
    return resource(
        "aws:iam/policy:Policy", "prod-fraud-scoring-deploy", {"policy": iam_document(*statements), "tags": cost_tags()}
    )


def budget(name: str, team: str | None = None) -> Res:
    inputs: dict[str, Any] = {
        "name": name,
        "budgetType": "COST",
        "limitAmount": "22000",
        "limitUnit": "USD",
        "timeUnit": "MONTHLY",
        "tags": cost_tags(team or "platform"),
    }
    if team:
        inputs["costFilters"] = [{"name": "TagKeyValue", "values": [f"user:team${team}"]}]
    return resource("aws:budgets/budget:Budget", name, inputs)


def compliant_stack() -> list[Res]:
    """A production-shaped stack that breaks no rule."""
    capture = bucket("prod-fraud-scoring-capture", CAPTURE_BUCKET)
    return [
        kms_key(),
        *private_bucket("prod-foundation-artifacts", f"mlp-prod-artifacts-{ACCOUNT}-{REGION}"),
        capture,
        bucket_encryption(capture),
        public_access_block(capture),
        tls_only_policy(capture),
        capture_lifecycle(capture),
        topic(),
        model(),
        endpoint_config(),
        alarm(),
        endpoint(),
        pipeline(),
        model_package_group(),
        role(),
        budget("prod-environment"),
        budget("prod-fraud", "fraud"),
    ]


ALLOWED = {"allowedInstanceTypes": ["ml.c5.2xlarge", "ml.m5.xlarge", "ml.m5.4xlarge"]}


def messages(rule: Rule, resources: Sequence[Resource], config: dict[str, Any] | None = None) -> list[str]:
    """The rule's messages over the resources, each prefixed with the resource's name (or `stack`)."""
    return [f"{r['name'] if r is not None else 'stack'}: {m}" for r, m in rule.run(resources, config or {})]


def changed(r: Res, *path: str | int, value: Any = None, delete: bool = False) -> Res:
    """A copy of r with inputs[path] set to value (or deleted)."""
    out = copy.deepcopy(r)
    node: Any = out["inputs"]
    for step in path[:-1]:
        node = node[step]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def replace(stack: list[Res], new: Res) -> list[Res]:
    """The stack with the resource of the same name replaced."""
    return [new if r["name"] == new["name"] and r["type"] == new["type"] else r for r in stack]
