"""The publish step: the isolated drift job's metrics.json as CloudWatch metrics, latest.json, and MLflow.

Namespace, names and dimensions are the metrics contract's (components/jobs/metrics_contract.py), which the
alarms, dashboards and runbooks read. Then, when the function is given a tracking server (TRACKING_ARN_VARIABLE),
the run goes to MLflow too: run `v<version>` of experiment `<environment>-<model>-monitoring` gets the run's
numbers under metrics.json's names and a tag with the report's S3 URI (the files stay in S3: another account's
artifact store admits no uploads, components/mlflow.py `uploads_artifacts`). MLflow comes last and cannot fail
the step: the alarms read CloudWatch, so a failed MLflow call is one log line.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime
from typing import Any

from components.jobs.metrics_contract import METRICS_JSON, NAMESPACE, metric_data

from . import mlflow_run

TRACKING_ARN_VARIABLE = "MLFLOW_TRACKING_ARN"
"""The function's environment variable naming the tracking server to log to; unset: no MLflow logging."""

# PutMetricData takes at most 1000 MetricDatum per call (botocore cloudwatch service-2.json, shape
# MetricData; API_PutMetricData, read 2026-11-30).
PUT_METRIC_DATA_BATCH = 1000


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def mlflow_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """metrics.json's numbers under its own names: rows, labelled, drift.<feature>, missing.<feature>,
    quality.<metric>; non-finite values left out (MLflow's JSON has no NaN, CloudWatch gets none either)."""
    flat = {"rows": float(metrics["rows"]), "labelled": float(metrics["labelled"])}
    for group in ("drift", "missing", "quality"):
        flat |= {f"{group}.{k}": float(v) for k, v in metrics[group].items()}
    return {k: v for k, v in flat.items() if math.isfinite(v)}


def log_to_mlflow(tracking_arn: str, event: dict[str, Any], metrics: dict[str, Any], run_uri: str) -> None:
    """The run in MLflow, or one line saying why not (never an exception: CloudWatch is published already)."""
    environment, model, version = str(event["environment"]), str(event["model"]), str(event["version"])
    try:
        client = mlflow_run.Client.for_server(tracking_arn, os.environ.get(mlflow_run.ENDPOINT_OVERRIDE))
        mlflow_run.log_run(
            client,
            experiment=f"{environment}-{model}-monitoring",
            run_name=f"v{version}",
            run_tags={"environment": environment, "model": model, "version": version},
            timestamp_ms=int(datetime.fromisoformat(metrics["now"]).timestamp() * 1000),
            metrics=mlflow_metrics(metrics),
            tags={"report_uri": f"{run_uri}/"},
        )
    except Exception as error:  # noqa: BLE001 - whatever MLflow does, the step has published what alarms read
        print(f"MLflow: run {run_uri} not logged to {tracking_arn}: {type(error).__name__}: {error}")


def publish(s3: Any, cloudwatch: Any, event: dict[str, Any], tracking_arn: str | None = None) -> dict[str, str]:
    """Publish the run under event["run_uri"] (the analyse step's output folder), point latest.json at it, and
    log it to the tracking server when there is one."""
    run_uri = str(event["run_uri"]).rstrip("/")
    bucket, key = _split(f"{run_uri}/{METRICS_JSON}")
    metrics = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    data = metric_data(
        environment=str(event["environment"]),
        model=str(event["model"]),
        version=str(event["version"]),
        timestamp=datetime.fromisoformat(metrics["now"]),
        rows=int(metrics["rows"]),
        drift={k: float(v) for k, v in metrics["drift"].items()},
        missing={k: int(v) for k, v in metrics["missing"].items()},
        quality={k: float(v) for k, v in metrics["quality"].items()},
        labelled=int(metrics["labelled"]),
    )
    for start in range(0, len(data), PUT_METRIC_DATA_BATCH):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start : start + PUT_METRIC_DATA_BATCH])
    latest_bucket, latest_key = _split(str(event["latest_uri"]))
    s3.put_object(
        Bucket=latest_bucket,
        Key=latest_key,
        Body=json.dumps({"run": run_uri}).encode(),
        ContentType="application/json",
    )
    if tracking_arn:
        log_to_mlflow(tracking_arn, event, metrics, run_uri)
    # The step's one declared output parameter (components/monitoring_definition.py).
    return {"published": str(len(data))}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    # Imported here, not at the top: every plan imports this module for TRACKING_ARN_VARIABLE, and boto3
    # costs a plan ~0.07 s it never uses (python -X importtime, 2026-11-30).
    import boto3

    s3 = boto3.client("s3")
    cloudwatch = boto3.client("cloudwatch")
    return publish(s3, cloudwatch, event, os.environ.get(TRACKING_ARN_VARIABLE))
