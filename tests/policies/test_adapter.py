"""policies/adapter.py: the pack runs the same rules on what Pulumi's engine sends.

These tests drive pulumi_policy's own analyzer servicer (what the policy server runs, without its gRPC
socket) with the engine's requests built from fixture resources, so the adaptation of properties, unknown
values, options, dependencies, configuration and levels is exercised end to end.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from components.config import Policies
from components.data_root import repo_root
from policies.adapter import build_policies
from policies.config import LEVEL_KEY, PACK_NAME, PackConfig, pack_config
from policies.registry import RULES
from tests.policies.fixtures import (
    alarm,
    bucket,
    bucket_encryption,
    budget,
    compliant_stack,
    endpoint,
    endpoint_config,
    public_access_block,
    tls_only_policy,
    topic,
)

LEVELS = {"advisory": 0, "mandatory": 1, "disabled": 2}
PROD = Policies(
    enforcement="mandatory",
    allowed_instance_types=["ml.c5.2xlarge", "ml.m5.xlarge", "ml.m5.4xlarge"],
)


# The partial stacks below carry budgets, so only the rule under test speaks.
BUDGETS = [budget("prod-environment"), budget("prod-fraud", "fraud")]


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


def analyzer_resource(r: dict[str, Any]) -> Any:
    return proto.AnalyzerResource(
        type=r["type"],
        properties=struct(r["inputs"]),
        urn=r["urn"],
        name=r["name"],
        options=proto.AnalyzerResourceOptions(protect=r["protect"]),
        dependencies=r["dependencies"],
    )


def servicer(config: PackConfig) -> Any:
    s: Any = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", build_policies(), EnforcementLevel.MANDATORY)
    policy_config = {
        name: proto.PolicyConfig(
            enforcementLevel=LEVELS[entry[LEVEL_KEY]],  # type: ignore[arg-type]
            properties=struct({k: v for k, v in entry.items() if k != LEVEL_KEY}),
        )
        for name, entry in config.items()
        if name != "all"  # the CLI resolves `all` into each policy's level before configuring the pack
    }
    s.Configure(proto.ConfigureAnalyzerRequest(policyConfig=policy_config), None)
    return s


def diagnostics(s: Any, resources: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    """(policy, urn, message, level) of every violation, per resource then for the stack."""
    found = []
    for r in resources:
        request = proto.AnalyzeRequest(
            type=r["type"],
            properties=struct(r["inputs"]),
            urn=r["urn"],
            name=r["name"],
            options=proto.AnalyzerResourceOptions(protect=r["protect"]),
        )
        found += list(s.Analyze(request, None).diagnostics)
    stack = proto.AnalyzeStackRequest(resources=[analyzer_resource(r) for r in resources])
    found += list(s.AnalyzeStack(stack, None).diagnostics)
    return [(d.policyName, d.urn, d.message, d.enforcementLevel) for d in found]


def test_every_rule_becomes_a_policy_of_its_kind_with_a_kebab_case_name_and_one_sentence() -> None:
    policies = build_policies()
    assert [p.name for p in policies] == [r.name for r in RULES]
    assert len({p.name for p in policies}) == len(policies)
    for rule, policy in zip(RULES, policies, strict=True):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", policy.name)
        assert policy.description.endswith(".") and policy.description.count(". ") == 0
        assert isinstance(policy, ResourceValidationPolicy if rule.kind == "resource" else StackValidationPolicy)


def test_rule_configuration_is_declared_to_crossguard() -> None:
    info = servicer(pack_config(PROD)).GetAnalyzerInfo(None, None)
    schemas = {p.name: dict(p.configSchema.properties) for p in info.policies}
    assert list(schemas["instance-type-allowlist"]) == ["allowedInstanceTypes"]
    assert info.name == PACK_NAME


def test_a_compliant_stack_passes_in_the_pack() -> None:
    assert diagnostics(servicer(pack_config(PROD)), compliant_stack()) == []


def test_a_resource_violation_carries_the_rule_message_urn_and_level() -> None:
    broken = topic()
    del broken["inputs"]["kmsMasterKeyId"]
    found = diagnostics(servicer(pack_config(PROD)), [broken, *BUDGETS])
    # A resource policy reports no urn: the engine attaches the violation to the resource it analyzed.
    assert found == [
        (
            "topic-encrypted",
            "",
            "SNS topics encrypt messages with a customer-managed KMS key.\n"
            "kmsMasterKeyId is not a customer-managed key: set kms_master_key_id to the environment key",
            1,
        )
    ]


def test_a_stack_violation_points_at_the_resource() -> None:
    b = bucket("prod-data", "mlp-prod-data")
    found = diagnostics(servicer(pack_config(PROD)), [b, bucket_encryption(b), tls_only_policy(b), *BUDGETS])
    assert [(policy, urn) for policy, urn, _, _ in found] == [("bucket-public-access-blocked", b["urn"])]


def test_levels_and_rule_data_come_from_the_pack_config() -> None:
    dev = Policies(
        enforcement="advisory", rules={"bucket-tls-only": "disabled"}, allowed_instance_types=["ml.m5.large"]
    )
    b = bucket("prod-data", "mlp-prod-data", protect=True)
    resources = [b, bucket_encryption(b), public_access_block(b), endpoint_config("ml.m5.large"), *BUDGETS]
    prod_found = diagnostics(servicer(pack_config(PROD)), resources)
    dev_found = diagnostics(servicer(pack_config(dev)), resources)
    assert {(p, level) for p, _, _, level in prod_found} == {
        ("instance-type-allowlist", 1),
        ("bucket-tls-only", 1),
        ("capture-expires", 1),
    }
    assert {(p, level) for p, _, _, level in dev_found} == {("capture-expires", 0)}


def test_values_unknown_during_preview_are_adapted_not_failed() -> None:
    b = bucket("prod-data", "mlp-prod-data")
    b["inputs"]["bucket"] = UNKNOWN_STRING_VALUE
    b["inputs"]["tags"]["team"] = UNKNOWN_STRING_VALUE
    attached = [bucket_encryption(b), public_access_block(b), tls_only_policy(b)]
    for r in attached:
        r["inputs"]["bucket"] = UNKNOWN_STRING_VALUE
    a = alarm()
    e = endpoint(alarms=(UNKNOWN_STRING_VALUE,))
    e["dependencies"] = [a["urn"]]
    assert diagnostics(servicer(pack_config(PROD)), [b, *attached, a, e, *BUDGETS]) == []


def test_only_main_constructs_the_policy_pack() -> None:
    constructs = [
        p.relative_to(repo_root()).as_posix()
        for p in (repo_root() / "policies").rglob("*.py")
        if re.search(r"\bPolicyPack\(", p.read_text())
    ]
    assert constructs == ["policies/__main__.py"]


@pytest.mark.parametrize("path", ["policies/PulumiPolicy.yaml", "policies/__main__.py"])
def test_the_pack_directory_has_what_pulumi_runs(path: str) -> None:
    assert Path(repo_root() / path).is_file()
