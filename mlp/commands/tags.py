"""`mlp tags ENV`: every resource with its cost tags; exit 1 when a taggable resource misses one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlp.cli import EXIT_OK, EXIT_POLICY
from mlp.commands import add_root_option
from mlp.commands.cost import plan_for
from mlp.tags import render_text, tag_coverage, to_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "tags",
        help="list every resource's cost tags; fail when a taggable resource misses one",
        description=(
            "List every resource of the environment with its cost-allocation tags and the resources that "
            "cannot be tagged (from the resource type's schema). Exit 1 when a taggable resource misses a tag."
        ),
    )
    parser.add_argument("env", help="environment name: environments/<env>.yaml")
    parser.add_argument("--json", action="store_true", help="print the coverage as JSON")
    add_root_option(parser)
    parser.add_argument("--plan", type=Path, default=None, help="read this plan document (mlp plan --json) instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from components.config.finops import shared_cost_center
    from components.loader import load_environment

    plan = plan_for(args.env, args.root, args.plan)
    statuses = tag_coverage(plan)
    stack = str(plan.get("stack", args.env))
    spec = load_environment(args.env, args.root)
    shared = shared_cost_center(spec.finops, spec.teams)
    if args.json:
        sys.stdout.write(json.dumps(to_json(stack, statuses, shared), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_text(stack, statuses, shared))
    return EXIT_POLICY if any(s.missing for s in statuses) else EXIT_OK
