"""`mlp policy ENV`: the policy pack's rules over the environment's plan, offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.loader import load_environment
from mlp.plan import build_plan
from mlp.policy import check_config, check_plan, mandatory, render_violations, violations_json
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
        "--root",
        type=Path,
        default=None,
        help="directory holding environments/ and stacks/Pulumi.<env>.yaml (default: this repository)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    env = load_environment(args.env, args.root)
    check_config(env, args.root)
    if args.pack_config:
        sys.stdout.write(json.dumps(pack_config(env.policies), indent=2, sort_keys=True) + "\n")
        return 0
    violations = check_plan(build_plan(args.env, args.root), env, args.root)
    if args.json:
        sys.stdout.write(json.dumps(violations_json(args.env, violations), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_violations(violations))
    return 1 if mandatory(violations) else 0
