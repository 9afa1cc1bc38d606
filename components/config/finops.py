"""Budgets, cost alerts and cost-estimate assumptions of an environment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from components.config.base import Email, Slug, Strict

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
