"""The offline front end of the policy pack: the same rules over the plan document.

`check_plan` runs every rule the environment does not disable over the plan's resources, at the levels the
environment's `policies` section sets (read through the same pack config `pulumi preview` gets).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.config import LoadedEnvironment
from components.data_root import data_root
from components.errors import InputError, Problem
from components.loader import ENVIRONMENTS_DIR, _line, _read_yaml
from policies.config import PackConfig, level_of, pack_config, properties_of
from policies.registry import RULES, RULES_BY_NAME

if TYPE_CHECKING:  # mlp.plan checks the rule names before planning (check_config), so it imports this module
    from mlp.plan import Plan

MANDATORY = "mandatory"
ADVISORY = "advisory"
DISABLED = "disabled"


@dataclass(frozen=True)
class Violation:
    """One rule broken by one resource (or by the stack as a whole)."""

    rule: str
    level: str
    resource: str
    """The resource's logical name, or `stack <name>` for the stack as a whole."""
    urn: str | None
    message: str

    def line(self) -> str:
        return f"{self.rule}: {self.resource}: {self.message}"


def check_config(env: LoadedEnvironment, root: Path | None = None) -> None:
    """Reject rule names the pack does not have, with file and line, like any other bad input."""
    unknown = [name for name in env.policies.rules if name not in RULES_BY_NAME]
    if not unknown:
        return
    shown = f"{ENVIRONMENTS_DIR}/{env.name}.yaml"
    data = _read_yaml((root or data_root()) / ENVIRONMENTS_DIR / f"{env.name}.yaml", shown)
    raise InputError(
        [
            Problem(
                shown,
                f"policies.rules.{name}",
                f"unknown rule {name!r}; {_did_you_mean(name)}rules: {', '.join(RULES_BY_NAME)}",
                _line(data, ("policies", "rules", name)),
            )
            for name in unknown
        ]
    )


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, list(RULES_BY_NAME), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def check_resources(stack: str, resources: list[Mapping[str, Any]], config: PackConfig) -> list[Violation]:
    """Every violation of every enabled rule, in rule order."""
    found: list[Violation] = []
    for rule in RULES:
        level = level_of(rule, config)
        if level == DISABLED:
            continue
        for resource, message in rule.run(resources, properties_of(rule, config)):
            name = str(resource["name"]) if resource is not None else f"stack {stack}"
            urn = str(resource["urn"]) if resource is not None else None
            found.append(Violation(rule.name, level, name, urn, message))
    return found


def check_plan(plan: Plan, env: LoadedEnvironment, root: Path | None = None) -> list[Violation]:
    check_config(env, root)
    return check_resources(plan["stack"], plan["resources"], pack_config(env.policies))


def cross_stack_violations(plan: Plan, env: LoadedEnvironment, root: Path | None = None) -> list[Violation]:
    """The rules over a plan set: this environment with the one it serves from (another account), so a role
    reading the registry environment's bucket is checked against that bucket's key policy."""
    from mlp.plan import build_plan
    from policies.rules.kms_readers import kms_decrypt_for_bucket_readers, plan_set_findings

    if env.registry.environment == env.name:
        return []
    config = pack_config(env.policies)
    level = level_of(kms_decrypt_for_bucket_readers, config)
    if level == DISABLED:
        return []
    own = {(v.urn, v.message) for v in check_resources(plan["stack"], plan["resources"], config)}
    plans = {
        plan["stack"]: plan["resources"],
        env.registry.environment: build_plan(env.registry.environment, root)["resources"],
    }
    return [
        Violation(kms_decrypt_for_bucket_readers.name, level, str(r["name"]), str(r["urn"]), message)
        for stack, r, message in plan_set_findings(plans)
        if stack == plan["stack"] and (str(r["urn"]), message) not in own
    ]


def mandatory(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.level == MANDATORY]


def render_violations(violations: list[Violation]) -> str:
    """Advisories, then mandatory violations, one `rule: resource: message` line each."""
    lines: list[str] = []
    for level, title in ((ADVISORY, "Policy advisories"), (MANDATORY, "Policy violations (mandatory)")):
        shown = [v for v in violations if v.level == level]
        if shown:
            lines.append(f"{title}: {len(shown)}")
            lines += [f"  {v.line()}" for v in shown]
    if not violations:
        lines.append("Policies: no violations")
    return "\n".join(lines) + "\n"


def violations_json(stack: str, violations: list[Violation]) -> dict[str, Any]:
    return {"stack": stack, "violations": [asdict(v) for v in violations]}
