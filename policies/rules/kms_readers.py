"""Security: whoever reads a KMS-encrypted bucket can decrypt it, on both sides of the grant.

Reading an SSE-KMS object needs kms:Decrypt on the bucket's key. Within the key's account the key policy's
root statement delegates to IAM, so the reader's own policy must allow it; from another account AWS needs
both the key policy to allow the reader's account and the reader's IAM policy to allow the key ("Allowing
users in other accounts to use a KMS key",
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html, read
2026-11-30). A role missing either side fails at run time only (every data-quality run in staging and prod
did, reading dev's baselines), so this rule checks it before deploying.

The rule runs over a *plan set*: the resources of one or more stacks, keyed by stack. The pack sees one stack
(same-account reads, and cross-account ones whose bucket is in that stack); `mlp policy` passes the
environment together with the one it serves from, so a staging role reading dev's bucket is checked against
dev's key policy.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    stack_rule,
    statements,
)
from policies.rules.iam import ROLE_POLICY, allow_statements

ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
PROVIDER = "pulumi:providers:aws"
READ_ACTIONS = ("s3:GetObject", "s3:Get*", "s3:*", "*")
DECRYPT_ACTIONS = ("kms:Decrypt", "kms:*", "*")


@dataclass(frozen=True)
class BucketKey:
    """A bucket's default-encryption key, with what the rule needs to know about it."""

    arn: str
    account: str
    aliases: tuple[str, ...]
    policy: Mapping[str, Any] | None


def _account_of(resources: Sequence[Resource]) -> str | None:
    """The stack's account: its AWS provider's allowedAccountIds (components/foundation.py pins exactly one)."""
    for provider in of_type(resources, PROVIDER):
        value = inputs(provider).get("allowedAccountIds")
        ids = json.loads(value) if isinstance(value, str) and known(value) else value
        if isinstance(ids, list) and len(ids) == 1:
            return str(ids[0])
    return None


def bucket_keys(plans: Mapping[str, Sequence[Resource]]) -> dict[str, BucketKey]:
    """bucket name -> its KMS key, over every stack of the set."""
    found: dict[str, BucketKey] = {}
    for resources in plans.values():
        by_urn = {r.get("urn"): r for r in resources}
        for config in of_type(resources, ENCRYPTION):
            default = dig(inputs(config), "rules", 0, "applyServerSideEncryptionByDefault") or {}
            arn, bucket = default.get("kmsMasterKeyId"), inputs(config).get("bucket")
            if default.get("sseAlgorithm") != "aws:kms" or not (isinstance(arn, str) and known(arn)):
                continue
            if not (isinstance(bucket, str) and known(bucket)):
                continue
            key = next(
                (by_urn[d] for d in config.get("dependencies") or [] if by_urn.get(d, {}).get("type") == KEY), None
            )
            key_id = arn.rsplit("/", 1)[-1]
            aliases = tuple(
                str(inputs(a).get("name")) for a in of_type(resources, ALIAS) if inputs(a).get("targetKeyId") == key_id
            )
            found[bucket] = BucketKey(
                arn=arn,
                account=arn.split(":")[4],
                aliases=aliases,
                policy=parse_json_document(inputs(key).get("policy")) if key else None,
            )
    return found


def _matches(patterns: Sequence[Any], value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, str(p)) for p in patterns)


def _allows_decrypt(statement: Mapping[str, Any], key: BucketKey) -> bool:
    """An Allow statement that grants kms:Decrypt on this key (a key/* pattern narrowed by kms:ResourceAliases
    counts when one of the key's aliases is named)."""
    if not _matches(as_list(statement.get("Action")), "kms:Decrypt") and not any(
        a in DECRYPT_ACTIONS for a in as_list(statement.get("Action"))
    ):
        return False
    if not _matches(as_list(statement.get("Resource")), key.arn):
        return False
    named = dig(statement, "Condition", "ForAnyValue:StringEquals", "kms:ResourceAliases")
    return named is None or bool(set(as_list(named)) & set(key.aliases))


def _key_policy_allows(key: BucketKey, account: str) -> bool:
    """Whether the key policy lets principals of `account` decrypt (the root of the key's own account with kms:*
    is AWS's default statement: it delegates to IAM)."""
    for s in statements(key.policy):
        if s.get("Effect") != "Allow":
            continue
        principals = as_list(dig(s, "Principal", "AWS")) + ([s["Principal"]] if s.get("Principal") == "*" else [])
        actions = as_list(s.get("Action"))
        if not (_matches(actions, "kms:Decrypt") or any(a in DECRYPT_ACTIONS for a in actions)):
            continue
        if any(p in ("*", account) or str(p).startswith(f"arn:aws:iam::{account}:") for p in principals):
            return True
    return False


def _read_buckets(statement: Mapping[str, Any]) -> set[str]:
    if not any(_matches([a], "s3:GetObject") or a in READ_ACTIONS for a in as_list(statement.get("Action"))):
        return set()
    return {
        str(r).removeprefix("arn:aws:s3:::").split("/", 1)[0]
        for r in as_list(statement.get("Resource"))
        if str(r).startswith("arn:aws:s3:::") and "/" in str(r)
    }


def plan_set_findings(plans: Mapping[str, Sequence[Resource]]) -> list[tuple[str, Resource, str]]:
    """(stack, role policy, message) for every role that reads a KMS-encrypted bucket of the set and lacks
    kms:Decrypt on its key in its own policies, or whose account the key policy does not allow."""
    keys = bucket_keys(plans)
    found: list[tuple[str, Resource, str]] = []
    for stack, resources in plans.items():
        account = _account_of(resources)
        # IAM evaluates the union of a role's policies: the decrypt may sit in another inline policy of the
        # same role (e.g. a model's feature-store read added beside its training role's own policy).
        by_role: dict[str, list[Mapping[str, Any]]] = {}
        for policy in of_type(resources, ROLE_POLICY):
            by_role.setdefault(str(inputs(policy).get("role")), []).extend(s for _, s in allow_statements(policy))
        for policy in of_type(resources, ROLE_POLICY):
            allows = [s for _, s in allow_statements(policy)]
            role_allows = by_role.get(str(inputs(policy).get("role")), allows)
            for bucket in sorted({b for s in allows for b in _read_buckets(s)}):
                key = keys.get(bucket)
                if key is None:
                    continue
                if not any(_allows_decrypt(s, key) for s in role_allows):
                    found.append(
                        (
                            stack,
                            policy,
                            f"reads objects of {bucket}, encrypted with {key.arn}, but its role's policies do not "
                            f"allow kms:Decrypt on that key: add it (for another account's key, name it by its alias "
                            f"with kms:ResourceAliases and kms:ViaService s3)",
                        )
                    )
                if account and account != key.account and key.policy and not _key_policy_allows(key, account):
                    found.append(
                        (
                            stack,
                            policy,
                            f"reads objects of {bucket} from account {account}, but the policy of its key {key.arn} "
                            f"does not allow account {account} to kms:Decrypt: add the account to the key policy "
                            f"of the bucket's environment (components/foundation.py)",
                        )
                    )
    return found


@stack_rule(
    "kms-decrypt-for-bucket-readers",
    "Roles that read a KMS-encrypted bucket may decrypt with its key, and the key policy allows their account.",
)
def kms_decrypt_for_bucket_readers(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    return [(policy, message) for _, policy, message in plan_set_findings({"stack": resources})]


RULES = (kms_decrypt_for_bucket_readers,)
