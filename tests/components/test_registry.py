"""ModelRegistry: protected groups in the hosting environment, a policy naming exactly the consumer
accounts, and an encrypted topic fed by a rule that matches AWS's documented state-change event."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, cast

import pulumi
import pytest
from moto.events.models import EventPattern

from components.registry import ModelRegistry, ModelRegistryArgs
from components.tagging import CostTags
from mlp.plan import Plan
from tests.conftest import ENVIRONMENTS, ComponentPlanner, fixture_env, one_of, resources_of

FIXTURE = Path(__file__).parent.parent / "fixtures" / "eventbridge" / "sagemaker-model-package-state-change.json"
GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"


def _by_model(plan: Plan, type_: str, model: str) -> dict[str, Any]:
    found = [r for r in resources_of(plan, type_) if r["inputs"].get("tags", {}).get("model") == model]
    if not found:  # untaggable types (policies, targets): their logical name carries the model
        found = [r for r in resources_of(plan, type_) if f"-{model}-registry" in r["name"]]
    assert len(found) == 1, f"expected one {type_} for {model}, found {[r['name'] for r in found]}"
    return found[0]


def test_registries_live_only_where_the_registry_is_hosted(plans: dict[str, Plan]) -> None:
    dev = fixture_env("dev")
    assert dev.hosts_registry
    groups = sorted(r["inputs"]["modelPackageGroupName"] for r in resources_of(plans["dev"], GROUP))
    assert groups == sorted(m.registry_group for m in dev.models)
    for env in ("staging", "prod"):
        spec = fixture_env(env)
        assert not spec.hosts_registry and spec.registry.environment == "dev"
        assert resources_of(plans[env], GROUP) == []
        assert resources_of(plans[env], "mlplatform:registry:ModelRegistry") == []


def test_groups_are_protected_even_where_stateful_resources_are_not(plans: dict[str, Plan]) -> None:
    assert fixture_env("dev").protect_stateful_resources is False
    groups = resources_of(plans["dev"], GROUP)
    assert groups and all(g["protect"] is True for g in groups)


def test_group_policy_names_exactly_the_consumer_accounts(plans: dict[str, Plan]) -> None:
    dev = fixture_env("dev")
    # The accounts of the environment files that serve from dev's registry, read independently.
    consumers = sorted(fixture_env(e).account_id for e in ENVIRONMENTS if fixture_env(e).registry_environment == "dev")
    assert (
        consumers
        == sorted(dev.registry_consumer_account_ids)
        == sorted([fixture_env("staging").account_id, fixture_env("prod").account_id])
    )
    for model in dev.models:
        policy_resource = _by_model(plans["dev"], GROUP_POLICY, model.name)
        assert policy_resource["inputs"]["modelPackageGroupName"] == model.registry_group
        policy = json.loads(policy_resource["inputs"]["resourcePolicy"])
        group_arn = dev.registry.model_package_group_arn(model.registry_group)
        versions = group_arn.replace(":model-package-group/", ":model-package/") + "/*"
        actions: set[str] = set()
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{a}:root" for a in consumers]}
            assert statement["Resource"] == [group_arn, versions]
            assert all("*" not in a for a in statement["Action"])
            actions |= set(statement["Action"])
        assert actions == {
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:DescribeModelPackage",
            "sagemaker:ListModelPackages",
            "sagemaker:CreateModelPackage",
        }


def test_decisions_topic_is_encrypted_and_only_the_rule_publishes(plans: dict[str, Plan]) -> None:
    plan = plans["dev"]
    key_arn = one_of(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[
        "inputs"
    ]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    for model in fixture_env("dev").models:
        topic = _by_model(plan, "aws:sns/topic:Topic", model.name)
        assert topic["inputs"]["kmsMasterKeyId"] == key_arn
        rule = _by_model(plan, RULE, model.name)
        target = one_of(plan, "aws:cloudwatch/eventTarget:EventTarget", f"dev-{model.name}-registry-decisions-target")
        assert target["inputs"]["rule"] == rule["inputs"]["name"]
        topic_arn = target["inputs"]["arn"]
        assert topic_arn.endswith(":" + topic["inputs"]["name"])
        policy = json.loads(_by_model(plan, "aws:sns/topicPolicy:TopicPolicy", model.name)["inputs"]["policy"])
        [statement] = policy["Statement"]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Action"] == "sns:Publish"
        assert statement["Resource"] == topic_arn
        rule_arn = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        assert rule_arn.startswith("arn:aws:events:") and rule_arn.endswith(":rule/" + rule["inputs"]["name"])


def _matches(pattern: EventPattern, event: dict[str, Any]) -> bool:
    return bool(pattern.matches_event(cast(Any, event)))


def _documented_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(FIXTURE.read_text())
    return event


@pytest.mark.parametrize("source_form", ["as published (list)", "as a string"])
def test_rule_matches_the_documented_state_change_event(plans: dict[str, Plan], source_form: str) -> None:
    """moto's EventBridge pattern matcher, on AWS's example event retargeted to our group."""
    for model in fixture_env("dev").models:
        pattern = EventPattern.load(_by_model(plans["dev"], RULE, model.name)["inputs"]["eventPattern"])
        documented = _documented_event()
        if source_form == "as a string":
            documented["source"] = "aws.sagemaker"
        # As published: another account's group, so our rule stays quiet.
        assert not _matches(pattern, documented)
        ours = copy.deepcopy(documented)
        ours["detail"]["ModelPackageGroupName"] = model.registry_group
        assert ours["detail"]["ModelApprovalStatus"] == "Rejected"
        assert _matches(pattern, ours)
        ours["detail"]["ModelApprovalStatus"] = "Approved"
        assert _matches(pattern, ours)
        # A freshly registered version is not a decision.
        ours["detail"]["ModelApprovalStatus"] = "PendingManualApproval"
        assert not _matches(pattern, ours)
        other_type = copy.deepcopy(documented)
        other_type["detail"]["ModelPackageGroupName"] = model.registry_group
        other_type["detail-type"] = "SageMaker Model State Change"
        assert not _matches(pattern, other_type)


def test_eventbridge_may_use_the_key_of_the_encrypted_decisions_topic(plans: dict[str, Plan]) -> None:
    """The decisions topic is KMS-encrypted, so EventBridge must be able to make data keys with that key."""
    key = one_of(plans["dev"], "aws:kms/key:Key")
    statements = json.loads(key["inputs"]["policy"])["Statement"]
    services = {svc for s in statements for svc in s.get("Principal", {}).get("Service", [])}
    assert "events.amazonaws.com" in services
    staging_key = one_of(plans["staging"], "aws:kms/key:Key")
    staging_services = {
        svc
        for s in json.loads(staging_key["inputs"]["policy"])["Statement"]
        for svc in s.get("Principal", {}).get("Service", [])
    }
    assert "events.amazonaws.com" not in staging_services, "only the registry environment has decision topics"


@pytest.mark.parametrize("consumers", [(), ("444455556666", "777788889999")])
def test_one_registry_is_protected_and_shares_only_with_the_consumers_given(
    plan_component: ComponentPlanner, consumers: tuple[str, ...]
) -> None:
    """ModelRegistry on its own: the group is protected whatever the environment protects, and its resource
    policy exists exactly when other accounts consume it, naming those accounts."""

    def build(opts: pulumi.ResourceOptions) -> None:
        args = ModelRegistryArgs(
            environment="qa",
            group_name="card-testing",
            region="eu-west-1",
            account_id="111122223333",
            consumer_account_ids=consumers,
            kms_key_arn="arn:aws:kms:eu-west-1:111122223333:key/fixture",
        )
        tags = CostTags("qa", "fraud", "CC-4100", "payments-co/ml-platform", model="card-testing")
        ModelRegistry("qa-card-testing-registry", args, tags, opts=opts)

    plan = plan_component(build, stack="qa")
    group = one_of(plan, GROUP)
    assert group["protect"] is True and group["inputs"]["modelPackageGroupName"] == "card-testing"
    assert group["inputs"]["tags"]["model"] == "card-testing"
    policies = resources_of(plan, GROUP_POLICY)
    if not consumers:
        assert policies == []
        return
    [policy] = policies
    principals = {
        p for s in json.loads(policy["inputs"]["resourcePolicy"])["Statement"] for p in _principals(s["Principal"])
    }
    assert principals == {f"arn:aws:iam::{a}:root" for a in consumers}


def _principals(principal: Any) -> list[str]:
    aws = principal["AWS"]
    return [aws] if isinstance(aws, str) else list(aws)
