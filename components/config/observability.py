"""Observability settings: model monitoring of a model, and how an environment routes alarms to teams.

Severity and routing are data: an environment names its severities (and whether each pages the on-call),
and which severity each kind of alarm has. Code only knows the kinds of alarm.
"""

from __future__ import annotations

import difflib
import functools
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from components.config.base import Slug, Strict
from components.config.sagemaker_api import instance_types
from components.config.serving import Comparison

# Model Monitor's ScheduleConfig accepts `cron(0 * ? * * *)` (hourly) and `cron(0 H ? * * *)` (daily at hour
# H, UTC) among a few others; executions may start 0-20 minutes late
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html, read 2026-11-25).
HOURLY_CRON = "cron(0 * ? * * *)"
SCHEDULE_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html"


# Model quality: labels arrive late, so jobs shift their window by offsets such as -PT7H or -P1D; and "for
# hourly model quality monitoring jobs, the value of MaxRuntimeInSeconds specified as part of
# StoppingCondition must be no more than 1800" (the merge and the monitoring job share the run)
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-schedule.html, read 2026-11-25).
MODEL_QUALITY_SCHEDULE = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-schedule.html"
HOURLY_MODEL_QUALITY_MAX_RUNTIME_MINUTES = 30


def schedule_expression(schedule: Literal["hourly", "daily"], daily_hour_utc: int) -> str:
    """The Model Monitor cron expression of a schedule (only the forms SCHEDULE_DOC allows)."""
    return HOURLY_CRON if schedule == "hourly" else f"cron(0 {daily_hour_utc} ? * * *)"


# Metrics a model-quality job computes per problem type
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html, read 2026-11-25).
QUALITY_METRICS: dict[str, tuple[str, ...]] = {
    "Regression": ("mae", "mse", "rmse", "r2"),
    "BinaryClassification": (
        "accuracy",
        "recall",
        "precision",
        "f0_5",
        "f1",
        "f2",
        "au_prc",
        "auc",
        "true_positive_rate",
        "true_negative_rate",
        "false_positive_rate",
        "false_negative_rate",
    ),
    "MulticlassClassification": (
        "accuracy",
        "weighted_recall",
        "weighted_precision",
        "weighted_f0_5",
        "weighted_f1",
        "weighted_f2",
    ),
}

ProblemType = Literal["Regression", "BinaryClassification", "MulticlassClassification"]
# Column names in the captured payloads (SageMaker's Attribute fields accept up to 256 characters).
Attribute = Annotated[str, Field(min_length=1, max_length=256)]


class DriftAlarm(Strict):
    """An alarm on one feature's baseline drift, as the data-quality job publishes it to CloudWatch."""

    feature: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,200}$")]
    """Feature (column) name as it appears in the baseline statistics."""
    threshold: Annotated[float, Field(gt=0)]
    """Alarm when the feature's baseline drift distance is above this value."""
    severity: Slug | None = None
    """Severity of this alarm; `alerting.drift` when omitted."""


class QualityAlarm(Strict):
    """An alarm on one model-quality metric."""

    metric: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")]
    """Metric the model-quality job computes for the problem type, e.g. f1, auc, rmse."""
    threshold: float
    """The value the metric is compared with."""
    comparison: Comparison = "LessThanThreshold"
    """How the metric is compared with the threshold (quality metrics alarm when they fall)."""
    severity: Slug | None = None
    """Severity of this alarm; `alerting.model_quality` when omitted."""


class GroundTruth(Strict):
    """Where labels for served predictions land, which turns on model-quality monitoring."""

    s3_uri: Annotated[str, Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$")]
    """S3 prefix the team's labelling process writes ground truth to (in this environment's account)."""
    problem_type: ProblemType
    """The model's problem type: which quality metrics the job computes."""
    inference_attribute: Attribute | None = None
    """Column of the captured output holding the prediction (required for regression and multiclass)."""
    probability_attribute: Attribute | None = None
    """Column of the captured output holding the probability (binary classification)."""
    probability_threshold: Annotated[float, Field(ge=0, le=1)] | None = None
    """Probability above which a binary prediction counts as positive."""
    labels_delay_hours: Annotated[int, Field(ge=0, le=8760)] = 0
    """How long after a prediction its label lands: each run analyses the predictions of one schedule
    interval that ended this long ago (EndpointInput StartTimeOffset/EndTimeOffset, MODEL_QUALITY_SCHEDULE)."""
    alarms: list[QualityAlarm] = Field(default_factory=list)
    """Alarms on the computed metrics."""

    @model_validator(mode="after")
    def _metrics_of_the_problem_type(self) -> GroundTruth:
        allowed = QUALITY_METRICS[self.problem_type]
        for alarm in self.alarms:
            if alarm.metric not in allowed:
                raise ValueError(
                    f"metric {alarm.metric!r} is not computed for {self.problem_type}; use one of {', '.join(allowed)}"
                )
        if self.problem_type == "BinaryClassification":
            if self.inference_attribute is None and self.probability_attribute is None:
                raise ValueError(
                    "a binary classifier's monitor needs inference_attribute or probability_attribute: "
                    "name the output column the prediction is in"
                )
        elif self.inference_attribute is None:
            raise ValueError(
                f"a {self.problem_type} monitor needs inference_attribute: name the output column of the prediction"
            )
        return self


# The two monitoring engines. Model Monitor is closed to new customers ("Amazon SageMaker Model Monitor
# availability change", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html, read 2026-11-30):
# `evidently` runs our own job (components/jobs/drift_job.py) and works in any account; `model-monitor`
# keeps AWS's analyzer for accounts that still have it.
Engine = Literal["evidently", "model-monitor"]
EVIDENTLY: Engine = "evidently"
MODEL_MONITOR: Engine = "model-monitor"


class Monitoring(Strict):
    """Drift, data-quality and model-quality monitoring of a model's endpoint (it reads the captured data)."""

    engine: Engine = EVIDENTLY
    """`evidently` (our drift job on a schedule; any account) or `model-monitor` (SageMaker Model Monitor,
    for accounts that still have it)."""
    schedule: Literal["hourly", "daily"] = "daily"
    """How often the monitoring jobs run (SCHEDULE_DOC: Model Monitor supports hourly and daily)."""
    daily_hour_utc: Annotated[int, Field(ge=0, le=23)] = 0
    """Hour (UTC) of a daily run."""
    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] = "ml.m5.xlarge"
    """Instance of the monitoring (processing) job."""
    volume_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    """Encrypted volume of the monitoring job, in GB (botocore ProcessingVolumeSizeInGB: 1..16384)."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of the monitoring job (botocore ProcessingInstanceCount: 1..100); the drift job uses one,
    more only cost more."""
    max_runtime_minutes: Annotated[int, Field(ge=1, le=60)] = 60
    """Longest a monitoring job may run (our bound: one hour, so an hourly run ends before the next)."""
    expected_runtime_minutes: Annotated[int, Field(ge=1, le=60)] = 10
    """How long a run is expected to take: what `mlp cost` bills per run (an assumption, not a measurement;
    at most max_runtime_minutes)."""
    drift_alarms: list[DriftAlarm] = Field(default_factory=list)
    """Features whose baseline drift alarms (Model Monitor publishes one metric per feature)."""
    ground_truth: GroundTruth | None = None
    """Labels for served predictions; when given, model quality is monitored too."""

    @model_validator(mode="after")
    def _expected_within_max(self) -> Monitoring:
        if self.expected_runtime_minutes > self.max_runtime_minutes:
            raise ValueError(
                f"expected_runtime_minutes {self.expected_runtime_minutes} is above max_runtime_minutes "
                f"{self.max_runtime_minutes}: a run is stopped at the maximum; raise it or expect less"
            )
        return self

    @property
    def expression(self) -> str:
        return schedule_expression(self.schedule, self.daily_hour_utc)

    @property
    def interval_hours(self) -> int:
        return self.period_seconds // 3600

    def oldest_capture_hours(self) -> int:
        """How old the oldest captured request a run reads can be, in hours from the hour the run starts:
        one schedule interval, shifted back by the label delay when model quality is monitored."""
        delay = self.ground_truth.labels_delay_hours if self.ground_truth else 0
        return delay + self.interval_hours

    @property
    def period_seconds(self) -> int:
        """The interval between two runs: the period of the alarms on what a run publishes."""
        return 3600 if self.schedule == "hourly" else 86400


# CreateMlflowTrackingServer (botocore sagemaker service model, read 2026-11-30): TrackingServerSize
# Small | Medium | Large; WeeklyMaintenanceWindowStart `(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):([0-5]\d)`
# (max 9 characters: the day is written Mon, not MON).
ImageDigest = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


class ExperimentTrackingSettings(Strict):
    """The SageMaker managed MLflow tracking server of the environment that hosts the registries: training
    pipelines log their runs to it and monitoring runs log their reports to the served version's run."""

    enabled: bool = True
    """Create the tracking server (only where the registries live)."""
    size: Literal["Small", "Medium", "Large"] = "Small"
    """TrackingServerSize: the smallest fits a few teams' runs."""
    weekly_maintenance_window_start: Annotated[
        str, Field(pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01][0-9]|2[0-3]):[0-5][0-9]$")
    ] = "Sun:03:00"
    """When AWS may apply maintenance (UTC), e.g. Sun:03:00 (botocore's WeeklyMaintenanceWindowStart)."""
    share_outside_organization: bool = False
    """The environments serving from this registry are in accounts outside this account's AWS Organization
    (or sharing with AWS Organizations is not enabled): the tracking server's RAM resource share then allows
    external principals, and each serving account must accept the share's invitation once. Leave off when
    all accounts are in one organization: the share then cannot reach any account outside it."""


class Severity(Strict):
    """A severity: how urgently a team hears about an alarm."""

    name: Slug
    """Severity name, e.g. page or notify; each team gets one SNS topic per severity."""
    pages: bool
    """Whether the team's on-call is subscribed too (owners always are)."""


def _default_severities() -> list[Severity]:
    return [Severity(name="page", pages=True), Severity(name="notify", pages=False)]


class Alerting(Strict):
    """How this environment routes alarms: severities, and the severity of each kind of alarm."""

    severities: list[Severity] = Field(min_length=1, default_factory=_default_severities)
    """Severities; each team gets an encrypted SNS topic per severity."""
    slo: Slug = "page"
    """Severity of an endpoint's SLO alarms (which also roll deployments back)."""
    drift: Slug = "notify"
    """Default severity of data-drift alarms."""
    model_quality: Slug = "page"
    """Default severity of model-quality alarms."""

    @model_validator(mode="after")
    def _known_severities(self) -> Alerting:
        names = [s.name for s in self.severities]
        if len(set(names)) != len(names):
            raise ValueError(f"severity names must be unique, got {', '.join(names)}")
        for kind in ("slo", "drift", "model_quality"):
            value = getattr(self, kind)
            if value not in names:
                raise ValueError(f"{kind} severity {value!r} is not defined; severities here: {', '.join(names)}")
        return self

    def severity(self, name: str) -> Severity:
        return next(s for s in self.severities if s.name == name)


Loc = tuple[str | int, ...]


@functools.cache
def processing_instance_types() -> frozenset[str]:
    """Instance types of processing jobs (monitoring runs as one), from botocore's service model."""
    return frozenset(instance_types("ProcessingInstanceType"))


def observability_problems(env: Environment) -> list[tuple[Loc, str]]:
    """Rules spanning a model's monitoring, its serving and the environment's alerting, with the fix."""
    found: list[tuple[Loc, str]] = []
    severities = [s.name for s in env.alerting.severities]
    for i, model in enumerate(env.models):
        monitoring = model.monitoring
        if monitoring is None:
            continue
        if monitoring.instance_type not in processing_instance_types():
            close = difflib.get_close_matches(monitoring.instance_type, sorted(processing_instance_types()), n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "e.g. ml.m5.xlarge"
            found.append(
                (
                    ("models", i, "monitoring", "instance_type"),
                    f"{monitoring.instance_type!r} is not a SageMaker processing instance type (botocore's "
                    f"ProcessingInstanceType); {hint}",
                )
            )
        if model.serving.data_capture is None:
            found.append(
                (
                    ("models", i, "monitoring"),
                    "monitoring reads the endpoint's captured requests and this model captures none; "
                    "add serving.data_capture or remove monitoring",
                )
            )
        found += _retention_problems(model, i)
        alarms: list[tuple[Loc, str | None]] = [
            (("models", i, "monitoring", "drift_alarms", j, "severity"), a.severity)
            for j, a in enumerate(monitoring.drift_alarms)
        ]
        if monitoring.ground_truth:
            alarms += [
                (("models", i, "monitoring", "ground_truth", "alarms", j, "severity"), a.severity)
                for j, a in enumerate(monitoring.ground_truth.alarms)
            ]
        for loc, severity in alarms:
            if severity is not None and severity not in severities:
                found.append(
                    (loc, f"severity {severity!r} is not defined; alerting.severities here: {', '.join(severities)}")
                )
    return found


if TYPE_CHECKING:
    from components.config.environment import Environment, Model


def _retention_problems(model: Model, i: int) -> list[tuple[Loc, str]]:
    """A job must never read data older than that data's retention: each run's window (shifted back by the
    label delay) against the capture bucket's lifecycle expiry (serving.data_capture.retention_days)."""
    monitoring, capture = model.monitoring, model.serving.data_capture
    if monitoring is None or capture is None:
        return []
    oldest, kept = monitoring.oldest_capture_hours(), capture.retention_days * 24
    if oldest <= kept:
        return []
    truth = monitoring.ground_truth
    if truth is not None and truth.labels_delay_hours:
        return [
            (
                ("models", i, "monitoring", "ground_truth", "labels_delay_hours"),
                f"the model-quality job reads captures up to {oldest} hours old (labels_delay_hours "
                f"{truth.labels_delay_hours} + the {monitoring.schedule} window of {monitoring.interval_hours} "
                f"hours) but serving.data_capture.retention_days {capture.retention_days} deletes them after "
                f"{kept} hours, so every window is partly gone; raise retention_days to at least "
                f"{-(-oldest // 24)} or lower labels_delay_hours to at most {kept - monitoring.interval_hours}",
            )
        ]
    return [
        (
            ("models", i, "monitoring", "schedule"),
            f"a {monitoring.schedule} run reads captures up to {oldest} hours old but "
            f"serving.data_capture.retention_days {capture.retention_days} deletes them after {kept} hours; "
            f"raise retention_days to at least {-(-oldest // 24)}",
        )
    ]


def effective_monitoring(model: Model) -> Monitoring | None:
    """The monitoring a model gets: its own section, or the defaults (daily data quality) whenever a
    SageMaker endpoint captures data; None when nothing is captured."""
    if model.serving.platform != "sagemaker" or model.serving.data_capture is None:
        return None
    return model.monitoring or Monitoring()
