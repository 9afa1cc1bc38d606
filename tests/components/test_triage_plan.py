"""The plan of a fixture environment with triage: the function, guardrail, invocation logging and role, and
a role that allows exactly what the handler calls (derived from the handler's source), scoped."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest

from components.errors import InputError
from components.loader import load_environment
from components.triage import FUNCTION_SOURCE, GUARDRAIL_PII_ANONYMIZE
from mlp.plan import build_plan
from tests.conftest import EditFn, one_of, resources_of

TRIAGE = {
    "personal_fields": ["cardholder_name"],
    "llm": {"model_id": "anthropic.claude-3-haiku-20240307-v1:0", "max_output_tokens": 256, "max_calls_per_hour": 5},
    "github": {"repository": "payments-co/incidents", "token_secret": "ml-platform/triage-github"},
}
# Clients attribute -> the boto3 service name and the IAM service prefix.
SERVICES = {
    "cloudwatch": ("cloudwatch", "cloudwatch"),
    "sagemaker": ("sagemaker", "sagemaker"),
    "s3": ("s3", "s3"),
    "sns": ("sns", "sns"),
    "secretsmanager": ("secretsmanager", "secretsmanager"),
    "dynamodb": ("dynamodb", "dynamodb"),
    "bedrock_runtime": ("bedrock-runtime", "bedrock"),
}
# API operations authorised under another action (Service Authorization Reference, read 2026-11-30):
# Converse -> bedrock:InvokeModel (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html);
# ListObjectsV2 -> s3:ListBucket (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
AUTHORISED_AS = {"bedrock:Converse": "bedrock:InvokeModel", "s3:ListObjectsV2": "s3:ListBucket"}
# Actions the role needs that are no call in the handler, each with why.
IMPLIED = {
    "kms:Decrypt": "reading the capture bucket's reports, publishing to encrypted topics, the table, the guardrail",
    "kms:GenerateDataKey": "publishing to the key-encrypted topics, writing the counter table",
    "bedrock:ApplyGuardrail": "a guardrail named in a Converse request is applied under this action",
    "logs:CreateLogStream": "the Lambda runtime writes the function's output to its log group",
    "logs:PutLogEvents": "the Lambda runtime writes the function's output to its log group",
}


def handler_actions() -> set[str]:
    """IAM actions of every call on a client in the handler package: a method of an attribute or variable
    named after a service (the handler's convention, see components/functions/triage/gather.py)."""
    found: set[str] = set()
    session = botocore.session.get_session()
    for path in sorted(FUNCTION_SOURCE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            # `clients.sns.publish(...)` in the handler, `sns.publish(...)` where a client is passed in.
            name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else None
            if name in SERVICES:
                service, prefix = SERVICES[name]
                client = session.create_client(
                    service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
                )
                operation = client.meta.method_to_api_mapping.get(node.func.attr)
                # A service's name holds only its client in the handler, so anything else is a mistake.
                assert operation, f"{path.name}:{node.lineno}: {name}.{node.func.attr} is no {service} API call"
                action = f"{prefix}:{operation}"
                found.add(AUTHORISED_AS.get(action, action))
    return found


def test_the_handler_calls_are_found() -> None:
    # The derivation itself: the calls the handler is known to make are among what it finds.
    assert {
        "cloudwatch:DescribeAlarms",
        "cloudwatch:GetMetricData",
        "sagemaker:DescribeEndpoint",
        "sns:Publish",
        "bedrock:InvokeModel",
        "dynamodb:UpdateItem",
        "s3:ListBucket",
        "s3:GetObject",
    } <= handler_actions()


def with_triage(triage: dict[str, Any]) -> EditFn:
    def change(data: Any) -> None:
        data["triage"] = triage

    return change


@pytest.fixture
def staging_plan(edit_env: Callable[[str, EditFn], Path]) -> dict[str, Any]:
    root = edit_env("staging", with_triage(TRIAGE))
    return build_plan("staging", root)


def statements(plan: dict[str, Any]) -> list[dict[str, Any]]:
    policy = one_of(plan, "aws:iam/rolePolicy:RolePolicy", "staging-triage-role-policy")
    return list(json.loads(policy["inputs"]["policy"])["Statement"])


def actions_of(stmts: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for s in stmts:
        out |= {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
    return out


def test_the_role_allows_exactly_what_the_handler_calls_scoped_to_this_environment(
    staging_plan: dict[str, Any],
) -> None:
    stmts = statements(staging_plan)
    assert actions_of(stmts) == handler_actions() | set(IMPLIED)
    assert all(s["Effect"] == "Allow" for s in stmts)
    unscoped = [s for s in stmts if s["Resource"] == "*" or (isinstance(s["Resource"], list) and "*" in s["Resource"])]
    assert [s["Action"] for s in unscoped] == ["cloudwatch:GetMetricData"]  # no resource types in IAM
    by_action = {a: s for s in stmts for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert by_action["sagemaker:DescribeEndpoint"]["Resource"] == [
        "arn:aws:sagemaker:eu-west-1:529306841275:endpoint/staging-fraud-scoring",
        "arn:aws:sagemaker:eu-west-1:529306841275:endpoint/staging-transaction-anomaly",
    ]
    assert (
        by_action["cloudwatch:DescribeAlarms"]["Resource"]
        == "arn:aws:cloudwatch:eu-west-1:529306841275:alarm:staging-*"
    )
    assert by_action["sns:Publish"]["Resource"] == [
        "arn:aws:sns:eu-west-1:529306841275:staging-fraud-notify",
        "arn:aws:sns:eu-west-1:529306841275:staging-risk-notify",
    ]
    guardrail = one_of(staging_plan, "aws:bedrock/guardrail:Guardrail")
    invoke = by_action["bedrock:InvokeModel"]
    assert invoke["Resource"] == "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    assert invoke["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"].endswith(":1")
    assert by_action["bedrock:ApplyGuardrail"]["Resource"].startswith(
        "arn:aws:bedrock:eu-west-1:529306841275:guardrail/"
    )
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == (
        "arn:aws:secretsmanager:eu-west-1:529306841275:secret:ml-platform/triage-github-??????"
    )
    assert by_action["s3:GetObject"]["Resource"] == [
        "arn:aws:s3:::mlp-staging-fraud-scoring-capture-529306841275-eu-west-1/monitoring/*",
        "arn:aws:s3:::mlp-staging-transaction-anomaly-capture-529306841275-eu-west-1/monitoring/*",
    ]
    assert guardrail["inputs"]["name"] == "staging-triage"


def test_the_function_is_packaged_from_the_repository_encrypted_tagged_and_subscribed(
    staging_plan: dict[str, Any],
) -> None:
    fn = one_of(staging_plan, "aws:lambda/function:Function")["inputs"]
    key = one_of(staging_plan, "aws:kms/key:Key")
    key_arn = f"arn:aws:kms:eu-west-1:529306841275:key/{key['urn'] and fn['kmsKeyArn'].rsplit('/', 1)[1]}"
    assert fn["kmsKeyArn"] == key_arn
    assert fn["handler"] == "triage.handler.lambda_handler"
    assert fn["runtime"] in {r.value for r in __import__("pulumi_aws").lambda_.Runtime}
    archive = fn["code"]["archive"]
    assert set(archive) == {f"triage/{p.name}" for p in FUNCTION_SOURCE.glob("*.py")} | {"triage/config.json"}
    assert fn["environment"]["variables"]["GUARDRAIL_VERSION"] == "1"
    assert fn["tags"]["team"] == "platform" and fn["tags"]["environment"] == "staging"
    logs = one_of(staging_plan, "aws:cloudwatch/logGroup:LogGroup", "staging-triage-logs")["inputs"]
    assert logs["kmsKeyId"] == key_arn and logs["name"] == fn["loggingConfig"]["logGroup"]
    subscriptions = [
        r["inputs"]
        for r in resources_of(staging_plan, "aws:sns/topicSubscription:TopicSubscription")
        if r["inputs"]["protocol"] == "lambda"
    ]
    topics = {
        r["inputs"]["name"]
        for r in resources_of(staging_plan, "aws:sns/topic:Topic")
        if r["inputs"]["name"].endswith("-notify")
    }
    assert {s["topic"].rsplit(":", 1)[1] for s in subscriptions} == topics
    assert all(json.loads(s["filterPolicy"]) == {"mlp-triage": [{"exists": False}]} for s in subscriptions)
    permissions = resources_of(staging_plan, "aws:lambda/permission:Permission")
    assert {p["inputs"]["sourceArn"] for p in permissions} == {s["topic"] for s in subscriptions}
    # The key lets CloudWatch Logs encrypt exactly this log group, and Bedrock write its audit logs.
    policy = json.loads(key["inputs"]["policy"])
    sids = {s["Sid"]: s for s in policy["Statement"]}
    assert sids["CloudWatchLogsEncryptTriageLogGroup"]["Condition"]["ArnEquals"][
        "kms:EncryptionContext:aws:logs:arn"
    ].endswith(":log-group:/aws/lambda/staging-alert-triage")
    assert sids["BedrockWritesInvocationLogs"]["Condition"]["StringEquals"]["aws:SourceAccount"] == "529306841275"


def test_the_guardrail_anonymizes_card_email_and_name_with_values_botocore_knows(staging_plan: dict[str, Any]) -> None:
    model = botocore.session.get_session().get_component("data_loader").load_service_model("bedrock", "service-2")
    types = set(model["shapes"]["GuardrailPiiEntityType"]["enum"])
    actions = set(model["shapes"]["GuardrailSensitiveInformationAction"]["enum"])
    guardrail = one_of(staging_plan, "aws:bedrock/guardrail:Guardrail")["inputs"]
    entities = guardrail["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]
    assert {e["type"] for e in entities} == set(GUARDRAIL_PII_ANONYMIZE) <= types
    assert {"CREDIT_DEBIT_CARD_NUMBER", "EMAIL", "NAME", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"} <= {
        e["type"] for e in entities
    }
    assert {e["action"] for e in entities} == {"ANONYMIZE"} <= actions
    assert guardrail["kmsKeyArn"].startswith("arn:aws:kms:eu-west-1:529306841275:key/")
    assert guardrail["tags"]["team"] == "platform"


def test_invocation_logging_goes_to_an_encrypted_expiring_private_bucket(staging_plan: dict[str, Any]) -> None:
    logging = one_of(staging_plan, "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration")
    bucket = logging["inputs"]["loggingConfig"]["s3Config"]["bucketName"]
    assert logging["inputs"]["loggingConfig"]["textDataDeliveryEnabled"] is True
    expiry = one_of(
        staging_plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "staging-triage-audit-expiry"
    )
    assert expiry["inputs"]["bucket"] == bucket and expiry["inputs"]["rules"][0]["expiration"]["days"] == 90
    encryption = one_of(
        staging_plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "staging-triage-audit-encryption",
    )
    assert encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    policy = json.loads(
        one_of(staging_plan, "aws:s3/bucketPolicy:BucketPolicy", "staging-triage-audit-tls-only")["inputs"]["policy"]
    )
    writer = next(s for s in policy["Statement"] if s["Sid"] == "ServiceWritesBedrock")
    assert writer["Principal"] == {"Service": "bedrock.amazonaws.com"} and writer["Action"] == "s3:PutObject"
    assert writer["Resource"] == f"arn:aws:s3:::{bucket}/bedrock/*"
    assert writer["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:bedrock:eu-west-1:529306841275:*"
    assert one_of(staging_plan, "aws:s3/bucket:Bucket", "staging-triage-audit")["protect"] is True  # staging protects


def test_without_llm_there_is_no_guardrail_no_bedrock_and_no_bedrock_permission(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    plan = build_plan("staging", edit_env("staging", with_triage({"personal_fields": ["cardholder_name"]})))
    assert resources_of(plan, "aws:bedrock/guardrail:Guardrail") == []
    assert resources_of(plan, "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration") == []
    assert resources_of(plan, "aws:dynamodb/table:Table") == []
    actions = actions_of(statements(plan))
    assert not {a for a in actions if a.startswith(("bedrock:", "dynamodb:", "secretsmanager:"))}
    assert "GUARDRAIL_ID" not in one_of(plan, "aws:lambda/function:Function")["inputs"]["environment"]["variables"]


def test_an_undefined_notify_severity_is_refused_with_the_line(edit_env: Callable[[str, EditFn], Path]) -> None:
    root = edit_env("staging", with_triage({"notify_severity": "page"}))
    with pytest.raises(InputError) as err:
        load_environment("staging", root)
    [problem] = err.value.problems
    assert str(problem).startswith("environments/staging.yaml:")
    assert "triage.notify_severity: severity 'page' is not defined; alerting.severities here: notify" in str(problem)


def test_a_model_id_bedrock_would_refuse_is_refused(edit_env: Callable[[str, EditFn], Path]) -> None:
    root = edit_env("staging", with_triage({"llm": {"model_id": "Claude 3 please"}}))
    with pytest.raises(InputError) as err:
        load_environment("staging", root)
    assert "triage.llm.model_id" in str(err.value.problems[0])


def test_boto3_is_all_the_handler_imports() -> None:
    imported: set[str] = set()
    for path in FUNCTION_SOURCE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    import sys

    assert imported - set(sys.stdlib_module_names) == {"boto3"}
    assert boto3  # the one third-party module, provided by the Lambda runtime
