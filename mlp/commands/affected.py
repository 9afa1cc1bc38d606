"""`mlp affected [FILE...]`: the stacks a change affects, in deploy order (the workflows' matrix)."""

from __future__ import annotations

import argparse
import json
import sys

from components.data_root import repo_root
from mlp.affected import affected_stacks
from mlp.commands import add_root_option


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "affected",
        help="list the stacks a set of changed files affects",
        description=(
            "List the stacks the changed files affect, in deploy order: an environment file or stack config "
            "affects its stack; components/, stacks/__main__.py, policies/, mlp/, pyproject.toml, uv.lock and "
            "Pulumi.yaml affect all. Files come as arguments, or one per line on stdin (e.g. from git diff "
            "--name-only)."
        ),
    )
    parser.add_argument("files", nargs="*", help="changed paths, relative to the repository root")
    parser.add_argument("--json", action="store_true", help="print a JSON array (for a workflow matrix)")
    add_root_option(parser, holds="the git repository")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    files = args.files or [line for line in sys.stdin.read().splitlines() if line.strip()]
    stacks = affected_stacks(files, args.root or repo_root())
    print(json.dumps(stacks) if args.json else "\n".join(stacks))
    return 0
