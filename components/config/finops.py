"""Budgets, cost alerts and cost-estimate assumptions of an environment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Protocol

from pydantic import Field

from components.config.base import CostCenter, Email, Slug, Strict

MAX_ALERT_EMAILS = 10
"""Email recipients one budget notification or anomaly subscription accepts (sources at FinOps.alert_emails)."""


class ServerlessUsage(Strict):
    """Expected traffic of a model served by a SageMaker serverless endpoint, for `mlp cost`.

    Serverless inference is billed by compute time (GB-seconds) and data processed, so the estimate needs
    the traffic it will serve; without this entry a serverless endpoint's cost is reported as unknown.
    """

    model: Slug
    """The model (one of the environment's models) whose serverless endpoint serves this traffic."""
    monthly_requests: Annotated[int, Field(ge=0)]
    """Expected invocations per month."""
    mean_duration_ms: Annotated[float, Field(gt=0)]
    """Mean inference duration per request, in milliseconds."""
    mean_payload_kb: Annotated[float, Field(ge=0)] = 0
    """Mean request plus response size, in KB (data processed by the endpoint)."""


class EndpointTraffic(Strict):
    """Expected traffic of a model's real-time endpoint, for the data it processes (`mlp cost`)."""

    model: Slug
    """The model (one of the environment's models) whose endpoint serves this traffic."""
    monthly_requests: Annotated[int, Field(ge=0)]
    """Expected invocations per month."""
    mean_request_kb: Annotated[float, Field(ge=0)]
    """Mean request size, in KB (data in)."""
    mean_response_kb: Annotated[float, Field(ge=0)]
    """Mean response size, in KB (data out)."""


class ExpectedRuntime(Strict):
    """Expected minutes one job runs, for `mlp cost` (an assumption the estimate states). A kind left out is
    estimated at its job's maximum runtime (MaxRuntimeInSeconds), an upper bound."""

    training: Annotated[int, Field(gt=0)] | None = None
    """One training step of a pipeline run."""
    processing: Annotated[int, Field(gt=0)] | None = None
    """One processing or quality-check step of a pipeline run."""
    monitoring: Annotated[int, Field(gt=0)] | None = None
    """One Model Monitor execution."""
    batch: Annotated[int, Field(gt=0)] | None = None
    """One batch transform step of a pipeline run (a transform job has no maximum runtime to fall back on)."""


class ExpectedRuns(Strict):
    """Expected runs per month of pipelines no schedule starts, for `mlp cost` (an assumption the estimate
    states): a training pipeline runs when a data scientist or CI starts it. Used only for a pipeline that no
    schedule with a readable expression targets; a scheduled pipeline is counted from its schedule."""

    # One number per kind of pipeline, as expected_runtime_minutes: a team knows "we retrain about weekly in
    # dev", not a figure per model, and `training: 4` reads as one line. Fractions are allowed (4.3 = weekly).
    training: Annotated[float, Field(gt=0)] | None = None
    """Runs per month of each training pipeline without a schedule (models[].training)."""
    batch: Annotated[float, Field(gt=0)] | None = None
    """Runs per month of each batch inference pipeline without a schedule (serving.batch)."""
    features: Annotated[float, Field(gt=0)] | None = None
    """Runs per month of each feature group's ingestion pipeline without a schedule."""


class FinOps(Strict):
    """Environment-wide budget and alert settings; per-team budgets live on each team."""

    monthly_budget_usd: Annotated[float, Field(gt=0)]
    """Budget for the whole environment, in USD per month."""
    forecasted_alert_percent: Annotated[int, Field(gt=0)] = 100
    """Alert when the month's FORECASTED spend exceeds this share of a budget (environment and teams)."""
    actual_alert_percent: Annotated[int, Field(gt=0)] = 80
    """Alert when the month's ACTUAL spend exceeds this share of a budget (environment and teams)."""
    # At most 10: a budget notification takes one SNS and up to 10 email subscribers
    # (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_NotificationWithSubscribers.html)
    # and an anomaly alert subscription up to 10 email recipients
    # (https://aws.amazon.com/aws-cost-management/aws-cost-anomaly-detection/faqs/), both read 2026-11-25.
    alert_emails: Annotated[list[Email], Field(default_factory=list, max_length=MAX_ALERT_EMAILS)]
    """Who receives the environment budget's alerts besides the alert topic (e.g. the FinOps mailbox);
    empty = the owners of every team. Team budgets always alert the team's owners."""
    anomaly_threshold_usd: Annotated[float, Field(gt=0)] = 100
    """Cost Anomaly Detection alerts on anomalies whose total impact is at least this many USD."""
    payer_account: bool = False
    """This stack deploys into the organization's payer (management) account: activate the cost-allocation
    tags there. Tags can only be activated in the payer account."""
    spot_savings_assumption_percent: Annotated[int, Field(ge=0, le=90)] = 0
    """Assumed saving of managed spot training over on-demand, used by `mlp cost` for pipelines that enable
    spot. 0 (the default) shows spot training at the on-demand price: the real saving varies by hour."""
    serverless_usage: Annotated[list[ServerlessUsage], Field(default_factory=list)]
    """Expected traffic of serverless endpoints, for the estimate."""
    endpoint_traffic: Annotated[list[EndpointTraffic], Field(default_factory=list)]
    """Expected traffic of real-time endpoints, for the data-processed charge in the estimate."""
    expected_runtime_minutes: ExpectedRuntime = ExpectedRuntime()
    """Expected runtime of training, processing and monitoring jobs, for the estimate."""
    expected_runs_per_month: ExpectedRuns = ExpectedRuns()
    """Expected runs per month of pipelines no schedule starts (training started by people or CI), for the
    estimate; without it their cost is unknown."""
    platform_cost_center: CostCenter | None = None
    """The cost center that pays for shared resources (team `platform`: the key, artifact bucket, dashboards,
    budgets' topic, ...). Without it they are charged to a `platform` team's cost center if the environment
    declares one, else to the first team's, and `mlp plan`, `mlp cost` and `mlp tags` say so."""


PLATFORM_TEAM = "platform"
"""The team shared resources belong to (components.tagging.PLATFORM_TEAM)."""


class _Team(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def cost_center(self) -> str: ...


def shared_cost_center(finops: FinOps, teams: Sequence[_Team]) -> tuple[str, str]:
    """The cost center shared resources are charged to, and where that comes from, in words."""
    if finops.platform_cost_center:
        return finops.platform_cost_center, "finops.platform_cost_center"
    platform = next((t for t in teams if t.name == PLATFORM_TEAM), None)
    if platform is not None:
        return platform.cost_center, f"the cost center of team {PLATFORM_TEAM}"
    first = teams[0]
    return first.cost_center, (
        f"not set: the first team's ({first.name}) cost center is used; name the payer in finops.platform_cost_center"
    )
