"""`mlp finops advise ENV`: savings proposals from what CloudWatch measured, each with its evidence and the
monthly saving in USD at the committed prices; `--pr` writes them into the environment file and opens one pull
request for the environment.

What is read, per SageMaker endpoint variant the environment file declares (names as `ModelEndpoint` makes
them: endpoint `<env>-<model>`, variant `primary`), over the last N days at one-hour periods, with
`cloudwatch:GetMetricStatistics`:

- `AWS/SageMaker` `Invocations` (Sum) and `ModelLatency` (Maximum, microseconds: a conservative stand-in for the
  p99, since the maximum is never below it);
- `/aws/sagemaker/Endpoints` `CPUUtilization`, `MemoryUtilization` and `GPUUtilization` (Maximum). SageMaker
  reports CPUUtilization summed over the instance's cores, 0-100% each (SageMaker developer guide, "Amazon
  SageMaker AI metrics in Amazon CloudWatch", endpoint instance metrics), so it is divided by the vCPUs.

Proposals:

- **decommission**: no invocation in N days. Saving: the variant's whole instance cost. The file is not
  edited for this one — removing a model is a person's decision; the pull request lists it.
- **smaller instance**: CPU and memory peaks below `RIGHTSIZE_PEAK_PERCENT` (so on the next smaller size, with
  half the vCPUs and memory, they stay below twice that), and the latency peak below half the p99 target when
  the model has one. Only the m5, c5 and r5 families, whose sizes halve vCPUs and memory at each step
  (large = 2 vCPUs, xlarge = 4, Nxlarge = 4N: the EC2 instance type naming these families follow); GPU
  instances keep their GPU at a smaller size, so they are left alone. The smaller type must be a SageMaker
  hosting instance type (botocore's ProductionVariantInstanceType enum). Saving: the price difference x
  instances x hours per month; unknown when either price is missing.
- **fewer instances**: where no smaller size exists (the family's smallest, e.g. ml.m5.large) but more than one
  instance runs all month, and the CPU peak spread over one instance fewer stays below 2 x
  `RIGHTSIZE_PEAK_PERCENT`, with the same latency headroom. Edits `instance_count`, or `autoscaling.min_capacity`.

Outside production — an environment that promotes to another (`promoted_from`, read with mlp.promote's
`next_environments`), never a branch on its name — two more, listed for a person to write (each is a block of
settings, not one value):

- **scale-down window**: at least `IDLE_SHARE` of the hours had no invocation and more than one instance runs
  all month. Saving: the instances above one x the idle share of the month x the hourly price.
- **serverless**: fewer than `SERVERLESS_MAX_DAILY_INVOCATIONS` invocations a day on average, and nothing
  Serverless Inference cannot do (data capture, shadow variants, a VPC: docs/serving.md). Saving: the instance
  cost minus the serverless compute cost at `SERVERLESS_PROPOSED_MEMORY_MB` (invocations a month x the ModelLatency
  mean, its Sum over its SampleCount, x the per-second price `mlp prices refresh` reads from the offer file); not
  proposed when serverless would cost more. Without that price (or without latency data) the saving is unknown:
  at most the instance cost, shown.

Everything else is left alone and reported as such, with the figures that kept it.

Training pipelines are read too (SageMaker API and CloudWatch, read-only) and may get proposals of their own —
managed spot, back to on-demand, a smaller training instance — each editing `models[<model>].training`:
mlp/finops_training.py says when and how the saving is computed.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config import LoadedEnvironment, Model
from components.data_root import repo_root
from components.loader import load_environment
from components.naming import SAGEMAKER, physical_name
from components.serving import VARIANT
from mlp.finops_proposals import (
    PERIOD_SECONDS,
    RIGHTSIZE_PEAK_PERCENT,
    TRAINING_KINDS,
    Change,
    Proposal,
    smaller,
    vcpus,
)
from mlp.finops_training import advise_training
from mlp.pricing import HOSTING, SERVERLESS_COMPUTE, PriceBook
from mlp.promote import next_environments
from mlp.yaml_edit import dump_changes, round_trip_yaml

LATENCY_HEADROOM = 0.5
"""The latency peak must stay below this share of the p99 target for a smaller instance to be proposed."""
IDLE_SHARE = 1 / 3
"""Our threshold: a third of the hours without traffic (nights, weekends) is worth a scale-down window."""
SERVERLESS_MAX_DAILY_INVOCATIONS = 10_000
"""Our threshold: below this many invocations a day a non-production endpoint is proposed for serverless."""
SERVERLESS_PROPOSED_MEMORY_MB = 6144
"""The memory size the serverless proposal prices: the largest Serverless Inference offers (botocore's sagemaker
model, ServerlessMemorySizeInMB 1024..6144, "1 GB increments", read 2026-11-30). CloudWatch's MemoryUtilization is
a share of the instance's memory, not what the model needs on a serverless worker, so the advisor cannot pick a
smaller size safely; a person who knows a smaller size fits can choose it (and check its price)."""


@dataclass(frozen=True)
class Report:
    environment: str
    days: int
    root: Path
    proposals: tuple[Proposal, ...]
    untouched: tuple[str, ...]
    training: tuple[str, ...] = ()
    """What each training pipeline did, and why what was not proposed is left alone (its proposals are in
    `proposals`)."""


@dataclass(frozen=True)
class Usage:
    """What CloudWatch measured for one variant over the window (None: no data points)."""

    invocations: float
    reported: bool
    """Whether CloudWatch had any data point for the variant (none: not deployed, or not this name)."""
    hours: int
    """Hours in the window."""
    busy_hours: int
    """Hours with at least one invocation."""
    latency_max_ms: float | None
    latency_mean_ms: float | None
    """ModelLatency's mean over every invocation in the window (its Sum over its SampleCount)."""
    cpu_max_percent: float | None
    memory_max_percent: float | None
    gpu_max_percent: float | None


def read_usage(cloudwatch: Any, endpoint: str, days: int, now: dt.datetime | None = None) -> Usage:
    end = now or dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=days)
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": VARIANT}]

    def stats(namespace: str, metric: str, *statistics: str) -> dict[str, list[float]]:
        """The hourly values of each statistic (at most 5: botocore cloudwatch Statistics), one call per 60 days."""
        values: dict[str, list[float]] = {statistic: [] for statistic in statistics}
        # One call returns at most 1,440 data points (GetMetricStatistics API reference, read 2026-11-30):
        # 60 days of hourly points per call.
        window_start = start
        while window_start < end:
            window_end = min(end, window_start + dt.timedelta(days=60))
            points = cloudwatch.get_metric_statistics(
                Namespace=namespace,
                MetricName=metric,
                Dimensions=dimensions,
                StartTime=window_start,
                EndTime=window_end,
                Period=PERIOD_SECONDS,
                Statistics=list(statistics),
            )["Datapoints"]
            for statistic in statistics:
                values[statistic] += [float(p[statistic]) for p in points if statistic in p]
            window_start = window_end
        return values

    def stat(namespace: str, metric: str, statistic: str) -> list[float]:
        return stats(namespace, metric, statistic)[statistic]

    model_latency = stats("AWS/SageMaker", "ModelLatency", "Maximum", "Sum", "SampleCount")
    latency = model_latency["Maximum"]
    latency_sum, latency_count = sum(model_latency["Sum"]), sum(model_latency["SampleCount"])
    cpu = stat("/aws/sagemaker/Endpoints", "CPUUtilization", "Maximum")
    memory = stat("/aws/sagemaker/Endpoints", "MemoryUtilization", "Maximum")
    gpu = stat("/aws/sagemaker/Endpoints", "GPUUtilization", "Maximum")
    invocations = stat("AWS/SageMaker", "Invocations", "Sum")
    return Usage(
        invocations=sum(invocations),
        reported=bool(invocations or latency or cpu or memory or gpu),
        hours=days * 24,
        busy_hours=sum(1 for value in invocations if value > 0),
        latency_max_ms=max(latency) / 1000 if latency else None,  # ModelLatency is in microseconds
        latency_mean_ms=latency_sum / latency_count / 1000 if latency_count else None,
        cpu_max_percent=max(cpu) if cpu else None,
        memory_max_percent=max(memory) if memory else None,
        gpu_max_percent=max(gpu) if gpu else None,
    )


def _instances(model: Model) -> int:
    """Instances the variant runs all month: the autoscaling minimum, else the fixed count."""
    scaling = model.serving.autoscaling
    return scaling.min_capacity if scaling else model.serving.instance_count


def _monthly(prices: PriceBook, region: str, instance_type: str, count: int) -> float | None:
    price = prices.lookup(region, HOSTING, instance_type)
    return None if price is None else price.usd_per_unit * count * prices.hours_per_month


def propose(
    env: LoadedEnvironment, model: Model, usage: Usage, days: int, prices: PriceBook, *, production: bool
) -> tuple[list[Proposal], list[str]]:
    """Proposals for one model's endpoint, and the reasons for what is left alone."""
    endpoint = physical_name(SAGEMAKER, env.name, model.name)
    count = _instances(model)
    instance = model.serving.instance_type
    if not usage.reported:
        return [], [f"{endpoint}: no metrics at all in {days} days (not deployed yet?); left alone"]
    if usage.invocations == 0:
        decommission = Proposal(
            model.name,
            endpoint,
            "decommission",
            f"decommission {endpoint}: no invocations in {days} days",
            (
                f"AWS/SageMaker Invocations (Sum, {endpoint}/{VARIANT}): 0 over the last {days} days",
                f"it runs {count} x {instance} all month",
            ),
            _monthly(prices, env.region, instance, count),
        )
        return [decommission], []
    proposals: list[Proposal] = []
    untouched: list[str] = []
    evidence = [f"{usage.invocations:,.0f} invocations in {days} days"]
    busy = _left_alone(model, usage, days, evidence)
    resized = None if busy else _resize(env, model, usage, evidence, prices)
    if resized is not None:
        proposals.append(resized)
    else:
        reason = busy or "no smaller size and no instance to spare"
        untouched.append(f"{endpoint}: size kept: {reason}")
    if not production:
        quiet, notes = _quiet_hours(env, model, usage, days, prices)
        proposals += quiet
        untouched += notes
    return proposals, untouched


def _resize(
    env: LoadedEnvironment, model: Model, usage: Usage, evidence: list[str], prices: PriceBook
) -> Proposal | None:
    """A smaller instance, else one instance fewer; None when neither fits."""
    endpoint = physical_name(SAGEMAKER, env.name, model.name)
    count = _instances(model)
    instance = model.serving.instance_type
    target = smaller(instance)
    now = _monthly(prices, env.region, instance, count)
    if target is not None:
        then = _monthly(prices, env.region, target, count)
        saving = None if now is None or then is None else now - then
        how = f"{count} x ({instance} - {target}) x {prices.hours_per_month:g} h at the prices in {prices.path.name}"
        missing = instance if now is None else target
        return Proposal(
            model.name,
            endpoint,
            "smaller-instance",
            f"serve {model.name} on {target} instead of {instance}",
            (*evidence, how if saving is not None else f"saving unknown: no hosting price for {missing}"),
            saving,
            Change(model.name, "instance_type", instance, target),
        )
    cpus = vcpus(instance)
    if count < 2 or cpus is None or usage.cpu_max_percent is None:
        return None
    spread = usage.cpu_max_percent / cpus * count / (count - 1)
    if spread >= 2 * RIGHTSIZE_PEAK_PERCENT:
        return None
    field = "autoscaling.min_capacity" if model.serving.autoscaling else "instance_count"
    one = _monthly(prices, env.region, instance, 1)
    return Proposal(
        model.name,
        endpoint,
        "fewer-instances",
        f"run {model.name} on {count - 1} x {instance} instead of {count}",
        (*evidence, f"CPU peak spread over {count - 1} instances: {spread:.1f}%"),
        one,
        Change(model.name, field, count, count - 1),
    )


def _quiet_hours(
    env: LoadedEnvironment, model: Model, usage: Usage, days: int, prices: PriceBook
) -> tuple[list[Proposal], list[str]]:
    """Non-production proposals for an endpoint that is often idle or always quiet (listed, not edited), and the
    reasons for what is not proposed."""
    endpoint = physical_name(SAGEMAKER, env.name, model.name)
    count = _instances(model)
    instance = model.serving.instance_type
    found = []
    idle = 1 - usage.busy_hours / usage.hours if usage.hours else 0.0
    if idle >= IDLE_SHARE and count > 1:
        one = _monthly(prices, env.region, instance, 1)
        found.append(
            Proposal(
                model.name,
                endpoint,
                "scale-down-window",
                f"add a scale-down window to {model.name} (1 instance while idle)",
                (
                    f"{usage.hours - usage.busy_hours} of {usage.hours} hours in {days} days had no invocation",
                    f"{count - 1} instance(s) above one x {idle:.0%} of the month",
                ),
                None if one is None else one * (count - 1) * idle,
            )
        )
    serverless, note = _serverless(env, model, usage, days, prices)
    if serverless is not None:
        found.append(serverless)
    return found, [note] if note else []


def _serverless(
    env: LoadedEnvironment, model: Model, usage: Usage, days: int, prices: PriceBook
) -> tuple[Proposal | None, str | None]:
    """The serverless proposal for a quiet endpoint (or None), and why it is not made when the prices show
    serverless would not save anything."""
    daily = usage.invocations / days
    blocked = [
        name
        for name, present in (
            ("data capture", model.serving.data_capture is not None),
            ("a shadow variant", model.serving.shadow is not None),
            ("a VPC", env.network is not None),
        )
        if present
    ]
    if daily >= SERVERLESS_MAX_DAILY_INVOCATIONS or blocked:
        return None, None
    endpoint = physical_name(SAGEMAKER, env.name, model.name)
    now = _monthly(prices, env.region, model.serving.instance_type, _instances(model))
    memory = SERVERLESS_PROPOSED_MEMORY_MB
    price = prices.lookup(env.region, SERVERLESS_COMPUTE, f"{memory}MB")
    evidence = [f"{daily:,.0f} invocations a day on average (below {SERVERLESS_MAX_DAILY_INVOCATIONS:,})"]
    saving = None
    duration_ms = usage.latency_mean_ms if usage.latency_mean_ms is not None else usage.latency_max_ms
    if price is None or now is None or duration_ms is None:
        why = (
            "no serverless price in the price file"
            if price is None
            else "no ModelLatency data for the duration"
            if duration_ms is None
            else "no hosting price for the instances"
        )
        evidence.append(f"saves at most the instances' {saving_text(now)}; {why}, so the saving is unknown")
    else:
        # Monthly serverless compute: invocations a month x seconds each x the price per second at the memory
        # size. The duration is ModelLatency's mean (its Sum over its SampleCount); with no SampleCount, the
        # hourly peak, an upper bound of the mean. Cold starts (ModelSetupTime) are not counted, so the cost
        # is understated by them. Data processed is billed by both kinds of endpoint and is left out of both.
        measured = "mean" if usage.latency_mean_ms is not None else "peak, an upper bound of the mean"
        monthly_invocations = daily * prices.hours_per_month / 24
        seconds = duration_ms / 1000
        then = monthly_invocations * seconds * price.usd_per_unit
        saving = now - then
        evidence.append(
            f"serverless at {memory} MB: {monthly_invocations:,.0f} invocations a month x {seconds:g} s "
            f"(the ModelLatency {measured}; cold starts not counted) x "
            f"{price.usd_per_unit:g} USD/s = {saving_text(then)}, against the instances' {saving_text(now)}"
        )
        if saving <= 0:
            return None, f"{endpoint}: kept on instances: serverless would cost more ({evidence[-1]})"
    return (
        Proposal(
            model.name,
            endpoint,
            "serverless",
            f"serve {model.name} serverless ({memory} MB)",
            tuple(evidence),
            saving,
        ),
        None,
    )


def _left_alone(model: Model, usage: Usage, days: int, evidence: list[str]) -> str | None:
    """Why the variant keeps its size (None: it may shrink); adds the figures it looked at to `evidence`."""
    instance = model.serving.instance_type
    cpus = vcpus(instance)
    if cpus is None:
        return f"{instance} is not an m5, c5 or r5 size this advisor resizes"
    if usage.gpu_max_percent is not None:
        evidence.append(f"GPU peak {usage.gpu_max_percent:.1f}%")
    if usage.cpu_max_percent is None or usage.memory_max_percent is None:
        return f"no CPU or memory utilization data in {days} days"
    cpu = usage.cpu_max_percent / cpus
    evidence.append(f"CPU peak {cpu:.1f}% of {cpus} vCPUs (CPUUtilization Maximum {usage.cpu_max_percent:.0f}%)")
    evidence.append(f"memory peak {usage.memory_max_percent:.1f}% (MemoryUtilization Maximum)")
    if cpu >= RIGHTSIZE_PEAK_PERCENT or usage.memory_max_percent >= RIGHTSIZE_PEAK_PERCENT:
        return f"busy ({'; '.join(evidence[1:])})"
    return _latency_headroom(model, usage, evidence)


def _latency_headroom(model: Model, usage: Usage, evidence: list[str]) -> str | None:
    """Why the latency forbids a smaller size (None: it leaves headroom, or the model has no p99 target)."""
    p99 = model.serving.slos.p99_latency_ms if model.serving.slos else None
    if p99 is None:
        return None
    if usage.latency_max_ms is None:
        return f"no ModelLatency data to check the p99 target of {p99:g} ms"
    evidence.append(f"latency peak {usage.latency_max_ms:.0f} ms against a p99 target of {p99:g} ms")
    if usage.latency_max_ms >= LATENCY_HEADROOM * p99:
        return f"latency peak {usage.latency_max_ms:.0f} ms leaves no headroom under the {p99:g} ms p99 target"
    return None


def advise(
    env_name: str,
    days: int,
    prices: PriceBook,
    *,
    root: Path | None = None,
    cloudwatch: Any = None,
    sagemaker: Any = None,
    now: dt.datetime | None = None,
) -> Report:
    env = load_environment(env_name, root)
    if cloudwatch is None or sagemaker is None:
        import boto3

        cloudwatch = cloudwatch or boto3.client("cloudwatch", region_name=env.region)
        sagemaker = sagemaker or boto3.client("sagemaker", region_name=env.region)
    production = not next_environments(repo_root() if root is None else root, env_name)
    proposals: list[Proposal] = []
    untouched: list[str] = []
    for model in env.models:
        if model.serving.platform != "sagemaker":
            continue
        endpoint = physical_name(SAGEMAKER, env.name, model.name)
        if model.serving.serverless is not None:
            untouched.append(f"{endpoint}: serverless, billed per use; left alone")
            continue
        found, kept = propose(
            env, model, read_usage(cloudwatch, endpoint, days, now), days, prices, production=production
        )
        proposals += found
        untouched += kept

    found, training = advise_training(env, days, prices, sagemaker, cloudwatch, now=now, production=production)
    proposals += found
    return Report(env_name, days, root or repo_root(), tuple(proposals), tuple(untouched), tuple(training))


# --- output ------------------------------------------------------------------------------------------------


def saving_text(usd: float | None) -> str:
    return "unknown" if usd is None else f"{usd:,.2f} USD/month"


def render_text(report: Report) -> str:
    lines = [f"Savings proposals for {report.environment} (CloudWatch, last {report.days} days)", ""]
    if not report.proposals:
        lines.append("  none")
    for p in report.proposals:
        lines.append(f"- {p.summary}: saves {saving_text(p.monthly_saving_usd)}")
        lines += [f"    {e}" for e in p.evidence]
        lines += [f"    change: {c.path}: {c.old} -> {c.new}" for c in p.changes]
    known = [p.monthly_saving_usd for p in report.proposals if p.monthly_saving_usd is not None]
    lines += ["", f"Total known saving: {sum(known):,.2f} USD/month"]
    if report.untouched:
        lines += ["", "Left alone:"] + [f"  {u}" for u in report.untouched]
    if report.training:
        lines += ["", "Training pipelines:"] + [f"  {t}" for t in report.training]
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> dict[str, Any]:
    return {
        "environment": report.environment,
        "days": report.days,
        "proposals": [
            {
                "model": p.model,
                "endpoint": p.endpoint,
                "kind": p.kind,
                "summary": p.summary,
                "evidence": list(p.evidence),
                "monthly_saving_usd": None if p.monthly_saving_usd is None else round(p.monthly_saving_usd, 2),
                "change": None
                if p.change is None
                else {"path": p.change.path, "from": p.change.old, "to": p.change.new},
                "also": [{"path": c.path, "from": c.old, "to": c.new} for c in p.also],
                **({"endpoint": None, "pipeline": p.endpoint} if p.kind in TRAINING_KINDS else {}),
            }
            for p in report.proposals
        ],
        "left_alone": list(report.untouched),
        "training": list(report.training),
    }


def pr_body(report: Report) -> str:
    lines = [
        f"Savings proposed by `mlp finops advise {report.environment} --days {report.days}` from CloudWatch.",
        "",
        "| Proposal | Saving (USD/month) | In this PR |",
        "|---|---:|---|",
    ]
    for p in report.proposals:
        saving = "unknown" if p.monthly_saving_usd is None else f"{p.monthly_saving_usd:,.2f}"
        done = "; ".join(f"`{c.path}`: {c.old} → {c.new}" for c in p.changes) or "no: a person decides"
        lines.append(f"| {p.summary} | {saving} | {done} |")
    lines += ["", "Evidence:"]
    for p in report.proposals:
        lines.append(f"- **{p.summary}**: " + "; ".join(p.evidence))
    if report.untouched:
        lines += ["", "Left alone:"] + [f"- {u}" for u in report.untouched]
    if report.training:
        lines += ["", "Training pipelines:"] + [f"- {t}" for t in report.training]
    return "\n".join(lines) + "\n"


# --- the environment-file change and the pull request ------------------------------------------------------


def apply_changes(path: Path, changes: list[Change]) -> str:
    """Set each `models[<model>].<section>.<field>` through a ruamel round trip (comments, order and style kept,
    as `mlp promote` does) and return the new text; refuses if more lines than the values would change.

    A key the file leaves out (`Change.added`, its default applies) is added where no comment ends up on the
    wrong key: after the last key of the block that no full-line comment or blank line follows."""
    original = path.read_text(encoding="utf-8")
    yaml = round_trip_yaml()
    data = yaml.load(original)
    models = {m.get("name"): m for m in data.get("models") or []}
    for change in changes:
        node = (models.get(change.model) or {}).get(change.section)
        *parents, leaf = change.field.split(".")
        for key in parents:
            node = node.get(key) if node is not None else None
        if node is not None and change.added and leaf in node:
            raise AdviceRefusedError(f"{path.name}: {change.path} is set in the file now; run advise again")
        if node is None or (not change.added and node.get(leaf) != change.old):
            raise AdviceRefusedError(f"{path.name}: {change.path} is not {change.old!r} any more; run advise again")
        if change.added:
            node.insert(_free_position(node, path, change), leaf, change.new)
        else:
            node[leaf] = change.new
    updated, changed = dump_changes(yaml, data, original)
    if len(changed) != sum(1 if c.added else 2 for c in changes):
        raise AdviceRefusedError(
            f"editing {path.name} would change {len(changed)} lines for {len(changes)} values: its layout is not "
            "what the round trip writes back; make the change by hand"
        )
    path.write_text(updated, encoding="utf-8")
    return updated


def _free_position(node: Any, path: Path, change: Change) -> int:
    """Where a new key goes in a round-trip mapping: the last place not below a full-line comment or blank line
    (those belong to the key or item after them), preferring the end of the block."""
    keys = list(node)
    for position in range(len(keys), -1, -1):
        if position == 0:
            if not node.ca.comment:
                return 0
            continue
        value = node[keys[position - 1]]
        token = (node.ca.items.get(keys[position - 1]) or [None, None, None])[2]
        after = "" if token is None else str(token.value).partition("\n")[2]
        block = isinstance(value, dict | list) and not (hasattr(value, "fa") and value.fa.flow_style())
        if not block and not after.strip(" "):  # a nested block's last line is its own last key's
            return position
    raise AdviceRefusedError(f"{path.name}: no place for {change.path} that keeps the comments on their keys")


class AdviceRefusedError(Exception):
    """The pull request cannot be written (a dirty file, a branch that exists, a layout the round trip changes)."""


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AdviceRefusedError(f"git {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def branch_name(report: Report, today: dt.date | None = None) -> str:
    return f"finops/{report.environment}-{(today or dt.datetime.now(dt.UTC).date()).isoformat()}"


def open_pull_request(report: Report, *, base: str = "main", push: bool = False, today: dt.date | None = None) -> int:
    """Commit the proposals' changes on one branch and open one pull request for the environment."""
    from mlp.github import GitHub, GitHubError

    changes = [c for p in report.proposals for c in p.changes]
    if not changes:
        sys.stdout.write("no change to propose in the environment file: no pull request\n")
        return 0
    root = report.root
    rel = f"environments/{report.environment}.yaml"
    try:
        if _git(root, "status", "--porcelain", "--", rel).strip():
            raise AdviceRefusedError(f"{rel} has uncommitted changes: commit or stash them first")
        branch = branch_name(report, today)
        if _git(root, "branch", "--list", branch).strip():
            raise AdviceRefusedError(f"branch {branch} already exists: these proposals are already under review")
        _git(root, "switch", "--quiet", "-c", branch)
        apply_changes(root / rel, changes)
        _git(root, "add", "--", rel)
        title = f"finops({report.environment}): {len(changes)} saving(s) proposed from CloudWatch"
        _git(root, "commit", "--quiet", "-m", f"{title}\n\n{pr_body(report)}")
        if push:
            # The token reaches git only for this push (as in mlp promote): never stored in .git/config.
            from mlp.promotion_branch import CREDENTIAL_HELPER

            auth = ["-c", "credential.helper=", "-c", f"credential.helper={CREDENTIAL_HELPER}"]
            _git(root, *(auth if os.environ.get("GITHUB_TOKEN") else []), "push", "--quiet", "-u", "origin", branch)
    except AdviceRefusedError as exc:
        sys.stderr.write(f"refused: {exc}\n")
        return 1
    github = GitHub.from_environment()
    repository = load_environment(report.environment, root).repository
    if github is None:
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as body_file:
            body_file.write(pr_body(report))
        command = ["gh", "pr", "create", "--base", base, "--head", branch, "--title", title]
        sys.stdout.write("GITHUB_TOKEN is not set; open the pull request with:\n")
        sys.stdout.write(shlex.join([*command, "--body-file", body_file.name]) + "\n")
        return 0
    try:
        url = github.create_pull_request(repository, branch, base, title, pr_body(report))
    except GitHubError as exc:
        sys.stderr.write(f"error: {exc} (the commit is kept on {branch})\n")
        return 1
    sys.stdout.write(f"opened {url}\n")
    return 0
