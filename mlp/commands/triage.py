"""`mlp triage ENV ALARM_NAME`: print the triage note of one alarm (read-only AWS credentials)."""

from __future__ import annotations

import argparse
import sys

from components.data_root import repo_root
from mlp.commands import add_root_option
from mlp.triage import CredentialsError, run_triage


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "triage",
        help="print the triage note of an alarm, as the environment's triage function would post it",
        description=(
            "Gather the alarm's context (model, rollout, metrics against the day and week before, drifting "
            "features, runbook step), redact it and print the note. Read-only: posts nothing and asks no model. "
            "Uses the usual AWS credential chain (e.g. AWS_PROFILE) for the environment's account."
        ),
    )
    parser.add_argument("env", help="environment name: environments/<env>.yaml")
    parser.add_argument("alarm", metavar="ALARM_NAME", help="the CloudWatch alarm's name")
    add_root_option(parser, holds="environments/ and docs/runbooks/")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        result = run_triage(args.env, args.alarm, args.root or repo_root())
    except CredentialsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(result.note)
    return 0
