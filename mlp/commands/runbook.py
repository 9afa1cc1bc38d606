"""`mlp runbook ENV`: write docs/runbooks/<env>/<model>.md for every served model, from the plan."""

from __future__ import annotations

import argparse
import sys

from components.data_root import repo_root
from components.loader import load_environment
from mlp.commands import add_root_option
from mlp.generated import stale_files, write_files
from mlp.plan import build_plan
from mlp.runbook import RUNBOOK_SUFFIX, RUNBOOKS_DIR, render_runbooks, runbook_dir


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "runbook",
        help="generate the on-call runbook of every served model of an environment",
        description=(
            "Write docs/runbooks/<env>/<model>.md for every model served in the environment: owners, version, "
            "rollout and rollback alarms, dashboards, monitors, how to roll back and to stop a rollout."
        ),
    )
    parser.add_argument("env", help="environment name: environments/<env>.yaml")
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed runbook is out of date")
    add_root_option(parser, holds="environments/, stacks/ and docs/runbooks/")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = args.root or repo_root()
    env = load_environment(args.env, root)
    wanted = render_runbooks(env, build_plan(args.env, root))
    directory = runbook_dir(root, args.env)
    shown = RUNBOOKS_DIR / args.env
    if args.check:
        stale = stale_files(directory, wanted, RUNBOOK_SUFFIX)
        for name in stale:
            print(f"{shown / name} is out of date: run `uv run mlp runbook {args.env}`", file=sys.stderr)
        return 1 if stale else 0
    for name in write_files(directory, wanted, RUNBOOK_SUFFIX):
        print(f"{'wrote' if name in wanted else 'removed'} {shown / name}")
    return 0
