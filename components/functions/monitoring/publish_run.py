"""The publish step: the isolated drift job's metrics.json as CloudWatch metrics, and latest.json.

Namespace, names and dimensions are the metrics contract's (components/jobs/metrics_contract.py), which the
alarms, dashboards and runbooks read. MLflow logging is not done here: the mlflow client is not in the Lambda
runtime (docs/observability.md says what that leaves out).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3

from components.jobs.metrics_contract import METRICS_JSON, NAMESPACE, metric_data

# PutMetricData takes at most 1000 MetricDatum per call (botocore cloudwatch service-2.json, shape
# MetricData; API_PutMetricData, read 2026-11-30).
PUT_METRIC_DATA_BATCH = 1000


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def publish(s3: Any, cloudwatch: Any, event: dict[str, Any]) -> dict[str, str]:
    """Publish the run under event["run_uri"] (the analyse step's output folder) and point latest.json at it."""
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
    # The step's one declared output parameter (components/monitoring_definition.py).
    return {"published": str(len(data))}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    s3 = boto3.client("s3")
    cloudwatch = boto3.client("cloudwatch")
    return publish(s3, cloudwatch, event)
