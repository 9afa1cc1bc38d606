"""policies/rules/encryption.py: customer-managed KMS keys everywhere data rests; keys rotate."""

from __future__ import annotations

import json

import pytest

from policies.rules.encryption import (
    bucket_encrypted,
    endpoint_config_encrypted,
    kms_key_rotation,
    pipeline_encrypted,
    schedule_encrypted,
    topic_encrypted,
)
from tests.policies.fixtures import (
    KEY_ARN,
    bucket,
    bucket_encryption,
    changed,
    compliant_stack,
    endpoint_config,
    kms_key,
    messages,
    pipeline,
    processing_step,
    resource,
    topic,
    training_step,
)


@pytest.mark.parametrize(
    "rule", [endpoint_config_encrypted, bucket_encrypted, pipeline_encrypted, topic_encrypted, kms_key_rotation]
)
def test_a_compliant_stack_passes(rule: object) -> None:
    assert messages(rule, compliant_stack()) == []  # type: ignore[arg-type]


def test_endpoint_config_without_a_key_is_reported() -> None:
    broken = changed(endpoint_config(), "kmsKeyArn", delete=True)
    assert messages(endpoint_config_encrypted, [broken]) == [
        "prod-fraud-scoring-config: kmsKeyArn is not a customer-managed key: set kms_key_arn to the environment key"
    ]


def test_data_capture_with_an_aws_managed_key_is_reported() -> None:
    broken = changed(endpoint_config(), "dataCaptureConfig", "kmsKeyId", value="alias/aws/s3")
    assert messages(endpoint_config_encrypted, [broken]) == [
        "prod-fraud-scoring-config: dataCaptureConfig.kmsKeyId is not a customer-managed key: set "
        "data_capture_config.kms_key_id to the environment key"
    ]


def test_a_bucket_without_an_encryption_configuration_is_reported() -> None:
    b = bucket("prod-data", "mlp-prod-data")
    assert messages(bucket_encrypted, [b]) == [
        "prod-data: no default encryption with aws:kms and a customer-managed key: add a "
        "BucketServerSideEncryptionConfiguration with sse_algorithm aws:kms and kms_master_key_id set to the "
        "environment key"
    ]


def test_a_bucket_encrypted_with_s3_managed_keys_is_reported() -> None:
    b = bucket("prod-data", "mlp-prod-data")
    sse = changed(
        bucket_encryption(b), "rules", 0, "applyServerSideEncryptionByDefault", value={"sseAlgorithm": "AES256"}
    )
    assert [m.split(":")[0] for m in messages(bucket_encrypted, [b, sse])] == ["prod-data"]


def test_another_buckets_encryption_does_not_count() -> None:
    encrypted = bucket("prod-a", "mlp-prod-a")
    plain = bucket("prod-b", "mlp-prod-b")
    assert [m.split(":")[0] for m in messages(bucket_encrypted, [encrypted, bucket_encryption(encrypted), plain])] == [
        "prod-b"
    ]


def test_a_bucket_known_only_after_apply_is_matched_by_dependency() -> None:
    b = changed(bucket("prod-data", "mlp-prod-data"), "bucket", value="(known after apply)")
    sse = changed(bucket_encryption(b), "bucket", value="(known after apply)")
    assert messages(bucket_encrypted, [b, sse]) == []


def test_training_volume_without_a_key_is_reported() -> None:
    step = training_step()
    del step["Arguments"]["ResourceConfig"]["VolumeKmsKeyId"]
    assert messages(pipeline_encrypted, [pipeline([step])]) == [
        "prod-fraud-scoring-training: step 'Train' has no ResourceConfig.VolumeKmsKeyId: encrypt it with the "
        "environment key"
    ]


def test_training_output_without_a_key_is_reported() -> None:
    step = training_step(OutputDataConfig={"S3OutputPath": "s3://mlp-prod-artifacts/models"})
    assert messages(pipeline_encrypted, [pipeline([step])]) == [
        "prod-fraud-scoring-training: step 'Train' has no OutputDataConfig.KmsKeyId: encrypt it with the "
        "environment key"
    ]


def test_processing_volume_and_output_without_keys_are_reported() -> None:
    step = processing_step(
        ProcessingResources={
            "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
        },
        ProcessingOutputConfig={"Outputs": []},
    )
    assert messages(pipeline_encrypted, [pipeline([step])]) == [
        "prod-fraud-scoring-training: step 'Evaluate' has no ProcessingResources.ClusterConfig.VolumeKmsKeyId: "
        "encrypt it with the environment key",
        "prod-fraud-scoring-training: step 'Evaluate' has no ProcessingOutputConfig.KmsKeyId: encrypt it with the "
        "environment key",
    ]


def test_steps_nested_in_a_condition_are_checked() -> None:
    step = training_step()
    del step["Arguments"]["OutputDataConfig"]["KmsKeyId"]
    condition = {
        "Name": "AccuracyGate",
        "Type": "Condition",
        "Arguments": {"Conditions": [], "IfSteps": [step], "ElseSteps": []},
    }
    assert len(messages(pipeline_encrypted, [pipeline([condition])])) == 1


def test_a_pipeline_parameter_counts_by_its_default() -> None:
    step = training_step(OutputDataConfig={"S3OutputPath": "s3://x", "KmsKeyId": {"Get": "Parameters.KmsKey"}})
    resource = pipeline([step])
    definition = json.loads(resource["inputs"]["pipelineDefinition"])
    definition["Parameters"] = [{"Name": "KmsKey", "Type": "String", "DefaultValue": KEY_ARN}]
    with_key = changed(resource, "pipelineDefinition", value=json.dumps(definition))
    definition["Parameters"][0]["DefaultValue"] = ""
    without_key = changed(resource, "pipelineDefinition", value=json.dumps(definition))
    assert messages(pipeline_encrypted, [with_key]) == []
    assert messages(pipeline_encrypted, [without_key]) == [
        "prod-fraud-scoring-training: step 'Train' has no OutputDataConfig.KmsKeyId: encrypt it with the "
        "environment key"
    ]


def test_an_unencrypted_topic_is_reported() -> None:
    assert messages(topic_encrypted, [changed(topic(), "kmsMasterKeyId", delete=True)]) == [
        "prod-fraud-alerts: kmsMasterKeyId is not a customer-managed key: set kms_master_key_id to the environment key"
    ]


def test_a_topic_with_the_aws_managed_key_is_reported() -> None:
    assert len(messages(topic_encrypted, [changed(topic(), "kmsMasterKeyId", value="alias/aws/sns")])) == 1
    assert messages(topic_encrypted, [changed(topic(), "kmsMasterKeyId", value=KEY_ARN)]) == []


def test_a_key_without_rotation_is_reported() -> None:
    assert messages(kms_key_rotation, [changed(kms_key(), "enableKeyRotation", value=False)]) == [
        "prod-foundation-key: key rotation is off: set enable_key_rotation=True"
    ]
    assert len(messages(kms_key_rotation, [changed(kms_key(), "enableKeyRotation", delete=True)])) == 1


def test_asymmetric_keys_cannot_rotate_and_are_exempt() -> None:
    signing = changed(kms_key(), "enableKeyRotation", delete=True)
    signing["inputs"]["customerMasterKeySpec"] = "RSA_2048"
    assert messages(kms_key_rotation, [signing]) == []


def test_pipeline_definition_json_is_what_the_rule_reads() -> None:
    definition = json.loads(pipeline()["inputs"]["pipelineDefinition"])
    assert [s["Type"] for s in definition["Steps"]] == ["Processing", "Training"]


def schedule() -> dict[str, object]:
    return resource(
        "aws:scheduler/schedule:Schedule",
        "prod-fraud-scoring-training-schedule",
        {"name": "prod-fraud-scoring-training", "scheduleExpression": "cron(0 3 ? * MON *)", "kmsKeyArn": KEY_ARN},
    )


def test_a_schedule_without_the_environment_key_is_reported() -> None:
    assert messages(schedule_encrypted, [schedule()]) == []
    assert messages(schedule_encrypted, [changed(schedule(), "kmsKeyArn", delete=True)]) == [
        "prod-fraud-scoring-training-schedule: kmsKeyArn is not a customer-managed key: set kms_key_arn to the "
        "environment key"
    ]
    assert len(messages(schedule_encrypted, [changed(schedule(), "kmsKeyArn", value="alias/aws/scheduler")])) == 1
