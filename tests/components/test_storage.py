"""Every bucket in every environment is a PrivateBucket: encrypted with the environment key, private, TLS-only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlp.plan import Plan
from tests.conftest import ENVIRONMENTS, one_of, resources_of


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


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_capture_buckets_expire_and_are_not_versioned(plans: dict[str, Plan], env: str) -> None:
    plan = plans[env]
    for component in resources_of(plan, "mlplatform:storage:PrivateBucket"):
        kids = children_of(plan, component["urn"])
        if component["name"].endswith("-capture"):
            assert "BucketVersioning" not in kids
            [rule] = kids["BucketLifecycleConfiguration"]["inputs"]["rules"]
            assert rule["expiration"]["days"] >= 1
        if component["name"].endswith("-artifacts"):
            assert kids["BucketVersioning"]["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
            [rule] = kids["BucketLifecycleConfiguration"]["inputs"]["rules"]
            assert "expiration" not in rule, "artifacts never expire; their lifecycle only aborts stale uploads"
