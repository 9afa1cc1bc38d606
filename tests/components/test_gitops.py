"""Approval to pull request: the EventBridge rule, connection, API destination, target and role that the
registry-hosting environment deploys, and nowhere else (the component is unit-tested on its own)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.gitops import (
    APPROVAL_EVENT_TYPE,
    DISPATCH_INPUT_PATHS,
    ApprovalDispatch,
    ApprovalDispatchArgs,
    dispatch_input_template,
)
from components.tagging import CostTags
from mlp.cli import EXIT_INPUT, main
from mlp.plan import Plan
from tests.conftest import fixture_env, one_of, plan_one, resources_of

ACCOUNT = "418295730164"
SECRET = "mlp/github-dispatch-token"
GROUPS = ("transaction-anomaly", "fraud-scoring")


@pytest.fixture(scope="module")
def dispatch() -> Plan:
    """One ApprovalDispatch on its own, as the dev environment (account 418295730164) declares it."""

    def build(opts: pulumi.ResourceOptions) -> None:
        args = ApprovalDispatchArgs(
            environment="dev",
            account_id=ACCOUNT,
            repository="payments-co/ml-platform",
            github_token_secret=SECRET,
            model_package_groups=GROUPS,
        )
        tags = CostTags(environment="dev", team="platform", cost_center="CC-4100", repository="payments-co/ml-platform")
        ApprovalDispatch("dev-approval-dispatch", args, tags, opts=opts)

    return plan_one(build, stack="dev", account_id=ACCOUNT, region="eu-west-1")


GITOPS_TYPES = (
    "mlplatform:gitops:ApprovalDispatch",
    "aws:cloudwatch/eventConnection:EventConnection",
    "aws:cloudwatch/eventApiDestination:EventApiDestination",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget",
)


def test_only_the_registry_environment_turns_approvals_into_dispatches(plans: dict[str, Plan]) -> None:
    assert fixture_env("dev").hosts_registry
    [dispatch] = resources_of(plans["dev"], "mlplatform:gitops:ApprovalDispatch")
    for t in GITOPS_TYPES[1:]:
        assert len([r for r in resources_of(plans["dev"], t) if r["parent"] == dispatch["urn"]]) == 1, t
    for env in ("staging", "prod"):
        assert resources_of(plans[env], "mlplatform:gitops:ApprovalDispatch") == []
        assert resources_of(plans[env], "aws:cloudwatch/eventConnection:EventConnection") == []


def test_rule_matches_approvals_of_the_environment_models(dispatch: Plan) -> None:
    rule = one_of(dispatch, "aws:cloudwatch/eventRule:EventRule", "dev-approval-dispatch-approved")["inputs"]
    assert json.loads(rule["eventPattern"]) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelApprovalStatus": ["Approved"],
            "ModelPackageGroupName": sorted(GROUPS),
        },
    }
    assert rule["tags"]["team"] == "platform"


def test_connection_sends_the_token_from_secrets_manager_as_a_bearer_header(dispatch: Plan) -> None:
    conn = one_of(dispatch, "aws:cloudwatch/eventConnection:EventConnection")["inputs"]
    assert conn["authorizationType"] == "API_KEY"
    api_key = conn["authParameters"]["apiKey"]
    assert api_key["key"] == "Authorization"
    # A plan is a preview: the token is not read (tests/components/test_gitops_preview.py covers `up`).
    assert api_key["value"] == "(known after apply)"
    headers = {h["key"]: h["value"] for h in conn["authParameters"]["invocationHttpParameters"]["headers"]}
    assert headers == {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def test_destination_posts_to_the_repository_dispatches_endpoint(dispatch: Plan) -> None:
    plan = dispatch
    dest = one_of(plan, "aws:cloudwatch/eventApiDestination:EventApiDestination")
    conn = one_of(plan, "aws:cloudwatch/eventConnection:EventConnection")
    assert dest["inputs"]["httpMethod"] == "POST"
    assert dest["inputs"]["invocationEndpoint"] == "https://api.github.com/repos/payments-co/ml-platform/dispatches"
    assert dest["inputs"]["invocationRateLimitPerSecond"] == 1
    assert re.match(
        r"^arn:aws:events:eu-west-1:418295730164:connection/mlp-dev-github-dispatch/", dest["inputs"]["connectionArn"]
    )
    assert conn["urn"] in dest["dependencies"]


def test_target_sends_the_dispatch_body_github_expects(dispatch: Plan) -> None:
    plan = dispatch
    target = one_of(plan, "aws:cloudwatch/eventTarget:EventTarget", "dev-approval-dispatch-approved-to-github")[
        "inputs"
    ]
    dest = one_of(plan, "aws:cloudwatch/eventApiDestination:EventApiDestination")
    role = one_of(plan, "aws:iam/role:Role", "dev-approval-dispatch-events")
    assert target["arn"].startswith("arn:aws:events:eu-west-1:418295730164:api-destination/mlp-dev-github-dispatches/")
    assert (
        dest["urn"]
        in one_of(plan, "aws:cloudwatch/eventTarget:EventTarget", "dev-approval-dispatch-approved-to-github")[
            "dependencies"
        ]
    )
    assert target["roleArn"] == f"arn:aws:iam::418295730164:role/{role['inputs']['name']}"
    transformer = target["inputTransformer"]
    assert transformer["inputPaths"] == DISPATCH_INPUT_PATHS
    # What EventBridge sends for an approval of fraud-scoring version 14 is valid JSON in GitHub's shape.
    sent = (
        transformer["inputTemplate"]
        .replace("<group>", "fraud-scoring")
        .replace("<version>", "14")
        .replace("<arn>", "arn:aws:sagemaker:eu-west-1:418295730164:model-package/fraud-scoring/14")
    )
    assert json.loads(sent) == {
        "event_type": APPROVAL_EVENT_TYPE,
        "client_payload": {
            "model_package_group": "fraud-scoring",
            "version": 14,
            "model_package_arn": "arn:aws:sagemaker:eu-west-1:418295730164:model-package/fraud-scoring/14",
            "source_environment": "dev",
        },
    }
    assert transformer["inputTemplate"] == dispatch_input_template("dev")


def test_eventbridge_role_may_only_invoke_this_destination(dispatch: Plan) -> None:
    plan = dispatch
    role = one_of(plan, "aws:iam/role:Role", "dev-approval-dispatch-events")["inputs"]
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "418295730164"}},
        }
    ]
    policy = json.loads(
        one_of(plan, "aws:iam/rolePolicy:RolePolicy", "dev-approval-dispatch-events-invoke")["inputs"]["policy"]
    )
    dest_arn = one_of(plan, "aws:cloudwatch/eventTarget:EventTarget", "dev-approval-dispatch-approved-to-github")[
        "inputs"
    ]["arn"]
    assert policy["Statement"] == [{"Effect": "Allow", "Action": "events:InvokeApiDestination", "Resource": dest_arn}]


def test_approval_dispatch_outside_the_registry_environment_is_refused(
    edit_env: Callable[[str, Any], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = edit_env("staging", lambda d: d.__setitem__("gitops", {"approval_dispatch": {"github_token_secret": "x"}}))
    assert main(["plan", "staging", "--root", str(root)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert re.search(
        r"environments/staging\.yaml:\d+: gitops\.approval_dispatch: approvals happen where the registry lives", err
    )
    assert "move gitops.approval_dispatch to environments/dev.yaml" in err


def test_token_secret_must_be_a_secret_name_or_arn(
    edit_env: Callable[[str, Any], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def plain_token(d: Any) -> None:
        d["gitops"]["approval_dispatch"]["github_token_secret"] = "ghp token in the file!"

    root = edit_env("dev", plain_token)
    assert main(["plan", "dev", "--root", str(root)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert (
        "gitops.approval_dispatch.github_token_secret: 'ghp token in the file!' does not fit: a Secrets Manager" in err
    )
