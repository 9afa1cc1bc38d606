"""`mlp ci ...`: the steps of preview.yml and deploy.yml (logic in mlp/ci.py, tested in Python)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mlp import ci
from mlp.commands import add_root_option


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ci",
        help="the workflow steps (previews, deploys, the pull-request comment)",
        description="The steps of .github/workflows/preview.yml and deploy.yml, one subcommand each.",
    )
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")

    env = steps.add_parser("env", help="print ROLE ARN, region and backend URL of a stack, as NAME=value lines")
    env.add_argument("stack")
    env.add_argument("--role", choices=("preview", "deploy"), required=True)
    add_root_option(env)
    env.set_defaults(func=run_env)

    kube = steps.add_parser(
        "kubeconfig", help="write the cluster's kubeconfig when the stack declares kubernetes: (prints KUBECONFIG=)"
    )
    kube.add_argument("stack")
    kube.add_argument("--dir", type=Path, default=None, help="where to write it (default: $RUNNER_TEMP or .)")
    add_root_option(kube)
    kube.set_defaults(func=run_kubeconfig)

    for operation in ("preview", "up"):
        step = steps.add_parser(operation, help=f"pulumi {operation} with the stack's policy config; always reports")
        step.add_argument("stack")
        step.add_argument("--report", type=Path, required=True, help="markdown section to write, success or not")
        step.add_argument("--message", default=None, help="update message (up)")
        add_root_option(step)
        step.set_defaults(func=run_pulumi, operation=operation)

    report = steps.add_parser("report", help="the offline report of a stack (cost delta, policy, tags, plan)")
    report.add_argument("stack")
    report.add_argument("--base-ref", required=True, help="git ref to compare cost against, e.g. origin/main")
    report.add_argument("--out", type=Path, required=True)
    add_root_option(report)
    report.set_defaults(func=run_report)

    comment = steps.add_parser("comment", help="assemble the one pull-request comment from the job sections")
    comment.add_argument("--stacks", required=True, help="JSON array of the affected stacks")
    comment.add_argument("--sections", type=Path, required=True, help="directory holding the sections")
    comment.add_argument("--sha", required=True)
    comment.add_argument("--fork", action="store_true", help="a pull request from a fork: no live preview ran")
    comment.add_argument("--out", type=Path, required=True)
    comment.set_defaults(func=run_comment)

    guard = steps.add_parser("deploy-guard", help="exit 1 unless SHA is the tip of main")
    guard.add_argument("--sha", required=True)
    guard.add_argument("--main", required=True, help="the commit main points at now")
    guard.set_defaults(func=run_guard)


def run_env(args: argparse.Namespace) -> int:
    for name, value in ci.stack_env(args.stack, args.role, args.root).items():
        print(f"{name}={value}")
    return 0


def run_kubeconfig(args: argparse.Namespace) -> int:
    directory = args.dir or Path(os.environ.get("RUNNER_TEMP") or ".")
    try:
        path = ci.write_kubeconfig(args.stack, directory.resolve(), root=args.root)
    except ci.CiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if path is None:
        print(f"environments/{args.stack}.yaml declares no kubernetes: cluster; no kubeconfig", file=sys.stderr)
    else:
        print(f"KUBECONFIG={path}")
    return 0


def run_pulumi(args: argparse.Namespace) -> int:
    directory = args.report.resolve().parent
    return ci.run_pulumi(
        args.operation, args.stack, args.report, work_dir=directory, message=args.message, root=args.root
    )


def run_report(args: argparse.Namespace) -> int:
    args.out.write_text(ci.offline_report(args.stack, args.base_ref, root=args.root), encoding="utf-8")
    return 0


def run_comment(args: argparse.Namespace) -> int:
    stacks = json.loads(args.stacks)
    args.out.write_text(ci.comment_body(stacks, args.sections, args.sha, live_preview=not args.fork), encoding="utf-8")
    return 0


def run_guard(args: argparse.Namespace) -> int:
    reason = ci.deploy_guard(args.sha, args.main)
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 1
    return 0
