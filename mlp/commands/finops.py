"""`mlp finops advise ENV`: savings proposals from CloudWatch, optionally as one pull request per environment."""

from __future__ import annotations

import argparse
import json
import sys

from components.errors import InputError, Problem
from mlp.commands import add_root_option


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "finops",
        help="find savings: proposals from CloudWatch metrics, with evidence and the monthly saving",
        description="FinOps helpers beyond the estimate.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    advise = actions.add_parser(
        "advise",
        help="read CloudWatch for each endpoint and training pipeline and propose savings (optionally as a PR)",
        description=(
            "Read the environment's endpoint and training-job metrics from CloudWatch and its training runs from "
            "SageMaker (credentials for its account) and propose, "
            "each with its evidence and monthly saving in USD: decommissioning endpoints without invocations, "
            "smaller instances or fewer of them where utilization leaves room, and serverless or scale-down "
            "schedules for quiet endpoints outside production; for training pipelines, managed spot, back to "
            "on-demand when spot costs more than it saves, and smaller training instances. --pr writes the changes "
            "into the environment file and opens one pull request."
        ),
    )
    advise.add_argument("env", help="environment name: environments/<env>.yaml")
    advise.add_argument("--days", type=int, default=14, help="how many days of metrics to read (default 14)")
    advise.add_argument("--json", action="store_true", help="print the proposals as JSON")
    advise.add_argument("--pr", action="store_true", help="write the changes and open one pull request")
    advise.add_argument("--prices", default=None, help="price data file (default: mlp/data/prices.json)")
    advise.add_argument("--base", default="main", help="with --pr: the branch the pull request targets")
    advise.add_argument("--push", action="store_true", help="with --pr: push the branch to origin first")
    add_root_option(advise, holds="the git repository with environments/")
    advise.set_defaults(func=run_advise)


def run_advise(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlp.finops_advise import advise, open_pull_request, render_text, to_json
    from mlp.pricing import load_prices

    if not 1 <= args.days <= 455:
        # CloudWatch keeps hourly data points for 455 days (GetMetricStatistics reference, read 2026-11-30).
        raise InputError([Problem("command line", "--days", f"{args.days} is out of range: use 1..455 days")])
    prices = load_prices(Path(args.prices) if args.prices else None)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        report = advise(args.env, args.days, prices, root=args.root)
    except (BotoCoreError, ClientError) as exc:
        # No credentials, or a role without one of the read calls (docs/finops.md lists them): say so, without a
        # traceback.
        raise InputError(
            [Problem("AWS", "cloudwatch/sagemaker read", f"cannot read CloudWatch or SageMaker for {args.env}: {exc}")]
        ) from None
    if args.json:
        sys.stdout.write(json.dumps(to_json(report), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_text(report))
    if args.pr:
        return open_pull_request(report, base=args.base, push=args.push)
    if args.base != "main" or args.push:
        raise InputError([Problem("command line", "--base", "--base and --push need --pr")])
    return 0
