"""Security: data at rest is encrypted with a customer-managed KMS key, and KMS keys rotate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.rules.base import (
    Resource,
    RuleConfig,
    StackFinding,
    dig,
    inputs,
    known,
    of_type,
    related,
    resource_rule,
    stack_rule,
)
from policies.rules.pipelines import pipeline_definition, resolve, steps

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
TOPIC = "aws:sns/topic:Topic"
KMS_KEY = "aws:kms/key:Key"
FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
SCHEDULE = "aws:scheduler/schedule:Schedule"

# "The alias/aws/ prefix is reserved for AWS managed key[s]": those are not customer-managed, so their policy
# and rotation are not ours to control.
# https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html (read 2026-11-25)
AWS_MANAGED_ALIAS_PREFIX = "alias/aws/"


def customer_key(value: Any) -> bool:
    """A key reference that is set and is not an AWS-managed key (unknown until apply counts as set)."""
    if isinstance(value, Mapping):
        return bool(value)  # a pipeline expression (e.g. Std:Join), resolved when the pipeline runs
    if not isinstance(value, str) or not value.strip():
        return False
    return not known(value) or AWS_MANAGED_ALIAS_PREFIX not in value


@resource_rule(
    "endpoint-config-encrypted",
    "SageMaker endpoint configurations encrypt their volumes and captured data with a customer-managed KMS key.",
)
def endpoint_config_encrypted(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != ENDPOINT_CONFIG:
        return []
    found = []
    if not customer_key(inputs(r).get("kmsKeyArn")):
        found.append("kmsKeyArn is not a customer-managed key: set kms_key_arn to the environment key")
    capture = inputs(r).get("dataCaptureConfig")
    if isinstance(capture, Mapping) and not customer_key(capture.get("kmsKeyId")):
        found.append(
            "dataCaptureConfig.kmsKeyId is not a customer-managed key: set data_capture_config.kms_key_id "
            "to the environment key"
        )
    return found


@stack_rule(
    "bucket-encrypted",
    "Every S3 bucket has default encryption with aws:kms and a customer-managed key.",
)
def bucket_encrypted(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    found: list[StackFinding] = []
    configs = of_type(resources, BUCKET_SSE)
    for bucket in of_type(resources, BUCKET):
        mine = [c for c in configs if related(bucket, c)]
        rules = [rule for c in mine for rule in (inputs(c).get("rules") or []) if isinstance(rule, Mapping)]
        by_default = [dig(rule, "applyServerSideEncryptionByDefault") or {} for rule in rules]
        if not any(
            str(d.get("sseAlgorithm", "")).startswith("aws:kms") and customer_key(d.get("kmsMasterKeyId"))
            for d in by_default
        ):
            found.append(
                (
                    bucket,
                    "no default encryption with aws:kms and a customer-managed key: add a "
                    "BucketServerSideEncryptionConfiguration with sse_algorithm aws:kms and kms_master_key_id "
                    "set to the environment key",
                )
            )
    return found


# Where each pipeline step type keeps its volume and output keys (SageMaker API request shapes):
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateProcessingJob.html
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html (read 2026-11-25)
STEP_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Training": (("ResourceConfig", "VolumeKmsKeyId"), ("OutputDataConfig", "KmsKeyId")),
    "Processing": (
        ("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"),
        ("ProcessingOutputConfig", "KmsKeyId"),
    ),
    "Transform": (("TransformResources", "VolumeKmsKeyId"), ("TransformOutput", "KmsKeyId")),
}


@resource_rule(
    "pipeline-encrypted",
    "SageMaker pipeline steps encrypt their volumes and outputs with a customer-managed KMS key.",
)
def pipeline_encrypted(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != PIPELINE:
        return []
    found = []
    definition = pipeline_definition(r)
    if definition is None:
        return []  # unknown until apply, or not inline: pipeline-definition-inline reports that
    for step in steps(definition):
        for path in STEP_KEYS.get(str(step.get("Type")), ()):
            if not customer_key(resolve(definition, dig(step, "Arguments", *path))):
                found.append(f"step {step.get('Name')!r} has no {'.'.join(path)}: encrypt it with the environment key")
    return found


@resource_rule("topic-encrypted", "SNS topics encrypt messages with a customer-managed KMS key.")
def topic_encrypted(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != TOPIC or customer_key(inputs(r).get("kmsMasterKeyId")):
        return []
    return ["kmsMasterKeyId is not a customer-managed key: set kms_master_key_id to the environment key"]


@resource_rule(
    "feature-group-encrypted",
    "Feature Store groups encrypt their online store and their offline store with a customer-managed KMS key.",
)
def feature_group_encrypted(r: Resource, _config: RuleConfig) -> list[str]:
    # OnlineStoreConfig.SecurityConfig.KmsKeyId and OfflineStoreConfig.S3StorageConfig.KmsKeyId
    # (CreateFeatureGroup, botocore sagemaker service-2.json, read 2026-11-30).
    if r.get("type") != FEATURE_GROUP:
        return []
    found = []
    online = inputs(r).get("onlineStoreConfig")
    if (
        isinstance(online, Mapping)
        and online.get("enableOnlineStore")
        and not customer_key(dig(online, "securityConfig", "kmsKeyId"))
    ):
        found.append(
            "the online store has no customer-managed key: set online_store_config.security_config.kms_key_id "
            "to the environment key"
        )
    offline = inputs(r).get("offlineStoreConfig")
    if isinstance(offline, Mapping) and not customer_key(dig(offline, "s3StorageConfig", "kmsKeyId")):
        found.append(
            "the offline store has no customer-managed key: set offline_store_config.s3_storage_config.kms_key_id "
            "to the environment key"
        )
    return found


@resource_rule(
    "schedule-encrypted",
    "EventBridge Scheduler schedules encrypt their data (the target's input) with a customer-managed KMS key.",
)
def schedule_encrypted(r: Resource, _config: RuleConfig) -> list[str]:
    # CreateSchedule's KmsKeyArn; without it Scheduler uses an AWS-owned key (botocore scheduler
    # service-2.json, read 2026-11-30).
    if r.get("type") != SCHEDULE or customer_key(inputs(r).get("kmsKeyArn")):
        return []
    return ["kmsKeyArn is not a customer-managed key: set kms_key_arn to the environment key"]


# "Automatic key rotation is supported only on symmetric encryption KMS keys" (not asymmetric or HMAC keys).
# https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html (read 2026-11-25)
SYMMETRIC = "SYMMETRIC_DEFAULT"


@resource_rule("kms-key-rotation", "Customer-managed symmetric KMS keys rotate automatically.")
def kms_key_rotation(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != KMS_KEY:
        return []
    spec = inputs(r).get("customerMasterKeySpec") or inputs(r).get("keySpec") or SYMMETRIC
    if spec != SYMMETRIC or inputs(r).get("enableKeyRotation") is True:
        return []
    return ["key rotation is off: set enable_key_rotation=True"]


RULES = (
    endpoint_config_encrypted,
    bucket_encrypted,
    pipeline_encrypted,
    topic_encrypted,
    kms_key_rotation,
    feature_group_encrypted,
    schedule_encrypted,
)
