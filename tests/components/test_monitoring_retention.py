"""A monitoring job never reads data older than its retention; the engine setting and its default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.config.observability import Monitoring
from components.loader import load_environment
from mlp.cli import main
from tests.components.test_monitoring import line_of, only_error
from tests.conftest import EditFn


def monitored(retention_days: int, monitoring: dict[str, Any]) -> EditFn:
    """The first model captures with this retention and is monitored like this."""

    def change(data: Any) -> None:
        model = data["models"][0]
        model["serving"]["data_capture"] = {"sampling_percent": 10, "retention_days": retention_days}
        model["monitoring"] = monitoring

    return change


TRUTH = {
    "s3_uri": "s3://labels-bucket/chargebacks/",
    "problem_type": "BinaryClassification",
    "probability_attribute": "score",
    "labels_delay_hours": 720,
}


def test_a_model_quality_window_older_than_the_capture_retention_is_an_error_with_its_line(
    edit_env: Callable[[str, EditFn], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Hourly, labels 720 hours late: the oldest capture read is 721 hours old; 30 days keep 720.
    root = edit_env("staging", monitored(30, {"schedule": "hourly", "ground_truth": dict(TRUTH)}))
    error = only_error(root, "staging", capsys)
    line = line_of(root, "staging", "labels_delay_hours: 720")
    assert error == (
        f"error: environments/staging.yaml:{line}: models[0].monitoring.ground_truth.labels_delay_hours: "
        "the model-quality job reads captures up to 721 hours old (labels_delay_hours 720 + the hourly window "
        "of 1 hours) but serving.data_capture.retention_days 30 deletes them after 720 hours, so every window is "
        "partly gone; raise retention_days to at least 31 or lower labels_delay_hours to at most 719"
    )


def test_a_daily_window_needs_the_day_plus_the_delay(
    edit_env: Callable[[str, EditFn], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    truth = dict(TRUTH, labels_delay_hours=48)
    root = edit_env("staging", monitored(2, {"schedule": "daily", "ground_truth": truth}))
    error = only_error(root, "staging", capsys)
    assert "reads captures up to 72 hours old" in error
    assert "raise retention_days to at least 3 or lower labels_delay_hours to at most 24" in error


def test_a_window_within_the_retention_plans(edit_env: Callable[[str, EditFn], Path]) -> None:
    # 31 days keep 744 hours: the 721-hour-old window is still there.
    root = edit_env("staging", monitored(31, {"schedule": "hourly", "ground_truth": dict(TRUTH)}))
    assert main(["plan", "staging", "--root", str(root)]) == 0


def test_the_engine_defaults_to_evidently_and_model_monitor_is_chosen_per_model(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    assert Monitoring().engine == "evidently"
    root = edit_env("staging", monitored(14, {"engine": "model-monitor"}))
    models = load_environment("staging", root).models
    assert models[0].monitoring is not None and models[0].monitoring.engine == "model-monitor"


def test_an_unknown_engine_is_refused_with_the_allowed_ones(
    edit_env: Callable[[str, EditFn], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = edit_env("staging", monitored(14, {"engine": "sagemaker-clarify"}))
    error = only_error(root, "staging", capsys)
    line = line_of(root, "staging", "engine: sagemaker-clarify")
    assert error.startswith(f"error: environments/staging.yaml:{line}: models[0].monitoring.engine:")
    assert "'evidently'" in error and "'model-monitor'" in error


def test_expected_runtime_above_the_maximum_is_refused(
    edit_env: Callable[[str, EditFn], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = edit_env("staging", monitored(14, {"max_runtime_minutes": 20, "expected_runtime_minutes": 30}))
    error = only_error(root, "staging", capsys)
    assert "expected_runtime_minutes 30 is above max_runtime_minutes 20" in error
