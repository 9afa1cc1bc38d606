"""`mlp bootstrap plan ENV`: the one-time account setup (bootstrap/), planned offline and policy-checked."""

from __future__ import annotations

import argparse
import sys

from components.loader import load_environment
from mlp.bootstrap import build_bootstrap_plan, check_bootstrap_plan
from mlp.commands import add_root_option
from mlp.plan import plan_json, render_tree
from mlp.policy import mandatory, render_violations


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bootstrap",
        help="plan the one-time account setup (state bucket and key, GitHub OIDC, workflow roles) offline",
        description=(
            "The account setup an administrator applies once per environment (bootstrap/): planned offline "
            "under the mock runtime and checked with the policy pack at the environment's levels."
        ),
    )
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    plan = steps.add_parser("plan", help="plan bootstrap/ for an environment and check it with the policies")
    plan.add_argument("env", help="environment name: environments/<env>.yaml")
    plan.add_argument("--json", action="store_true", help="print the plan document instead of the tree")
    add_root_option(plan)
    plan.set_defaults(func=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    plan = build_bootstrap_plan(args.env, args.root)
    sys.stdout.write(plan_json(plan) if args.json else render_tree(plan))
    violations = check_bootstrap_plan(plan, load_environment(args.env, args.root), args.root)
    (sys.stderr if args.json else sys.stdout).write("\n" + render_violations(violations))
    return 1 if mandatory(violations) else 0
