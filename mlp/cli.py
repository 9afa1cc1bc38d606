"""The `mlp` command line. Exit codes: 0 done, 1 policy violations, 2 bad input, 3 internal error."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from components.errors import InputError
from mlp.collector import RUN_GC_THRESHOLDS

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3

# Subcommand modules under mlp/commands/, in the order `mlp --help` lists them.
COMMANDS = (
    "plan",
    "policy",
    "cost",
    "tags",
    "schema",
    "affected",
    "promote",
    "runbook",
    "pipelines",
    "ci",
    "bootstrap",
    "triage",
    "prices",
    "finops",
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the arguments, of the one command they name (each module imports
    what its command needs: a workflow step such as `mlp ci env` need not import Pulumi and the SDKs)."""
    parser = argparse.ArgumentParser(prog="mlp", description="ml-platform: plan, check and promote ML infrastructure.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for name in (named,) if named in COMMANDS else COMMANDS:
        importlib.import_module(f"mlp.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Reading env files and planning never calls AWS; a region is only needed by SDKs at import time.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - the one place that turns crashes into a message
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def entry() -> int:
    """The `mlp` console script: one command per process, so the collector keeps the plan's thresholds
    for the whole process (mlp/collector.py); `main` leaves in-process callers' collector as it was."""
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    return main()


if __name__ == "__main__":
    raise SystemExit(entry())
