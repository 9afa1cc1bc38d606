"""policies/rules/storage.py: private, TLS-only buckets; captured payloads expire."""

from __future__ import annotations

import json

import pytest

from policies.rules.storage import bucket_not_public, bucket_public_access_blocked, bucket_tls_only, capture_expires
from tests.policies.fixtures import (
    CAPTURE_BUCKET,
    bucket,
    capture_lifecycle,
    changed,
    compliant_stack,
    endpoint_config,
    iam_document,
    messages,
    public_access_block,
    resource,
    tls_only_policy,
)


@pytest.mark.parametrize("rule", [bucket_public_access_blocked, bucket_not_public, bucket_tls_only, capture_expires])
def test_a_compliant_stack_passes(rule: object) -> None:
    assert messages(rule, compliant_stack()) == []  # type: ignore[arg-type]


def test_a_bucket_without_a_public_access_block_is_reported() -> None:
    assert messages(bucket_public_access_blocked, [bucket("prod-data", "mlp-prod-data")]) == [
        "prod-data: no public access block: add a BucketPublicAccessBlock with all four settings true"
    ]


@pytest.mark.parametrize(
    "setting", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]
)
def test_each_public_access_setting_left_off_is_reported(setting: str) -> None:
    b = bucket("prod-data", "mlp-prod-data")
    block = changed(public_access_block(b), setting, value=False)
    assert messages(bucket_public_access_blocked, [b, block]) == [
        f"prod-data: public access block leaves {setting} off: set all four to true"
    ]


@pytest.mark.parametrize("acl", ["public-read", "public-read-write", "authenticated-read"])
def test_a_public_canned_acl_is_reported(acl: str) -> None:
    grant = resource("aws:s3/bucketAcl:BucketAcl", "prod-data-acl", {"bucket": "mlp-prod-data", "acl": acl})
    assert messages(bucket_not_public, [grant]) == [
        f"prod-data-acl: canned ACL {acl!r} makes the bucket public: remove it (ownership is BucketOwnerEnforced)"
    ]


def test_a_private_acl_passes() -> None:
    grant = resource("aws:s3/bucketAcl:BucketAcl", "prod-data-acl", {"bucket": "mlp-prod-data", "acl": "private"})
    assert messages(bucket_not_public, [grant]) == []


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::630417952386:root", "*"]}])
def test_a_policy_allowing_everyone_is_reported(principal: object) -> None:
    policy = resource(
        "aws:s3/bucketPolicy:BucketPolicy",
        "prod-data-policy",
        {
            "bucket": "mlp-prod-data",
            "policy": iam_document(
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "s3:GetObject",
                    "Resource": "*",
                }
            ),
        },
    )
    assert messages(bucket_not_public, [policy]) == [
        'prod-data-policy: statement PublicRead allows everyone (Principal "*") without a condition: name the '
        "principals that need access"
    ]


def test_a_conditioned_grant_and_the_tls_deny_are_not_public() -> None:
    b = bucket("prod-data", "mlp-prod-data")
    scoped = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    }
    policy = changed(tls_only_policy(b), "policy", value=iam_document(scoped))
    assert messages(bucket_not_public, [tls_only_policy(b), policy]) == []


def test_a_bucket_without_a_policy_is_not_tls_only() -> None:
    assert messages(bucket_tls_only, [bucket("prod-data", "mlp-prod-data")]) == [
        'prod-data: no TLS-only bucket policy: add a BucketPolicy statement that denies s3:* to Principal "*" when '
        "aws:SecureTransport is false"
    ]


def test_a_policy_without_the_secure_transport_deny_is_reported() -> None:
    b = bucket("prod-data", "mlp-prod-data")
    document = json.loads(tls_only_policy(b)["inputs"]["policy"])
    document["Statement"][0]["Condition"] = {"Bool": {"aws:SecureTransport": "true"}}
    policy = changed(tls_only_policy(b), "policy", value=json.dumps(document))
    assert [m.split(":")[0] for m in messages(bucket_tls_only, [b, policy])] == ["prod-data"]


def test_a_tls_policy_computed_at_apply_time_is_not_judged() -> None:
    b = bucket("prod-data", "mlp-prod-data")
    policy = changed(tls_only_policy(b), "policy", value="(known after apply)")
    assert messages(bucket_tls_only, [b, policy]) == []


def test_capture_into_a_bucket_without_lifecycle_is_reported() -> None:
    capture = bucket("prod-capture", CAPTURE_BUCKET)
    assert messages(capture_expires, [capture, endpoint_config()]) == [
        "prod-fraud-scoring-config: captured payloads never expire: add a BucketLifecycleConfiguration rule with an "
        "expiration covering the capture prefix"
    ]


def test_a_lifecycle_rule_on_another_prefix_does_not_cover_the_capture() -> None:
    capture = bucket("prod-capture", CAPTURE_BUCKET)
    lifecycle = capture_lifecycle(capture, prefix="reports/")
    assert len(messages(capture_expires, [capture, lifecycle, endpoint_config()])) == 1


def test_a_disabled_or_non_expiring_lifecycle_rule_does_not_count() -> None:
    capture = bucket("prod-capture", CAPTURE_BUCKET)
    disabled = changed(capture_lifecycle(capture), "rules", 0, "status", value="Disabled")
    no_expiry = changed(capture_lifecycle(capture), "rules", 0, "expiration", delete=True)
    assert len(messages(capture_expires, [capture, disabled, endpoint_config()])) == 1
    assert len(messages(capture_expires, [capture, no_expiry, endpoint_config()])) == 1


def test_capture_into_a_bucket_outside_the_stack_is_reported() -> None:
    assert messages(capture_expires, [endpoint_config()]) == [
        f"prod-fraud-scoring-config: captured payloads go to bucket {CAPTURE_BUCKET!r}, which this stack does not "
        "manage: capture into a bucket of this stack with a lifecycle expiration"
    ]


def test_endpoints_that_do_not_capture_have_nothing_to_expire() -> None:
    quiet = changed(endpoint_config(), "dataCaptureConfig", delete=True)
    off = changed(endpoint_config(), "dataCaptureConfig", "enableCapture", value=False)
    assert messages(capture_expires, [quiet, off]) == []
