"""Private S3 buckets: the one way this platform makes a bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.tagging import CostTags

ABORT_INCOMPLETE_UPLOADS_DAYS = 1


@dataclass(frozen=True)
class PrivateBucketArgs:
    """Inputs of `PrivateBucket`. Every bucket is KMS-encrypted, private, owner-enforced and TLS-only."""

    bucket_name: str
    """Physical bucket name (from components.naming with the S3_BUCKET rule)."""
    kms_key_arn: pulumi.Input[str]
    """The environment's customer-managed key; S3 Bucket Keys are on to cut KMS request costs."""
    protect: bool
    """Protect the bucket from deletion (stateful data)."""
    versioned: bool
    """Keep object versions (artifacts: yes; data that must expire, such as captured payloads: no)."""
    expire_after_days: int | None = None
    """Delete objects this many days after creation (customer data that must not be kept)."""
    cross_account_readers: tuple[str, ...] = ()
    """Other accounts that may read objects matching `cross_account_read_patterns` (and list the bucket)."""
    cross_account_read_patterns: tuple[str, ...] = ()
    """Key patterns those accounts may read, e.g. `pipelines/*/models/*`."""
    service_writers: tuple[ServiceWriter, ...] = ()
    """AWS services that deliver objects into the bucket (e.g. Bedrock's invocation logs)."""


@dataclass(frozen=True)
class ServiceWriter:
    """An AWS service allowed to put objects under one prefix, only on behalf of one account's resources
    (aws:SourceAccount and aws:SourceArn guard against the confused deputy)."""

    service: str
    """Service principal, e.g. bedrock.amazonaws.com."""
    key_pattern: str
    """Keys it may write, e.g. `bedrock/*`."""
    source_account: str
    source_arn: str
    """ARN pattern of the resources it writes for, e.g. arn:aws:bedrock:eu-west-1:123456789012:*."""


class PrivateBucket(PlatformComponent):
    """An S3 bucket with encryption, public access block, ownership controls, TLS-only policy and,
    optionally, versioning and an expiry rule — the children keep the bucket's name as their prefix."""

    bucket: aws.s3.Bucket

    def __init__(
        self, name: str, args: PrivateBucketArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:storage:PrivateBucket", name, tags, opts)
        self.bucket = aws.s3.Bucket(name, bucket=args.bucket_name, opts=self.child_opts(protect=args.protect))
        bucket_opts = self.child_opts(depends_on=[self.bucket])
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=bucket_opts,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=bucket_opts,
        )
        if args.versioned:
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=self.bucket.id,
                versioning_configuration={"status": "Enabled"},
                opts=bucket_opts,
            )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=bucket_opts,
        )
        # Every bucket aborts incomplete multipart uploads: their parts are billed as storage until then and
        # never show up as objects (S3 LifecycleRule.AbortIncompleteMultipartUpload, botocore s3 service-2.json;
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html,
        # read 2026-11-30). One day is ample for the uploads our jobs make (our choice).
        abort: aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgsDict = {
            "days_after_initiation": ABORT_INCOMPLETE_UPLOADS_DAYS
        }
        if args.expire_after_days is not None:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-expiry",
                bucket=self.bucket.id,
                rules=[
                    {
                        "id": "expire-objects",
                        "status": "Enabled",
                        "filter": {"prefix": ""},
                        "expiration": {"days": args.expire_after_days},
                        "abort_incomplete_multipart_upload": abort,
                    }
                ],
                opts=bucket_opts,
            )
        else:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-uploads",
                bucket=self.bucket.id,
                rules=[
                    {
                        "id": "abort-incomplete-uploads",
                        "status": "Enabled",
                        "filter": {"prefix": ""},
                        "abort_incomplete_multipart_upload": abort,
                    }
                ],
                opts=bucket_opts,
            )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(
                lambda arn: bucket_policy(
                    arn, args.cross_account_readers, args.cross_account_read_patterns, args.service_writers
                )
            ),
            opts=bucket_opts,
        )
        self.register_outputs({"bucketName": self.bucket.bucket, "bucketArn": self.bucket.arn})


def tls_only_policy(bucket_arn: str) -> str:
    """Deny any request that does not use TLS (the aws:SecureTransport condition)."""
    return bucket_policy(bucket_arn, (), ())


def bucket_policy(
    bucket_arn: str,
    readers: tuple[str, ...],
    read_patterns: tuple[str, ...],
    writers: tuple[ServiceWriter, ...] = (),
) -> str:
    """TLS only; plus, when given, read access for named accounts to the objects matching read_patterns."""
    statements: list[dict[str, object]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if readers:
        principals = {"AWS": [f"arn:aws:iam::{a}:root" for a in sorted(readers)]}
        statements += [
            {
                "Sid": "ReaderAccountsGetObjects",
                "Effect": "Allow",
                "Principal": principals,
                "Action": "s3:GetObject",
                "Resource": [f"{bucket_arn}/{pattern}" for pattern in read_patterns],
            },
            {
                "Sid": "ReaderAccountsListObjects",
                "Effect": "Allow",
                "Principal": principals,
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
            },
        ]
    for writer in writers:
        statements.append(
            {
                "Sid": "ServiceWrites" + "".join(p.capitalize() for p in writer.service.split(".")[0].split("-")),
                "Effect": "Allow",
                "Principal": {"Service": writer.service},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{writer.key_pattern}",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": writer.source_account},
                    "ArnLike": {"aws:SourceArn": writer.source_arn},
                },
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
