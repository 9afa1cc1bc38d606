"""`mlp cost ENV`: the monthly estimate of an environment, its change against a git revision, the actual
spend from Cost Explorer, and the refresh of the committed prices."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from components.errors import InputError, Problem
from components.loader import load_environment
from mlp.aws_access import aws_access
from mlp.commands import add_root_option
from mlp.cost_delta import render_delta_markdown, render_delta_text
from mlp.cost_estimate import Assumptions, EndpointTraffic, Estimate, ServerlessTraffic, estimate
from mlp.cost_render import render_text, to_json
from mlp.plan import Plan, build_plan
from mlp.revisions import git, plan_at_revision, plan_working_tree

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "cost",
        help="estimate an environment's monthly cost from its plan (or compare, or read actual spend)",
        description=(
            "Estimate the monthly cost of an environment from its plan document and the committed prices, "
            "grouped by team, cost center and model. Unknown prices are shown as unknown, never as zero."
        ),
    )
    parser.add_argument("env", help="environment name: environments/<env>.yaml")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    add_root_option(parser)
    parser.add_argument("--plan", type=Path, default=None, help="read this plan document (mlp plan --json) instead")
    parser.add_argument("--prices", type=Path, default=None, help="price data file (default: mlp/data/prices.json)")
    parser.add_argument(
        "--against",
        metavar="GIT_REF",
        help="plan the environment at this git revision too and report the monthly change by team and model",
    )
    parser.add_argument("--markdown", action="store_true", help="with --against: a Markdown table for a PR comment")
    parser.add_argument("--repo", type=Path, default=None, help="with --against: the git work tree (default: cwd)")
    parser.add_argument("--actual", action="store_true", help="read the actual spend by team from Cost Explorer")
    parser.add_argument("--month", help="with --actual: the month, YYYY-MM")
    parser.add_argument(
        "--refresh-prices",
        action="store_true",
        help="update the price file from the AWS Price List API for the instance types ENV uses (needs credentials)",
    )
    parser.set_defaults(func=run)


def plan_for(env: str, root: Path | None, plan_file: Path | None) -> Plan:
    """The plan document of a file when given, else the environment planned now."""
    if plan_file is None:
        return build_plan(env, root)
    try:
        plan: Plan = json.loads(plan_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8
        raise InputError([Problem(str(plan_file), "", f"cannot read the plan document: {exc}")]) from None
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list):
        raise InputError([Problem(str(plan_file), "resources", "not a plan document: it needs a resources list")])
    return plan


def assumptions_for(env: str, root: Path | None) -> Assumptions:
    from components.config.finops import shared_cost_center

    spec = load_environment(env, root)
    runtime = spec.finops.expected_runtime_minutes
    cost_center, source = shared_cost_center(spec.finops, spec.teams)
    return Assumptions(
        spot_savings_percent=spec.finops.spot_savings_assumption_percent,
        serverless={
            u.model: ServerlessTraffic(u.monthly_requests, u.mean_duration_ms, u.mean_payload_kb)
            for u in spec.finops.serverless_usage
        },
        endpoint_traffic={
            t.model: EndpointTraffic(t.monthly_requests, t.mean_request_kb, t.mean_response_kb)
            for t in spec.finops.endpoint_traffic
        },
        expected_minutes={
            kind: minutes
            for kind, minutes in (
                ("training", runtime.training),
                ("processing", runtime.processing),
                ("monitoring", runtime.monitoring),
                ("batch", runtime.batch),
            )
            if minutes
        },
        expected_runs={
            kind: runs for kind, runs in spec.finops.expected_runs_per_month.model_dump().items() if runs is not None
        },
        shared_cost_center=cost_center,
        shared_cost_center_source=source,
    )


def run(args: argparse.Namespace) -> int:
    from mlp.pricing import load_prices

    if (args.markdown or args.repo) and not args.against:
        raise InputError([Problem("command line", "--markdown", "--markdown and --repo need --against GIT_REF")])
    if args.month and not args.actual:
        raise InputError([Problem("command line", "--month", "--month needs --actual")])
    prices = load_prices(args.prices)
    assumptions = assumptions_for(args.env, args.root)

    if args.against:
        repo = work_tree_root(args.repo or Path.cwd())
        # Both sides planned the way `mlp plan --against` plans them (mlp/revisions.py), each by its own code.
        before = estimate(plan_at_revision(repo, args.against, args.env), prices, assumptions)
        after = estimate(plan_working_tree(repo, args.env), prices, assumptions)
        render = render_delta_markdown if args.markdown else render_delta_text
        sys.stdout.write(render(before, after, args.against))
        return 0

    plan = plan_for(args.env, args.root, args.plan)
    if args.refresh_prices:
        with aws_access("mlp cost --refresh-prices", "pricing:GetProducts"):
            return refresh_prices(plan, prices)
    est = estimate(plan, prices, assumptions)
    if args.actual:
        with aws_access("mlp cost --actual", "ce:GetCostAndUsage"):
            return report_actual(est, args.month, args.json)
    if args.json:
        sys.stdout.write(json.dumps(to_json(est), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_text(est))
    return 0


# --- plans of git revisions -------------------------------------------------------------------------------


def work_tree_root(path: Path) -> Path:
    """The top directory of the git work tree holding `path`."""
    top = git(path, "rev-parse", "--show-toplevel")
    if not top:
        raise InputError([Problem(str(path), "--repo", "not inside a git work tree: run from the repository")])
    return Path(top)


# --- actual spend --------------------------------------------------------------------------------------


def month_period(month: str | None) -> tuple[str, str]:
    """Start (inclusive) and end (exclusive) dates of a YYYY-MM month, as Cost Explorer takes them."""
    match = MONTH.match(month or "")
    if not match:
        raise InputError([Problem("command line", "--month", f"{month!r} is not a month: write YYYY-MM, e.g. 2026-10")])
    year, mon = int(match.group(1)), int(match.group(2))
    end = f"{year + 1}-01-01" if mon == 12 else f"{year}-{mon + 1:02d}-01"
    return f"{year}-{mon:02d}-01", end


def actual_by_team(client: Any, start: str, end: str) -> dict[str, float]:
    """Unblended cost per value of the `team` tag ("(untagged)" for spend without it), from Cost Explorer."""
    totals: dict[str, float] = {}
    kwargs: dict[str, Any] = {
        "TimePeriod": {"Start": start, "End": end},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "TAG", "Key": "team"}],
    }
    while True:
        page = client.get_cost_and_usage(**kwargs)
        for period in page.get("ResultsByTime", []):
            for group in period.get("Groups", []):
                key = group["Keys"][0]
                team = key.split("$", 1)[1] if "$" in key else key
                amount = float(group["Metrics"]["UnblendedCost"]["Amount"])
                totals[team or "(untagged)"] = totals.get(team or "(untagged)", 0.0) + amount
        token = page.get("NextPageToken")
        if not token:
            return totals
        kwargs["NextPageToken"] = token


def report_actual(est: Estimate, month: str | None, as_json: bool, client: Any = None) -> int:
    import boto3

    start, end = month_period(month)
    client = client or boto3.client("ce", region_name="us-east-1")
    actual = actual_by_team(client, start, end)
    estimated = est.by("team")
    rows = []
    for team in sorted(set(actual) | set(estimated)):
        total = estimated.get(team)
        est_value: float | str = "unknown"
        if total is not None and total.complete:
            est_value = round(total.low, 2) if total.low == total.high else f"{total.low:.2f}..{total.high:.2f}"
        rows.append({"team": team, "actual_usd": round(actual.get(team, 0.0), 2), "estimated_usd": est_value})
    if as_json:
        out = {"stack": est.stack, "month": month, "period": {"start": start, "end": end}, "teams": rows}
        sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
        return 0
    lines = [f"Actual spend of {est.stack} in {month} (Cost Explorer, unblended, by tag team) vs estimate, USD", ""]
    lines.append(f"  {'Team':<20}{'Actual':>14}{'Estimated/month':>22}")
    for row in rows:
        estimated_text = row["estimated_usd"]
        if isinstance(estimated_text, float):
            estimated_text = f"{estimated_text:,.2f}"
        lines.append(f"  {row['team']:<20}{row['actual_usd']:>14,.2f}{estimated_text!s:>22}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


# --- price refresh -------------------------------------------------------------------------------------


def instance_types_of(plan: Plan) -> set[str]:
    """Hosting and training instance types the plan uses (endpoint variants and pipeline training steps)."""
    from mlp.cost_estimate import ENDPOINT_CONFIG, PIPELINE

    found: set[str] = set()
    for r in plan["resources"]:
        if r["type"] == ENDPOINT_CONFIG:
            for field in ("productionVariants", "shadowProductionVariants"):
                found |= {str(v["instanceType"]) for v in r["inputs"].get(field) or [] if v.get("instanceType")}
        elif r["type"] == PIPELINE:
            try:
                doc = json.loads(r["inputs"].get("pipelineDefinition") or "{}")
            except ValueError:
                continue
            params = {p.get("Name"): p.get("DefaultValue") for p in doc.get("Parameters", [])}
            for step in doc.get("Steps", []):
                value = step.get("Arguments", {}).get("ResourceConfig", {}).get("InstanceType")
                if isinstance(value, dict):
                    value = params.get(str(value.get("Get", "")).removeprefix("Parameters."))
                if isinstance(value, str):
                    found.add(value)
    return found


def refresh_prices(plan: Plan, prices: Any, client: Any = None) -> int:
    import boto3

    from mlp.cost_estimate import plan_region
    from mlp.pricing import fetch_sagemaker_prices, save_prices

    region = plan_region(plan)
    instances = instance_types_of(plan)
    if not instances:
        sys.stdout.write("the plan uses no SageMaker instance types; nothing to refresh\n")
        return 0
    # The Price List API (api.pricing) has endpoints in us-east-1, eu-central-1 and ap-south-1 only (botocore
    # data/endpoints.json); any of them prices every region.
    client = client or boto3.client("pricing", region_name="us-east-1")
    found, notes = fetch_sagemaker_prices(client, region, instances)
    save_prices(prices, found)
    for price in found:
        sys.stdout.write(f"{price.label}: {price.usd_per_unit} USD per {price.unit} ({price.source})\n")
    for note in notes:
        sys.stdout.write(f"! {note}\n")
    sys.stdout.write(f"wrote {len(found)} prices to {prices.path}\n")
    return 0
