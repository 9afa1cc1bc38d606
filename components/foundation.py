"""What every environment has before any model: its AWS provider, KMS key and artifact bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.naming import KMS_ALIAS, S3_BUCKET, physical_name
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
                        {
                            "Sid": "AccountAdministersKeyThroughIam",
                            "Effect": "Allow",
                            "Principal": {"AWS": account_root},
                            "Action": "kms:*",
                            "Resource": "*",
                        },
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
                    ],
                }
            ),
            opts=self.child_opts(protect=protect, retain_on_delete=protect),
        )
        self.key_alias = aws.kms.Alias(
            f"{name}-key-alias",
            name="alias/" + physical_name(KMS_ALIAS, "ml-platform", args.environment),
            target_key_id=self.key.key_id,
            opts=self.child_opts(),
        )

        bucket_name = artifact_bucket_name(args.environment, args.account_id, args.region)
        self.bucket = aws.s3.Bucket(
            f"{name}-artifacts",
            bucket=bucket_name,
            opts=self.child_opts(protect=protect),
        )
        bucket_opts = self.child_opts(depends_on=[self.bucket])
        aws.s3.BucketOwnershipControls(
            f"{name}-artifacts-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=bucket_opts,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-artifacts-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=bucket_opts,
        )
        aws.s3.BucketVersioning(
            f"{name}-artifacts-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=bucket_opts,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-artifacts-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self.key.arn,
                    },
                    # S3 Bucket Keys cut KMS request costs for busy buckets.
                    "bucket_key_enabled": True,
                }
            ],
            opts=bucket_opts,
        )
        aws.s3.BucketPolicy(
            f"{name}-artifacts-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(_tls_only_policy),
            opts=bucket_opts,
        )

        self.register_outputs({"keyArn": self.key.arn, "bucketName": self.bucket.bucket})


def _tls_only_policy(bucket_arn: str) -> str:
    """Deny any request that does not use TLS (the aws:SecureTransport condition)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )
