"""The bootstrap program's plan: bootstrap/ under the same mock runtime and policy pack as the platform."""

from __future__ import annotations

from pathlib import Path

from components.config import LoadedEnvironment
from components.data_root import repo_root
from components.loader import load_environment
from mlp.plan import Plan, plan_document
from mlp.policy import Violation, check_plan
from mlp.runtime import run_program

BOOTSTRAP_PROJECT = "ml-platform-bootstrap"
"""bootstrap/Pulumi.yaml `name`: its own project, so its state never mixes with the platform stacks'."""


def build_bootstrap_plan(stack: str, root: Path | None = None) -> Plan:
    """Plan the account setup of environment `stack` offline (same document shape as `mlp plan`)."""
    root = root or repo_root()
    load_environment(stack, root)  # file/line errors before anything runs
    warnings: list[str] = []
    registrations = run_program(
        repo_root() / "bootstrap", root, stack, {}, set(), warnings=warnings, project=BOOTSTRAP_PROJECT
    )
    plan = plan_document(stack, registrations, warnings)
    plan["project"] = BOOTSTRAP_PROJECT
    return plan


PLATFORM_ONLY_RULES = frozenset({"budgets-exist"})
"""Stack rules about what the platform stack must contain (the environment's budget lives there), which a
bootstrap stack cannot satisfy; every resource rule applies to the bootstrap as to the platform."""


def check_bootstrap_plan(plan: Plan, env: LoadedEnvironment, root: Path | None = None) -> list[Violation]:
    return [v for v in check_plan(plan, env, root) if v.rule not in PLATFORM_ONLY_RULES]
