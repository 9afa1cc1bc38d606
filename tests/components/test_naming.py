"""Physical names: deterministic, and valid for each AWS resource's rules even for long model names."""

from __future__ import annotations

import re

import botocore.session
import pytest

from components import naming
from components.naming import NameRule, physical_name

LONG = "transaction-anomaly-detection-for-cross-border-card-payments-with-graph-features"


def botocore_shape(service: str, shape: str) -> dict[str, object]:
    model = botocore.session.get_session().get_service_model(service)
    return dict(model.shape_for(shape).metadata)


@pytest.mark.parametrize(
    ("rule", "service", "shape"),
    [
        (naming.SAGEMAKER, "sagemaker", "EntityName"),
        (naming.SAGEMAKER_PIPELINE, "sagemaker", "PipelineName"),
        (naming.IAM_ROLE, "iam", "roleNameType"),
        (naming.IAM_POLICY, "iam", "policyNameType"),
        (naming.CLOUDWATCH_ALARM, "cloudwatch", "AlarmName"),
        (naming.EVENTBRIDGE_RULE, "events", "RuleName"),
    ],
)
def test_rules_match_the_service_models_shipped_with_botocore(rule: NameRule, service: str, shape: str) -> None:
    meta = botocore_shape(service, shape)
    assert rule.max_length == meta["max"]
    name = physical_name(rule, "prod", LONG, "endpoint-config", "v123")
    assert len(name) <= int(str(meta["max"]))
    if "pattern" in meta:
        assert re.fullmatch(str(meta["pattern"]), name), (name, meta["pattern"])


@pytest.mark.parametrize(
    "rule",
    [
        naming.SAGEMAKER,
        naming.SAGEMAKER_PIPELINE,
        naming.IAM_ROLE,
        naming.IAM_POLICY,
        naming.S3_BUCKET,
        naming.KMS_ALIAS,
        naming.CLOUDWATCH_ALARM,
        naming.SNS_TOPIC,
        naming.EVENTBRIDGE_RULE,
    ],
)
def test_long_names_are_cut_with_a_hash_and_stay_valid(rule: NameRule) -> None:
    parts = ("prod", LONG, LONG, LONG, "execution-role")
    name = physical_name(rule, *parts)
    assert len(name) <= rule.max_length
    assert not rule.invalid.search(name)
    assert not name.startswith("-") and not name.endswith("-")
    assert name == physical_name(rule, *parts), "same inputs, same name"


def test_two_long_names_that_share_a_prefix_do_not_collide() -> None:
    a = physical_name(naming.SAGEMAKER, "prod", LONG + "-a")
    b = physical_name(naming.SAGEMAKER, "prod", LONG + "-b")
    assert a != b
    assert len(a) == len(b) == 63


def test_short_names_are_kept_readable() -> None:
    assert physical_name(naming.SAGEMAKER, "prod", "fraud-scoring", "v12") == "prod-fraud-scoring-v12"


def test_bucket_names_are_lower_case_and_without_forbidden_characters() -> None:
    name = physical_name(naming.S3_BUCKET, "MLP", "Prod", "artifacts_bucket", "630417952386", "eu-west-1")
    assert name == "mlp-prod-artifacts-bucket-630417952386-eu-west-1"
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name)


def test_a_name_that_cannot_be_made_valid_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter than 3"):
        physical_name(naming.S3_BUCKET, "__")
