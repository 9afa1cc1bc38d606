"""The foundation of every environment: pinned provider, KMS key and a private, encrypted bucket.

The key and bucket are unit-tested on the component alone (`plan_component`); the provider pin and the
registry's consumer accounts are what a whole environment wires in, tested on the fixture environments."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.foundation import EnvironmentFoundation, FoundationArgs
from components.tagging import CostTags
from mlp.plan import Plan
from tests.conftest import ACCOUNT_ID, ENVIRONMENTS, REGION, ComponentPlanner, fixture_env, one_of

TAGS = CostTags(environment="qa", team="platform", cost_center="CC-1000", repository="payments-co/ml-platform")


def foundation(plan_component: ComponentPlanner, *, protect: bool = True, readers: tuple[str, ...] = ()) -> Plan:
    """The plan of one EnvironmentFoundation of environment `qa`, and nothing else."""

    def build(opts: pulumi.ResourceOptions) -> None:
        args = FoundationArgs(
            environment="qa",
            account_id=ACCOUNT_ID,
            region=REGION,
            protect_stateful=protect,
            key_service_principals=("budgets.amazonaws.com",),
            model_reader_account_ids=readers,
        )
        EnvironmentFoundation("qa-foundation", args, TAGS, opts=opts)

    return plan_component(build, stack="qa")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_is_pinned_to_the_environment_account_and_region(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    provider = one_of(plans[env], "pulumi:providers:aws")
    assert json.loads(provider["inputs"]["allowedAccountIds"]) == [spec.account_id]
    assert provider["inputs"]["region"] == spec.region
    # Every AWS resource in the plan uses that provider (its ARN carries the account and region).
    bucket_encryption = one_of(
        plans[env],
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        f"{env}-foundation-artifacts-encryption",
    )
    key_arn = bucket_encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    assert key_arn.startswith(f"arn:aws:kms:{spec.region}:{spec.account_id}:key/")


def test_bucket_is_encrypted_with_the_environment_key(plan_component: ComponentPlanner) -> None:
    plan = foundation(plan_component)
    key = one_of(plan, "aws:kms/key:Key")
    encryption = one_of(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "qa-foundation-artifacts-encryption",
    )
    rule = encryption["inputs"]["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert key["urn"] in encryption["dependencies"]
    # The alias targets the key's id; the bucket encrypts with the ARN of that same key.
    alias = one_of(plan, "aws:kms/alias:Alias")["inputs"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].endswith("key/" + alias["targetKeyId"])
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith(
        f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/"
    )
    assert rule["bucketKeyEnabled"] is True
    # Every taggable resource carries the owner's cost tags (the component's transform).
    assert one_of(plan, "aws:s3/bucket:Bucket")["inputs"]["tags"]["cost-center"] == "CC-1000"


def test_key_rotates_and_has_an_explicit_policy(plan_component: ComponentPlanner) -> None:
    key = one_of(foundation(plan_component), "aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True
    policy = json.loads(key["inputs"]["policy"])
    # Only the account administers the key; other accounts get no more than decrypt-through-S3 (tested below).
    admins = [s["Principal"]["AWS"] for s in policy["Statement"] if s["Action"] == "kms:*"]
    assert admins == [f"arn:aws:iam::{ACCOUNT_ID}:root"]
    # CloudWatch may use the key only to publish this account's alarms to the encrypted topics.
    [alarms] = [s for s in policy["Statement"] if s.get("Sid") == "CloudWatchAlarmsPublishToEncryptedTopics"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert alarms["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    assert alarms["Condition"]["ArnLike"]["aws:SourceArn"].endswith(f":{ACCOUNT_ID}:alarm:*")
    # The services given publish to encrypted topics with data keys and decrypt, nothing more.
    [services] = [s for s in policy["Statement"] if s.get("Sid") == "ServicesPublishToEncryptedTopics"]
    assert services["Principal"] == {"Service": ["budgets.amazonaws.com"]}
    assert services["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_bucket_blocks_public_access_is_versioned_and_tls_only(plan_component: ComponentPlanner) -> None:
    plan = foundation(plan_component)
    block = one_of(
        plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "qa-foundation-artifacts-public-access"
    )["inputs"]
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    versioning = one_of(plan, "aws:s3/bucketVersioning:BucketVersioning")["inputs"]
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    policy = json.loads(
        one_of(plan, "aws:s3/bucketPolicy:BucketPolicy", "qa-foundation-artifacts-tls-only")["inputs"]["policy"]
    )
    deny = policy["Statement"][0]
    assert all(s["Effect"] == "Allow" and s["Principal"] != "*" for s in policy["Statement"][1:])
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ownership = one_of(
        plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "qa-foundation-artifacts-ownership"
    )["inputs"]
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("protected", [False, True])
def test_stateful_resources_are_protected_when_asked(plan_component: ComponentPlanner, protected: bool) -> None:
    plan = foundation(plan_component, protect=protected)
    assert one_of(plan, "aws:s3/bucket:Bucket", "qa-foundation-artifacts")["protect"] is protected
    assert one_of(plan, "aws:kms/key:Key")["protect"] is protected


def test_stateful_resources_are_protected_outside_dev(plans: dict[str, Plan]) -> None:
    """The environment file's `protect_stateful_resources` reaches the component."""
    for env, protected in (("dev", False), ("staging", True), ("prod", True)):
        assert fixture_env(env).protect_stateful_resources is protected
        assert one_of(plans[env], "aws:s3/bucket:Bucket", f"{env}-foundation-artifacts")["protect"] is protected


def test_without_reader_accounts_no_other_account_is_granted(plan_component: ComponentPlanner) -> None:
    plan = foundation(plan_component)
    sids = {s["Sid"] for s in json.loads(one_of(plan, "aws:kms/key:Key")["inputs"]["policy"])["Statement"]}
    assert "ModelReaderAccountsDecryptArtifactsThroughS3" not in sids
    policy = json.loads(one_of(plan, "aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])
    assert "ReaderAccountsGetObjects" not in {s.get("Sid") for s in policy["Statement"]}


def test_registry_environment_lets_consumer_accounts_read_and_decrypt_model_artifacts_only(
    plans: dict[str, Plan],
) -> None:
    dev = fixture_env("dev")
    readers = [f"arn:aws:iam::{a}:root" for a in dev.registry_consumer_account_ids]
    assert len(readers) == 2
    key_policy = json.loads(one_of(plans["dev"], "aws:kms/key:Key")["inputs"]["policy"])["Statement"]
    [grant] = [s for s in key_policy if s["Sid"] == "ModelReaderAccountsDecryptArtifactsThroughS3"]
    assert grant["Principal"] == {"AWS": readers}
    assert grant["Action"] == "kms:Decrypt"
    assert grant["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{dev.region}.amazonaws.com"}}
    bucket_policy = json.loads(
        one_of(plans["dev"], "aws:s3/bucketPolicy:BucketPolicy", "dev-foundation-artifacts-tls-only")["inputs"][
            "policy"
        ]
    )
    statements = {s["Sid"]: s for s in bucket_policy["Statement"]}
    assert statements["ReaderAccountsGetObjects"]["Principal"] == {"AWS": readers}
    assert statements["ReaderAccountsGetObjects"]["Action"] == "s3:GetObject"
    bucket = one_of(plans["dev"], "aws:s3/bucket:Bucket", "dev-foundation-artifacts")["inputs"]["bucket"]
    assert statements["ReaderAccountsGetObjects"]["Resource"] == [
        f"arn:aws:s3:::{bucket}/pipelines/*/models/*",
        f"arn:aws:s3:::{bucket}/pipelines/*/baselines/*",
    ]
    for env in ("staging", "prod"):
        sids = {s["Sid"] for s in json.loads(one_of(plans[env], "aws:kms/key:Key")["inputs"]["policy"])["Statement"]}
        assert "ModelReaderAccountsDecryptArtifactsThroughS3" not in sids
