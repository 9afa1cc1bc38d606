"""CloudWatch dashboards: one per environment and one per team, generated from the environment's models.

`dashboard_body` is a pure function of the environment file: a model added to the file gets its row of
widgets without anyone editing a dashboard. Bodies follow "Dashboard Body Structure and Syntax"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html,
read 2026-11-25): a `widgets` array (at most 500) of objects with `type`, `x`, `y`, `width` (1-24),
`height` (1-1000) and `properties`; metric widgets list `metrics` and name their `region`.

Budget status: AWS Budgets publishes no CloudWatch metric, and the only billing metric
(AWS/Billing EstimatedCharges) is account-wide and exists only in us-east-1, so it cannot show a team's
spend. The dashboard therefore states each team's monthly budget from the environment file in a text
widget and links to the AWS Budgets console, where actual and forecast spend are shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.artifacts import DATA_QUALITY, MODEL_QUALITY
from components.base import PlatformComponent
from components.config import Model, Team
from components.config.features import FeatureGroup
from components.config.observability import EVIDENTLY, effective_monitoring
from components.config.serving import BUILTIN_ALARMS
from components.evidently_monitoring import report_prefix
from components.features import PARITY_METRIC, PARITY_NAMESPACE, feature_group_name
from components.jobs.metrics_contract import DRIFT_METRIC, LATEST_POINTER, MISSING_METRIC, QUALITY_METRIC_PREFIX
from components.jobs.metrics_contract import NAMESPACE as EVIDENTLY_NAMESPACE
from components.monitoring import (
    DATA_METRICS_NAMESPACE,
    DRIFT_METRIC_PREFIX,
    MODEL_METRICS_NAMESPACE,
    drift_alarm_name,
    endpoint_name,
    quality_alarm_name,
    schedule_name,
)
from components.naming import CLOUDWATCH_ALARM, SAGEMAKER_PIPELINE, NameRule, physical_name
from components.serving import VARIANT, capture_bucket_name
from components.tagging import CostTags

# PutDashboard DashboardName: up to 255 alphanumerics, "-" and "_" (botocore cloudwatch service-2.json).
DASHBOARD = NameRule(255, re.compile(r"[^a-zA-Z0-9_-]"))
GRID_WIDTH = 24
# The dashboard with every team and model of the environment; the others are named for their team.
ENVIRONMENT_SCOPE = "ml-platform"
MAX_WIDGETS = 500
BUDGETS_CONSOLE = "https://console.aws.amazon.com/costmanagement/home#/budgets"
SAGEMAKER_NAMESPACE = "AWS/SageMaker"
PERIOD = 60

# The metric widgets every SageMaker model gets: key -> start of the title after "<model>: ".
METRIC_WIDGETS = {
    "invocations": "invocations",
    "latency": "model latency p50 / p99",
    "errors": "4xx / 5xx errors",
    "instances": "instances",
    "violations": "monitoring violations",
}


class DashboardSubject(Protocol):
    """What the dashboards show: an environment's name, account and region, its teams, models and feature groups.
    An environment file's `LoadedEnvironment` is one (components/composition.py passes it); so is any object with
    these attributes, so the dashboards need no environment file."""

    @property
    def name(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def teams(self) -> Sequence[Team]: ...
    @property
    def models(self) -> Sequence[Model]: ...
    @property
    def feature_groups(self) -> Sequence[FeatureGroup]: ...


def dashboard_name(environment: str, scope: str) -> str:
    return physical_name(DASHBOARD, environment, scope)


def _metric(
    title: str,
    region: str,
    metrics: list[list[Any]],
    *,
    stat: str = "Sum",
    period: int = PERIOD,
    lines: list[tuple[str, float]] | None = None,
) -> dict[str, Any]:
    """A time-series metric widget; `lines` are labelled horizontal annotations (SLOs, bounds)."""
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "region": region,
        "stat": stat,
        "period": period,
        "metrics": metrics,
    }
    if lines:
        properties["annotations"] = {"horizontal": [{"label": label, "value": value} for label, value in lines]}
    return {"type": "metric", "width": 8, "height": 6, "properties": properties}


def _evidently_widgets(
    env: DashboardSubject, model: Model, title: str, region: str, period: int
) -> list[dict[str, Any]]:
    """The drift job's metrics (every feature through SEARCH: no list to maintain) and where its latest report is."""
    dims = f'environment="{env.name}" model="{model.name}" version="{model.version}"'
    schema = f"{{{EVIDENTLY_NAMESPACE},environment,model,version,feature}}"
    metrics: list[list[Any]] = [
        [
            {
                "expression": f"SEARCH('{schema} MetricName=\"{DRIFT_METRIC}\" {dims}', 'Maximum', {period})",
                "label": f"{endpoint_name(env.name, model.name)} drift",
                "id": "drift",
            }
        ],
        [
            {
                "expression": f"SEARCH('{schema} MetricName=\"{MISSING_METRIC}\" {dims}', 'Maximum', {period})",
                "label": f"{endpoint_name(env.name, model.name)} missing values",
                "id": "missing",
            }
        ],
    ]
    monitoring = effective_monitoring(model)
    if monitoring is not None and monitoring.ground_truth:
        metrics += [
            [
                EVIDENTLY_NAMESPACE,
                QUALITY_METRIC_PREFIX + a.metric,
                "environment",
                env.name,
                "model",
                model.name,
                "version",
                str(model.version),
            ]
            for a in monitoring.ground_truth.alarms
        ]
    bucket = capture_bucket_name(env.name, model.name, env.account_id, env.region)
    latest = f"s3://{bucket}/{report_prefix(model.name, model.version)}{LATEST_POINTER}"
    return [
        _metric(
            f"{title}: {METRIC_WIDGETS['violations']} ({monitoring.schedule if monitoring else ''})",
            region,
            metrics,
            stat="Maximum",
            period=period,
        ),
        _text(
            f"### {title}: latest drift report\n`{latest}` names the newest run; each run holds `report.html`, "
            f"`report.json` and `metrics.json` (Evidently, {EVIDENTLY} engine)."
        ),
    ]


def _text(markdown: str, width: int = 8, height: int = 6) -> dict[str, Any]:
    return {"type": "text", "width": width, "height": height, "properties": {"markdown": markdown}}


def slo_alarm_names(environment: str, model: Model) -> list[str]:
    """Names of the endpoint's rollback (SLO) alarms, as components/serving.py names them."""
    slos = model.serving.slos
    if slos is None:
        return []
    suffixes = list(BUILTIN_ALARMS) + [a.name for a in slos.extra_alarms]
    return [physical_name(CLOUDWATCH_ALARM, environment, model.name, s) for s in suffixes]


def monitor_alarm_names(environment: str, model: Model) -> list[str]:
    monitoring = effective_monitoring(model)
    if monitoring is None:
        return []
    names = [drift_alarm_name(environment, model.name, a.feature) for a in monitoring.drift_alarms]
    if monitoring.ground_truth:
        names += [quality_alarm_name(environment, model.name, a.metric) for a in monitoring.ground_truth.alarms]
    return names


def model_widgets(env: DashboardSubject, model: Model) -> list[dict[str, Any]]:
    """A model's row: a header, one widget per metric in METRIC_WIDGETS, and its alarms' states."""
    serving = model.serving
    header = _text(
        f"## {model.name}\nTeam **{model.team}** · version **{model.version}** · rollout "
        f"**{serving.rollout.strategy}** · runbook `docs/runbooks/{env.name}/{model.name}.md`",
        width=GRID_WIDTH,
        height=2,
    )
    batch = [_pipeline_runs(env, f"{model.name}: batch inference runs", model.name, "batch")] if serving.batch else []
    if serving.platform == "batch":
        return [header, *batch]
    if serving.platform != "sagemaker":
        return [
            header,
            _text(f"{model.name} is served on Kubernetes: its metrics are on the cluster's dashboards."),
            *batch,
        ]
    endpoint = endpoint_name(env.name, model.name)
    dims = ["EndpointName", endpoint, "VariantName", VARIANT]
    region = env.region
    title = model.name
    widgets = [
        header,
        _metric(f"{title}: {METRIC_WIDGETS['invocations']}", region, [[SAGEMAKER_NAMESPACE, "Invocations", *dims]]),
        _metric(
            f"{title}: {METRIC_WIDGETS['latency']} (microseconds)",
            region,
            [
                [SAGEMAKER_NAMESPACE, "ModelLatency", *dims, {"stat": "p50", "label": "p50"}],
                [SAGEMAKER_NAMESPACE, "ModelLatency", *dims, {"stat": "p99", "label": "p99"}],
            ],
            stat="p99",
            lines=[("p99 SLO", serving.slos.p99_latency_ms * 1000)] if serving.slos else None,
        ),
        _metric(
            f"{title}: {METRIC_WIDGETS['errors']}",
            region,
            [
                [SAGEMAKER_NAMESPACE, "Invocation4XXErrors", *dims],
                [SAGEMAKER_NAMESPACE, "Invocation5XXErrors", *dims],
            ],
        ),
    ]
    if serving.serverless is not None:
        widgets.append(
            _text(
                f"### {title}: {METRIC_WIDGETS['instances']}\nServerless: no instances; SageMaker scales up to "
                f"{serving.serverless.max_concurrency} concurrent invocations."
            )
        )
    else:
        # SageMaker publishes no instance-count metric; Invocations / InvocationsPerInstance (the metric
        # autoscaling tracks) gives the instances that served traffic (empty while there is none).
        scaling = serving.autoscaling
        low, high = (scaling.min_capacity, scaling.max_capacity) if scaling else (serving.instance_count,) * 2
        widgets.append(
            _metric(
                f"{title}: {METRIC_WIDGETS['instances']} (autoscaling {low}-{high})",
                region,
                [
                    [{"expression": "m1 / m2", "label": "instances serving", "id": "e1"}],
                    [SAGEMAKER_NAMESPACE, "Invocations", *dims, {"id": "m1", "visible": False}],
                    [SAGEMAKER_NAMESPACE, "InvocationsPerInstance", *dims, {"id": "m2", "visible": False}],
                ],
                lines=[("min", low), ("max", high)],
            )
        )
    monitoring = effective_monitoring(model)
    if monitoring is None:
        widgets.append(
            _text(f"### {title}: {METRIC_WIDGETS['violations']}\nNot monitored: the endpoint captures no data.")
        )
    elif monitoring.engine == EVIDENTLY:
        widgets += _evidently_widgets(env, model, title, region, monitoring.period_seconds)
    else:
        schedule = schedule_name(env.name, model.name, DATA_QUALITY)
        search = (
            f"SEARCH('{{{DATA_METRICS_NAMESPACE},Endpoint,MonitoringSchedule}} %^{DRIFT_METRIC_PREFIX}.*% "
            f'Endpoint="{endpoint}" MonitoringSchedule="{schedule}"\', \'Maximum\', {monitoring.period_seconds})'
        )
        metrics: list[list[Any]] = [[{"expression": search, "label": "baseline drift", "id": "drift"}]]
        if monitoring.ground_truth:
            quality = schedule_name(env.name, model.name, MODEL_QUALITY)
            metrics += [
                [MODEL_METRICS_NAMESPACE, a.metric, "Endpoint", endpoint, "MonitoringSchedule", quality]
                for a in monitoring.ground_truth.alarms
            ]
        widgets.append(
            _metric(
                f"{title}: {METRIC_WIDGETS['violations']} ({monitoring.schedule})",
                region,
                metrics,
                stat="Maximum",
                period=monitoring.period_seconds,
            )
        )
    widgets += batch
    alarms = slo_alarm_names(env.name, model) + monitor_alarm_names(env.name, model)
    if alarms:
        widgets.append(
            {
                "type": "alarm",
                "width": 8,
                "height": 6,
                "properties": {
                    "title": f"{title}: alarms",
                    "alarms": [f"arn:aws:cloudwatch:{region}:{env.account_id}:alarm:{a}" for a in alarms],
                },
            }
        )
    return widgets


# SageMaker Pipelines publish execution counts per PipelineName (components/scheduled_pipelines.py).
PIPELINE_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"


def _pipeline_runs(env: DashboardSubject, title: str, owner: str, purpose: str) -> dict[str, Any]:
    """Succeeded and failed executions of one of the batch or feature pipelines, per hour."""
    name = physical_name(SAGEMAKER_PIPELINE, env.name, owner, purpose)
    return _metric(
        title,
        env.region,
        [
            [PIPELINE_NAMESPACE, "ExecutionSucceeded", "PipelineName", name],
            [PIPELINE_NAMESPACE, "ExecutionFailed", "PipelineName", name],
        ],
        period=3600,
    )


def feature_group_widgets(env: DashboardSubject, group: FeatureGroup) -> list[dict[str, Any]]:
    """A feature group's parity (share of mismatching values, with the alarm threshold) and its pipelines' runs."""
    widgets: list[dict[str, Any]] = []
    if group.parity:
        widgets.append(
            _metric(
                f"features {group.name}: online/offline mismatch %",
                env.region,
                [[PARITY_NAMESPACE, PARITY_METRIC, "FeatureGroup", feature_group_name(env.name, group.name)]],
                stat="Maximum",
                period=86400,
                lines=[("alarm", group.parity.max_mismatch_percent)],
            )
        )
        widgets.append(_pipeline_runs(env, f"features {group.name}: parity runs", group.name, "feature-parity"))
    if group.ingestion:
        widgets.append(_pipeline_runs(env, f"features {group.name}: ingestion runs", group.name, "ingestion"))
    return widgets


def budget_widget(env: DashboardSubject, team: Team) -> dict[str, Any]:
    return _text(
        f"### Budget: {team.name}\n**USD {team.monthly_budget_usd:,.0f} per month** in {env.name} "
        f"(cost center {team.cost_center}).\n\nAWS Budgets publishes no CloudWatch metric: see actual and "
        f"forecast spend in the [AWS Budgets console]({BUDGETS_CONSOLE}).",
        width=GRID_WIDTH // 2,
        height=3,
    )


def dashboard_body(
    env: DashboardSubject, teams: Sequence[Team], models: Sequence[Model], page: str | None = None
) -> dict[str, Any]:
    """The dashboard of some teams and models: budget text first, then a row per model. Widgets flow left
    to right on the 24-column grid and wrap; positions are computed so the layout is deterministic.
    `page` (a dashboard split into pages, see `dashboard_pages`) is said in a first text widget."""
    widgets = [_text(page, width=GRID_WIDTH, height=1)] if page else []
    widgets += [budget_widget(env, team) for team in teams]
    names = {t.name for t in teams}
    widgets += [w for g in env.feature_groups if g.team in names for w in feature_group_widgets(env, g)]
    for model in models:
        widgets += model_widgets(env, model)
    x = y = row_height = 0
    placed = []
    for widget in widgets:
        if x + widget["width"] > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        placed.append({**widget, "x": x, "y": y})
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    if len(placed) > MAX_WIDGETS:
        raise ValueError(f"{len(placed)} widgets is above CloudWatch's {MAX_WIDGETS} per dashboard")
    return {"start": "-PT12H", "periodOverride": "inherit", "widgets": placed}


def dashboard_pages(env: DashboardSubject, teams: Sequence[Team], models: Sequence[Model]) -> list[list[Model]]:
    """The models, in file order, split into as few dashboards as CloudWatch's widget limit allows (one
    while they fit; each page keeps the budgets and one widget naming the page)."""
    pages: list[list[Model]] = [[]]
    names = {t.name for t in teams}
    fixed = 1 + len(teams) + sum(len(feature_group_widgets(env, g)) for g in env.feature_groups if g.team in names)
    used = fixed
    for model in models:
        widgets = len(model_widgets(env, model))
        if pages[-1] and used + widgets > MAX_WIDGETS:
            pages.append([])
            used = fixed
        pages[-1].append(model)
        used += widgets
    return pages


def page_scope(scope: str, page: int) -> str:
    """The first page keeps the scope's name; later ones are <scope>-2, <scope>-3, ..."""
    return scope if page == 0 else f"{scope}-{page + 1}"


def dashboard_of(env: DashboardSubject, scope: str, model: Model) -> str:
    """Name of the dashboard (page) of `scope` ("ml-platform" or a team) that shows `model`."""
    teams = env.teams if scope == ENVIRONMENT_SCOPE else [t for t in env.teams if t.name == scope]
    models = env.models if scope == ENVIRONMENT_SCOPE else [m for m in env.models if m.team == scope]
    page = next(i for i, p in enumerate(dashboard_pages(env, teams, models)) if model in p)
    return dashboard_name(env.name, page_scope(scope, page))


@dataclass(frozen=True)
class DashboardsArgs:
    """Inputs of `Dashboards`."""

    environment: DashboardSubject
    """The environment: its teams and models are what the dashboards show."""


class Dashboards(PlatformComponent):
    """The environment's dashboard (every team and model) and one dashboard per team (its models)."""

    dashboards: dict[str, aws.cloudwatch.Dashboard]

    def __init__(
        self,
        name: str,
        args: DashboardsArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:dashboards:Dashboards", name, tags, opts)
        env = args.environment
        scopes: list[tuple[str, Sequence[Team], Sequence[Model]]] = [(ENVIRONMENT_SCOPE, env.teams, env.models)]
        scopes += [(team.name, [team], [m for m in env.models if m.team == team.name]) for team in env.teams]
        self.dashboards = {}
        for scope, teams, models in scopes:
            pages = dashboard_pages(env, teams, models)
            for i, page_models in enumerate(pages):
                key = page_scope(scope, i)
                others = ", ".join(dashboard_name(env.name, page_scope(scope, j)) for j in range(len(pages)) if j != i)
                label = f"Page {i + 1} of {len(pages)}; the others: {others}" if len(pages) > 1 else None
                self.dashboards[key] = aws.cloudwatch.Dashboard(
                    f"{name}-{key}",
                    dashboard_name=dashboard_name(env.name, key),
                    dashboard_body=json.dumps(dashboard_body(env, teams, page_models, label), sort_keys=True),
                    opts=self.child_opts(),
                )
        self.register_outputs({"dashboardNames": {k: d.dashboard_name for k, d in self.dashboards.items()}})
