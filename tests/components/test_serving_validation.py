"""Every way to break a model's SageMaker serving section: exit 2, one line with file, line, field and fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.config.serving import hosting_instance_types
from mlp.cli import EXIT_INPUT, main

EditEnv = Callable[..., Path]


def only_error(root: Path, env: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["plan", env, "--root", str(root)])
    captured = capsys.readouterr()
    assert code == EXIT_INPUT, captured.err
    assert "Traceback" not in captured.err
    assert captured.out == "", "nothing is planned when the input is bad"
    [error] = captured.err.strip().splitlines()
    return error


def line_of(root: Path, env: str, text: str, after: str | None = None) -> int:
    """1-based line of the first line containing `text` (after the first line containing `after`)."""
    lines = (root / "environments" / f"{env}.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i + 1 for i, line in enumerate(lines) if i >= start and text in line)


Check = Callable[..., str]


@pytest.fixture
def check(edit_env: EditEnv, capsys: pytest.CaptureFixture[str]) -> Check:
    """Break env's file with `change`; assert the one error names `field` on the line holding `line_text`
    (the first after `after`) and contains every phrase."""

    def run(
        env: str, change: Callable[[Any], None], field: str, line_text: str, *phrases: str, after: str | None = None
    ) -> str:
        root = edit_env(env, change)
        error = only_error(root, env, capsys)
        line = line_of(root, env, line_text, after)
        assert error.startswith(f"error: environments/{env}.yaml:{line}: {field}: "), error
        for phrase in phrases:
            assert phrase in error, error
        return error

    return run


def fraud(data: Any) -> Any:
    return data["models"][0]["serving"]


def anomaly(data: Any) -> Any:
    return data["models"][1]["serving"]


# --- instance types ------------------------------------------------------------------------------------


def test_instance_types_come_from_botocore() -> None:
    types = hosting_instance_types()
    assert "ml.m5.large" in types
    assert "ml.c5.2xlarge" in types
    assert all(t.startswith("ml.") for t in types)
    assert hosting_instance_types() is types, "loaded once"


def test_unknown_instance_type_suggests_close_ones(check: Check) -> None:
    def typo(data: Any) -> None:
        fraud(data)["instance_type"] = "ml.m5.lage"

    check(
        "prod",
        typo,
        "models[0].serving.instance_type",
        "instance_type: ml.m5.lage",
        "'ml.m5.lage' is not a SageMaker hosting instance type",
        "did you mean ml.m5.large",
    )


def test_unknown_shadow_instance_type(check: Check) -> None:
    def typo(data: Any) -> None:
        fraud(data)["shadow"]["instance_type"] = "m5.large"

    check(
        "prod",
        typo,
        "models[0].serving.shadow.instance_type",
        "instance_type: m5.large",
        "'m5.large' is not a SageMaker hosting instance type",
    )


# --- serverless ----------------------------------------------------------------------------------------


def test_serverless_memory_outside_the_allowed_sizes(check: Check) -> None:
    def odd(data: Any) -> None:
        anomaly(data)["serverless"]["memory_mb"] = 1500

    check(
        "dev",
        odd,
        "models[1].serving.serverless.memory_mb",
        "memory_mb: 1500",
        "1024, 2048, 3072, 4096, 5120 or 6144",
    )


def test_serverless_with_an_instance_type(check: Check) -> None:
    def both(data: Any) -> None:
        anomaly(data)["instance_type"] = "ml.m5.large"

    check(
        "dev",
        both,
        "models[1].serving.instance_type",
        "instance_type: ml.m5.large",
        "a serverless endpoint has no instances: remove instance_type or remove serverless",
        after="transaction-anomaly",
    )


def test_serverless_with_a_rolling_rollout(check: Check) -> None:
    def rolling(data: Any) -> None:
        anomaly(data)["rollout"] = {"strategy": "rolling", "batch_percent": 25, "wait_minutes": 5}
        anomaly(data)["slos"] = {"p99_latency_ms": 300, "max_5xx_errors_per_minute": 5}

    check(
        "dev",
        rolling,
        "models[1].serving.rollout.strategy",
        "strategy: rolling",
        "rolling deployments do not support serverless endpoints",
        "deployment-guardrails-exclusions.html",
    )


def test_serverless_with_data_capture(check: Check) -> None:
    def capture(data: Any) -> None:
        anomaly(data)["data_capture"] = {"sampling_percent": 10}

    check(
        "dev",
        capture,
        "models[1].serving.data_capture",
        "data_capture:",
        "serverless endpoints cannot capture data",
        "serverless-endpoints.html",
    )


def test_serverless_with_a_shadow(check: Check) -> None:
    def shadow(data: Any) -> None:
        anomaly(data)["shadow"] = {"version": 7, "mirror_percent": 10}

    check(
        "dev",
        shadow,
        "models[1].serving.shadow",
        "shadow:",
        "serverless endpoints cannot run a shadow variant",
        "shadow-tests-exclusions.html",
    )


def test_serverless_with_autoscaling(check: Check) -> None:
    def scaled(data: Any) -> None:
        anomaly(data)["autoscaling"] = {"min_capacity": 1, "max_capacity": 2, "invocations_per_instance": 100}

    check(
        "dev",
        scaled,
        "models[1].serving.autoscaling",
        "autoscaling:",
        "a serverless endpoint has none",
        after="transaction-anomaly",
    )


def test_serverless_in_an_environment_with_a_vpc(check: Check) -> None:
    def serverless(data: Any) -> None:
        serving = anomaly(data)
        for key in ("instance_type", "instance_count", "data_capture", "autoscaling"):
            del serving[key]
        serving["serverless"] = {"memory_mb": 2048}

    check(
        "staging",
        serverless,
        "models[1].serving.serverless",
        "serverless:",
        "serverless endpoints cannot run in a VPC",
        "declares a network",
    )


# --- rollouts --------------------------------------------------------------------------------------------


def test_canary_above_half_the_fleet(check: Check) -> None:
    def big(data: Any) -> None:
        fraud(data)["rollout"]["percent"] = 80

    check(
        "prod",
        big,
        "models[0].serving.rollout.percent",
        "rollout:",
        "less than or equal to 50% of the variant's total instance count",
        after="fraud-scoring",
    )


def test_linear_step_below_sagemakers_minimum(check: Check) -> None:
    def small(data: Any) -> None:
        anomaly(data)["rollout"]["step_percent"] = 5

    check(
        "prod",
        small,
        "models[1].serving.rollout.step_percent",
        "rollout:",
        "linear step_percent 5 is below 10",
        "API_TrafficRoutingConfig.html",
        after="transaction-anomaly",
    )


def test_bake_time_above_an_hour(check: Check) -> None:
    def long(data: Any) -> None:
        fraud(data)["rollout"]["bake_minutes"] = 90

    check(
        "prod",
        long,
        "models[0].serving.rollout.bake_minutes",
        "rollout:",
        "less than or equal to 60",
        after="fraud-scoring",
    )


def test_inf1_cannot_run_a_canary(check: Check) -> None:
    def inf1(data: Any) -> None:
        fraud(data)["instance_type"] = "ml.inf1.xlarge"
        fraud(data)["shadow"]["instance_type"] = "ml.c5.2xlarge"

    check(
        "prod",
        inf1,
        "models[0].serving.rollout.strategy",
        "rollout:",
        "ml.inf1.xlarge (Inf1) endpoints do not support canary deployments",
        "silently shift all traffic at once",
        after="fraud-scoring",
    )


def test_rolling_with_a_shadow_variant(check: Check) -> None:
    def rolling(data: Any) -> None:
        fraud(data)["rollout"] = {"strategy": "rolling", "batch_percent": 25, "wait_minutes": 5}

    check(
        "prod",
        rolling,
        "models[0].serving.rollout.strategy",
        "strategy: rolling",
        "rolling deployments do not support endpoints with several variants",
    )


def test_staged_rollout_without_slos(check: Check) -> None:
    def no_alarms(data: Any) -> None:
        del anomaly(data)["slos"]

    check(
        "prod",
        no_alarms,
        "models[1].serving.slos",
        "serving:",
        "a linear rollout needs slos",
        after="transaction-anomaly",
    )


def test_deployment_timeout_shorter_than_its_waits(check: Check) -> None:
    def short(data: Any) -> None:
        fraud(data)["deployment_timeout_minutes"] = 20

    check(
        "prod",
        short,
        "models[0].serving.deployment_timeout_minutes",
        "deployment_timeout_minutes: 20",
        "must be larger than the waits it contains (25 minutes",
    )


# --- shadow, alarms, capture ----------------------------------------------------------------------------


def test_shadow_serving_the_primary_version(check: Check) -> None:
    def same(data: Any) -> None:
        fraud(data)["shadow"]["version"] = data["models"][0]["version"]

    check(
        "prod",
        same,
        "models[0].serving.shadow.version",
        "version: 12",
        "shadow version 12 is the version already served",
        after="shadow:",
    )


def test_too_many_rollback_alarms(check: Check) -> None:
    def many(data: Any) -> None:
        extra = fraud(data)["slos"]["extra_alarms"]
        for i in range(7):
            extra.append({"name": f"extra-{i}", "metric": "Invocations", "threshold": 1})

    check(
        "prod",
        many,
        "models[0].serving.slos.extra_alarms",
        "extra_alarms:",
        "9 extra alarms is too many",
        "keep at most 8",
    )


def test_extra_alarm_reusing_a_built_in_name(check: Check) -> None:
    def clash(data: Any) -> None:
        fraud(data)["slos"]["extra_alarms"][0]["name"] = "p99-latency"

    check(
        "prod",
        clash,
        "models[0].serving.slos.extra_alarms[0].name",
        "name: p99-latency",
        "alarm name 'p99-latency' is taken",
    )


def test_extra_alarm_with_an_unknown_statistic(check: Check) -> None:
    def median(data: Any) -> None:
        fraud(data)["slos"]["extra_alarms"][1]["statistic"] = "Median"

    check(
        "prod",
        median,
        "models[0].serving.slos.extra_alarms[1].statistic",
        "statistic: Median",
        "'Median' does not fit: a statistic is Average, Sum, Minimum, Maximum, SampleCount or a percentile",
    )


def test_latency_slo_must_be_positive(check: Check) -> None:
    def zero(data: Any) -> None:
        fraud(data)["slos"]["p99_latency_ms"] = 0

    check(
        "prod",
        zero,
        "models[0].serving.slos.p99_latency_ms",
        "p99_latency_ms: 0",
        "greater than 0",
    )


def test_capture_that_never_expires_is_refused(check: Check) -> None:
    def forever(data: Any) -> None:
        fraud(data)["data_capture"]["retention_days"] = 0

    check(
        "prod",
        forever,
        "models[0].serving.data_capture.retention_days",
        "retention_days: 0",
        "greater than or equal to 1",
    )


# --- autoscaling ----------------------------------------------------------------------------------------


def test_autoscaling_min_above_max(check: Check) -> None:
    def inverted(data: Any) -> None:
        fraud(data)["autoscaling"]["max_capacity"] = 2

    check(
        "prod",
        inverted,
        "models[0].serving.autoscaling.max_capacity",
        "max_capacity: 2",
        "autoscaling max_capacity 2 is below min_capacity 4",
        after="fraud-scoring",
    )


def test_instance_count_outside_autoscaling_bounds(check: Check) -> None:
    def outside(data: Any) -> None:
        anomaly(data)["instance_count"] = 10

    check(
        "prod",
        outside,
        "models[1].serving.instance_count",
        "instance_count: 10",
        "instance_count 10 is outside autoscaling's 3..8",
    )


def test_window_min_above_its_max(check: Check) -> None:
    def inverted(data: Any) -> None:
        fraud(data)["autoscaling"]["scale_down_windows"][0]["min_capacity"] = 2

    check(
        "staging",
        inverted,
        "models[0].serving.autoscaling.scale_down_windows[0].max_capacity",
        "max_capacity: 1",
        "window max_capacity 1 is below its min_capacity 2",
        after="nights",
    )


def test_window_that_raises_capacity(check: Check) -> None:
    def higher(data: Any) -> None:
        fraud(data)["autoscaling"]["scale_down_windows"][0]["max_capacity"] = 8

    check(
        "staging",
        higher,
        "models[0].serving.autoscaling.scale_down_windows[0].max_capacity",
        "max_capacity: 8",
        "a scale-down window only lowers capacity",
    )


def test_window_with_a_malformed_cron(check: Check) -> None:
    def crontab(data: Any) -> None:
        fraud(data)["autoscaling"]["scale_down_windows"][0]["start"] = "0 20 * * 1-5"

    check(
        "dev",
        crontab,
        "models[0].serving.autoscaling.scale_down_windows[0].start",
        "start: 0 20 * * 1-5",
        "is not a cron expression",
    )


def test_kubernetes_served_models_skip_sagemaker_rules(edit_env: EditEnv, capsys: pytest.CaptureFixture[str]) -> None:
    def kubernetes(data: Any) -> None:
        served = next(m for m in data["models"] if m["serving"].get("platform") == "kubernetes")
        served["serving"]["instance_type"] = "not-a-sagemaker-type"

    root = edit_env("prod", kubernetes)
    assert main(["plan", "prod", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "merchant-risk-endpoint" not in out
    assert "transaction-anomaly-endpoint" in out
