"""Security: buckets are private and TLS-only; captured inference payloads expire."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.rules.base import (
    Resource,
    RuleConfig,
    StackFinding,
    as_list,
    dig,
    inputs,
    known,
    of_type,
    parse_json_document,
    related,
    stack_rule,
    statements,
)

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"

BLOCK_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
# Canned ACLs that grant access beyond the bucket owner's account.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl (read 2026-11-25)
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))


@stack_rule(
    "bucket-public-access-blocked",
    "Every S3 bucket has a public access block with all four settings on.",
)
def bucket_public_access_blocked(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    found: list[StackFinding] = []
    blocks = of_type(resources, PUBLIC_ACCESS_BLOCK)
    for bucket in of_type(resources, BUCKET):
        mine = [b for b in blocks if related(bucket, b)]
        if not mine:
            found.append((bucket, "no public access block: add a BucketPublicAccessBlock with all four settings true"))
            continue
        off = sorted({k for b in mine for k in BLOCK_SETTINGS if inputs(b).get(k) is not True})
        if off and not any(all(inputs(b).get(k) is True for k in BLOCK_SETTINGS) for b in mine):
            found.append((bucket, f"public access block leaves {', '.join(off)} off: set all four to true"))
    return found


@stack_rule(
    "bucket-not-public",
    "No S3 bucket grants access to everyone through a canned ACL or an unconditional policy statement.",
)
def bucket_not_public(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    found: list[StackFinding] = []
    for r in of_type(resources, BUCKET, BUCKET_ACL):
        acl = inputs(r).get("acl")
        if acl in PUBLIC_ACLS:
            found.append(
                (r, f"canned ACL {acl!r} makes the bucket public: remove it (ownership is BucketOwnerEnforced)")
            )
    for r in of_type(resources, BUCKET_POLICY, BUCKET):
        for s in statements(parse_json_document(inputs(r).get("policy"))):
            if s.get("Effect") == "Allow" and _everyone(s.get("Principal")) and not s.get("Condition"):
                found.append(
                    (
                        r,
                        f'statement {s.get("Sid") or "(no Sid)"} allows everyone (Principal "*") without a '
                        "condition: name the principals that need access",
                    )
                )
    return found


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny" or not _everyone(statement.get("Principal")):
        return False
    value = dig(statement, "Condition", "Bool", "aws:SecureTransport")
    return str(value).lower() == "false"


@stack_rule(
    "bucket-tls-only",
    "Every S3 bucket policy denies requests that do not use TLS (aws:SecureTransport false).",
)
def bucket_tls_only(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    found: list[StackFinding] = []
    policies = of_type(resources, BUCKET_POLICY)
    for bucket in of_type(resources, BUCKET):
        mine = [p for p in policies if related(bucket, p)]
        docs = [parse_json_document(inputs(p).get("policy")) for p in mine]
        if any(d is None and not known(inputs(p).get("policy")) for p, d in zip(mine, docs, strict=True)):
            continue  # the policy is computed at apply time; the real preview of `up` sees it
        if not any(_denies_insecure_transport(s) for d in docs for s in statements(d)):
            found.append(
                (
                    bucket,
                    'no TLS-only bucket policy: add a BucketPolicy statement that denies s3:* to Principal "*" '
                    "when aws:SecureTransport is false",
                )
            )
    return found


def _s3_location(uri: Any) -> tuple[str, str] | None:
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return None
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    return bucket, prefix


def _expires(lifecycle: Resource, prefix: str) -> bool:
    """An enabled rule with an expiration whose filter covers the prefix."""
    for rule in inputs(lifecycle).get("rules") or []:
        if not isinstance(rule, Mapping) or rule.get("status") != "Enabled":
            continue
        expiration = rule.get("expiration")
        if not isinstance(expiration, Mapping) or not (expiration.get("days") or expiration.get("date")):
            continue
        rule_prefix = dig(rule, "filter", "prefix") or rule.get("prefix") or ""
        if prefix.startswith(str(rule_prefix)):
            return True
    return False


@stack_rule(
    "capture-expires",
    "Captured inference payloads expire: the data-capture location has a lifecycle expiration.",
)
def capture_expires(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    found: list[StackFinding] = []
    buckets = of_type(resources, BUCKET)
    lifecycles = of_type(resources, LIFECYCLE)
    for config in of_type(resources, ENDPOINT_CONFIG):
        capture = inputs(config).get("dataCaptureConfig")
        if not isinstance(capture, Mapping) or capture.get("enableCapture") is False:
            continue
        location = _s3_location(capture.get("destinationS3Uri"))
        if location is not None:
            name, prefix = location
            targets = [b for b in buckets if inputs(b).get("bucket") == name]
            if not targets:
                found.append(
                    (
                        config,
                        f"captured payloads go to bucket {name!r}, which this stack does not manage: capture into a "
                        "bucket of this stack with a lifecycle expiration",
                    )
                )
                continue
        else:
            prefix = ""
            targets = [b for b in buckets if b.get("urn") in (config.get("dependencies") or [])]
        if not any(_expires(lc, prefix) for b in targets for lc in lifecycles if related(b, lc)):
            found.append(
                (
                    config,
                    "captured payloads never expire: add a BucketLifecycleConfiguration rule with an expiration "
                    "covering the capture prefix",
                )
            )
    return found


RULES = (bucket_public_access_blocked, bucket_not_public, bucket_tls_only, capture_expires)
