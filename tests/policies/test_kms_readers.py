"""kms-decrypt-for-bucket-readers: over a plan set (a serving environment and the one it reads from)."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from ruamel.yaml import YAML

from components.data_root import repo_root
from mlp.plan import Plan, build_plan
from policies.registry import RULES, RULES_BY_NAME
from policies.rules.kms_readers import plan_set_findings
from tests.conftest import FIXTURE_ROOT, one_of

RULE = RULES_BY_NAME["kms-decrypt-for-bucket-readers"]
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "aws:kms/key:Key"
MONITOR_POLICY = "fraud-scoring-monitor-role-policy"


REGISTRY_ACCOUNT = "111111111111"
SERVING_ACCOUNT = "222222222222"


@pytest.fixture(scope="module")
def plan_set(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    """A registry environment (artifacts encrypted with its key) and a serving one in another account whose
    monitor reads the registry's bucket: copies of dev and prod with accounts of their own."""
    root = tmp_path_factory.mktemp("plan-set")
    shutil.copytree(FIXTURE_ROOT / "environments", root / "environments")
    shutil.copytree(repo_root() / "stacks", root / "stacks", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    yaml = YAML(typ="rt")
    for env, account in (("dev", REGISTRY_ACCOUNT), ("prod", SERVING_ACCOUNT)):
        path = root / "environments" / f"{env}.yaml"
        data = yaml.load(path.read_text())
        data["account_id"] = account
        with path.open("w") as f:
            yaml.dump(data, f)
    return {env: build_plan(env, root) for env in ("dev", "prod")}


def resources(plans: dict[str, Plan]) -> dict[str, list[dict[str, Any]]]:
    return {stack: plan["resources"] for stack, plan in plans.items()}


def edit_policy(
    plans: dict[str, Plan], stack: str, name: str, change: Callable[[dict[str, Any]], None]
) -> dict[str, Plan]:
    edited = copy.deepcopy(plans)
    for r in edited[stack]["resources"]:
        if r["name"] == name:
            document = json.loads(r["inputs"]["policy"])
            change(document)
            r["inputs"]["policy"] = json.dumps(document)
    return edited


def drop_statement(sid: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]

    return change


def test_the_plan_set_passes_with_decrypt_on_both_sides(plan_set: dict[str, Plan]) -> None:
    assert plan_set_findings(resources(plan_set)) == []


def test_a_role_reading_another_accounts_bucket_without_decrypt_fails(plan_set: dict[str, Plan]) -> None:
    # The defect of staging's and prod's monitors: dev's baselines read, dev's key not in the role's policy.
    broken = edit_policy(plan_set, "prod", MONITOR_POLICY, drop_statement("DecryptRegistryArtifactsThroughS3"))
    findings = plan_set_findings(resources(broken))
    dev_bucket = one_of(plan_set["dev"], "aws:s3/bucket:Bucket", "dev-foundation-artifacts")["inputs"]["bucket"]
    assert [(stack, r["name"]) for stack, r, _ in findings] == [("prod", MONITOR_POLICY)]
    message = findings[0][2]
    assert f"reads objects of {dev_bucket}" in message
    assert "do not allow kms:Decrypt on that key" in message


def test_a_key_policy_that_does_not_allow_the_readers_account_fails(plan_set: dict[str, Plan]) -> None:
    # The other side: dev's key policy without the consumer accounts' statement.
    broken = edit_policy(
        plan_set, "dev", "dev-foundation-key", drop_statement("ModelReaderAccountsDecryptArtifactsThroughS3")
    )
    findings = plan_set_findings(resources(broken))
    assert findings, "every prod role that reads dev's bucket is reported"
    assert {stack for stack, _, _ in findings} == {"prod"}
    assert MONITOR_POLICY in {r["name"] for _, r, _ in findings}
    assert all(f"does not allow account {SERVING_ACCOUNT} to kms:Decrypt" in m for _, _, m in findings)


def test_in_one_stack_a_role_reading_its_own_encrypted_bucket_needs_the_key(plan_set: dict[str, Plan]) -> None:
    # The pack sees one stack: the monitor reads its capture bucket, encrypted with prod's key.
    prod = plan_set["prod"]["resources"]
    assert RULE.run(prod, {}) == []
    broken = edit_policy(plan_set, "prod", MONITOR_POLICY, drop_statement("UseEnvironmentKey"))["prod"]["resources"]
    [(resource, message)] = RULE.run(broken, {})
    assert resource is not None and resource["name"] == MONITOR_POLICY
    assert "capture" in message and "kms:Decrypt" in message


def test_a_decrypt_grant_narrowed_to_another_alias_does_not_count(plan_set: dict[str, Plan]) -> None:
    def other_alias(document: dict[str, Any]) -> None:
        for s in document["Statement"]:
            if s.get("Sid") == "DecryptRegistryArtifactsThroughS3":
                s["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"] = ["alias/ml-platform-staging"]

    findings = plan_set_findings(resources(edit_policy(plan_set, "prod", MONITOR_POLICY, other_alias)))
    assert [r["name"] for _, r, _ in findings] == [MONITOR_POLICY]


def test_the_rule_is_in_the_pack() -> None:
    assert RULE in RULES and RULE.kind == "stack"


def test_the_decrypt_may_sit_in_another_policy_of_the_same_role(plan_set: dict[str, Plan]) -> None:
    # IAM evaluates the union of a role's policies: a second inline policy on the same role (as a model's
    # feature-store read beside its training policy) is covered by the first one's decrypt, another role's is not.
    prod = plan_set["prod"]["resources"]
    policy = one_of(plan_set["prod"], ROLE_POLICY, MONITOR_POLICY)
    document = json.loads(policy["inputs"]["policy"])
    reads = [s for s in document["Statement"] if s.get("Sid") != "DecryptRegistryArtifactsThroughS3"]
    decrypt = [s for s in document["Statement"] if s.get("Sid") == "DecryptRegistryArtifactsThroughS3"]
    assert decrypt, "the monitor's policy decrypts the registry's artifacts"

    def split(decrypt_role: str) -> dict[str, list[dict[str, Any]]]:
        first = copy.deepcopy(policy)
        first["inputs"]["policy"] = json.dumps({"Version": "2012-10-17", "Statement": reads})
        second = copy.deepcopy(policy)
        second["name"] = second["urn"] = "decrypt-elsewhere"
        second["inputs"]["role"] = decrypt_role
        second["inputs"]["policy"] = json.dumps({"Version": "2012-10-17", "Statement": decrypt})
        others = [r for r in prod if r is not policy]
        return {**resources(plan_set), "prod": [*others, first, second]}

    assert plan_set_findings(split(policy["inputs"]["role"])) == []
    findings = plan_set_findings(split("another-role"))
    assert [(stack, r["name"]) for stack, r, _ in findings] == [("prod", MONITOR_POLICY)]
