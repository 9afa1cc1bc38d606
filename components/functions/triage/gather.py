"""Deterministic incident context for one alarm: every AWS call the triage makes to read is here.

Each call is read-only and made through `Clients` attributes named after the service, so the test that
compares the role's policy with the handler derives the actions from this source (tests/components/
test_triage_plan.py). A failing read degrades to a note line saying what could not be read, never to a
failed triage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .settings import REPORT_PREFIX, ModelInfo

# SageMaker endpoint metrics per variant (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html,
# read 2026-11-25): (label, metric, statistic). ModelLatency is in microseconds.
ENDPOINT_METRICS = (
    ("invocations", "Invocations", "Sum"),
    ("5xx errors", "Invocation5XXErrors", "Sum"),
    ("4xx errors", "Invocation4XXErrors", "Sum"),
    ("latency p50 (ms)", "ModelLatency", "p50"),
    ("latency p99 (ms)", "ModelLatency", "p99"),
)
COMPARISONS = (("now", timedelta(0)), ("day before", timedelta(days=1)), ("week before", timedelta(days=7)))
DRIFT_METRIC_PREFIX = "feature_baseline_drift_"
MODEL_QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
TOP_FEATURES = 5
HISTORY_ITEMS = 10


@dataclass
class Clients:
    """boto3 clients, one attribute per service (attribute name = key of SERVICE_PREFIXES)."""

    cloudwatch: Any
    sagemaker: Any
    s3: Any
    sns: Any = None
    secretsmanager: Any = None
    dynamodb: Any = None
    bedrock_runtime: Any = None


def make_clients(region: str, session: Any = None) -> Clients:
    import boto3

    s = session or boto3.session.Session(region_name=region)
    return Clients(
        cloudwatch=s.client("cloudwatch", region_name=region),
        sagemaker=s.client("sagemaker", region_name=region),
        s3=s.client("s3", region_name=region),
        sns=s.client("sns", region_name=region),
        secretsmanager=s.client("secretsmanager", region_name=region),
        dynamodb=s.client("dynamodb", region_name=region),
        bedrock_runtime=s.client("bedrock-runtime", region_name=region),
    )


@dataclass
class Alarm:
    name: str
    state: str
    reason: str
    changed_at: datetime
    metric: str
    namespace: str
    dimensions: dict[str, str]
    threshold: float | None = None
    comparison: str | None = None
    description: str = ""

    @property
    def kind(self) -> str:
        """`drift`, `quality` or `slo` (the endpoint's rollback alarms and anything else on its metrics)."""
        if self.metric.startswith(DRIFT_METRIC_PREFIX):
            return "drift"
        if self.namespace == MODEL_QUALITY_NAMESPACE:
            return "quality"
        return "slo"


@dataclass
class Rollout:
    status: str
    in_progress: bool
    variants: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    config_name: str
    pending_config_name: str | None
    last_modified: str
    failure_reason: str | None = None


@dataclass
class Context:
    alarm: Alarm
    model: ModelInfo | None
    rollout: Rollout | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    metrics: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    """variant -> metric label -> comparison -> value."""
    drift: list[tuple[str, float]] = field(default_factory=list)
    report_key: str | None = None
    deploy_commit: str | None = None
    gaps: list[str] = field(default_factory=list)
    """What could not be read, one line each."""


def alarm_from_message(message: dict[str, Any]) -> Alarm:
    """The alarm in a CloudWatch alarm notification (the JSON SNS delivers)."""
    trigger = message.get("Trigger") or {}
    dims = {d.get("name", d.get("Name", "")): d.get("value", d.get("Value", "")) for d in trigger.get("Dimensions", [])}
    return Alarm(
        name=message["AlarmName"],
        state=message.get("NewStateValue", "ALARM"),
        reason=message.get("NewStateReason", ""),
        changed_at=_parse_time(message.get("StateChangeTime")),
        metric=trigger.get("MetricName", ""),
        namespace=trigger.get("Namespace", ""),
        dimensions=dims,
        threshold=trigger.get("Threshold"),
        comparison=trigger.get("ComparisonOperator"),
        description=message.get("AlarmDescription") or "",
    )


def describe_alarm(clients: Clients, name: str) -> Alarm | None:
    """The alarm as CloudWatch describes it now (`mlp triage`, which starts from a name)."""
    found = clients.cloudwatch.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [])
    if not found:
        return None
    a = found[0]
    return Alarm(
        name=a["AlarmName"],
        state=a["StateValue"],
        reason=a.get("StateReason", ""),
        changed_at=_as_utc(a["StateUpdatedTimestamp"]),
        metric=a.get("MetricName", ""),
        namespace=a.get("Namespace", ""),
        dimensions={d["Name"]: d["Value"] for d in a.get("Dimensions", [])},
        threshold=a.get("Threshold"),
        comparison=a.get("ComparisonOperator"),
        description=a.get("AlarmDescription") or "",
    )


def gather(clients: Clients, alarm: Alarm, model: ModelInfo | None, lookback_minutes: int) -> Context:
    ctx = Context(alarm=alarm, model=model)
    _guarded(ctx, "alarm history", lambda: _history(clients, ctx))
    if model is None:
        ctx.gaps.append(f"no model of this environment matches alarm {alarm.name}")
        return ctx
    _guarded(ctx, f"endpoint {model.endpoint}", lambda: _rollout(clients, ctx, model))
    variants = [v["VariantName"] for v in ctx.rollout.variants] if ctx.rollout else []
    if ctx.rollout:
        variants += [v["VariantName"] for v in ctx.rollout.pending if v["VariantName"] not in variants]
    _metrics(clients, ctx, model, variants or ["primary"], lookback_minutes)
    if alarm.kind in ("drift", "quality"):
        _guarded(ctx, "the latest monitoring report", lambda: _drift(clients, ctx, model))
    return ctx


def _guarded(ctx: Context, what: str, read: Any) -> None:
    try:
        read()
    except Exception as exc:  # noqa: BLE001 - a read that fails is a gap in the note, not a failed triage
        ctx.gaps.append(f"could not read {what}: {type(exc).__name__}: {exc}")


def _history(clients: Clients, ctx: Context) -> None:
    items = clients.cloudwatch.describe_alarm_history(
        AlarmName=ctx.alarm.name, HistoryItemType="StateUpdate", MaxRecords=HISTORY_ITEMS, ScanBy="TimestampDescending"
    ).get("AlarmHistoryItems", [])
    ctx.history = [
        {"time": _iso(_as_utc(i["Timestamp"])), "summary": i.get("HistorySummary", "")}
        for i in sorted(items, key=lambda i: _as_utc(i["Timestamp"]), reverse=True)
    ]


def _rollout(clients: Clients, ctx: Context, model: ModelInfo) -> None:
    e = clients.sagemaker.describe_endpoint(EndpointName=model.endpoint)
    pending = e.get("PendingDeploymentSummary") or {}
    status = e.get("EndpointStatus", "")
    ctx.rollout = Rollout(
        status=status,
        in_progress=bool(pending) or status in ("Updating", "SystemUpdating", "RollingBack"),
        variants=[_variant(v) for v in e.get("ProductionVariants", [])],
        pending=[_variant(v) for v in pending.get("ProductionVariants", [])],
        config_name=e.get("EndpointConfigName", ""),
        pending_config_name=pending.get("EndpointConfigName"),
        last_modified=_iso(_as_utc(e["LastModifiedTime"])) if e.get("LastModifiedTime") else "",
        failure_reason=e.get("FailureReason"),
    )


def _variant(v: dict[str, Any]) -> dict[str, Any]:
    statuses = [s.get("Status", "") for s in v.get("VariantStatus", [])]
    return {
        "VariantName": v["VariantName"],
        "CurrentWeight": v.get("CurrentWeight"),
        "DesiredWeight": v.get("DesiredWeight"),
        "CurrentInstanceCount": v.get("CurrentInstanceCount"),
        "DesiredInstanceCount": v.get("DesiredInstanceCount"),
        "Status": ", ".join(s for s in statuses if s),
    }


def _metrics(clients: Clients, ctx: Context, model: ModelInfo, variants: list[str], lookback: int) -> None:
    """One GetMetricData per window and kind of statistic (counts, latency percentiles), so a failure of
    one leaves the others in the note."""
    end = ctx.alarm.changed_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    window = timedelta(minutes=lookback)
    groups: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    index: dict[str, tuple[str, str]] = {}
    for vi, variant in enumerate(variants):
        for mi, (label, metric, stat) in enumerate(ENDPOINT_METRICS):
            qid = f"v{vi}m{mi}"
            index[qid] = (variant, label)
            dimensions = [
                {"Name": "EndpointName", "Value": model.endpoint},
                {"Name": "VariantName", "Value": variant},
            ]
            groups[stat.startswith("p")].append(
                {
                    "Id": qid,
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": dimensions},
                        "Period": lookback * 60,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    for percentiles, queries in groups.items():
        for comparison, offset in COMPARISONS:
            what = f"{'latency percentiles' if percentiles else 'invocation and error counts'} ({comparison})"
            _guarded(
                ctx,
                what,
                lambda q=queries, o=offset, c=comparison: _window(
                    clients, ctx, queries=q, index=index, end=end - o, window=window, comparison=c
                ),
            )


def _window(
    clients: Clients,
    ctx: Context,
    *,
    queries: list[dict[str, Any]],
    index: dict[str, tuple[str, str]],
    end: datetime,
    window: timedelta,
    comparison: str,
) -> None:
    result = clients.cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=end - window, EndTime=end)
    for r in result.get("MetricDataResults", []):
        variant, label = index[r["Id"]]
        values = r.get("Values") or []
        value: float | None = None
        if values:
            value = max(values) if label.startswith("latency") else sum(values)
            if label.startswith("latency"):
                value /= 1000  # microseconds -> ms
        ctx.metrics.setdefault(variant, {}).setdefault(label, {})[comparison] = value


def _drift(clients: Clients, ctx: Context, model: ModelInfo) -> None:
    if not model.report_bucket:
        ctx.gaps.append("the endpoint captures no data, so there is no monitoring report")
        return
    listed = clients.s3.list_objects_v2(Bucket=model.report_bucket, Prefix=REPORT_PREFIX, MaxKeys=1000)
    reports = [o for o in listed.get("Contents", []) if o["Key"].endswith(".json")]
    if not reports:
        ctx.gaps.append(f"no monitoring report under s3://{model.report_bucket}/{REPORT_PREFIX} yet")
        return
    latest = max(reports, key=lambda o: (_as_utc(o["LastModified"]), o["Key"]))
    body = clients.s3.get_object(Bucket=model.report_bucket, Key=latest["Key"])["Body"].read()
    ctx.report_key = latest["Key"]
    ctx.drift = top_drifting_features(json.loads(body))[:TOP_FEATURES]
    if not ctx.drift:
        ctx.gaps.append(f"the latest report ({latest['Key']}) has no per-feature drift scores")


def top_drifting_features(report: Any) -> list[tuple[str, float]]:
    """(feature, drift score) sorted by score, from the report shapes we accept:
    `{"features": {name: {"drift_score": x} | x}}`, `{"drift_by_columns"|"drift_scores": {name: ...}}`,
    `{"features": [{"name"|"feature"|"column": n, "drift_score"|"score": x}]}`, and Model Monitor's
    `constraint_violations.json` (`{"violations": [{"feature_name", "description"}]}`, scored 1.0 each)."""
    scores: dict[str, float] = {}
    if not isinstance(report, dict):
        return []
    for key in ("features", "drift_by_columns", "drift_scores", "feature_drift"):
        block = report.get(key)
        if isinstance(block, dict):
            for name, value in block.items():
                score = _score(value)
                if score is not None:
                    scores[str(name)] = score
        elif isinstance(block, list):
            for item in block:
                if isinstance(item, dict):
                    name = item.get("name") or item.get("feature") or item.get("column") or item.get("column_name")
                    score = _score(item)
                    if name is not None and score is not None:
                        scores[str(name)] = score
    for violation in report.get("violations", []) if isinstance(report.get("violations"), list) else []:
        if isinstance(violation, dict) and violation.get("feature_name"):
            scores.setdefault(str(violation["feature_name"]), 1.0)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        for key in ("drift_score", "score", "stattest_value", "distance", "value"):
            if isinstance(value.get(key), int | float) and not isinstance(value.get(key), bool):
                return float(value[key])
    return None


def _parse_time(value: Any) -> datetime:
    if not value:
        return datetime.now(UTC)
    text = str(value).replace("Z", "+00:00")
    # CloudWatch writes "2026-11-30T12:00:00.000+0000".
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return _as_utc(datetime.fromisoformat(text))


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")
