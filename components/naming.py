"""Deterministic physical names that satisfy each AWS resource's length and character rules.

Names are built from the environment, the owner and a purpose. When the result is too long it is cut
and an 8-character hash of the full name is appended, so two long names never collide and the same
inputs always give the same name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    """Length and character rules of one kind of AWS name."""

    max_length: int
    invalid: re.Pattern[str]
    """Characters to replace with '-'."""
    lowercase: bool = False
    min_length: int = 1


# Each rule cites where AWS states it; tests/components/test_naming.py checks the SageMaker and IAM
# ones against the service models that ship with botocore.
# SageMaker EntityName (models, endpoint configs, endpoints, model package groups):
# ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (botocore sagemaker service-2.json, shape EntityName).
SAGEMAKER = NameRule(63, re.compile(r"[^a-zA-Z0-9-]"))
# SageMaker PipelineName: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255} (botocore shape PipelineName).
SAGEMAKER_PIPELINE = NameRule(256, re.compile(r"[^a-zA-Z0-9-]"))
# IAM roleNameType: [\w+=,.@-]+, 1..64 (botocore iam service-2.json).
IAM_ROLE = NameRule(64, re.compile(r"[^\w+=,.@-]"))
# IAM policyNameType: [\w+=,.@-]+, 1..128 (botocore iam service-2.json).
IAM_POLICY = NameRule(128, re.compile(r"[^\w+=,.@-]"))
# S3 general purpose buckets: 3..63 lower-case letters, digits and hyphens, starting and ending with
# a letter or digit (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
S3_BUCKET = NameRule(63, re.compile(r"[^a-z0-9-]"), lowercase=True, min_length=3)
# KMS AliasNameType: ^[a-zA-Z0-9:/_-]+$, 1..256 including the "alias/" prefix (botocore kms).
KMS_ALIAS = NameRule(256 - len("alias/"), re.compile(r"[^a-zA-Z0-9/_-]"))
# CloudWatch AlarmName: 1..255 characters (botocore cloudwatch service-2.json).
CLOUDWATCH_ALARM = NameRule(255, re.compile(r"[^a-zA-Z0-9._-]"))
# SNS topic names: up to 256 alphanumerics, hyphens and underscores (botocore sns CreateTopic doc).
SNS_TOPIC = NameRule(256, re.compile(r"[^a-zA-Z0-9_-]"))
# EventBridge RuleName: [\.\-_A-Za-z0-9]+, 1..64 (botocore events service-2.json).
EVENTBRIDGE_RULE = NameRule(64, re.compile(r"[^.\-_A-Za-z0-9]"))
# Step Functions state machine Name: 1..80 characters (botocore stepfunctions service-2.json, shape Name);
# CloudWatch-logged names allow only A-Z, a-z, 0-9, - and _ (same model, CreateStateMachine "name").
STATE_MACHINE = NameRule(80, re.compile(r"[^a-zA-Z0-9_-]"))


def physical_name(rule: NameRule, *parts: str) -> str:
    """Join parts with '-', replace what the rule forbids, and shorten with a hash when too long."""
    full = "-".join(p for p in parts if p)
    name = rule.invalid.sub("-", full.lower() if rule.lowercase else full)
    name = re.sub(r"-{2,}", "-", name).strip("-")
    if len(name) > rule.max_length:
        digest = hashlib.sha256(full.encode()).hexdigest()[:8]
        name = name[: rule.max_length - len(digest) - 1].rstrip("-") + "-" + digest
    if len(name) < rule.min_length:
        raise ValueError(f"name {name!r} from {parts!r} is shorter than {rule.min_length} characters")
    return name
