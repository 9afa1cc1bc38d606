"""`mlp policy` and the policy report of `mlp plan`: the pack's rules over plan documents, offline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.data_root import repo_root
from mlp.cli import EXIT_INPUT, EXIT_OK, EXIT_POLICY, main
from mlp.plan import Plan
from mlp.policy import check_plan, mandatory, render_violations
from policies.config import pack_config
from policies.registry import RULES_BY_NAME
from tests.conftest import ENVIRONMENTS, FIXTURE_ROOT, fixture_env
from tests.policies import fixtures as fx

EditEnv = Callable[[str, Callable[[Any], None]], Path]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_fixture_environments_have_no_mandatory_violation(plans: dict[str, Plan], env: str) -> None:
    violations = check_plan(plans[env], fixture_env(env), FIXTURE_ROOT)
    assert [v.line() for v in mandatory(violations)] == []
    assert "budgets-exist" not in {v.rule for v in violations}, "every environment and team has its budget"


def broken_plan() -> Plan:
    """A production plan with a public bucket, wildcard IAM, an all-at-once endpoint and no team budget."""
    resources = fx.compliant_stack()
    artifacts = next(r for r in resources if r["name"] == "prod-foundation-artifacts")
    block = fx.public_access_block(artifacts)
    for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        block["inputs"][key] = False
    policy = fx.tls_only_policy(artifacts)
    document = json.loads(policy["inputs"]["policy"])
    document["Statement"].append(
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    )
    policy["inputs"]["policy"] = json.dumps(document)
    wildcard = {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}
    resources = fx.replace(resources, block)
    resources = fx.replace(resources, policy)
    resources = fx.replace(resources, fx.role(wildcard))
    resources = fx.replace(resources, fx.endpoint("ALL_AT_ONCE"))
    resources = [r for r in resources if r["name"] != "prod-fraud"]  # the fraud team's budget
    return {"project": "ml-platform", "stack": "prod", "resources": resources}


@pytest.fixture
def broken(tmp_path: Path, edit_env: EditEnv) -> tuple[Path, Path]:
    """(root, plan file): prod as it is, and the broken plan document."""
    root = edit_env("prod", lambda data: None)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(broken_plan()))
    return root, path


BROKEN_LINES = [
    "  bucket-public-access-blocked: prod-foundation-artifacts: public access block leaves blockPublicAcls, "
    "blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets off: set all four to true",
    '  bucket-not-public: prod-foundation-artifacts-tls-only: statement PublicRead allows everyone (Principal "*") '
    "without a condition: name the principals that need access",
    "  iam-no-wildcard-actions: prod-fraud-scoring-sagemaker: inline policy 'artifacts' statement Admin allows *: "
    "list the actions the workload calls",
    "  endpoint-gradual-rollout: prod-fraud-scoring: traffic shifting is ALL_AT_ONCE: use a canary or linear "
    "blue/green rollout (serving.rollout in the environment file)",
    "  budgets-exist: stack prod: team 'fraud' owns resources but has no budget: add a budget filtered on its team tag",
]


def test_a_broken_environment_exits_1_with_exactly_its_violations(
    capsys: pytest.CaptureFixture[str], broken: tuple[Path, Path]
) -> None:
    root, plan = broken
    assert main(["policy", "prod", "--root", str(root), "--plan", str(plan)]) == EXIT_POLICY
    assert capsys.readouterr().out.splitlines() == ["Policy violations (mandatory): 5", *BROKEN_LINES]


def test_json_lists_each_violation_with_its_level(
    capsys: pytest.CaptureFixture[str], broken: tuple[Path, Path]
) -> None:
    root, plan = broken
    assert main(["policy", "prod", "--root", str(root), "--plan", str(plan), "--json"]) == EXIT_POLICY
    report = json.loads(capsys.readouterr().out)
    assert report["stack"] == "prod"
    assert [(v["rule"], v["level"], v["resource"]) for v in report["violations"]] == [
        ("bucket-public-access-blocked", "mandatory", "prod-foundation-artifacts"),
        ("bucket-not-public", "mandatory", "prod-foundation-artifacts-tls-only"),
        ("iam-no-wildcard-actions", "mandatory", "prod-fraud-scoring-sagemaker"),
        ("endpoint-gradual-rollout", "mandatory", "prod-fraud-scoring"),
        ("budgets-exist", "mandatory", "stack prod"),
    ]
    assert report["violations"][4]["urn"] is None
    assert report["violations"][0]["urn"].endswith("::prod-foundation-artifacts")


def test_enforcement_levels_change_with_configuration(
    capsys: pytest.CaptureFixture[str], broken: tuple[Path, Path], edit_env: EditEnv
) -> None:
    root, plan = broken

    def relax(data: Any) -> None:
        data["policies"]["enforcement"] = "advisory"
        data["policies"]["rules"] = {"iam-no-wildcard-actions": "mandatory", "endpoint-gradual-rollout": "disabled"}

    edit_env("prod", relax)
    assert main(["policy", "prod", "--root", str(root), "--plan", str(plan)]) == EXIT_POLICY
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Policy advisories: 3",
        BROKEN_LINES[0],
        BROKEN_LINES[1],
        BROKEN_LINES[4],
        "Policy violations (mandatory): 1",
        BROKEN_LINES[2],
    ]

    edit_env("prod", lambda data: data["policies"]["rules"].pop("iam-no-wildcard-actions"))
    assert main(["policy", "prod", "--root", str(root), "--plan", str(plan)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[0] == "Policy advisories: 4"


def test_the_pack_config_is_the_environments_policies_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "dev", "--pack-config", "--root", str(FIXTURE_ROOT)]) == EXIT_OK
    config = json.loads(capsys.readouterr().out)
    assert config == pack_config(fixture_env("dev").policies)
    assert config["all"] == {"enforcementLevel": "advisory"}
    assert config["training-in-vpc"] == {"enforcementLevel": "disabled"}
    assert config["instance-type-allowlist"]["allowedInstanceTypes"] == ["ml.m5.large", "ml.m5.xlarge"]


def test_an_unknown_rule_name_is_bad_input_with_its_line(capsys: pytest.CaptureFixture[str], edit_env: EditEnv) -> None:
    root = edit_env("staging", lambda data: data["policies"]["rules"].update({"training-in-vcp": "disabled"}))
    assert main(["policy", "staging", "--root", str(root)]) == EXIT_INPUT
    err = capsys.readouterr().err.strip()
    line = next(
        i
        for i, text in enumerate((root / "environments" / "staging.yaml").read_text().splitlines(), 1)
        if "training-in-vcp" in text
    )
    assert err.startswith(
        f"error: environments/staging.yaml:{line}: policies.rules.training-in-vcp: unknown rule 'training-in-vcp'; "
        "did you mean 'training-in-vpc'? rules: cost-tags, "
    )
    assert main(["plan", "staging", "--root", str(root)]) == EXIT_INPUT


def test_an_unknown_level_is_bad_input(capsys: pytest.CaptureFixture[str], edit_env: EditEnv) -> None:
    root = edit_env("prod", lambda data: data["policies"].update({"enforcement": "strict"}))
    assert main(["policy", "prod", "--root", str(root)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "environments/prod.yaml:" in err and "policies.enforcement:" in err and "'strict'" in err


def test_a_plan_of_another_stack_is_bad_input(capsys: pytest.CaptureFixture[str], broken: tuple[Path, Path]) -> None:
    plan = broken[1]
    assert main(["policy", "dev", "--plan", str(plan)]) == EXIT_INPUT
    assert f"error: {plan}: stack: the plan is of stack 'prod', not 'dev': plan dev first" in capsys.readouterr().err


def test_mlp_plan_reports_the_rules_after_the_tree_and_exits_0_in_dev(
    capsys: pytest.CaptureFixture[str], plans: dict[str, Plan]
) -> None:
    assert main(["plan", "dev", "--root", str(FIXTURE_ROOT)]) == EXIT_OK
    report = render_violations(check_plan(plans["dev"], fixture_env("dev"), FIXTURE_ROOT))
    assert capsys.readouterr().out.endswith("\n\n" + report)


def test_mlp_plan_exits_1_on_a_mandatory_violation(capsys: pytest.CaptureFixture[str], edit_env: EditEnv) -> None:
    root = edit_env("prod", lambda data: data.update({"protect_stateful_resources": False}))
    assert main(["plan", "prod", "--root", str(root), "--json"]) == EXIT_POLICY
    captured = capsys.readouterr()
    assert json.loads(captured.out)["stack"] == "prod"  # stdout stays the plan document
    assert (
        "  stateful-resources-protected: prod-foundation-artifacts: the data bucket is not protected: create it "
        "with protect=True (protect_stateful_resources in the env file)"
    ) in captured.err.splitlines()


def test_every_rule_is_documented() -> None:
    doc = (repo_root() / "docs" / "policies.md").read_text()
    assert [name for name in RULES_BY_NAME if f"`{name}`" not in doc] == []
