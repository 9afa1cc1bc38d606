"""`mlp policy ENV`: the policy pack's rules over the environment's plan, offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.errors import InputError, Problem
from components.loader import load_environment
from mlp.commands import add_root_option
from mlp.plan import Plan, build_plan
from mlp.policy import check_config, check_plan, cross_stack_violations, mandatory, render_violations, violations_json
from policies.config import pack_config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "policy",
        help="check an environment against the policy pack, offline",
        description=(
            "Plan an environment offline and run the policy pack's rules over it at the levels its `policies` "
            "section sets. Exit 1 on a mandatory violation."
        ),
    )
    parser.add_argument("env", help="environment name: environments/<env>.yaml")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the violations as JSON")
    output.add_argument(
        "--pack-config",
        action="store_true",
        help="print the policy-pack config for `pulumi preview --policy-pack-config` instead of checking",
    )
    parser.add_argument(
        "--plan",
        type=Path,
        default=None,
        metavar="FILE",
        help="check this plan document (`mlp plan ENV --json > FILE`) instead of planning again",
    )
    add_root_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    env = load_environment(args.env, args.root)
    check_config(env, args.root)
    if args.pack_config:
        sys.stdout.write(json.dumps(pack_config(env.policies), indent=2, sort_keys=True) + "\n")
        return 0
    plan = read_plan(args.plan, args.env) if args.plan else build_plan(args.env, args.root)
    violations = check_plan(plan, env, args.root) + cross_stack_violations(plan, env, args.root)
    if args.json:
        sys.stdout.write(json.dumps(violations_json(args.env, violations), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_violations(violations))
    return 1 if mandatory(violations) else 0


def read_plan(path: Path, env: str) -> Plan:
    """A saved plan document of the environment, or a clear input error."""
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError([Problem(str(path), "", f"cannot read the plan document: {exc}")]) from None
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list):
        raise InputError(
            [Problem(str(path), "resources", "not a plan document: expected `mlp plan ENV --json` output")]
        )
    if plan.get("stack") != env:
        raise InputError(
            [Problem(str(path), "stack", f"the plan is of stack {plan.get('stack')!r}, not {env!r}: plan {env} first")]
        )
    return plan
