"""The account bootstrap (bootstrap/, components/bootstrap.py): planned offline, checked by the policy pack, and
the trust and permissions of the workflow roles exactly what the workflows need."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import botocore
import pytest

from components.bootstrap import DEPLOY_ACTIONS
from components.bootstrap_names import SESSION_SECONDS, STATE_KEY_ALIAS, state_bucket
from components.loader import load_environment
from mlp.bootstrap import build_bootstrap_plan, check_bootstrap_plan
from mlp.cli import main
from mlp.plan import Plan, build_plan
from mlp.policy import mandatory
from tests.conftest import FIXTURE_ROOT, resources_of

REPOSITORY_SUB = "token.actions.githubusercontent.com:sub"


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Path]:
    """The bootstrap plan of a copy of the environments (staging: a cluster, no dispatch token)."""
    import shutil

    root = tmp_path_factory.mktemp("bootstrap") / "repo"
    shutil.copytree(FIXTURE_ROOT / "environments", root / "environments")
    return build_bootstrap_plan("staging", root), root


def role(plan: Plan, name: str) -> dict[str, Any]:
    (found,) = [r for r in resources_of(plan, "aws:iam/role:Role") if r["inputs"]["name"] == name]
    return found


def policy(r: dict[str, Any]) -> list[dict[str, Any]]:
    (inline,) = r["inputs"]["inlinePolicies"]
    statements: list[dict[str, Any]] = json.loads(inline["policy"])["Statement"]
    return statements


def actions(statements: list[dict[str, Any]], effect: str = "Allow") -> set[str]:
    found: set[str] = set()
    for s in statements:
        if s["Effect"] == effect:
            found |= {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
    return found


def test_the_plan_passes_the_policy_pack_at_the_environment_levels(staging: tuple[Plan, Path]) -> None:
    plan, root = staging
    assert plan["project"] == "ml-platform-bootstrap"
    violations = check_bootstrap_plan(plan, load_environment("staging", root), root)
    assert mandatory(violations) == [], violations


def test_state_bucket_is_private_versioned_and_encrypted_with_the_state_key(staging: tuple[Plan, Path]) -> None:
    plan, root = staging
    env = load_environment("staging", root)
    (bucket,) = resources_of(plan, "aws:s3/bucket:Bucket")
    assert bucket["inputs"]["bucket"] == state_bucket(env.account_id)
    assert bucket["protect"] is env.protect_stateful_resources
    (alias,) = resources_of(plan, "aws:kms/alias:Alias")
    assert alias["inputs"]["name"] == STATE_KEY_ALIAS
    (key,) = resources_of(plan, "aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True
    (encryption,) = resources_of(
        plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    rule = encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert rule["sseAlgorithm"] == "aws:kms"
    (versioning,) = resources_of(plan, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["inputs"]["versioningConfiguration"]["status"] == "Enabled"
    (block,) = resources_of(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block["inputs"][k] for k in ("blockPublicAcls", "blockPublicPolicy", "restrictPublicBuckets"))


def test_roles_trust_exactly_the_github_subjects_the_workflows_use(staging: tuple[Plan, Path]) -> None:
    plan, root = staging
    repo = load_environment("staging", root).repository
    (oidc,) = resources_of(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc["inputs"]["url"] == "https://token.actions.githubusercontent.com"
    assert oidc["inputs"]["clientIdLists"] == ["sts.amazonaws.com"]
    expected = {
        "mlp-github-deploy": [f"repo:{repo}:environment:staging"],
        "mlp-github-preview": [f"repo:{repo}:environment:staging-preview", f"repo:{repo}:ref:refs/heads/main"],
    }
    for name, subjects in expected.items():
        r = role(plan, name)
        (statement,) = json.loads(r["inputs"]["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
        condition = statement["Condition"]["StringEquals"]
        assert condition[REPOSITORY_SUB] == subjects
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        assert "StringLike" not in statement["Condition"], "no wildcard subjects"
        # Sessions outlast the longest job (deploy: 90 minutes); the workflows ask for exactly this.
        assert r["inputs"]["maxSessionDuration"] == SESSION_SECONDS >= 90 * 60


def test_the_preview_role_reads_state_and_can_read_no_secret(staging: tuple[Plan, Path]) -> None:
    plan, _root = staging
    statements = policy(role(plan, "mlp-github-preview"))
    allowed = actions(statements)
    assert allowed == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "kms:Decrypt",
                       "kms:GenerateDataKey", "eks:DescribeCluster"}  # fmt: skip
    (writes,) = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert writes["Resource"].endswith("/.pulumi/locks/*"), "a preview writes only the stack's lock"
    assert not any(a.startswith(("secretsmanager:", "ssm:")) for a in allowed)
    assert "kms:Encrypt" not in allowed
    (data_keys,) = [s for s in statements if s["Action"] == "kms:GenerateDataKey"]
    region = load_environment("staging", _root).region
    assert data_keys["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def test_the_deploy_role_cannot_change_the_workflow_roles(staging: tuple[Plan, Path]) -> None:
    plan, root = staging
    account = load_environment("staging", root).account_id
    statements = policy(role(plan, "mlp-github-deploy"))
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Action"] == "iam:*"
    assert f"arn:aws:iam::{account}:role/mlp-github-deploy" in deny["Resource"]
    assert f"arn:aws:iam::{account}:role/mlp-github-preview" in deny["Resource"]
    # staging has no approval dispatch: no secret is readable at all.
    assert not any(a.startswith("secretsmanager:") for a in actions(statements))


def test_only_the_registry_environment_deploy_role_reads_the_dispatch_token(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(FIXTURE_ROOT / "environments", tmp_path / "environments")
    env = load_environment("dev", tmp_path)
    dispatch = env.gitops.approval_dispatch
    assert dispatch is not None
    plan = build_bootstrap_plan("dev", tmp_path)
    (read,) = [s for s in policy(role(plan, "mlp-github-deploy")) if s["Action"] == "secretsmanager:GetSecretValue"]
    assert read["Resource"].endswith(f":secret:{dispatch.github_token_secret}-??????")
    assert "secretsmanager:GetSecretValue" not in actions(policy(role(plan, "mlp-github-preview")))


@cache
def operations(service: str) -> set[str]:
    """API operation names of a botocore service model (IAM action names equal them for these services)."""
    data = Path(botocore.__file__).parent / "data" / service
    (model,) = sorted(data.glob("*/service-2.json*"))[-1:]
    opener: Callable[..., Any] = gzip.open if model.suffix == ".gz" else open
    with opener(model, "rt") as f:
        return set(json.load(f)["operations"])


BOTOCORE_SERVICE = {
    "kms": "kms", "sagemaker": "sagemaker", "iam": "iam", "cloudwatch": "cloudwatch", "events": "events",
    "sns": "sns", "states": "stepfunctions", "scheduler": "scheduler",
    "application-autoscaling": "application-autoscaling", "ce": "ce", "cloudformation": "cloudcontrol",
    "bedrock": "bedrock", "lambda": "lambda", "logs": "logs", "dynamodb": "dynamodb", "glue": "glue", "ecr": "ecr",
    "ram": "ram",
}  # fmt: skip
# IAM-only actions (no API operation of that name): PassRole authorises handing a role to a service;
# budgets:ModifyBudget/ViewBudget cover the Budgets API's create/update/delete/describe calls.
IAM_ONLY = {"iam:PassRole", "budgets:ModifyBudget", "budgets:ViewBudget"}


@pytest.mark.parametrize("module", sorted(DEPLOY_ACTIONS))
def test_every_deploy_action_is_a_real_operation(module: str) -> None:
    prefix, names = DEPLOY_ACTIONS[module]
    if prefix == "s3":
        pytest.skip("S3's IAM action names differ from its API operation names (e.g. PutEncryptionConfiguration)")
    for name in names:
        if f"{prefix}:{name}" in IAM_ONLY or prefix == "budgets":
            continue
        assert name in operations(BOTOCORE_SERVICE[prefix]), f"{prefix}:{name} is not an operation of {prefix}"


def test_every_aws_resource_type_the_platform_plans_has_deploy_permissions(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        for r in plan["resources"]:
            if r["custom"] and r["type"].startswith("aws:"):
                module = r["type"].split(":")[1].split("/")[0]
                assert module in DEPLOY_ACTIONS, f"{r['type']}: the deploy role has no actions for {module}"


def test_bootstrap_plan_command_reports_policies_and_rejects_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    shutil.copytree(FIXTURE_ROOT / "environments", tmp_path / "environments")
    assert main(["bootstrap", "plan", "prod", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mlplatform:bootstrap:AccountBootstrap" in out and "Policies: no violations" in out
    assert main(["bootstrap", "plan", "nowhere", "--root", str(tmp_path)]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_a_plan_of_the_platform_is_unchanged_by_the_bootstrap(tmp_path: Path) -> None:
    # The two projects are separate: the platform plan holds none of the bootstrap's resources.
    import shutil

    shutil.copytree(FIXTURE_ROOT / "environments", tmp_path / "environments")
    plan = build_plan("staging", tmp_path)
    assert not [r for r in plan["resources"] if r["type"] == "mlplatform:bootstrap:AccountBootstrap"]
    assert not resources_of(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
