"""What the drift job publishes and the alarms, dashboards and runbooks read: one place, no dependencies.

The drift job (components/jobs/drift_job.py) runs in its own image and imports only this module of the
repository, so the names cannot drift apart between the job and the stack.
"""

from __future__ import annotations

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
