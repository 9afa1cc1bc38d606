"""Every bucket in every environment is a PrivateBucket: encrypted with the environment key, private, TLS-only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.storage import PrivateBucket, PrivateBucketArgs
from components.tagging import CostTags
from mlp.plan import Plan
from tests.conftest import ENVIRONMENTS, ComponentPlanner, one_of, resources_of


def children_of(plan: Plan, component_urn: str) -> dict[str, dict[str, Any]]:
    return {r["type"].rsplit(":", 1)[1]: r for r in plan["resources"] if r["parent"] == component_urn}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_bucket_is_private_encrypted_and_tls_only(plans: dict[str, Plan], env: str) -> None:
    plan = plans[env]
    key_id = one_of(plan, "aws:kms/alias:Alias")["inputs"]["targetKeyId"]
    buckets = resources_of(plan, "aws:s3/bucket:Bucket")
    assert buckets
    for bucket in buckets:
        parent = next(r for r in plan["resources"] if r["urn"] == bucket["parent"])
        assert parent["type"] == "mlplatform:storage:PrivateBucket", f"{bucket['name']} bypasses PrivateBucket"
        kids = children_of(plan, parent["urn"])
        encryption = kids["BucketServerSideEncryptionConfiguration"]["inputs"]
        by_default = encryption["rules"][0]["applyServerSideEncryptionByDefault"]
        assert by_default["kmsMasterKeyId"].endswith(f"key/{key_id}")
        block = kids["BucketPublicAccessBlock"]["inputs"]
        assert all(
            block[k] is True
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
        policy = json.loads(kids["BucketPolicy"]["inputs"]["policy"])
        assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert kids["BucketOwnershipControls"]["inputs"]["rule"]["objectOwnership"] == "BucketOwnerEnforced"


KEY = "arn:aws:kms:eu-west-1:111122223333:key/fixture"
TAGS = CostTags(environment="qa", team="fraud", cost_center="CC-4100", repository="payments-co/ml-platform")


@pytest.mark.parametrize(("versioned", "expire_after_days"), [(True, None), (False, 14)])
def test_a_bucket_keeps_versions_or_expires_its_objects(
    plan_component: ComponentPlanner, versioned: bool, expire_after_days: int | None
) -> None:
    """Artifacts are versioned and kept; captured payloads are not versioned and expire."""
    args = PrivateBucketArgs(
        bucket_name="mlp-qa-bucket",
        kms_key_arn=KEY,
        protect=False,
        versioned=versioned,
        expire_after_days=expire_after_days,
    )
    plan = plan_component(lambda opts: PrivateBucket("qa-bucket", args, TAGS, opts=opts), stack="qa")
    component = one_of(plan, "mlplatform:storage:PrivateBucket")
    kids = children_of(plan, component["urn"])
    [rule] = kids["BucketLifecycleConfiguration"]["inputs"]["rules"]
    # Every bucket aborts incomplete uploads; only data that must not be kept expires.
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1
    if versioned:
        assert kids["BucketVersioning"]["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
        assert "expiration" not in rule
    else:
        assert "BucketVersioning" not in kids
        assert rule["expiration"]["days"] == 14
    encryption = kids["BucketServerSideEncryptionConfiguration"]["inputs"]["rules"][0]
    assert encryption["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == KEY
    assert kids["Bucket"]["inputs"]["tags"]["team"] == "fraud"


def test_cross_account_readers_may_get_only_the_patterns_given(plan_component: ComponentPlanner) -> None:
    args = PrivateBucketArgs(
        bucket_name="mlp-qa-bucket",
        kms_key_arn=KEY,
        protect=True,
        versioned=True,
        cross_account_readers=("444455556666",),
        cross_account_read_patterns=("pipelines/*/models/*",),
    )
    plan = plan_component(lambda opts: PrivateBucket("qa-bucket", args, TAGS, opts=opts), stack="qa")
    assert one_of(plan, "aws:s3/bucket:Bucket")["protect"] is True
    policy = json.loads(one_of(plan, "aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])
    deny, *grants = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    gets = [g for g in grants if g["Action"] == "s3:GetObject"]
    assert [g["Principal"] for g in gets] == [{"AWS": ["arn:aws:iam::444455556666:root"]}]
    assert gets[0]["Resource"] == ["arn:aws:s3:::mlp-qa-bucket/pipelines/*/models/*"]
