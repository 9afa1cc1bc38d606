"""Alert triage: one Lambda function per environment that answers every team alarm with a triage note.

The function (components/functions/triage/, packaged from this repository) is subscribed to every team's
alarm topics. For each alarm it reads, deterministically, the model and its rollout state, the alarm's
history, the endpoint's metrics around the alarm against the day and week before, the latest monitoring
report's drifting features and the runbook's next step; redacts; optionally asks Amazon Bedrock for a
summary through a guardrail declared here; and posts the note to the team's notify topic (and a GitHub
issue). Everything it may call is in its role's one inline policy, scoped to this environment's resources.

With `triage.llm` the component also declares the guardrail (sensitive-information filters that anonymize
card numbers, emails, names and similar), a counter table for the calls-per-hour cap, and Bedrock model
invocation logging into an encrypted bucket whose objects expire: every prompt and answer is kept for audit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.config.triage import Triage
from components.iam import lambda_trust_policy
from components.naming import IAM_POLICY, IAM_ROLE, S3_BUCKET, NameRule, physical_name
from components.storage import PrivateBucket, PrivateBucketArgs, ServiceWriter
from components.tagging import CostTags

FUNCTION_SOURCE = Path(__file__).parent / "functions" / "triage"
PACKAGE = "triage"
HANDLER = f"{PACKAGE}.handler.lambda_handler"
# The newest Python runtime pulumi_aws knows (aws.lambda_.Runtime); its bundled boto3 has Converse with
# guardrailConfig. arm64 (Graviton) costs less per GB-second than x86_64 (https://aws.amazon.com/lambda/pricing/,
# read 2026-11-30).
RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
MEMORY_MB = 256
# Lambda function names: letters, digits, hyphens and underscores (botocore lambda service-2.json, shape
# FunctionName pattern), "limited to 64 characters" when given as a name (CreateFunction FunctionName
# documentation, same model; read 2026-11-30).
LAMBDA_FUNCTION = NameRule(64, re.compile(r"[^a-zA-Z0-9_-]"))
# DynamoDB TableName: [a-zA-Z0-9_.-]+, 3..255 (botocore dynamodb service-2.json, shape TableName).
DYNAMODB_TABLE = NameRule(255, re.compile(r"[^a-zA-Z0-9_.-]"), min_length=3)
# Guardrail names: [0-9a-zA-Z-_]+, 1..50 (botocore bedrock service-2.json 2023-04-20, shape GuardrailName).
GUARDRAIL = NameRule(50, re.compile(r"[^0-9a-zA-Z_-]"))
AUDIT_PREFIX = "bedrock"

# What the guardrail anonymizes in prompts and answers: values of botocore bedrock service-2.json
# (2023-04-20) GuardrailPiiEntityType, action ANONYMIZE of GuardrailSensitiveInformationAction (enum BLOCK,
# ANONYMIZE, NONE); read 2026-11-30. Card data, bank details, identities and secrets.
GUARDRAIL_PII_ANONYMIZE = (
    "CREDIT_DEBIT_CARD_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "PIN",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "SWIFT_CODE",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "EMAIL",
    "NAME",
    "PHONE",
    "ADDRESS",
    "USERNAME",
    "PASSWORD",
    "IP_ADDRESS",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "US_SOCIAL_SECURITY_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
)
GUARDRAIL_BLOCKED_MESSAGE = "The triage summary was blocked by the ml-platform guardrail."


@dataclass(frozen=True)
class TriageArgs:
    """Inputs of `AlertTriage`; `composition.alert_triage_args` builds them from the environment file."""

    environment: str
    """Environment (= stack) name, the first part of every physical name."""
    account_id: str
    """Account the function runs in (ARNs in its policy)."""
    region: str
    """Region the function runs in."""
    settings: Triage
    """The environment file's `triage` section."""
    config: Mapping[str, Any]
    """The function's config.json (`composition.triage_config`): models, teams' notify topics, limits."""
    kms_key_arn: pulumi.Input[str]
    """The environment key: environment variables, log group, counter table, guardrail, audit bucket."""
    alarm_topic_arns: Sequence[pulumi.Input[str]]
    """Every team's alarm topics: the function subscribes to each."""
    report_buckets: Mapping[str, pulumi.Input[str]]
    """Model -> bucket of its monitoring reports (the capture bucket), for models that capture data."""
    protect_stateful: bool
    """Protect the audit bucket from deletion."""
    deploy_commit: str | None = None
    """Commit the stack was deployed from (stack config `deployCommit`), shown in every note."""


def function_name(environment: str) -> str:
    return physical_name(LAMBDA_FUNCTION, environment, "alert-triage")


def runbook_sections(path: Path, environment: str) -> tuple[str, str]:
    """The runbook's "Roll back by pull request" and "Stop a rollout in progress" sections (the note's next
    step), or a pointer to `mlp runbook` when the runbook is not generated yet."""
    missing = f"No runbook yet: run `uv run mlp runbook {environment}` and commit it."
    if not path.is_file():
        return missing, missing
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    rollback = "\n".join(sections.get("Roll back by pull request", [])).strip() or missing
    stop = "\n".join(sections.get("Stop a rollout in progress", [])).strip() or missing
    return rollback, stop


def budget_table_name(environment: str) -> str:
    return physical_name(DYNAMODB_TABLE, environment, "triage-llm-calls")


def guardrail_name(environment: str) -> str:
    return physical_name(GUARDRAIL, environment, "triage")


def audit_bucket_name(environment: str, account_id: str, region: str) -> str:
    return physical_name(S3_BUCKET, "mlp", environment, "bedrock-audit", account_id, region)


def log_group_name(environment: str) -> str:
    return f"/aws/lambda/{function_name(environment)}"


def secret_arn(secret: str, region: str, account_id: str) -> str:
    """A secret named by name or ARN, as an IAM resource: Secrets Manager appends `-` and six random
    characters to a secret's name in its ARN (https://docs.aws.amazon.com/secretsmanager/latest/userguide/
    auth-and-access_iam-policies.html, read 2026-11-30)."""
    if secret.startswith("arn:"):
        return secret
    return f"arn:aws:secretsmanager:{region}:{account_id}:secret:{secret}-??????"


def code_archive(config: Mapping[str, Any]) -> pulumi.AssetArchive:
    """The handler package's modules (sorted, no caches) and its config.json, under `triage/`."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        f"{PACKAGE}/{path.name}": pulumi.FileAsset(str(path)) for path in sorted(FUNCTION_SOURCE.glob("*.py"))
    }
    assets[f"{PACKAGE}/config.json"] = pulumi.StringAsset(json.dumps(config, sort_keys=True, indent=1))
    return pulumi.AssetArchive(assets)


class AlertTriage(PlatformComponent):
    """The triage function, its role, log group and subscriptions; with an LLM, the guardrail, the call
    counter and the audited invocation logging."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    guardrail: aws.bedrock.Guardrail | None

    def __init__(self, name: str, args: TriageArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:triage:AlertTriage", name, tags, opts)
        settings = args.settings
        fn_name = function_name(args.environment)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(args.environment),
            retention_in_days=settings.log_retention_days,
            kms_key_id=args.kms_key_arn,
            opts=self.child_opts(),
        )

        self.guardrail = None
        guardrail_version: aws.bedrock.GuardrailVersion | None = None
        table: aws.dynamodb.Table | None = None
        if settings.llm is not None:
            self.guardrail, guardrail_version = self._guardrail(name, args)
            table = aws.dynamodb.Table(
                f"{name}-llm-calls",
                name=budget_table_name(args.environment),
                billing_mode="PAY_PER_REQUEST",
                hash_key="hour",
                attributes=[{"name": "hour", "type": "S"}],
                ttl={"attribute_name": "expires_at", "enabled": True},
                server_side_encryption={"enabled": True, "kms_key_arn": args.kms_key_arn},
                opts=self.child_opts(),
            )
            self._invocation_logging(name, args)

        guardrail_arn = self.guardrail.guardrail_arn if self.guardrail else None
        version = guardrail_version.version if guardrail_version else None
        policy = pulumi.Output.all(
            kms=args.kms_key_arn,
            guardrail=guardrail_arn,
            version=version,
            table=table.arn if table else None,
            buckets=pulumi.Output.all(*args.report_buckets.values()),
        ).apply(lambda v: json.dumps(role_policy(args, v), sort_keys=True))
        self.role = aws.iam.Role(
            f"{name}-role",
            name=physical_name(IAM_ROLE, args.environment, "alert-triage"),
            description=f"Lambda function {fn_name}: reads alarms, metrics and endpoints, posts triage notes",
            assume_role_policy=lambda_trust_policy(),
            opts=self.child_opts(),
        )
        role_policy_resource = aws.iam.RolePolicy(
            f"{name}-role-policy",
            name=physical_name(IAM_POLICY, "alert-triage"),
            role=self.role.id,
            policy=policy,
            opts=self.child_opts(),
        )

        variables: dict[str, pulumi.Input[str]] = {
            "REPORT_BUCKETS": pulumi.Output.all(**dict(args.report_buckets)).apply(
                lambda b: json.dumps(b, sort_keys=True)
            )
        }
        if self.guardrail is not None and guardrail_version is not None:
            variables["GUARDRAIL_ID"] = self.guardrail.guardrail_id
            variables["GUARDRAIL_VERSION"] = guardrail_version.version
        if args.deploy_commit:
            variables["DEPLOY_COMMIT"] = args.deploy_commit
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=fn_name,
            description=f"ml-platform {args.environment}: triage notes for the teams' alarms",
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=HANDLER,
            code=code_archive(args.config),
            role=self.role.arn,
            timeout=settings.timeout_seconds,
            memory_size=MEMORY_MB,
            kms_key_arn=args.kms_key_arn,
            environment={"variables": variables},
            logging_config={"log_format": "Text", "log_group": log_group.name},
            opts=self.child_opts(depends_on=[log_group, role_policy_resource]),
        )

        for i, topic in enumerate(args.alarm_topic_arns):
            permission = aws.lambda_.Permission(
                f"{name}-from-topic-{i}",
                action="lambda:InvokeFunction",
                function=self.function.name,
                principal="sns.amazonaws.com",
                source_arn=topic,
                opts=self.child_opts(),
            )
            aws.sns.TopicSubscription(
                f"{name}-topic-{i}",
                topic=topic,
                protocol="lambda",
                endpoint=self.function.arn,
                # Our own notes carry this attribute: the function never triages a triage note.
                filter_policy=json.dumps({"mlp-triage": [{"exists": False}]}),
                opts=self.child_opts(depends_on=[permission]),
            )

        self.register_outputs(
            {
                "functionArn": self.function.arn,
                "roleArn": self.role.arn,
                "guardrailArn": guardrail_arn,
            }
        )

    def _guardrail(self, name: str, args: TriageArgs) -> tuple[aws.bedrock.Guardrail, aws.bedrock.GuardrailVersion]:
        guardrail = aws.bedrock.Guardrail(
            f"{name}-guardrail",
            name=guardrail_name(args.environment),
            description="ml-platform alert triage: anonymize card, bank and personal data in prompts and answers",
            blocked_input_messaging=GUARDRAIL_BLOCKED_MESSAGE,
            blocked_outputs_messaging=GUARDRAIL_BLOCKED_MESSAGE,
            kms_key_arn=args.kms_key_arn,
            sensitive_information_policy_config={
                "pii_entities_configs": [{"type": t, "action": "ANONYMIZE"} for t in GUARDRAIL_PII_ANONYMIZE],
            },
            opts=self.child_opts(),
        )
        # A numbered version: the function calls a fixed guardrail, not the editable DRAFT. A version is a
        # snapshot taken when it is created, so its description carries a digest of the configuration: a change
        # to the filters replaces the version (a new number) and the function's GUARDRAIL_VERSION with it.
        digest = hashlib.sha256(json.dumps([GUARDRAIL_PII_ANONYMIZE, GUARDRAIL_BLOCKED_MESSAGE]).encode()).hexdigest()[
            :12
        ]
        version = aws.bedrock.GuardrailVersion(
            f"{name}-guardrail-version",
            guardrail_arn=guardrail.guardrail_arn,
            description=f"pinned by ml-platform, configuration {digest}",
            skip_destroy=True,
            opts=self.child_opts(),
        )
        return guardrail, version

    def _invocation_logging(self, name: str, args: TriageArgs) -> None:
        """Bedrock writes every prompt and answer of this account and region to an encrypted bucket whose
        objects expire (the configuration is per account and region: one stack per account and region)."""
        llm = args.settings.llm
        assert llm is not None
        audit = PrivateBucket(
            f"{name}-audit",
            PrivateBucketArgs(
                bucket_name=audit_bucket_name(args.environment, args.account_id, args.region),
                kms_key_arn=args.kms_key_arn,
                protect=args.protect_stateful,
                versioned=False,
                expire_after_days=llm.audit_log_retention_days,
                service_writers=(
                    ServiceWriter(
                        service="bedrock.amazonaws.com",
                        key_pattern=f"{AUDIT_PREFIX}/*",
                        source_account=args.account_id,
                        source_arn=f"arn:aws:bedrock:{args.region}:{args.account_id}:*",
                    ),
                ),
            ),
            self.tags,
            opts=self.child_opts(),
        )
        aws.bedrockmodel.InvocationLoggingConfiguration(
            f"{name}-invocation-logging",
            logging_config={
                "s3_config": {"bucket_name": audit.bucket.bucket, "key_prefix": AUDIT_PREFIX},
                "text_data_delivery_enabled": True,
                "image_data_delivery_enabled": False,
                "embedding_data_delivery_enabled": False,
                "video_data_delivery_enabled": False,
            },
            opts=self.child_opts(depends_on=[audit]),
        )


def role_policy(args: TriageArgs, resolved: dict[str, Any]) -> dict[str, Any]:
    """Exactly the actions the handler calls (components/functions/triage/), each on this environment's
    resources; the one statement on "*" holds the action that has no resource type."""
    region, account = args.region, args.account_id
    config = args.config
    endpoints = [m["endpoint"] for m in config["models"]]
    statements: list[dict[str, Any]] = [
        {
            # Scoped to alarm ARNs: allowed for metric alarms (only composite alarms need "*", botocore
            # cloudwatch service-2.json, DescribeAlarms and DescribeAlarmHistory documentation; read 2026-11-30).
            "Sid": "ReadAlarmsOfThisEnvironment",
            "Effect": "Allow",
            "Action": ["cloudwatch:DescribeAlarmHistory", "cloudwatch:DescribeAlarms"],
            "Resource": f"arn:aws:cloudwatch:{region}:{account}:alarm:{args.environment}-*",
        },
        {
            # GetMetricData has no resource types (Service Authorization Reference, CloudWatch, read 2026-11-30).
            "Sid": "ActionsWithoutResourceTypes",
            "Effect": "Allow",
            "Action": "cloudwatch:GetMetricData",
            "Resource": "*",
        },
        {
            "Sid": "PostNotesToTeamTopics",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": sorted(set(config["notify_topics"].values())),
        },
        {
            # The topics, the table, the reports and the guardrail are encrypted with the environment key.
            "Sid": "UseEnvironmentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": resolved["kms"],
        },
    ]
    if endpoints:
        statements.append(
            {
                "Sid": "DescribeEndpoints",
                "Effect": "Allow",
                "Action": "sagemaker:DescribeEndpoint",
                "Resource": [f"arn:aws:sagemaker:{region}:{account}:endpoint/{e.lower()}" for e in sorted(endpoints)],
            }
        )
    buckets = sorted(b for b in resolved["buckets"] if b)
    if buckets:
        statements += [
            {
                "Sid": "ListMonitoringReports",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": [f"arn:aws:s3:::{b}" for b in buckets],
                "Condition": {"StringLike": {"s3:prefix": ["monitoring/*"]}},
            },
            {
                "Sid": "ReadMonitoringReports",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::{b}/monitoring/*" for b in buckets],
            },
        ]
    github = config.get("github")
    if github:
        statements.append(
            {
                "Sid": "ReadGithubToken",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn(github["token_secret"], region, account),
            }
        )
    llm = config.get("llm")
    if llm and resolved.get("guardrail") and resolved.get("table"):
        guardrail = resolved["guardrail"]
        statements += [
            {
                "Sid": "CountModelCalls",
                "Effect": "Allow",
                "Action": "dynamodb:UpdateItem",
                "Resource": resolved["table"],
            },
            {
                # Converse is authorised as InvokeModel; only with this guardrail's pinned version
                # (bedrock:GuardrailIdentifier, https://docs.aws.amazon.com/bedrock/latest/userguide/
                # guardrails-permissions-id.html, read 2026-11-30).
                "Sid": "InvokeModelThroughGuardrail",
                "Effect": "Allow",
                "Action": "bedrock:InvokeModel",
                "Resource": f"arn:aws:bedrock:{region}::foundation-model/{llm['model_id']}",
                "Condition": {"StringEquals": {"bedrock:GuardrailIdentifier": f"{guardrail}:{resolved['version']}"}},
            },
            {
                # A guardrail in an inference request is applied under bedrock:ApplyGuardrail
                # (https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions.html, read 2026-11-30).
                "Sid": "ApplyTheGuardrail",
                "Effect": "Allow",
                "Action": "bedrock:ApplyGuardrail",
                "Resource": guardrail,
            },
        ]
    statements.append(
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{region}:{account}:log-group:{log_group_name(args.environment)}:*",
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}
