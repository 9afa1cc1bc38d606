"""How a model is served: SageMaker real-time endpoints or Kubernetes (KServe).

The rollout settings are shared by both platforms, so a model's rollout policy reads the same whichever
way it is served.
"""

from __future__ import annotations

import difflib
import functools
import math
from typing import Annotated, Literal

from pydantic import Field

from components.config.base import Slug, Strict
from components.config.batch import Batch
from components.config.expressions import CronExpression, TimeZone
from components.config.kubernetes import KServeSettings
from components.config.sagemaker_api import instance_types


class AllAtOnce(Strict):
    """Shift all traffic to the new fleet at once (blue/green without a canary). Cheap; for dev."""

    strategy: Literal["all-at-once"]
    wait_minutes: Annotated[int, Field(ge=0, le=60)] = 0
    """Bake time after the shift, while rollback alarms are watched."""


class Canary(Strict):
    """Send a small share of traffic to the new fleet first, bake, then shift the rest."""

    strategy: Literal["canary"]
    percent: Annotated[int, Field(ge=1, le=50)]
    """Share of traffic (and of the new fleet) the canary receives; at most 50."""
    bake_minutes: Annotated[int, Field(ge=0, le=60)]
    """How long the canary serves before the rest shifts."""


class Linear(Strict):
    """Shift traffic in equal steps with a bake time after each."""

    strategy: Literal["linear"]
    step_percent: Annotated[int, Field(ge=1, le=50)]
    """Share of traffic moved at each step."""
    interval_minutes: Annotated[int, Field(ge=0, le=60)]
    """Bake time between steps."""


class Rolling(Strict):
    """Replace instances in batches (SageMaker rolling deployment)."""

    strategy: Literal["rolling"]
    batch_percent: Annotated[int, Field(ge=5, le=50)]
    """Share of the fleet replaced per batch."""
    wait_minutes: Annotated[int, Field(ge=0, le=60)]
    """Bake time between batches."""


Rollout = Annotated[AllAtOnce | Canary | Linear | Rolling, Field(discriminator="strategy")]


# --- SageMaker real-time serving --------------------------------------------------------------------
# Limits below cite where AWS states them (read 2026-11-25). Numbers without a source are our choices
# and say so.


class Serverless(Strict):
    """SageMaker Serverless Inference instead of instances: cheap for idle dev endpoints, cold starts."""

    # Memory sizes: 1 GB steps from 1024 to 6144 MB (API_ProductionVariantServerlessConfig,
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantServerlessConfig.html;
    # botocore shape ServerlessMemorySizeInMB: 1024..6144).
    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    """Memory of each serverless worker, in MB."""
    # botocore shape ServerlessMaxConcurrency: 1..200.
    max_concurrency: Annotated[int, Field(ge=1, le=200)] = 5
    """Concurrent invocations before requests are throttled."""


class DataCapture(Strict):
    """Capture request and response payloads to a KMS-encrypted bucket that expires them."""

    # botocore shape SamplingPercentage: 0..100 (0 would capture nothing: omit data_capture instead).
    sampling_percent: Annotated[int, Field(ge=1, le=100)]
    """Share of requests whose input and output are captured."""
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    """Days after which captured payloads (customer data) are deleted by a lifecycle rule."""


class Shadow(Strict):
    """A challenger version that receives a mirrored copy of live traffic; its answers are discarded."""

    version: Annotated[int, Field(ge=1)]
    """Model-package version of the challenger (must differ from the model's version)."""
    mirror_percent: Annotated[int, Field(ge=1, le=100)]
    """Share of production requests copied to the challenger."""
    instance_type: str | None = None
    """Instance type of the challenger; the production variant's when omitted."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of the challenger."""


Comparison = Literal[
    "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"
]


class ExtraAlarm(Strict):
    """One more metric alarm that rolls a deployment back, on the endpoint's production variant."""

    name: Slug
    """Suffix of the alarm name (unique per model)."""
    metric: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,255}$")]
    """Metric name, e.g. Invocation4XXErrors (AWS/SageMaker) or CPUUtilization (/aws/sagemaker/Endpoints)."""
    namespace: Literal["AWS/SageMaker", "/aws/sagemaker/Endpoints"] = "AWS/SageMaker"
    """CloudWatch namespace of the metric: invocation metrics or instance metrics of endpoints."""
    statistic: Annotated[str, Field(pattern=r"^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d{1,2})?)$")] = (
        "Average"
    )
    """Statistic over each minute: Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p95."""
    comparison: Comparison = "GreaterThanThreshold"
    """How the statistic is compared with the threshold."""
    threshold: float
    """Threshold in the metric's unit."""
    evaluation_minutes: Annotated[int, Field(ge=1, le=60)] = 3
    """Consecutive breaching minutes before the alarm fires."""


class Slos(Strict):
    """Service-level objectives of an endpoint: each becomes a CloudWatch alarm that rolls a deployment back."""

    p99_latency_ms: Annotated[float, Field(gt=0, le=60000)]
    """p99 of ModelLatency over a minute, in milliseconds, above which the deployment rolls back."""
    max_5xx_errors_per_minute: Annotated[int, Field(ge=0)]
    """Invocation5XXErrors per minute above which the deployment rolls back (0: any error)."""
    evaluation_minutes: Annotated[int, Field(ge=1, le=60)] = 3
    """Consecutive breaching minutes before the latency and error alarms fire."""
    extra_alarms: Annotated[list[ExtraAlarm], Field(default_factory=list)]
    """Further rollback alarms on endpoint metrics."""


class ScaleDownWindow(Strict):
    """A recurring window (nights, weekends) in which the endpoint is capped at a smaller size."""

    name: Slug
    """Name of the window, e.g. nights."""
    start: CronExpression
    """When the window starts: an Application Auto Scaling cron expression, e.g. cron(0 20 ? * MON-FRI *)."""
    end: CronExpression
    """When it ends and the normal bounds come back."""
    timezone: TimeZone = "UTC"
    """IANA time zone of the cron expressions, e.g. Europe/Dublin."""
    min_capacity: Annotated[int, Field(ge=1, le=100)] = 1
    """Minimum instances during the window."""
    max_capacity: Annotated[int, Field(ge=1, le=100)] = 1
    """Maximum instances during the window."""


class Autoscaling(Strict):
    """Application Auto Scaling of the production variant: target tracking on invocations per instance."""

    min_capacity: Annotated[int, Field(ge=1, le=100)]
    """Fewest instances."""
    max_capacity: Annotated[int, Field(ge=1, le=100)]
    """Most instances."""
    invocations_per_instance: Annotated[float, Field(gt=0)]
    """Target of SageMakerVariantInvocationsPerInstance (invocations per instance per minute)."""
    scale_in_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Wait after a scale-in before the next (our default: scale in slowly)."""
    scale_out_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    """Wait after a scale-out before the next (our default: scale out quickly)."""
    scale_down_windows: Annotated[list[ScaleDownWindow], Field(default_factory=list)]
    """Scheduled windows with smaller bounds (non-production nights and weekends)."""


class Serving(Strict):
    """Serving settings of one model. Code defaults are the cheap, safe choice; env files override."""

    platform: Literal["sagemaker", "kubernetes", "batch"] = "sagemaker"
    """Where the model is served: a SageMaker real-time endpoint, a KServe InferenceService on EKS, or only
    in batch (`batch` then required, no endpoint)."""
    instance_type: str = "ml.m5.large"
    """SageMaker hosting instance type of the production variant."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of the production variant when the endpoint is created."""
    rollout: Rollout = AllAtOnce(strategy="all-at-once")
    """How a new version reaches traffic."""
    serverless: Serverless | None = None
    """Serve with SageMaker Serverless Inference instead of instances (no instance_type then)."""
    data_capture: DataCapture | None = None
    """Capture payloads for monitoring; omit to capture nothing."""
    shadow: Shadow | None = None
    """A challenger version receiving mirrored traffic."""
    slos: Slos | None = None
    """Rollback alarms; required for canary, linear and rolling rollouts."""
    autoscaling: Autoscaling | None = None
    """Scale the production variant with traffic; omit for a fixed instance_count."""
    termination_wait_minutes: Annotated[int, Field(ge=0, le=60)] = 0
    """Blue/green: keep the old fleet this long after the shift, for a fast manual rollback
    (botocore TerminationWaitInSeconds: 0..3600)."""
    deployment_timeout_minutes: Annotated[int, Field(ge=10, le=480)] | None = None
    """Longest a deployment may run before SageMaker stops it (botocore MaximumExecutionTimeoutInSeconds:
    600..28800 s); SageMaker's default when omitted."""
    image_repository: Annotated[str, Field(pattern=r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*$")] | None = None
    """ECR repository (in the registry's account) holding the serving image; the registry group's name
    when omitted. The execution role may pull from this repository only."""
    kserve: KServeSettings | None = None
    """KServe settings; required when `platform` is kubernetes."""
    batch: Batch | None = None
    """Batch transform of the same pinned version on a schedule; required when `platform` is batch."""


# --- Cross-field rules of SageMaker serving ----------------------------------------------------------

Loc = tuple[str | int, ...]

# https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html (read 2026-11-25)
GUARDRAILS_EXCLUSIONS = "https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html"
# https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html, "Feature exclusions" (read
# 2026-11-25): no VPC configuration, network isolation, data capture or multiple production variants.
SERVERLESS_EXCLUSIONS = "https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html"
# https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-exclusions.html (read 2026-11-25)
SHADOW_EXCLUSIONS = "https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-exclusions.html"
# API_TrafficRoutingConfig: LinearStepSize "must be 10-50% of the variant's total instance count"
# (botocore sagemaker TrafficRoutingConfig documentation, read 2026-11-25).
TRAFFIC_ROUTING = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html"
LINEAR_MIN_STEP_PERCENT = 10
# API_AutoRollbackConfig: Alarms holds 1..10 alarms (botocore shape AlarmList).
MAX_ROLLBACK_ALARMS = 10
BUILTIN_ALARMS = ("p99-latency", "5xx-errors")


@functools.cache
def hosting_instance_types() -> frozenset[str]:
    """SageMaker hosting instance types, from the service model that ships with botocore (no network)."""
    return frozenset(instance_types("ProductionVariantInstanceType"))


def _instance_type_problem(value: str) -> str | None:
    if value in hosting_instance_types():
        return None
    close = difflib.get_close_matches(value, sorted(hosting_instance_types()), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "e.g. ml.m5.large, ml.c5.xlarge"
    return f"{value!r} is not a SageMaker hosting instance type (botocore's ProductionVariantInstanceType); {hint}"


def rollback_alarm_count(serving: Serving) -> int:
    return len(BUILTIN_ALARMS) + len(serving.slos.extra_alarms) if serving.slos else 0


def sagemaker_problems(serving: Serving, version: int, has_network: bool) -> list[tuple[Loc, str]]:
    """Rules of SageMaker serving that span fields (and the environment's network), with the fix in the
    message. Locations are relative to the model's `serving` section."""
    if serving.platform != "sagemaker":
        return []
    return [
        problem
        for rule in (_instance_rules, _serverless_rules, _rollout_rules, _slo_rules, _autoscaling_rules)
        for problem in rule(serving, version, has_network)
    ]


def _instance_rules(serving: Serving, version: int, has_network: bool) -> list[tuple[Loc, str]]:
    """Instance types exist in SageMaker hosting."""
    found: list[tuple[Loc, str]] = []
    if serving.serverless is None and (problem := _instance_type_problem(serving.instance_type)):
        found.append((("instance_type",), problem))
    if (
        serving.shadow
        and serving.shadow.instance_type
        and (problem := _instance_type_problem(serving.shadow.instance_type))
    ):
        found.append((("shadow", "instance_type"), problem))

    return found


def _serverless_rules(serving: Serving, version: int, has_network: bool) -> list[tuple[Loc, str]]:
    """What Serverless Inference and deployment guardrails on Inf1 cannot do."""
    found: list[tuple[Loc, str]] = []
    rollout = serving.rollout
    staged = not isinstance(rollout, AllAtOnce)
    if serving.serverless is not None:
        if "instance_type" in serving.model_fields_set or "instance_count" in serving.model_fields_set:
            key = "instance_type" if "instance_type" in serving.model_fields_set else "instance_count"
            found.append(((key,), f"a serverless endpoint has no instances: remove {key} or remove serverless"))
        # Rolling deployments exclude serverless endpoints: GUARDRAILS_EXCLUSIONS.
        if isinstance(rollout, Rolling):
            found.append(
                (
                    ("rollout", "strategy"),
                    "rolling deployments do not support serverless endpoints (" + GUARDRAILS_EXCLUSIONS + "); "
                    "use all-at-once, canary or linear",
                )
            )
        # Serverless Inference supports no data capture, VPC or extra variants: SERVERLESS_EXCLUSIONS.
        if serving.data_capture is not None:
            found.append(
                (
                    ("data_capture",),
                    f"serverless endpoints cannot capture data ({SERVERLESS_EXCLUSIONS}); "
                    "remove data_capture or serve on instances",
                )
            )
        if serving.shadow is not None:
            found.append(
                (
                    ("shadow",),
                    f"serverless endpoints cannot run a shadow variant ({SHADOW_EXCLUSIONS}); "
                    "remove shadow or serve on instances",
                )
            )
        if serving.autoscaling is not None:
            found.append(
                (
                    ("autoscaling",),
                    "autoscaling scales instances and a serverless endpoint has none: it scales itself up to "
                    "serverless.max_concurrency; remove autoscaling",
                )
            )
        if has_network:
            found.append(
                (
                    ("serverless",),
                    f"serverless endpoints cannot run in a VPC ({SERVERLESS_EXCLUSIONS}) and this environment "
                    "declares a network; serve on instances",
                )
            )
    elif serving.instance_type.startswith("ml.inf1.") and staged:
        # Inf1 endpoints silently fall back to all-at-once: GUARDRAILS_EXCLUSIONS.
        found.append(
            (
                ("rollout", "strategy"),
                f"{serving.instance_type} (Inf1) endpoints do not support {rollout.strategy} deployments and "
                f"SageMaker would silently shift all traffic at once ({GUARDRAILS_EXCLUSIONS}); "
                "use all-at-once, or an Inf2 or CPU instance type",
            )
        )

    return found


def _rollout_rules(serving: Serving, version: int, has_network: bool) -> list[tuple[Loc, str]]:
    """Rollouts SageMaker can run, and that can roll back."""
    found: list[tuple[Loc, str]] = []
    rollout = serving.rollout
    staged = not isinstance(rollout, AllAtOnce)
    if isinstance(rollout, Rolling) and serving.shadow is not None:
        # Rolling deployments exclude multi-variant endpoints: GUARDRAILS_EXCLUSIONS.
        found.append(
            (
                ("rollout", "strategy"),
                f"rolling deployments do not support endpoints with several variants, and a shadow is one "
                f"({GUARDRAILS_EXCLUSIONS}); use canary or linear, or remove shadow",
            )
        )
    if isinstance(rollout, Linear) and rollout.step_percent < LINEAR_MIN_STEP_PERCENT:
        found.append(
            (
                ("rollout", "step_percent"),
                f"linear step_percent {rollout.step_percent} is below {LINEAR_MIN_STEP_PERCENT}: SageMaker moves "
                f"10-50% of the fleet per step ({TRAFFIC_ROUTING}); use 10 or more, or a canary",
            )
        )
    if staged and serving.slos is None:
        found.append(
            (
                ("slos",),
                f"a {rollout.strategy} rollout needs slos: without rollback alarms it only delays a bad version; "
                "add slos (p99_latency_ms, max_5xx_errors_per_minute) or use all-at-once",
            )
        )
    if serving.shadow is not None and serving.shadow.version == version:
        found.append(
            (
                ("shadow", "version"),
                f"shadow version {version} is the version already served: a shadow tests a challenger; "
                "set another version or remove shadow",
            )
        )
    return found


def _slo_rules(serving: Serving, version: int, has_network: bool) -> list[tuple[Loc, str]]:
    """Rollback alarms and the deployment timeout."""
    found: list[tuple[Loc, str]] = []
    rollout = serving.rollout
    if serving.slos is not None:
        if rollback_alarm_count(serving) > MAX_ROLLBACK_ALARMS:
            found.append(
                (
                    ("slos", "extra_alarms"),
                    f"{len(serving.slos.extra_alarms)} extra alarms is too many: a deployment rolls back on at most "
                    f"{MAX_ROLLBACK_ALARMS} alarms (API_AutoRollbackConfig) and {len(BUILTIN_ALARMS)} are built in; "
                    f"keep at most {MAX_ROLLBACK_ALARMS - len(BUILTIN_ALARMS)}",
                )
            )
        seen: set[str] = set(BUILTIN_ALARMS)
        for i, alarm in enumerate(serving.slos.extra_alarms):
            if alarm.name in seen:
                found.append(
                    (
                        ("slos", "extra_alarms", i, "name"),
                        f"alarm name {alarm.name!r} is taken (built in: {', '.join(BUILTIN_ALARMS)}); "
                        "give each alarm a unique name",
                    )
                )
            seen.add(alarm.name)
    if serving.deployment_timeout_minutes is not None:
        waits = serving.termination_wait_minutes + _wait_minutes(rollout)
        if serving.deployment_timeout_minutes <= waits:
            found.append(
                (
                    ("deployment_timeout_minutes",),
                    f"deployment_timeout_minutes {serving.deployment_timeout_minutes} must be larger than the "
                    f"waits it contains ({waits} minutes of bake and termination wait; API_BlueGreenUpdatePolicy); "
                    "raise it or shorten the waits",
                )
            )
    return found


def _autoscaling_rules(serving: Serving, version: int, has_network: bool) -> list[tuple[Loc, str]]:
    """Autoscaling and scale-down window bounds."""
    found: list[tuple[Loc, str]] = []
    scaling = serving.autoscaling
    if scaling is not None:
        if scaling.min_capacity > scaling.max_capacity:
            found.append(
                (
                    ("autoscaling", "max_capacity"),
                    f"autoscaling max_capacity {scaling.max_capacity} is below min_capacity {scaling.min_capacity}; "
                    "make min_capacity <= max_capacity",
                )
            )
        elif not scaling.min_capacity <= serving.instance_count <= scaling.max_capacity:
            found.append(
                (
                    ("instance_count",),
                    f"instance_count {serving.instance_count} is outside autoscaling's {scaling.min_capacity}.."
                    f"{scaling.max_capacity}: autoscaling would resize it at once; pick a count within the bounds",
                )
            )
        for i, window in enumerate(scaling.scale_down_windows):
            if window.min_capacity > window.max_capacity:
                found.append(
                    (
                        ("autoscaling", "scale_down_windows", i, "max_capacity"),
                        f"window max_capacity {window.max_capacity} is below its min_capacity {window.min_capacity}; "
                        "make min_capacity <= max_capacity",
                    )
                )
            elif window.max_capacity > scaling.max_capacity:
                found.append(
                    (
                        ("autoscaling", "scale_down_windows", i, "max_capacity"),
                        f"window max_capacity {window.max_capacity} is above autoscaling max_capacity "
                        f"{scaling.max_capacity}: a scale-down window only lowers capacity",
                    )
                )
    return found


def _wait_minutes(rollout: AllAtOnce | Canary | Linear | Rolling) -> int:
    """The single wait interval SageMaker is given for the rollout (bake, interval or batch wait)."""
    if isinstance(rollout, Canary):
        return rollout.bake_minutes
    if isinstance(rollout, Linear):
        return rollout.interval_minutes
    return rollout.wait_minutes


def sagemaker_warnings(serving: Serving) -> list[str]:
    """Valid but probably unintended settings, shown after the plan."""
    found: list[str] = []
    rollout = serving.rollout
    if serving.serverless is not None:
        found.append(
            "serverless endpoints run without network isolation, which Serverless Inference does not support "
            f"({SERVERLESS_EXCLUSIONS}); serve on instances where the model must have no network access"
        )
        return found
    # Our reading: a step is a share of the fleet and never smaller than one instance, so the share is
    # rounded up to whole instances here.
    count = serving.autoscaling.min_capacity if serving.autoscaling else serving.instance_count
    if isinstance(rollout, Canary) and math.ceil(count * rollout.percent / 100) >= count:
        found.append(
            f"canary of {rollout.percent}% of {count} instance(s) is the whole fleet: the canary step shifts all "
            "traffic at once; add instances or use all-at-once"
        )
    if isinstance(rollout, Linear) and math.ceil(count * rollout.step_percent / 100) >= count:
        found.append(
            f"linear step of {rollout.step_percent}% of {count} instance(s) is the whole fleet: there is one step; "
            "add instances or use a canary"
        )
    return found
