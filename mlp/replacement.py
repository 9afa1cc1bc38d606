"""Which input properties force the replacement of a resource, for the types our components create.

pulumi-aws is bridged from the Terraform AWS provider: a property marked `ForceNew: true` in the provider's
schema is one a change of which replaces the resource (Pulumi shows `+-`); the installed pulumi_aws package
ships no schema (only pulumi-plugin.json), so the table below is kept by hand from the provider's source,
`internal/service/<service>/<resource>.go` in hashicorp/terraform-provider-aws. Read 2026-11-30:
sagemaker/model.go (every argument but tags is ForceNew, nested container fields included) and
sagemaker/endpoint.go (`name` and `deployment_config.auto_rollback_configuration` are ForceNew;
`endpoint_config_name` and the rest of `deployment_config` update in place through UpdateEndpoint). The
other rows restate the "Forces new resource" notes of the provider's resource documentation, not re-read
today: check them there before relying on a row for a risky change.

Paths are the engine's camelCase input names, dotted into nested objects; a changed field forces replacement
when its path starts with one of its type's paths. Kubernetes objects are replaced when their name or
namespace changes (the Kubernetes provider cannot rename an object).
"""

from __future__ import annotations

EVERYTHING_BUT_TAGS = ("*",)
"""Marker: every input except tags forces replacement (resources AWS cannot update at all)."""

REPLACED_BY: dict[str, tuple[str, ...]] = {
    # SageMaker: models and endpoint configurations cannot be updated (there is no UpdateModel or
    # UpdateEndpointConfig API), which is why a version bump makes new ones.
    "aws:sagemaker/model:Model": EVERYTHING_BUT_TAGS,
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": EVERYTHING_BUT_TAGS,
    "aws:sagemaker/endpoint:Endpoint": ("name", "deploymentConfig.autoRollbackConfiguration"),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": EVERYTHING_BUT_TAGS,
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": ("name",),
    "aws:sagemaker/pipeline:Pipeline": ("pipelineName",),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("modelPackageGroupName", "modelPackageGroupDescription"),
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": ("modelPackageGroupName",),
    # S3: a bucket's name; every bucket sub-resource is keyed by its bucket.
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", "objectLockEnabled"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("bucket", "expectedBucketOwner"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("bucket",),
    "aws:s3/bucketPolicy:BucketPolicy": ("bucket",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("bucket",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "bucket",
        "expectedBucketOwner",
    ),
    "aws:s3/bucketVersioning:BucketVersioning": ("bucket", "expectedBucketOwner"),
    # IAM, KMS, SNS, CloudWatch, EventBridge, Step Functions, Scheduler, budgets.
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
    "aws:kms/alias:Alias": ("name", "namePrefix"),
    "aws:sns/topic:Topic": ("name", "namePrefix", "fifoTopic"),
    "aws:sns/topicPolicy:TopicPolicy": ("arn",),
    "aws:sns/topicSubscription:TopicSubscription": ("topic", "protocol", "endpoint"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name",),
    "aws:cloudwatch/dashboard:Dashboard": ("dashboardName",),
    "aws:cloudwatch/eventRule:EventRule": ("name", "namePrefix", "eventBusName"),
    "aws:cloudwatch/eventTarget:EventTarget": ("rule", "targetId", "eventBusName"),
    "aws:cloudwatch/eventConnection:EventConnection": ("name",),
    "aws:cloudwatch/eventApiDestination:EventApiDestination": ("name",),
    "aws:sfn/stateMachine:StateMachine": ("name", "namePrefix", "type"),
    "aws:scheduler/schedule:Schedule": ("name", "namePrefix", "groupName"),
    "aws:budgets/budget:Budget": ("name", "namePrefix", "accountId"),
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": ("monitorType", "monitorDimension"),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": ("accountId",),
    "aws:appautoscaling/target:Target": ("resourceId", "scalableDimension", "serviceNamespace"),
    "aws:appautoscaling/policy:Policy": ("name", "resourceId", "scalableDimension", "serviceNamespace"),
    "aws:appautoscaling/scheduledAction:ScheduledAction": (
        "name",
        "resourceId",
        "scalableDimension",
        "serviceNamespace",
    ),
    "aws:cloudcontrol/resource:Resource": ("typeName",),
    # Providers: a provider's region or account change replaces what it manages, and the provider itself.
    "pulumi:providers:aws": ("region",),
}

KUBERNETES_IDENTITY = ("metadata.name", "metadata.namespace", "apiVersion", "kind")


def forces_replacement(type_: str, path: str) -> bool:
    """Whether a change of the input at `path` (dotted camelCase) replaces a resource of `type_`."""
    if type_.startswith("kubernetes:"):
        wanted: tuple[str, ...] = KUBERNETES_IDENTITY
    else:
        wanted = REPLACED_BY.get(type_, ())
    if wanted == EVERYTHING_BUT_TAGS:
        return path.split(".", 1)[0] not in ("tags", "tagsAll")
    return any(path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in wanted)
