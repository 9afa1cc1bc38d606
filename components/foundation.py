"""What every environment has before any model: its AWS provider, KMS key and artifact bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.artifacts import baselines_prefix, model_artifacts_prefix
from components.base import PlatformComponent
from components.iam import account_administers_key_statement
from components.naming import KMS_ALIAS, S3_BUCKET, physical_name
from components.storage import PrivateBucket, PrivateBucketArgs
from components.tagging import CostTags


@dataclass(frozen=True)
class FoundationArgs:
    """Inputs of `EnvironmentFoundation`."""

    environment: str
    """Environment (= stack) name, used in every physical name."""
    account_id: str
    """The only AWS account the provider may deploy into (`allowed_account_ids`)."""
    region: str
    """The region the provider is pinned to."""
    protect_stateful: bool
    """Protect the key and bucket from deletion (`protect`, and `retain_on_delete` for the key)."""
    key_deletion_window_days: int = 30
    """Waiting period before a scheduled key deletion; 30 is the AWS maximum and the safest."""
    key_service_principals: tuple[str, ...] = ()
    """AWS services that publish to topics encrypted with the key (e.g. budgets.amazonaws.com): they get
    kms:GenerateDataKey* and kms:Decrypt on this key, nothing else
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, read 2026-11-25)."""
    extra_key_statements: tuple[dict[str, object], ...] = ()
    """Further key-policy statements of capabilities an environment turns on (e.g. alert triage: CloudWatch
    Logs encrypting its log group, Bedrock writing its audit logs), each conditioned to this account."""
    model_reader_account_ids: tuple[str, ...] = ()
    """Accounts that serve models trained here (the registry's consumers): they may read the trained model
    artifacts (components/artifacts.py) in the bucket and decrypt them through S3, nothing else."""


def key_alias_name(environment: str) -> str:
    """`alias/...` of an environment's key; other accounts name the key by it (kms:ResourceAliases)."""
    return "alias/" + physical_name(KMS_ALIAS, "ml-platform", environment)


def _model_reader_key_statements(readers: tuple[str, ...], region: str) -> list[dict[str, object]]:
    """Cross-account model serving: decrypt artifacts, and only through S3 in this region."""
    if not readers:
        return []
    return [
        {
            "Sid": "ModelReaderAccountsDecryptArtifactsThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in sorted(readers)]},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        }
    ]


def artifact_bucket_name(environment: str, account_id: str, region: str) -> str:
    """Physical name of an environment's artifact bucket (other environments read models from it)."""
    return physical_name(S3_BUCKET, "mlp", environment, "artifacts", account_id, region)


def provider_for(args: FoundationArgs, opts: pulumi.ResourceOptions | None = None) -> aws.Provider:
    """An explicit AWS provider pinned to the environment's account and region.

    `allowed_account_ids` makes the provider refuse credentials for any other account, so a stack can
    never deploy into another environment's account.
    """
    return aws.Provider(
        f"aws-{args.environment}",
        region=args.region,
        allowed_account_ids=[args.account_id],
        opts=opts,
    )


def _service_statements(principals: tuple[str, ...]) -> list[dict[str, object]]:
    """Let AWS services publish to topics encrypted with the key: data keys and decrypt, nothing more."""
    if not principals:
        return []
    return [
        {
            "Sid": "ServicesPublishToEncryptedTopics",
            "Effect": "Allow",
            "Principal": {"Service": sorted(principals)},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
    ]


class EnvironmentFoundation(PlatformComponent):
    """The environment's customer-managed KMS key and its encrypted, private artifact bucket."""

    key: aws.kms.Key
    bucket: aws.s3.Bucket

    def __init__(
        self,
        name: str,
        args: FoundationArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:foundation:EnvironmentFoundation", name, tags, opts)
        protect = args.protect_stateful
        account_root = f"arn:aws:iam::{args.account_id}:root"

        # The key policy is explicit: the account's root principal administers the key through IAM; the one
        # service named here is CloudWatch alarms (below); others get access through IAM roles and grants.
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"ml-platform {args.environment}: encrypts models, data capture, pipelines and topics",
            enable_key_rotation=True,
            deletion_window_in_days=args.key_deletion_window_days,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        account_administers_key_statement(account_root),
                        # CloudWatch alarms publish to the teams' SNS topics, which this key encrypts; SNS
                        # needs the alarm service to be allowed to use the key ("Enable compatibility between
                        # event sources from AWS services and encrypted topics",
                        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, read 2026-11-25).
                        # Only alarms of this account and region.
                        {
                            "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": args.account_id},
                                "ArnLike": {
                                    "aws:SourceArn": f"arn:aws:cloudwatch:{args.region}:{args.account_id}:alarm:*"
                                },
                            },
                        },
                        *_service_statements(args.key_service_principals),
                        *_model_reader_key_statements(args.model_reader_account_ids, args.region),
                        *args.extra_key_statements,
                    ],
                }
            ),
            opts=self.child_opts(protect=protect, retain_on_delete=protect),
        )
        self.key_alias = aws.kms.Alias(
            f"{name}-key-alias",
            name=key_alias_name(args.environment),
            target_key_id=self.key.key_id,
            opts=self.child_opts(),
        )

        bucket_name = artifact_bucket_name(args.environment, args.account_id, args.region)
        self.artifacts = PrivateBucket(
            f"{name}-artifacts",
            PrivateBucketArgs(
                bucket_name=bucket_name,
                kms_key_arn=self.key.arn,
                protect=protect,
                versioned=True,
                cross_account_readers=args.model_reader_account_ids,
                # Serving reads trained models; monitors read the served version's baselines.
                cross_account_read_patterns=(model_artifacts_prefix("*") + "*", baselines_prefix("*") + "*"),
            ),
            tags,
            opts=self.child_opts(),
        )
        self.bucket = self.artifacts.bucket
        self.register_outputs({"keyArn": self.key.arn, "bucketName": self.bucket.bucket})
