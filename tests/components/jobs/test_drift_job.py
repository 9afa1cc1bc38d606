"""The evidently engine's job script, run locally on generated data in SageMaker's data-capture format."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from moto import mock_aws

from components.jobs import drift_job
from components.jobs.metrics_contract import (
    DRIFT_METRIC,
    LATEST_POINTER,
    MISSING_METRIC,
    NAMESPACE,
    QUALITY_METRIC_PREFIX,
    REFERENCE_FILE,
    REPORT_HTML,
    REPORT_JSON,
    ROWS_METRIC,
)

NOW = datetime(2026, 11, 30, 13, 5, tzinfo=UTC)
FEATURES = ["amount", "merchant_category", "card_country"]


def capture_line(inference_id: str, features: list[Any], score: float, when: datetime) -> str:
    """One request as SageMaker's data capture writes it (CSV input and output, as our endpoints use)."""
    cells = ",".join("" if v is None else str(v) for v in features)
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": cells, "encoding": "CSV"},
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": f"{score}",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {
                "eventId": f"event-{inference_id}",
                "inferenceId": inference_id,
                "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "eventVersion": "0",
        }
    )


def write_hour(root: Path, hour: datetime, lines: list[str]) -> None:
    folder = root / "capture" / "prod-fraud-scoring" / "AllTraffic" / hour.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a1b2-capture.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Reference: 2000 rows. The last hour's captures: `amount` shifted by two standard deviations,
    `merchant_category` unshifted with 30 of 400 values missing, `card_country` unshifted."""
    rng = np.random.default_rng(7)
    reference = pd.DataFrame(
        {
            "amount": rng.normal(100, 20, 2000).round(2),
            "merchant_category": rng.normal(50, 5, 2000).round(2),
            "card_country": rng.choice(["DE", "FR", "GB"], 2000, p=[0.5, 0.3, 0.2]),
        }
    )
    (tmp_path / "reference").mkdir()
    reference.to_csv(tmp_path / "reference" / REFERENCE_FILE, index=False)
    last_hour = datetime(2026, 11, 30, 12, tzinfo=UTC)
    lines = []
    for i in range(400):
        mcc = None if i < 30 else round(float(rng.normal(50, 5)), 2)
        country = str(rng.choice(["DE", "FR", "GB"], p=[0.5, 0.3, 0.2]))
        lines.append(capture_line(f"now-{i}", [round(float(rng.normal(140, 20)), 2), mcc, country], 0.1, last_hour))
    write_hour(tmp_path, last_hour, lines)
    # An hour outside the window (two hours ago) with absurd values: must not be read.
    write_hour(tmp_path, last_hour - timedelta(hours=1), [capture_line("old", [1e9, 1e9, "ZZ"], 0.1, last_hour)])
    return tmp_path


def args(root: Path, **kwargs: Any) -> drift_job.JobArgs:
    return drift_job.JobArgs(
        environment="prod",
        model="fraud-scoring",
        version="12",
        capture_uri=str(root / "capture" / "prod-fraud-scoring"),
        reference_uri=str(root / "reference"),
        report_uri=str(root / "reports" / "fraud-scoring" / "v12"),
        window_hours=1,
        **kwargs,
    )


def published(cloudwatch: Any) -> dict[tuple[str, str | None], dict[str, str]]:
    """(metric, feature) -> dimensions of every metric in the namespace."""
    found = {}
    for metric in cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]:
        dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        found[(metric["MetricName"], dims.get("feature"))] = dims
    return found


def assert_fraud_scoring_v12_metrics(cloudwatch: Any) -> None:
    """The metrics a run over `data` publishes, with their dimensions, and the missing-values count's value
    (shared with the three-step run in tests/components/test_monitoring_isolation.py: same numbers)."""
    metrics = published(cloudwatch)
    dims = {"environment": "prod", "model": "fraud-scoring", "version": "12"}
    assert metrics[(DRIFT_METRIC, "amount")] == dims | {"feature": "amount"}
    assert metrics[(MISSING_METRIC, "merchant_category")] == dims | {"feature": "merchant_category"}
    assert metrics[(ROWS_METRIC, None)] == dims
    stats = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=MISSING_METRIC,
        Dimensions=[{"Name": k, "Value": v} for k, v in (dims | {"feature": "merchant_category"}).items()],
        StartTime=NOW - timedelta(hours=1),
        EndTime=NOW + timedelta(hours=1),
        Period=3600,
        Statistics=["Maximum"],
    )
    assert [p["Maximum"] for p in stats["Datapoints"]] == [30.0]


@mock_aws
def test_a_shifted_feature_exceeds_its_threshold_and_unshifted_ones_do_not(data: Path) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    result = drift_job.run(args(data), now=NOW, store=drift_job.Store(), cloudwatch=cloudwatch)

    assert result.rows == 400  # the hour before the old one is not read
    # amount moved by 2 standard deviations: the normed Wasserstein distance is about 2.
    assert result.drift["amount"] == pytest.approx(2.0, abs=0.25)
    assert result.drift["amount"] > 0.1  # prod's threshold for amount
    assert result.drift["merchant_category"] < 0.1
    assert result.drift["card_country"] < 0.1
    assert result.missing == {"amount": 0, "merchant_category": 30, "card_country": 0}

    assert_fraud_scoring_v12_metrics(cloudwatch)


@mock_aws
def test_the_report_is_written_per_run_and_latest_points_at_it(data: Path) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    drift_job.run(args(data), now=NOW, store=drift_job.Store(), cloudwatch=cloudwatch)

    versions = data / "reports" / "fraud-scoring" / "v12"
    run = versions / "20261130T130500Z"
    assert json.loads((versions / LATEST_POINTER).read_text()) == {"run": str(run)}
    assert "<html" in (run / REPORT_HTML).read_text().lower()
    report = json.loads((run / REPORT_JSON).read_text())
    assert {m["config"]["column"] for m in report["metrics"]} == set(FEATURES)


def test_a_missing_values_spike_is_counted(tmp_path: Path) -> None:
    reference = pd.DataFrame({"amount": [10.0, 11.0, 12.0, 13.0] * 50})
    current = drift_job.parse_captures(
        [capture_line(str(i), [None if i % 4 else 10.5], 0.2, NOW) for i in range(100)], ["amount"], None
    )
    result = drift_job.analyse(reference, current)
    assert result.missing == {"amount": 75}
    data = drift_job.metric_data(result, environment="dev", model="m", version="1", now=NOW)
    missing = next(d for d in data if d["MetricName"] == MISSING_METRIC)
    assert missing["Value"] == 75.0
    assert missing["Unit"] == "Count"


@mock_aws
def test_ground_truth_joined_by_inference_id_gives_the_expected_recall(data: Path) -> None:
    # Predictions of the hour that ended 720 hours before the run's hour; labels keyed by inference id.
    labelled_hour = datetime(2026, 11, 30, 12, tzinfo=UTC) - timedelta(hours=720)
    scores = [0.9, 0.8, 0.7, 0.2, 0.1, 0.95, 0.3, 0.6, 0.05, 0.4]
    labels = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0]
    write_hour(
        data,
        labelled_hour,
        [capture_line(f"tx-{i}", [100, 50, "DE"], s, labelled_hour) for i, s in enumerate(scores)],
    )
    truth = data / "truth"
    truth.mkdir()
    rows = [
        {"groundTruthData": {"data": str(label), "encoding": "CSV"}, "eventMetadata": {"eventId": f"tx-{i}"}}
        for i, label in enumerate(labels)
    ]
    # A label for a prediction outside the window is not joined.
    rows.append({"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "tx-elsewhere"}})
    (truth / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows))

    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    result = drift_job.run(
        args(data, ground_truth_uri=str(truth), labels_delay_hours=720, probability_threshold=0.5),
        now=NOW,
        store=drift_job.Store(),
        cloudwatch=cloudwatch,
    )
    # Positives: tx-0,1,2,3,6; predicted positive (>= 0.5): tx-0,1,2,5,7 -> TP 3, FN 2, FP 2.
    assert result.labelled == 10
    assert result.quality["recall"] == pytest.approx(3 / 5)
    assert result.quality["precision"] == pytest.approx(3 / 5)
    assert result.quality["accuracy"] == pytest.approx(6 / 10)
    # 5 positives x 5 negatives; pairs where the positive scores higher: 0.9,0.8,0.7 beat 4 of 5 negatives
    # (not 0.95) = 12, 0.2 beats 0.1 and 0.05 = 2, 0.3 beats 0.1 and 0.05 = 2 -> 16/25.
    assert result.quality["auc"] == pytest.approx(16 / 25)
    metrics = published(cloudwatch)
    assert metrics[(QUALITY_METRIC_PREFIX + "recall", None)] == {
        "environment": "prod",
        "model": "fraud-scoring",
        "version": "12",
    }


def test_json_and_base64_captures_parse_like_csv() -> None:
    import base64

    line = json.dumps(
        {
            "captureData": {
                "endpointInput": {"data": base64.b64encode(b"1.5,7,FR").decode(), "encoding": "BASE64"},
                "endpointOutput": {"data": json.dumps({"score": 0.42}), "encoding": "JSON"},
            },
            "eventMetadata": {"eventId": "e1"},
        }
    )
    frame = drift_job.parse_captures([line], FEATURES, "score")
    assert frame.iloc[0].to_dict() == {
        "amount": "1.5",
        "merchant_category": "7",
        "card_country": "FR",
        drift_job.INFERENCE_ID: "e1",
        drift_job.PREDICTION: 0.42,
    }


@mock_aws
def test_the_job_reads_its_window_from_s3_and_writes_the_report_there(data: Path) -> None:
    """The real path: captures, reference and reports in S3 (moto), only the window's hour folders listed."""
    s3 = boto3.client("s3", region_name="eu-west-1")
    for bucket in ("capture-bucket", "registry-bucket"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for path in (data / "capture").rglob("*.jsonl"):
        s3.put_object(Bucket="capture-bucket", Key=str(path.relative_to(data)), Body=path.read_bytes())
    reference_key = f"pipelines/fraud-scoring/baselines/v12/data-quality/{REFERENCE_FILE}"
    s3.put_object(Bucket="registry-bucket", Key=reference_key, Body=(data / "reference" / REFERENCE_FILE).read_bytes())
    job = drift_job.JobArgs(
        environment="prod",
        model="fraud-scoring",
        version="12",
        capture_uri="s3://capture-bucket/capture/prod-fraud-scoring",
        reference_uri="s3://registry-bucket/pipelines/fraud-scoring/baselines/v12/data-quality/",
        report_uri="s3://capture-bucket/monitoring/fraud-scoring/v12/",
        window_hours=1,
    )
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    result = drift_job.run(job, now=NOW, store=drift_job.Store(s3), cloudwatch=cloudwatch)

    assert result.rows == 400
    assert result.drift["amount"] > 0.1 > result.drift["card_country"]
    latest = json.loads(
        s3.get_object(Bucket="capture-bucket", Key=f"monitoring/fraud-scoring/v12/{LATEST_POINTER}")["Body"].read()
    )
    assert latest == {"run": "s3://capture-bucket/monitoring/fraud-scoring/v12/20261130T130500Z"}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="capture-bucket", Prefix="monitoring/")["Contents"]}
    run = "monitoring/fraud-scoring/v12/20261130T130500Z"
    assert {f"{run}/{REPORT_HTML}", f"{run}/{REPORT_JSON}", f"{run}/metrics.json"} <= keys


def test_each_report_is_logged_to_the_served_versions_mlflow_run(tmp_path: Path) -> None:
    """Against a local MLflow store (the job passes the tracking server's ARN, which the sagemaker-mlflow
    plugin resolves): two runs of the monitor land in one MLflow run, v12, with both reports."""
    import mlflow

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # The server's artifact store is S3; here the experiment's artifacts stay in the test's folder.
    mlflow.set_tracking_uri(store)
    mlflow.create_experiment("prod-fraud-scoring-monitoring", artifact_location=(tmp_path / "artifacts").as_uri())
    for run_id, drift in (("20261130T120500Z", 0.05), ("20261130T130500Z", 0.4)):
        report = tmp_path / run_id
        report.mkdir()
        (report / "metrics.json").write_text(json.dumps({"drift": {"amount": drift}}))
        drift_job.log_to_mlflow(store, "prod-fraud-scoring-monitoring", "12", report, {"drift_amount": drift})

    mlflow.set_tracking_uri(store)
    [run] = mlflow.search_runs(experiment_names=["prod-fraud-scoring-monitoring"], output_format="list")
    assert run.info.run_name == "v12"
    history = mlflow.MlflowClient(store).get_metric_history(run.info.run_id, "monitoring_drift_amount")
    assert [m.value for m in history] == [0.05, 0.4]
    artifacts = {a.path for a in mlflow.MlflowClient(store).list_artifacts(run.info.run_id, "monitoring")}
    assert artifacts == {"monitoring/20261130T120500Z", "monitoring/20261130T130500Z"}
