"""What the drift job publishes and the alarms, dashboards and runbooks read: one place, no dependencies.

The drift job (components/jobs/drift_job.py) runs in its own image and imports only this module of the
repository, so the names cannot drift apart between the job and the stack.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

NAMESPACE = "MLPlatform/Monitoring"
"""CloudWatch namespace of every metric the drift job publishes (custom namespaces may not start with AWS/)."""

DIMENSIONS = ("environment", "model", "version", "feature")
"""Dimensions of per-feature metrics; model-quality and run-level metrics carry all but `feature`."""

DRIFT_METRIC = "feature_drift"
"""Per feature: distance between the reference and the window (normed Wasserstein for numbers,
Jensen-Shannon for categories); above the environment file's threshold is drift."""
MISSING_METRIC = "feature_missing_count"
"""Per feature: captured requests of the window with the feature missing."""
ROWS_METRIC = "captured_rows"
"""Per run: captured requests analysed (0 means the window had no traffic or its captures expired)."""
QUALITY_METRIC_PREFIX = "quality_"
"""Model-quality metrics are published as quality_<metric> (quality_recall, ...)."""
LABELLED_METRIC = "labelled_rows"
"""Per run: captured predictions joined with a ground-truth label."""

REFERENCE_FILE = "reference.csv"
"""The reference data a training pipeline saves for its version: the prepared features, with a header."""
REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
METRICS_JSON = "metrics.json"
LATEST_POINTER = "latest.json"
"""Written next to a model's runs: the run prefix of the newest report (runbooks point at it)."""

# Where the isolated drift job reads and writes (SageMaker mounts ProcessingInputs and uploads
# ProcessingOutputs; LocalPath must begin with /opt/ml/processing/: botocore sagemaker service-2.json,
# ProcessingS3Input.LocalPath, read 2026-11-30).
INPUT_DIR = "/opt/ml/processing/input"
OUTPUT_DIR = "/opt/ml/processing/output/report"
CAPTURE_INPUT = "capture"
"""The captures of the run's window (a manifest the select step wrote)."""
LABELLED_INPUT = "labelled-capture"
"""The captures of the window whose labels are in (labels_delay_hours earlier), with ground truth only."""
REFERENCE_INPUT = "reference"
GROUND_TRUTH_INPUT = "ground-truth"
WINDOW_FILE = "window.json"
"""Written by the select step into each capture manifest, so a manifest is never empty: the window's hours."""


def metric_data(
    *,
    environment: str,
    model: str,
    version: str,
    timestamp: object,
    rows: int,
    drift: dict[str, float],
    missing: dict[str, int],
    quality: dict[str, float],
    labelled: int,
) -> list[dict[str, object]]:
    """The CloudWatch metric data of one run (PutMetricData's MetricDatum shape): the drift job's numbers
    with the dimensions the alarms name. Non-finite drift values (a constant column) are left out."""
    base = [
        {"Name": "environment", "Value": environment},
        {"Name": "model", "Value": model},
        {"Name": "version", "Value": version},
    ]

    def datum(name: str, value: float, feature: str | None = None, unit: str = "None") -> dict[str, object]:
        dims = base + ([{"Name": "feature", "Value": feature}] if feature else [])
        return {"MetricName": name, "Dimensions": dims, "Timestamp": timestamp, "Value": float(value), "Unit": unit}

    data = [datum(ROWS_METRIC, rows, unit="Count")]
    data += [datum(DRIFT_METRIC, v, f) for f, v in sorted(drift.items()) if math.isfinite(v)]
    data += [datum(MISSING_METRIC, v, f, "Count") for f, v in sorted(missing.items())]
    if quality or labelled:
        data.append(datum(LABELLED_METRIC, labelled, unit="Count"))
    data += [datum(QUALITY_METRIC_PREFIX + k, v) for k, v in sorted(quality.items())]
    return data


def window_hours(now: datetime, window_hours: int, delay_hours: int) -> list[datetime]:
    """The capture hours a run reads: the `window_hours` whole hours that ended `delay_hours` before the
    start of the current hour (SageMaker's data capture folders are per hour, UTC). The select step and the
    job's own selection share it."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=delay_hours)
    return [end - timedelta(hours=h) for h in range(window_hours, 0, -1)]
