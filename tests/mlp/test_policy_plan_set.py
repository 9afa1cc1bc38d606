"""`mlp policy ENV` checks ENV together with the environment it serves from (kms-decrypt-for-bucket-readers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mlp.plan
from components.loader import load_environment
from mlp.plan import Plan, build_plan
from mlp.policy import cross_stack_violations


def without_consumer_decrypt(plan: Plan) -> Plan:
    """The registry environment's plan with its key policy no longer allowing the consumer accounts."""
    for r in plan["resources"]:
        if r["type"] == "aws:kms/key:Key":
            policy = json.loads(r["inputs"]["policy"])
            policy["Statement"] = [
                s for s in policy["Statement"] if s.get("Sid") != "ModelReaderAccountsDecryptArtifactsThroughS3"
            ]
            r["inputs"]["policy"] = json.dumps(policy)
    return plan


def test_the_serving_environment_is_checked_against_the_registry_environments_key(
    env_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = load_environment("staging", env_root)
    plan = build_plan("staging", env_root)
    assert cross_stack_violations(plan, env, env_root) == []

    real = mlp.plan.build_plan

    def broken(stack: str, root: Path | None = None) -> Any:
        return without_consumer_decrypt(real(stack, root))

    monkeypatch.setattr(mlp.plan, "build_plan", broken)
    found = cross_stack_violations(plan, env, env_root)
    assert found, "staging's roles read the registry's bucket"
    assert {v.rule for v in found} == {"kms-decrypt-for-bucket-readers"}
    assert "fraud-scoring-monitor-role-policy" in {v.resource for v in found}
    assert all(f"does not allow account {env.account_id} to kms:Decrypt" in v.message for v in found)


def test_the_registry_environment_has_no_other_stack_to_check(env_root: Path) -> None:
    env = load_environment("dev", env_root)
    assert env.registry.environment == env.name
    assert cross_stack_violations({"project": "ml-platform", "stack": "dev", "resources": []}, env, env_root) == []
