"""Monthly cost estimate of a plan document, grouped by team, cost center and model.

The estimate reads resources by their engine (camelCase) inputs as the pulumi-aws SDK defines them:

- `aws:sagemaker/endpointConfiguration:EndpointConfiguration` productionVariants[] and
  shadowProductionVariants[] (instanceType, initialInstanceCount, serverlessConfig.memorySizeInMb), billed
  only when an `aws:sagemaker/endpoint:Endpoint` uses the configuration;
- `aws:appautoscaling/target:Target` (resourceId `endpoint/<name>/variant/<variant>`, minCapacity,
  maxCapacity): an autoscaled variant costs min..max instances;
- `aws:sagemaker/pipeline:Pipeline` pipelineDefinition (JSON): Training steps' ResourceConfig,
  StoppingCondition and EnableManagedSpotTraining; runs per month from the `aws:scheduler/schedule:Schedule`
  that targets the pipeline (scheduleExpression);
- `aws:sagemaker/monitoringSchedule:MonitoringSchedule` with the job definition it runs (a
  `DataQualityJobDefinition`, or a Cloud Control `AWS::SageMaker::ModelQualityJobDefinition`): executions per
  month from its cron expression x instances x runtime, at the processing price (each monitoring execution is a
  processing job: botocore's sagemaker model, MonitoringExecutionSummary.ProcessingJobArn);
- `aws:kms/key:Key`: the customer managed keys' monthly fee;
- `aws:cloudwatch/metricAlarm:MetricAlarm`: one alarm metric per month for an alarm on one metric (`metricName`),
  one per query with a metric (`metricQueries[].metric`) for a metric-math alarm, three for an anomaly-detection
  alarm, at the standard-resolution price (a period under 60 s is a high-resolution alarm, whose price is not
  read: unknown); `aws:cloudwatch/dashboard:Dashboard`: one dashboard-month (mlp/price_list.py says which rows and
  why). The per-account free tier is not subtracted, so these lines are upper bounds.

A value that is missing or unpriced makes the line "unknown"; nothing is ever counted as zero for lack of a
price. Every other resource type is listed by type under "not estimated" with the reason
(mlp/cost_catalog.py), so nothing in the plan is left out silently.

Runs per month come from mlp/cost_schedules.py; mlp/cost_render.py prints an estimate, mlp/cost_delta.py the
change between two.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mlp.cost_catalog import ESTIMATED, coverage, type_of
from mlp.cost_schedules import pipeline_runs_per_month, runs_per_month
from mlp.plan import Plan
from mlp.pricing import (
    BATCH_TRANSFORM,
    CLOUDWATCH_ALARM,
    CLOUDWATCH_DASHBOARD,
    HOSTING,
    HOSTING_DATA,
    KMS_KEY,
    PROCESSING,
    SERVERLESS_COMPUTE,
    SERVERLESS_DATA,
    TRAINING,
    Price,
    PriceBook,
)

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SCALING_TARGET = "aws:appautoscaling/target:Target"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
SCHEDULE = "aws:scheduler/schedule:Schedule"
KMS_KEY_TYPE = "aws:kms/key:Key"
MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
PLATFORM_TEAM = "platform"

UNKNOWN = "unknown"
SHARED = "(shared)"
UNTAGGED = "(untagged)"
GROUPS = ("team", "cost_center", "model")


@dataclass(frozen=True)
class ServerlessTraffic:
    """Expected traffic of one model's serverless endpoint (from the environment file)."""

    monthly_requests: int
    mean_duration_ms: float
    mean_payload_kb: float = 0


@dataclass(frozen=True)
class EndpointTraffic:
    """Expected traffic of one model's real-time endpoint (from the environment file)."""

    monthly_requests: int
    mean_request_kb: float
    mean_response_kb: float


@dataclass(frozen=True)
class Assumptions:
    """What the environment file says about usage the plan cannot know."""

    spot_savings_percent: int = 0
    serverless: Mapping[str, ServerlessTraffic] = field(default_factory=dict)
    """Per model name."""
    endpoint_traffic: Mapping[str, EndpointTraffic] = field(default_factory=dict)
    """Per model name: the data its real-time endpoint processes."""
    expected_minutes: Mapping[str, int] = field(default_factory=dict)
    """Expected runtime of one job, by kind ("training", "processing", "monitoring"); a kind without one is
    estimated at its job's MaxRuntimeInSeconds (an upper bound)."""
    expected_runs: Mapping[str, float] = field(default_factory=dict)
    """Expected runs per month of a pipeline no readable schedule targets, by pipeline kind ("training",
    "batch", "features": PIPELINE_KINDS)."""
    shared_cost_center: str = ""
    """Who pays for shared resources, as the environment file says (finops.platform_cost_center)."""
    shared_cost_center_source: str = ""
    """Where that came from, in words (the setting, or the fallback the platform uses without it)."""


@dataclass(frozen=True)
class Owner:
    team: str
    cost_center: str
    model: str

    @classmethod
    def of(cls, *resources: Mapping[str, Any]) -> Owner:
        """From the first resource that carries cost tags."""
        for resource in resources:
            tags = resource.get("inputs", {}).get("tags")
            if isinstance(tags, Mapping) and tags.get("team"):
                return cls(str(tags["team"]), str(tags.get("cost-center", UNTAGGED)), str(tags.get("model", SHARED)))
        return cls(UNTAGGED, UNTAGGED, SHARED)


@dataclass(frozen=True, order=True)
class MissingPrice:
    """A price the price file lacks, which leaves a line unknown."""

    kind: str
    item: str
    region: str

    @property
    def note(self) -> str:
        return f"no price for {self.kind} {self.item} in {self.region}"


@dataclass(frozen=True, order=True)
class MissingField:
    """An environment-file assumption that would complete a line (with its prices), and whom it is for."""

    field: str
    """Its path in the environment file, e.g. finops.expected_runtime_minutes.processing."""
    subject: str = ""
    """For list entries: which one, e.g. "model transaction-anomaly"."""


Missing = MissingPrice | MissingField


@dataclass(frozen=True)
class LineItem:
    """One billed thing: what it is, who pays, and its monthly cost (None = unknown)."""

    key: str
    """Stable identity across revisions: the resource's URN and the part of it (variant, training step)."""
    resource: str
    category: str
    owner: Owner
    description: str
    low: float | None
    high: float | None
    prices: tuple[Price, ...] = ()
    notes: tuple[str, ...] = ()
    missing: tuple[Missing, ...] = ()
    """What would make an unknown line known (the notes say it in words); empty when only the notes can."""

    @property
    def known(self) -> bool:
        return self.low is not None and self.high is not None


@dataclass(frozen=True)
class Total:
    low: float
    high: float
    unknown: tuple[str, ...]
    """Resources whose cost is unknown (so the total is only the known part)."""

    @property
    def complete(self) -> bool:
        return not self.unknown


@dataclass(frozen=True)
class NotEstimated:
    """Resources of one type that have no cost line, and why."""

    type: str
    count: int
    status: str
    reason: str


@dataclass(frozen=True)
class Gaps:
    """What would make an estimate's unknown lines known, each with the lines it would complete."""

    prices: tuple[tuple[MissingPrice, tuple[LineItem, ...]], ...]
    fields: tuple[tuple[MissingField, tuple[LineItem, ...]], ...]
    other: tuple[LineItem, ...]
    """Unknown lines that no price or environment-file field would complete (their notes say why)."""

    @property
    def empty(self) -> bool:
        return not (self.prices or self.fields or self.other)


@dataclass(frozen=True)
class Estimate:
    stack: str
    region: str
    hours_per_month: float
    hours_source: str
    items: tuple[LineItem, ...]
    rollouts: tuple[str, ...]
    assumptions: tuple[str, ...]
    not_estimated: tuple[NotEstimated, ...] = ()
    estimated_types: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    """Who pays for shared resources and where that comes from."""

    def total(self, items: Iterable[LineItem] | None = None) -> Total:
        chosen = list(self.items if items is None else items)
        return Total(
            low=sum(i.low for i in chosen if i.low is not None and i.high is not None),
            high=sum(i.high for i in chosen if i.low is not None and i.high is not None),
            unknown=tuple(sorted({i.resource for i in chosen if not i.known})),
        )

    def by(self, group: str) -> dict[str, Total]:
        keys = sorted({getattr(i.owner, group) for i in self.items})
        return {k: self.total(i for i in self.items if getattr(i.owner, group) == k) for k in keys}

    def gaps(self) -> Gaps:
        """The distinct missing prices and environment-file fields of the unknown lines, in sorted order."""
        prices: dict[MissingPrice, list[LineItem]] = {}
        fields: dict[MissingField, list[LineItem]] = {}
        other = []
        for item in self.items:
            if item.known:
                continue
            for gap in item.missing:
                if isinstance(gap, MissingPrice):
                    prices.setdefault(gap, []).append(item)
                else:
                    fields.setdefault(gap, []).append(item)
            # Each note of an unknown line says one thing it lacks, and each price or field it lacks has its
            # note (the data line names its two prices in one): a note more, or none, is a cause neither fills.
            if not item.missing or len(item.notes) > len(item.missing):
                other.append(item)
        return Gaps(
            prices=tuple((p, tuple(lines)) for p, lines in sorted(prices.items())),
            fields=tuple((f, tuple(lines)) for f, lines in sorted(fields.items())),
            other=tuple(other),
        )


@dataclass(frozen=True)
class _Context:
    region: str
    prices: PriceBook
    assumptions: Assumptions


def estimate(
    plan: Plan, prices: PriceBook, assumptions: Assumptions | None = None, region: str | None = None
) -> Estimate:
    """The monthly estimate of a plan document (`region`: when the plan has no AWS provider to read it from)."""
    assumptions = assumptions or Assumptions()
    region = region or plan_region(plan)
    hours = prices.hours_per_month
    ctx = _Context(region, prices, assumptions)
    resources: list[dict[str, Any]] = plan["resources"]
    items: list[LineItem] = []
    rollouts: list[str] = []

    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r)

    targets = {
        str(t["inputs"].get("resourceId")): t
        for t in by_type.get(SCALING_TARGET, [])
        if t["inputs"].get("serviceNamespace", "sagemaker") == "sagemaker"
    }
    for endpoint in by_type.get(ENDPOINT, []):
        config = _config_of(endpoint, by_type.get(ENDPOINT_CONFIG, []))
        if config is None:
            continue
        endpoint_name = str(endpoint["inputs"].get("name") or endpoint["name"])
        owner = Owner.of(config, endpoint)
        fleet: list[LineItem] = []
        for category, field_name in (("endpoint", "productionVariants"), ("shadow", "shadowProductionVariants")):
            for variant in config["inputs"].get(field_name) or []:
                target = targets.get(f"endpoint/{endpoint_name}/variant/{variant.get('variantName')}")
                item = _variant_item(ctx, config, variant, category, owner=owner, target=target)
                items.append(item)
                if category == "endpoint" and "serverlessConfig" not in variant:
                    fleet.append(item)
        traffic = assumptions.endpoint_traffic.get(owner.model)
        if traffic is not None:
            items.append(_data_item(ctx, config, owner, traffic))
        # A blue/green rollout provisions a new fleet as large as the current one (at most its maximum).
        fleet_hourly = None if any(i.high is None for i in fleet) else sum(i.high or 0.0 for i in fleet) / hours
        rollout = _rollout_note(endpoint, endpoint_name, fleet_hourly)
        if rollout:
            rollouts.append(rollout)

    schedules = by_type.get(SCHEDULE, [])
    for pipeline in by_type.get(PIPELINE, []):
        items.extend(_pipeline_items(ctx, pipeline, schedules))
    for schedule in by_type.get(MONITORING_SCHEDULE, []):
        items.append(_monitoring_item(ctx, schedule, resources))
    items.extend(_kms_items(ctx, by_type.get(KMS_KEY_TYPE, [])))
    items.extend(_alarm_item(ctx, alarm) for alarm in by_type.get(METRIC_ALARM, []))
    items.extend(_dashboard_item(ctx, dashboard) for dashboard in by_type.get(DASHBOARD, []))
    estimated_types, not_estimated = _coverage(resources)
    return Estimate(
        stack=str(plan.get("stack", "")),
        region=region,
        hours_per_month=hours,
        hours_source=prices.hours_source,
        items=tuple(sorted(items, key=lambda i: (i.owner.team, i.owner.model, i.resource, i.key))),
        rollouts=tuple(rollouts),
        assumptions=_notes(prices, assumptions),
        not_estimated=not_estimated,
        estimated_types=estimated_types,
        shared=_shared(items, assumptions),
    )


def _kms_items(ctx: _Context, keys: list[dict[str, Any]]) -> list[LineItem]:
    region, prices = ctx.region, ctx.prices
    items = []
    for key in keys:
        price = prices.lookup(region, KMS_KEY, "customer-managed-key")
        cost = price.usd_per_unit if price else None
        missing = () if price else (MissingPrice(KMS_KEY, "customer-managed-key", region),)
        items.append(
            LineItem(
                key=key["urn"],
                resource=key["name"],
                category="fixed",
                owner=Owner.of(key),
                description="customer managed KMS key, 1 key-month"
                + (
                    " (each automatic rotation adds a key-month, not included)"
                    if key["inputs"].get("enableKeyRotation")
                    else ""
                ),
                low=cost,
                high=cost,
                prices=(price,) if price else (),
                notes=tuple(m.note for m in missing),
                missing=missing,
            )
        )
    return items


# Comparison operators of an anomaly-detection alarm (botocore cloudwatch service-2.json ComparisonOperator, read
# 2026-11-30); infracost (cloudwatch_metric_alarm.go) counts such an alarm as three alarm metrics.
_ANOMALY_OPERATORS = {"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}
# A period under a minute makes a high-resolution alarm (infracost's rule), which has its own price.
_STANDARD_PERIOD_SECONDS = 60
CLOUDWATCH_CATEGORY = "cloudwatch"
"""The category of alarm and dashboard lines (fixed monthly charges of the monitoring the platform sets up)."""


def _alarm_item(ctx: _Context, alarm: dict[str, Any]) -> LineItem:
    """One metric alarm: its alarm metrics x the standard-resolution alarm-metric month."""
    inputs = alarm["inputs"]
    base = LineItem(alarm["urn"], alarm["name"], CLOUDWATCH_CATEGORY, Owner.of(alarm), "", None, None)
    queries = [q for q in inputs.get("metricQueries") or [] if isinstance(q, Mapping)]
    with_metric = [q for q in queries if isinstance(q.get("metric") or q.get("metricStat"), Mapping)]
    if queries:
        metrics = len(with_metric)
        periods = [(q.get("metric") or q.get("metricStat") or {}).get("period") for q in with_metric]
        what = f"metric-math alarm: {metrics} alarm metric{'s' if metrics != 1 else ''}"
    elif inputs.get("metricName"):
        metrics, periods, what = 1, [inputs.get("period")], "alarm on 1 metric"
    else:
        return replace(base, description="metric alarm", notes=("the alarm names no metric: nothing to price",))
    if queries and not metrics:
        note = "no query has a metric (a Metrics Insights or expression-only alarm): that price is not read"
        return replace(base, description=what, notes=(note,))
    if inputs.get("comparisonOperator") in _ANOMALY_OPERATORS:
        metrics *= 3
        what += " x 3 (anomaly detection)"
    what += f", {metrics} alarm-metric month{'s' if metrics != 1 else ''}"
    if any(isinstance(p, int | float) and p < _STANDARD_PERIOD_SECONDS for p in periods):
        note = "high-resolution alarm (period under 60 s): its price is not read by `mlp prices refresh`"
        return replace(base, description=what, notes=(note,))
    price = ctx.prices.lookup(ctx.region, CLOUDWATCH_ALARM, "standard-resolution")
    if price is None:
        gap = MissingPrice(CLOUDWATCH_ALARM, "standard-resolution", ctx.region)
        return replace(base, description=what, notes=(gap.note,), missing=(gap,))
    cost = metrics * price.usd_per_unit
    return replace(base, description=what, low=cost, high=cost, prices=(price,))


def _dashboard_item(ctx: _Context, dashboard: dict[str, Any]) -> LineItem:
    """One dashboard: one dashboard-month. A dashboard takes no tags (pulumi-aws's Dashboard has no `tags` input),
    so it is charged, and said to be, to the platform's shared cost center, as the Dashboards component makes it."""
    owner = Owner.of(dashboard)
    what = "dashboard, 1 dashboard-month"
    if owner.team == UNTAGGED:
        center = ctx.assumptions.shared_cost_center or UNTAGGED
        owner = Owner(PLATFORM_TEAM, center, SHARED)
        what += " (a dashboard takes no tags: charged as a shared platform resource)"
    base = LineItem(dashboard["urn"], dashboard["name"], CLOUDWATCH_CATEGORY, owner, what, None, None)
    price = ctx.prices.lookup(ctx.region, CLOUDWATCH_DASHBOARD, "dashboard")
    if price is None:
        gap = MissingPrice(CLOUDWATCH_DASHBOARD, "dashboard", ctx.region)
        return replace(base, notes=(gap.note,), missing=(gap,))
    return replace(base, low=price.usd_per_unit, high=price.usd_per_unit, prices=(price,))


def _notes(prices: PriceBook, assumptions: Assumptions) -> tuple[str, ...]:
    """The assumptions the estimate rests on, in words."""
    notes = [
        f"{prices.hours_per_month:g} hours per month ({prices.hours_source}).",
        "Prices are on-demand list prices from " + prices.path.name + "; usage-based charges (storage, requests, "
        "data transfer, logs) are not estimated; data processed by real-time endpoints only for the models in "
        "finops.endpoint_traffic.",
        "CloudWatch alarms and dashboards are upper bounds: the free tier (per account: 10 alarm metrics, "
        "3 dashboards; aws.amazon.com/cloudwatch/pricing) is not subtracted.",
    ]
    for kind in ("training", "processing", "monitoring", "batch"):
        minutes = assumptions.expected_minutes.get(kind)
        if minutes:
            notes.append(f"Each {kind} job is assumed to run {minutes} minutes (finops.expected_runtime_minutes).")
        elif kind == "batch":
            notes.append(
                "Batch transform jobs have no maximum runtime: without finops.expected_runtime_minutes.batch "
                "their cost is unknown."
            )
        else:
            notes.append(f"{kind.capitalize()} jobs are upper bounds: each is assumed to use its MaxRuntimeInSeconds.")
    for kind, runs in sorted(assumptions.expected_runs.items()):
        notes.append(
            f"Each {kind} pipeline that no schedule starts is assumed to run {runs:g} times a month "
            f"(finops.expected_runs_per_month.{kind})."
        )
    if assumptions.spot_savings_percent:
        notes.append(
            f"Training with managed spot is assumed to cost {assumptions.spot_savings_percent}% less than "
            "on-demand (finops.spot_savings_assumption_percent); the real saving varies."
        )
    else:
        notes.append("Training with managed spot is shown at the on-demand price (no spot saving assumed).")
    return tuple(notes)


def _coverage(resources: list[dict[str, Any]]) -> tuple[tuple[str, ...], tuple[NotEstimated, ...]]:
    """The types the estimate prices, and every other custom resource type with its count and reason."""
    counts: dict[str, int] = {}
    for r in resources:
        if r.get("custom", True) and not str(r.get("type", "")).startswith("pulumi:providers:"):
            counts[type_of(r)] = counts.get(type_of(r), 0) + 1
    priced = tuple(sorted(t for t in counts if coverage(t).status == ESTIMATED))
    rest = tuple(
        NotEstimated(t, n, coverage(t).status, coverage(t).reason)
        for t, n in sorted(counts.items())
        if coverage(t).status != ESTIMATED
    )
    return priced, rest


def _shared(items: list[LineItem], assumptions: Assumptions) -> tuple[str, ...]:
    """Shared resources (team `platform`) and the cost center they are charged to, said out loud."""
    centers = sorted({i.owner.cost_center for i in items if i.owner.team == PLATFORM_TEAM})
    lines = []
    if assumptions.shared_cost_center:
        lines.append(
            f"Shared resources (team {PLATFORM_TEAM}) are charged to cost center {assumptions.shared_cost_center} "
            f"({assumptions.shared_cost_center_source})."
        )
    if centers and centers != [assumptions.shared_cost_center]:
        lines.append(f"Shared resources in this plan carry cost center {', '.join(centers)} (their cost-center tags).")
    return tuple(lines)


def plan_region(plan: Plan) -> str:
    """The region of the plan's AWS provider (the environment's region)."""
    regions = {
        str(r["inputs"].get("region"))
        for r in plan["resources"]
        if r["type"] == "pulumi:providers:aws" and r["inputs"].get("region")
    }
    return regions.pop() if len(regions) == 1 else UNKNOWN


def _config_of(endpoint: dict[str, Any], configs: list[dict[str, Any]]) -> dict[str, Any] | None:
    wanted = endpoint["inputs"].get("endpointConfigName")
    for config in configs:
        if config["urn"] in endpoint.get("dependencies", []) or wanted in (
            config["inputs"].get("name"),
            config["name"],
        ):
            return config
    return None


def _variant_item(
    ctx: _Context,
    config: dict[str, Any],
    variant: Mapping[str, Any],
    category: str,
    *,
    owner: Owner,
    target: dict[str, Any] | None,
) -> LineItem:
    region, prices = ctx.region, ctx.prices
    name = str(variant.get("variantName") or "variant")
    key = f"{config['urn']}/{category}/{name}"
    label = "shadow variant" if category == "shadow" else "variant"
    serverless = variant.get("serverlessConfig")
    if serverless:
        return _serverless_item(ctx, LineItem(key, config["name"], "serverless", owner, "", None, None), serverless)
    instance = str(variant.get("instanceType") or "")
    if not instance:
        return LineItem(key, config["name"], category, owner, f"{label} {name}: no instance type", None, None)
    initial = int(variant.get("initialInstanceCount") or 1)
    low_count, high_count = initial, initial
    scaling = ""
    if target is not None:
        low_count = int(target["inputs"].get("minCapacity", initial))
        high_count = int(target["inputs"].get("maxCapacity", initial))
        scaling = f" (autoscaling {low_count}..{high_count}, {initial} at creation)"
    hours = prices.hours_per_month
    count = f"{low_count}" if low_count == high_count else f"{low_count}..{high_count}"
    description = f"{label} {name}: {count} x {instance} x {hours:g} h{scaling}"
    price = prices.lookup(region, HOSTING, instance)
    item = LineItem(key, config["name"], category, owner, description, None, None)
    if price is None:
        gap = MissingPrice(HOSTING, instance, region)
        return replace(item, notes=(gap.note,), missing=(gap,))
    return replace(
        item, low=low_count * hours * price.usd_per_unit, high=high_count * hours * price.usd_per_unit, prices=(price,)
    )


def _data_item(ctx: _Context, config: dict[str, Any], owner: Owner, traffic: EndpointTraffic) -> LineItem:
    """The data a real-time endpoint processes in a month, from the environment file's expected traffic."""
    gb_in = traffic.monthly_requests * traffic.mean_request_kb / (1024 * 1024)
    gb_out = traffic.monthly_requests * traffic.mean_response_kb / (1024 * 1024)
    what = (
        f"data processed: {traffic.monthly_requests:,} requests x {traffic.mean_request_kb:g} KB in / "
        f"{traffic.mean_response_kb:g} KB out = {gb_in:,.2f} GB in, {gb_out:,.2f} GB out (finops.endpoint_traffic)"
    )
    base = LineItem(f"{config['urn']}/data", config["name"], "data", owner, what, None, None)
    price_in = ctx.prices.lookup(ctx.region, HOSTING_DATA, "GB-in")
    price_out = ctx.prices.lookup(ctx.region, HOSTING_DATA, "GB-out")
    if price_in is None or price_out is None:
        gaps = tuple(
            MissingPrice(HOSTING_DATA, item, ctx.region)
            for item, price in (("GB-in", price_in), ("GB-out", price_out))
            if price is None
        )
        return replace(base, notes=(f"no price for {HOSTING_DATA} GB-in/GB-out in {ctx.region}",), missing=gaps)
    cost = gb_in * price_in.usd_per_unit + gb_out * price_out.usd_per_unit
    return replace(base, low=cost, high=cost, prices=(price_in, price_out))


def _serverless_item(ctx: _Context, base: LineItem, serverless: Mapping[str, Any]) -> LineItem:
    """`base` carries the identity and owner; the cost comes from the model's expected traffic."""
    region, prices, owner = ctx.region, ctx.prices, base.owner
    memory = int(serverless.get("memorySizeInMb") or 0)
    description = f"serverless variant {base.key.rsplit('/', 1)[-1]}: {memory} MB"
    traffic = ctx.assumptions.serverless.get(owner.model)
    if traffic is None:
        note = f"no expected traffic for model {owner.model}: add it to finops.serverless_usage"
        gap = MissingField("finops.serverless_usage", f"model {owner.model}")
        return replace(base, description=description, notes=(note,), missing=(gap,))
    seconds = traffic.monthly_requests * traffic.mean_duration_ms / 1000
    gigabytes = traffic.monthly_requests * traffic.mean_payload_kb / (1024 * 1024)
    description += f", {traffic.monthly_requests:,} requests x {traffic.mean_duration_ms:g} ms = {seconds:,.0f} s"
    compute = prices.lookup(region, SERVERLESS_COMPUTE, f"{memory}MB")
    data = prices.lookup(region, SERVERLESS_DATA, "GB") if gigabytes else None
    missing = []
    if compute is None:
        missing.append(MissingPrice(SERVERLESS_COMPUTE, f"{memory}MB", region))
    if gigabytes and data is None:
        missing.append(MissingPrice(SERVERLESS_DATA, "GB", region))
    if missing or compute is None:
        notes = tuple(m.note for m in missing)
        return replace(base, description=description, notes=notes, missing=tuple(missing))
    cost = seconds * compute.usd_per_unit + (gigabytes * data.usd_per_unit if data else 0.0)
    used = (compute, data) if data else (compute,)
    return replace(base, description=description, low=cost, high=cost, prices=used)


def _rollout_note(endpoint: dict[str, Any], endpoint_name: str, fleet_hourly: float | None) -> str | None:
    policy = (endpoint["inputs"].get("deploymentConfig") or {}).get("blueGreenUpdatePolicy")
    if not policy or fleet_hourly == 0:
        return None  # no blue/green, or no instance fleet to double (serverless variants only)
    per_hour = UNKNOWN if fleet_hourly is None else f"{fleet_hourly:,.2f} USD"
    note = f"{endpoint_name}: a blue/green rollout runs a second fleet while both serve: up to {per_hour} per hour"
    timeout = policy.get("maximumExecutionTimeoutInSeconds")
    if timeout and fleet_hourly is not None:
        note += f", at most {fleet_hourly * int(timeout) / 3600:,.2f} USD per rollout ({int(timeout)} s timeout)"
    return note + " (not in the monthly total)"


def _pipeline_items(ctx: _Context, pipeline: dict[str, Any], schedules: list[dict[str, Any]]) -> list[LineItem]:
    owner = Owner.of(pipeline)
    definition = pipeline["inputs"].get("pipelineDefinition")
    try:
        doc = json.loads(definition) if isinstance(definition, str) else definition
        steps = list(doc.get("Steps", []))
        parameters = {p["Name"]: p.get("DefaultValue") for p in doc.get("Parameters", []) if "Name" in p}
    except (TypeError, ValueError, AttributeError, KeyError):
        what = "pipeline definition not readable"
        return [LineItem(str(pipeline["urn"]), pipeline["name"], "training", owner, what, None, None)]
    runs = _pipeline_runs(ctx, pipeline, schedules)
    items = (_step_item(ctx, pipeline, owner, step, parameters=parameters, runs=runs) for step in steps)
    return [i for i in items if i is not None]


@dataclass(frozen=True)
class _Runs:
    """Runs per month of a pipeline, how the line says it, or why it is unknown and what would make it known."""

    value: float | None
    text: str = ""
    problem: str = ""
    gaps: tuple[Missing, ...] = ()


def _pipeline_runs(ctx: _Context, pipeline: dict[str, Any], schedules: list[dict[str, Any]]) -> _Runs:
    """From the schedule that targets the pipeline; without a readable one, from the environment file's
    expected runs of its kind (finops.expected_runs_per_month); else unknown."""
    runs = pipeline_runs_per_month(pipeline, schedules, ctx.prices.hours_per_month)
    if runs is not None:
        return _Runs(runs, f" x {runs:g} runs/month")
    problem = "runs per month unknown: no schedule with a readable expression targets the pipeline"
    kind = PIPELINE_KINDS.get(_component_type(pipeline))
    if kind is None:
        return _Runs(None, problem=problem)
    field_name = f"finops.expected_runs_per_month.{kind}"
    expected = ctx.assumptions.expected_runs.get(kind)
    if expected:
        return _Runs(expected, f" x {expected:g} runs/month assumed ({field_name})")
    return _Runs(None, problem=f"{problem} and no {field_name}", gaps=(MissingField(field_name),))


def _step_item(
    ctx: _Context,
    pipeline: dict[str, Any],
    owner: Owner,
    step: Mapping[str, Any],
    *,
    parameters: Mapping[str, Any],
    runs: _Runs,
) -> LineItem | None:
    """The line of one pipeline step that runs instances (None for any other step)."""
    kind = _STEP_KINDS.get(str(step.get("Type")))
    if kind is None:
        return None
    args = step.get("Arguments", {})
    config = args.get(_STEP_RESOURCES[kind], {})
    config = config.get("ClusterConfig", config)
    if kind != "training" and not config:
        return None  # declares no instances (not a step SageMaker would run): nothing to price
    instance = _resolve(config.get("InstanceType"), parameters)
    count = _resolve(config.get("InstanceCount"), parameters) or 1
    max_runtime = _resolve((args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds"), parameters)
    spot = kind == "training" and bool(_resolve(args.get("EnableManagedSpotTraining"), parameters))
    what = f"{kind} step {step.get('Name', '')}: {count} x {instance}"
    base = LineItem(f"{pipeline['urn']}/{step.get('Name', kind)}", pipeline["name"], kind, owner, "", None, None)
    problems = [runs.problem] if runs.problem else []
    gaps: list[Missing] = list(runs.gaps)
    what += runs.text
    seconds, runtime_text = _runtime(ctx, kind, max_runtime)
    if seconds is None:
        problems.append(f"run length unknown: no MaxRuntimeInSeconds and no finops.expected_runtime_minutes.{kind}")
        gaps.append(MissingField(f"finops.expected_runtime_minutes.{kind}"))
    else:
        what += f" x {runtime_text}"
    if spot:
        what += f" (managed spot, {ctx.assumptions.spot_savings_percent}% saving assumed)"
    price_kind = {"training": TRAINING, "batch": BATCH_TRANSFORM}.get(kind, PROCESSING)
    price = ctx.prices.lookup(ctx.region, price_kind, str(instance))
    if price is None:
        missing_price = MissingPrice(price_kind, str(instance), ctx.region)
        gaps.append(missing_price)
        problems.append(missing_price.note)
    if problems or runs.value is None or seconds is None or price is None:
        return replace(base, description=what, notes=tuple(problems), missing=tuple(gaps))
    factor = 1 - ctx.assumptions.spot_savings_percent / 100 if spot else 1.0
    cost = runs.value * int(count) * seconds / 3600 * price.usd_per_unit * factor
    return replace(base, description=what, low=cost, high=cost, prices=(price,))


# The kind of a pipeline, by the component that makes it (the type token before the pipeline's in its URN):
# the keys of finops.expected_runs_per_month (components/config/finops.py ExpectedRuns).
PIPELINE_KINDS = {
    "mlplatform:pipelines:TrainingPipeline": "training",
    "mlplatform:batch:BatchInference": "batch",
    "mlplatform:features:TeamFeatureGroup": "features",
}


def _component_type(resource: Mapping[str, Any]) -> str:
    """The type of the component a resource belongs to, from its URN (urn:pulumi:stack::project::a$b$type::name)."""
    parts = str(resource.get("urn", "")).split("::")
    chain = parts[2].split("$") if len(parts) >= 4 else []
    return chain[-2] if len(chain) >= 2 else ""


# Pipeline step types that run instances: a QualityCheck step runs a processing job (the Model Monitor
# analyzer), like a Processing step.
_STEP_KINDS = {"Training": "training", "Processing": "processing", "QualityCheck": "processing", "Transform": "batch"}
# Where each kind's step arguments name its instances (CreateTrainingJob ResourceConfig, CreateProcessingJob
# ProcessingResources.ClusterConfig, CreateTransformJob TransformResources: botocore sagemaker service-2.json).
_STEP_RESOURCES = {"training": "ResourceConfig", "processing": "ProcessingResources", "batch": "TransformResources"}


def _runtime(ctx: _Context, kind: str, max_runtime: Any) -> tuple[float | None, str]:
    """Seconds one job is assumed to run, and how that reads: the environment file's expected runtime, else
    the job's maximum (an upper bound), else unknown."""
    minutes = ctx.assumptions.expected_minutes.get(kind)
    if minutes:
        return minutes * 60.0, f"{minutes:g} min expected"
    if max_runtime is not None:
        return float(max_runtime), f"up to {float(max_runtime) / 3600:g} h"
    return None, ""


def _monitoring_item(ctx: _Context, schedule: dict[str, Any], resources: list[dict[str, Any]]) -> LineItem:
    """One monitoring schedule: executions per month x instances x runtime x processing price."""
    config = schedule["inputs"].get("monitoringScheduleConfig") or {}
    definition_name = str(config.get("monitoringJobDefinitionName", ""))
    expression = str((config.get("scheduleConfig") or {}).get("scheduleExpression", ""))
    base = LineItem(schedule["urn"], schedule["name"], "monitoring", Owner.of(schedule), "", None, None)
    job = _job_definition(definition_name, resources)
    what = f"{config.get('monitoringType', 'model')} monitoring"
    if job is None:
        return replace(base, description=what, notes=(f"job definition {definition_name!r} not in the plan",))
    instance, count, max_runtime = job
    runs = runs_per_month(expression, ctx.prices.hours_per_month)
    seconds, runtime_text = _runtime(ctx, "monitoring", max_runtime)
    what += f": {count} x {instance}"
    problems = []
    gaps: list[Missing] = []
    if runs is None:
        problems.append(f"executions per month unknown: cannot count {expression!r}")
    else:
        what += f" x {runs:g} runs/month"
    if seconds is None:
        problems.append("run length unknown: no MaxRuntimeInSeconds and no finops.expected_runtime_minutes.monitoring")
        gaps.append(MissingField("finops.expected_runtime_minutes.monitoring"))
    else:
        what += f" x {runtime_text}"
    price = ctx.prices.lookup(ctx.region, PROCESSING, instance)
    if price is None:
        missing_price = MissingPrice(PROCESSING, instance, ctx.region)
        gaps.append(missing_price)
        problems.append(missing_price.note)
    if problems or runs is None or seconds is None or price is None:
        return replace(base, description=what, notes=tuple(problems), missing=tuple(gaps))
    cost = runs * count * seconds / 3600 * price.usd_per_unit
    return replace(base, description=what, low=cost, high=cost, prices=(price,))


def _job_definition(name: str, resources: list[dict[str, Any]]) -> tuple[str, int, float | None] | None:
    """(instance type, instance count, MaxRuntimeInSeconds) of the monitoring job definition called `name`,
    whether made by the provider (camelCase inputs) or through Cloud Control (a CloudFormation document)."""
    for r in resources:
        inputs = r.get("inputs") or {}
        if type_of(r).startswith("AWS::SageMaker::") and isinstance(inputs.get("desiredState"), str):
            try:
                state = json.loads(inputs["desiredState"])
            except ValueError:
                continue
            if state.get("JobDefinitionName") != name:
                continue
            cluster = (state.get("JobResources") or {}).get("ClusterConfig") or {}
            runtime = (state.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
            return str(cluster.get("InstanceType")), int(cluster.get("InstanceCount") or 1), runtime
        if inputs.get("name") == name and isinstance(inputs.get("jobResources"), Mapping):
            cluster = inputs["jobResources"].get("clusterConfig") or {}
            runtime = (inputs.get("stoppingCondition") or {}).get("maxRuntimeInSeconds")
            return str(cluster.get("instanceType")), int(cluster.get("instanceCount") or 1), runtime
    return None


def _resolve(value: Any, parameters: Mapping[str, Any]) -> Any:
    """A literal, or the default of the pipeline parameter it refers to ({"Get": "Parameters.X"})."""
    if isinstance(value, Mapping) and isinstance(value.get("Get"), str):
        name = value["Get"].removeprefix("Parameters.")
        return parameters.get(name)
    return value
