"""policies/rules/iam.py: no wildcard actions, no writes on `*`, no iam:PassRole on `*`."""

from __future__ import annotations

import pytest

from policies.rules.iam import iam_no_passrole_on_all_roles, iam_no_wildcard_actions, iam_no_write_on_all_resources
from tests.policies.fixtures import compliant_stack, kms_key, managed_policy, messages, role, role_policy

ALL_IAM_RULES = [iam_no_wildcard_actions, iam_no_write_on_all_resources, iam_no_passrole_on_all_roles]


def allow(action: object, resource: object = "arn:aws:s3:::mlp-prod-artifacts/*", sid: str = "S") -> dict[str, object]:
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}


@pytest.mark.parametrize("rule", ALL_IAM_RULES)
def test_a_compliant_stack_passes(rule: object) -> None:
    assert messages(rule, compliant_stack()) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("action", ["*", "s3:*", ["s3:GetObject", "sagemaker:*"]])
def test_wildcard_actions_in_an_inline_policy_are_reported(action: object) -> None:
    wild = "*" if action == "*" else ("s3:*" if action == "s3:*" else "sagemaker:*")
    assert messages(iam_no_wildcard_actions, [role(allow(action))]) == [
        f"prod-fraud-scoring-sagemaker: inline policy 'artifacts' statement S allows {wild}: list the actions the "
        "workload calls"
    ]


def test_wildcard_actions_in_role_policies_and_managed_policies_are_reported() -> None:
    assert messages(iam_no_wildcard_actions, [role_policy(allow("*")), managed_policy(allow("iam:*"))]) == [
        "prod-fraud-scoring-pipeline: policy statement S allows *: list the actions the workload calls",
        "prod-fraud-scoring-deploy: policy statement S allows iam:*: list the actions the workload calls",
    ]


def test_not_action_is_reported() -> None:
    statement = {"Sid": "S", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert messages(iam_no_wildcard_actions, [role_policy(statement)]) == [
        "prod-fraud-scoring-pipeline: policy statement S allows NotAction (everything else): list the allowed "
        "actions instead"
    ]


def test_partial_wildcards_and_deny_statements_are_allowed() -> None:
    deny = {"Sid": "D", "Effect": "Deny", "Action": "*", "Resource": "*"}
    assert messages(iam_no_wildcard_actions, [role_policy(allow("s3:Get*"), deny)]) == []


@pytest.mark.parametrize(
    "action", ["s3:PutObject", "sagemaker:CreateEndpoint", "s3:DeleteObject", "sagemaker:InvokeEndpoint"]
)
def test_a_write_on_all_resources_is_reported(action: str) -> None:
    assert messages(iam_no_write_on_all_resources, [role_policy(allow(["s3:GetObject", action], "*"))]) == [
        f'prod-fraud-scoring-pipeline: policy statement S allows {action} on "*": scope Resource to the ARNs written'
    ]


def test_reads_on_all_resources_and_writes_on_named_resources_pass() -> None:
    reads = allow(["ecr:GetAuthorizationToken", "sagemaker:ListModelPackages", "logs:DescribeLogGroups"], "*")
    writes = allow(["s3:PutObject"], ["arn:aws:s3:::mlp-prod-artifacts/*"])
    assert messages(iam_no_write_on_all_resources, [role_policy(reads, writes)]) == []


def test_writes_aws_only_grants_on_all_resources_are_allowed() -> None:
    assert messages(iam_no_write_on_all_resources, [role_policy(allow("cloudwatch:PutMetricData", "*"))]) == []


def test_wildcards_and_pass_role_are_left_to_their_own_rules() -> None:
    statement = allow(["*", "iam:PassRole"], "*")
    assert messages(iam_no_write_on_all_resources, [role_policy(statement)]) == []


@pytest.mark.parametrize("action", ["iam:PassRole", ["iam:PassRole"], "iam:Pass*"])
def test_pass_role_on_all_roles_is_reported(action: object) -> None:
    assert messages(iam_no_passrole_on_all_roles, [managed_policy(allow(action, "*"))]) == [
        'prod-fraud-scoring-deploy: policy statement S allows iam:PassRole on "*": name the role ARNs it may pass'
    ]


def test_pass_role_on_a_named_role_passes() -> None:
    statement = allow("iam:PassRole", "arn:aws:iam::630417952386:role/prod-fraud-scoring-sagemaker")
    assert messages(iam_no_passrole_on_all_roles, [managed_policy(statement)]) == []


@pytest.mark.parametrize("rule", ALL_IAM_RULES)
def test_kms_key_policies_are_resource_policies_and_exempt(rule: object) -> None:
    key = kms_key()
    key["inputs"]["policy"] = (
        '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::630417952386:root"}, '
        '"Action": "kms:*", "Resource": "*"}]}'
    )
    assert messages(rule, [key]) == []  # type: ignore[arg-type]
