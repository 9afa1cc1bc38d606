"""Security: least-privilege IAM in identity policies (roles' inline policies, role policies, managed policies).

Only identity policies are checked. Resource policies are not: a KMS key policy must grant the account root
`kms:*` on `*` (that is AWS's default key policy, which lets IAM policies govern the key; without it the key can
become unmanageable) — https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
(read 2026-11-25). Bucket policies are checked by the storage rules.

"Write" is defined by the action's verb: an action whose name starts with a read verb (Get, List, Describe,
...) reads; every other action (Put, Create, Delete, Update, Attach, Pass, Invoke, ...) counts as a write, so an
unfamiliar verb is treated as the riskier kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.rules.base import (
    Resource,
    RuleConfig,
    as_list,
    inputs,
    parse_json_document,
    resource_rule,
    statements,
)

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"

READ_VERBS = ("Get", "List", "Describe", "Search", "Query", "Scan", "Select", "View", "Check", "Lookup", "BatchGet")

# Write actions that support no resource-level permissions, so AWS grants them only on `"Resource": "*"`
# (scope them with condition keys instead). PutMetricData: AWS's own examples grant it on "*" and narrow it
# with cloudwatch:namespace —
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
# (read 2026-11-25). kms:CreateKey names no key, so "*" is its only resource —
# https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html (read 2026-11-30); the
# bootstrap's deploy role (components/bootstrap.py) needs it for the environment key.
WRITES_AWS_REQUIRES_ON_STAR = frozenset(
    {
        "cloudwatch:PutMetricData",
        "kms:CreateKey",
        # Account-and-region settings with no resource in the request (PUT/DELETE /logging/modelinvocations,
        # botocore bedrock service-2.json, read 2026-11-30).
        "bedrock:PutModelInvocationLoggingConfiguration",
        "bedrock:DeleteModelInvocationLoggingConfiguration",
    }
)


def policy_documents(r: Resource) -> list[tuple[str, Mapping[str, Any] | None]]:
    """(label, parsed document) of each identity policy the resource carries."""
    kind = r.get("type")
    if kind == ROLE:
        return [
            (f"inline policy {p.get('name')!r}", parse_json_document(p.get("policy")))
            for p in inputs(r).get("inlinePolicies") or []
            if isinstance(p, Mapping)
        ]
    if kind in (ROLE_POLICY, POLICY):
        return [("policy", parse_json_document(inputs(r).get("policy")))]
    return []


def allow_statements(r: Resource) -> list[tuple[str, Mapping[str, Any]]]:
    found = []
    for label, document in policy_documents(r):
        for i, s in enumerate(statements(document)):
            if s.get("Effect") == "Allow":
                found.append((f"{label} statement {s.get('Sid') or i}", s))
    return found


def is_wildcard_action(action: str) -> bool:
    """`*`, or every action of a service (`s3:*`)."""
    return action == "*" or action.endswith(":*")


def is_write(action: str) -> bool:
    _, _, name = action.partition(":")
    return not name.startswith(READ_VERBS)


def _on_star(s: Mapping[str, Any]) -> bool:
    return "*" in as_list(s.get("Resource"))


@resource_rule("iam-no-wildcard-actions", "IAM policies allow named actions, never `*` or a whole service (`svc:*`).")
def iam_no_wildcard_actions(r: Resource, _config: RuleConfig) -> list[str]:
    found = []
    for where, s in allow_statements(r):
        wild = [str(a) for a in as_list(s.get("Action")) if is_wildcard_action(str(a))]
        if wild:
            found.append(f"{where} allows {', '.join(wild)}: list the actions the workload calls")
        if s.get("NotAction") is not None:
            found.append(f"{where} allows NotAction (everything else): list the allowed actions instead")
    return found


@resource_rule(
    "iam-no-write-on-all-resources",
    "IAM policies scope write actions to resource ARNs, never `*`.",
)
def iam_no_write_on_all_resources(r: Resource, _config: RuleConfig) -> list[str]:
    found = []
    for where, s in allow_statements(r):
        if not _on_star(s):
            continue
        writes = [
            str(a)
            for a in as_list(s.get("Action"))
            if not is_wildcard_action(str(a))  # reported by iam-no-wildcard-actions
            and str(a).lower() != "iam:passrole"  # reported by iam-no-passrole-on-all-roles
            and is_write(str(a))
            and str(a) not in WRITES_AWS_REQUIRES_ON_STAR
        ]
        if writes:
            found.append(f'{where} allows {", ".join(writes)} on "*": scope Resource to the ARNs written')
    return found


@resource_rule("iam-no-passrole-on-all-roles", "IAM policies allow iam:PassRole only on named roles.")
def iam_no_passrole_on_all_roles(r: Resource, _config: RuleConfig) -> list[str]:
    found = []
    for where, s in allow_statements(r):
        passes = [a for a in as_list(s.get("Action")) if str(a).lower() in ("iam:passrole", "iam:pass*")]
        if passes and _on_star(s):
            found.append(f'{where} allows iam:PassRole on "*": name the role ARNs it may pass')
    return found


RULES = (iam_no_wildcard_actions, iam_no_write_on_all_resources, iam_no_passrole_on_all_roles)
