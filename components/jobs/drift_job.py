"""The drift and data-quality job of the `evidently` monitoring engine, run on a schedule by SageMaker.

One run:
1. reads the captured requests of its window: SageMaker data capture writes JSON Lines under
   `<capture prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/` (one object per request: `captureData` with
   `endpointInput`/`endpointOutput` {data, encoding}, and `eventMetadata` {eventId, inferenceId,
   inferenceTime}) — https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html;
2. compares the features with the served version's reference data (REFERENCE_FILE, saved by its training
   pipeline) with Evidently: a distance per feature and the missing values of the window;
3. with ground truth: joins the labels with the captured predictions by inference id and computes recall,
   precision, accuracy and AUC;
4. writes the Evidently report (HTML and JSON) and the metrics under `<report prefix>/<run>/`, and
   `latest.json` naming that run;
5. publishes the metrics to CloudWatch (components/jobs/metrics_contract.py) and, when a tracking server
   is named, logs the report to the served version's MLflow run.

Paths may be `s3://` URIs or local directories (tests run the job on local files). It imports nothing of the
repository but the metrics contract, so its image holds only these two modules and requirements.txt.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from components.jobs.metrics_contract import (
    DRIFT_METRIC,
    LABELLED_METRIC,
    LATEST_POINTER,
    METRICS_JSON,
    MISSING_METRIC,
    NAMESPACE,
    QUALITY_METRIC_PREFIX,
    REFERENCE_FILE,
    REPORT_HTML,
    REPORT_JSON,
    ROWS_METRIC,
)

INFERENCE_ID = "_inference_id"
PREDICTION = "_prediction"
LABEL = "_label"
# PutMetricData takes at most 1000 metric data per call (botocore cloudwatch MetricData; the API
# reference: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
PUT_METRIC_DATA_BATCH = 1000


# --- storage: s3:// or a local directory ----------------------------------------------------------------


class Store:
    """Reads and writes objects under s3:// URIs (through one boto3 S3 client) or local paths."""

    def __init__(self, s3: Any = None) -> None:
        self._s3 = s3

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3")
        return self._s3

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return bucket, key

    def objects(self, prefix: str) -> list[str]:
        """Every object (s3) or file (local) under a prefix, sorted."""
        if prefix.startswith("s3://"):
            bucket, key = self._split(prefix)
            found: list[str] = []
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
                found += [f"s3://{bucket}/{o['Key']}" for o in page.get("Contents", [])]
            return sorted(found)
        root = Path(prefix)
        return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.is_dir() else []

    def folders(self, prefix: str) -> list[str]:
        """The immediate sub-folders of a prefix (S3: common prefixes of a "/"-delimited listing, so a run
        never lists the whole retention period to find the variants)."""
        if prefix.startswith("s3://"):
            bucket, key = self._split(prefix.rstrip("/") + "/")
            found: list[str] = []
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key, Delimiter="/")
            for page in pages:
                found += [p["Prefix"][len(key) :].rstrip("/") for p in page.get("CommonPrefixes", [])]
            return sorted(found)
        root = Path(prefix)
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []

    def read(self, uri: str) -> bytes:
        if uri.startswith("s3://"):
            bucket, key = self._split(uri)
            return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return Path(uri).read_bytes()

    def write(self, uri: str, body: bytes, content_type: str) -> None:
        if uri.startswith("s3://"):
            bucket, key = self._split(uri)
            # The bucket's default encryption (the environment key) applies; the role may only PutObject here.
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
            return
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def join(prefix: str, *parts: str) -> str:
    return "/".join([prefix.rstrip("/"), *parts])


# --- the window ---------------------------------------------------------------------------------------


def window_hours(now: datetime, window_hours: int, delay_hours: int) -> list[datetime]:
    """The capture hours a run reads: the `window_hours` whole hours that ended `delay_hours` before the
    start of the current hour (SageMaker's data capture folders are per hour, UTC)."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=delay_hours)
    return [end - timedelta(hours=h) for h in range(window_hours, 0, -1)]


def capture_objects(store: Store, capture_prefix: str, hours: Sequence[datetime]) -> list[str]:
    """Objects of every variant under the endpoint's capture prefix, for the given hours."""
    found: list[str] = []
    for variant in store.folders(capture_prefix):
        for hour in hours:
            found += store.objects(join(capture_prefix, variant, hour.strftime("%Y/%m/%d/%H")) + "/")
    return found


# --- parsing the captures -------------------------------------------------------------------------------


def _decode(payload: dict[str, Any]) -> str:
    data = str(payload.get("data", ""))
    if str(payload.get("encoding", "")).upper() == "BASE64":
        return base64.b64decode(data).decode("utf-8")
    return data


def _input_row(payload: dict[str, Any], features: Sequence[str]) -> dict[str, Any]:
    text = _decode(payload)
    if str(payload.get("encoding", "")).upper() == "JSON" or text.lstrip().startswith("{"):
        value = json.loads(text)
        return {f: value.get(f) for f in features}
    cells = next(csv.reader(io.StringIO(text)), [])
    return {f: (cells[i] if i < len(cells) and cells[i] != "" else None) for i, f in enumerate(features)}


def _prediction(payload: dict[str, Any], attribute: str | None) -> float | None:
    text = _decode(payload).strip()
    if not text:
        return None
    if text.startswith("{"):
        value = json.loads(text)
        return float(value[attribute]) if attribute and value.get(attribute) is not None else None
    return float(next(csv.reader(io.StringIO(text)))[0])


def parse_captures(lines: Iterable[str], features: Sequence[str], prediction_attribute: str | None) -> pd.DataFrame:
    """One row per captured request: the features (in the reference's column order), the inference id and
    the prediction. Lines that are not capture records are skipped."""
    rows: list[dict[str, Any]] = []
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        data = record.get("captureData", {})
        meta = record.get("eventMetadata", {})
        if "endpointInput" not in data:
            continue
        row = _input_row(data["endpointInput"], features)
        row[INFERENCE_ID] = meta.get("inferenceId") or meta.get("eventId")
        output = data.get("endpointOutput")
        row[PREDICTION] = _prediction(output, prediction_attribute) if output else None
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*features, INFERENCE_ID, PREDICTION])
    return frame


def _lines(store: Store, objects: Iterable[str]) -> Iterator[str]:
    for obj in objects:
        yield from store.read(obj).decode("utf-8").splitlines()


def parse_ground_truth(lines: Iterable[str]) -> pd.DataFrame:
    """Labels in Model Monitor's ground-truth format: {"groundTruthData": {"data", "encoding"},
    "eventMetadata": {"eventId"}} per line, eventId being the prediction's inference id
    (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html)."""
    rows = []
    for line in lines:
        if line.strip():
            record = json.loads(line)
            rows.append(
                {
                    INFERENCE_ID: record["eventMetadata"]["eventId"],
                    LABEL: float(_decode(record["groundTruthData"]).strip()),
                }
            )
    return pd.DataFrame(rows, columns=[INFERENCE_ID, LABEL])


# --- the analysis -------------------------------------------------------------------------------------


@dataclass
class Result:
    """What one run found: the numbers published, and the Evidently snapshot behind them."""

    rows: int
    drift: dict[str, float] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    quality: dict[str, float] = field(default_factory=dict)
    labelled: int = 0
    snapshot: Any = None


def align_types(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Captured CSV cells are text: give each column the reference's type (numbers stay numbers)."""
    aligned = current.copy()
    for column in reference.columns:
        if pd.api.types.is_numeric_dtype(reference[column]):
            aligned[column] = pd.to_numeric(aligned[column], errors="coerce")
    return aligned


def drift_method(series: pd.Series) -> str:
    """Normed Wasserstein distance for numbers, Jensen-Shannon distance for categories: both 0 for the same
    distribution and growing with the shift, so 'above the threshold' means drift for either
    (Evidently's drift methods: https://docs.evidentlyai.com/metrics/customize_data_drift)."""
    return "wasserstein" if pd.api.types.is_numeric_dtype(series) else "jensenshannon"


def analyse(reference: pd.DataFrame, current: pd.DataFrame) -> Result:
    """Evidently's drift distance and missing-value count for every reference column."""
    from evidently import Report
    from evidently.metrics import MissingValueCount, ValueDrift

    features = list(reference.columns)
    current = align_types(reference, current[features])
    result = Result(rows=len(current))
    if current.empty:
        return result
    metrics: list[Any] = []
    for column in features:
        metrics += [ValueDrift(column=column, method=drift_method(reference[column])), MissingValueCount(column=column)]
    snapshot = Report(metrics).run(current, reference)
    result.snapshot = snapshot
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        column = config["column"]
        if config["type"].endswith("ValueDrift"):
            result.drift[column] = float(metric["value"])
        else:
            result.missing[column] = int(metric["value"]["count"])
    return result


def quality(predictions: pd.DataFrame, truth: pd.DataFrame, threshold: float) -> tuple[dict[str, float], int]:
    """Binary-classification metrics of the predictions that have a label, joined by inference id."""
    joined = predictions[[INFERENCE_ID, PREDICTION]].dropna().merge(truth, on=INFERENCE_ID, how="inner")
    if joined.empty:
        return {}, 0
    score = joined[PREDICTION].astype(float)
    label = joined[LABEL].astype(float) >= 0.5
    predicted = score >= threshold
    tp = int((predicted & label).sum())
    fp = int((predicted & ~label).sum())
    fn = int((~predicted & label).sum())
    tn = int((~predicted & ~label).sum())
    metrics: dict[str, float] = {"accuracy": (tp + tn) / len(joined)}
    if tp + fn:
        metrics["recall"] = tp / (tp + fn)
    if tp + fp:
        metrics["precision"] = tp / (tp + fp)
    if label.any() and (~label).any():
        # AUC as the probability that a positive scores above a negative (ties count half): Mann-Whitney U.
        ranks = score.rank(method="average")
        positives = int(label.sum())
        negatives = len(joined) - positives
        metrics["auc"] = float((ranks[label].sum() - positives * (positives + 1) / 2) / (positives * negatives))
    return metrics, len(joined)


# --- publishing -----------------------------------------------------------------------------------------


def metric_data(result: Result, *, environment: str, model: str, version: str, now: datetime) -> list[dict[str, Any]]:
    """The CloudWatch metric data of a run (PutMetricData's MetricDatum shape)."""
    base = [
        {"Name": "environment", "Value": environment},
        {"Name": "model", "Value": model},
        {"Name": "version", "Value": version},
    ]

    def datum(name: str, value: float, feature: str | None = None, unit: str = "None") -> dict[str, Any]:
        dims = base + ([{"Name": "feature", "Value": feature}] if feature else [])
        return {"MetricName": name, "Dimensions": dims, "Timestamp": now, "Value": float(value), "Unit": unit}

    data = [datum(ROWS_METRIC, result.rows, unit="Count")]
    data += [datum(DRIFT_METRIC, v, f) for f, v in sorted(result.drift.items()) if math.isfinite(v)]
    data += [datum(MISSING_METRIC, v, f, "Count") for f, v in sorted(result.missing.items())]
    if result.quality or result.labelled:
        data.append(datum(LABELLED_METRIC, result.labelled, unit="Count"))
    data += [datum(QUALITY_METRIC_PREFIX + k, v) for k, v in sorted(result.quality.items())]
    return data


def publish(cloudwatch: Any, data: list[dict[str, Any]], namespace: str = NAMESPACE) -> None:
    for start in range(0, len(data), PUT_METRIC_DATA_BATCH):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + PUT_METRIC_DATA_BATCH])


def log_to_mlflow(tracking_arn: str, experiment: str, version: str, run_dir: Path, metrics: dict[str, float]) -> None:
    """Log one run's report to the served version's MLflow run: run `v<version>` of the monitoring experiment
    (`<environment>-<model>-monitoring`), created on its first report; the sagemaker-mlflow plugin signs the
    calls. (The training run of the version is the pipeline execution its customer metadata `execution` names.)"""
    import mlflow

    mlflow.set_tracking_uri(tracking_arn)
    mlflow.set_experiment(experiment)
    runs = mlflow.search_runs(filter_string=f"tags.mlflow.runName = 'v{version}'", output_format="list")
    with mlflow.start_run(run_id=runs[0].info.run_id if runs else None, run_name=f"v{version}"):
        mlflow.log_metrics({f"monitoring_{k}": v for k, v in metrics.items()})
        mlflow.log_artifacts(str(run_dir), artifact_path=f"monitoring/{run_dir.name}")


# --- the run --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobArgs:
    environment: str
    model: str
    version: str
    capture_uri: str
    reference_uri: str
    report_uri: str
    window_hours: int
    ground_truth_uri: str | None = None
    labels_delay_hours: int = 0
    prediction_attribute: str | None = None
    probability_threshold: float = 0.5
    mlflow_tracking_arn: str | None = None
    summary_dir: str | None = None
    """A local folder that gets a copy of metrics.json (the processing job's output, uploaded by SageMaker)."""


def run(args: JobArgs, *, now: datetime, store: Store, cloudwatch: Any) -> Result:
    """One monitoring run; returns what it published."""
    reference = pd.read_csv(io.BytesIO(store.read(join(args.reference_uri, REFERENCE_FILE))))
    features = list(reference.columns)
    hours = window_hours(now, args.window_hours, 0)
    current = parse_captures(_lines(store, capture_objects(store, args.capture_uri, hours)), features, None)
    result = analyse(reference, current)
    if args.ground_truth_uri:
        # The predictions whose labels are in by now: one window, labels_delay_hours earlier.
        late = window_hours(now, args.window_hours, args.labels_delay_hours)
        predictions = parse_captures(
            _lines(store, capture_objects(store, args.capture_uri, late)), features, args.prediction_attribute
        )
        truth = parse_ground_truth(_lines(store, store.objects(args.ground_truth_uri)))
        result.quality, result.labelled = quality(predictions, truth, args.probability_threshold)

    run_id = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_uri = join(args.report_uri, run_id)
    metrics = {
        "rows": result.rows,
        "drift": result.drift,
        "missing": result.missing,
        "quality": result.quality,
        "labelled": result.labelled,
        "window": [h.isoformat() for h in hours],
    }
    store.write(join(run_uri, METRICS_JSON), json.dumps(metrics, sort_keys=True).encode(), "application/json")
    if args.summary_dir:
        Path(args.summary_dir).mkdir(parents=True, exist_ok=True)
        (Path(args.summary_dir) / METRICS_JSON).write_text(json.dumps(metrics | {"run": run_uri}, sort_keys=True))
    if result.snapshot is not None:
        store.write(join(run_uri, REPORT_JSON), result.snapshot.json().encode(), "application/json")
        html = Path("/tmp") / f"evidently-{run_id}.html"  # noqa: S108 - the job's own scratch space
        result.snapshot.save_html(str(html))
        store.write(join(run_uri, REPORT_HTML), html.read_bytes(), "text/html")
    store.write(join(args.report_uri, LATEST_POINTER), json.dumps({"run": run_uri}).encode(), "application/json")
    data = metric_data(result, environment=args.environment, model=args.model, version=args.version, now=now)
    publish(cloudwatch, data)
    if args.mlflow_tracking_arn:
        flat = {f"drift_{k}": v for k, v in result.drift.items()}
        flat |= {f"quality_{k}": v for k, v in result.quality.items()}
        local = Path("/tmp") / f"report-{run_id}"  # noqa: S108
        local.mkdir(exist_ok=True)
        for name in (METRICS_JSON, REPORT_JSON, REPORT_HTML):
            if store.objects(join(run_uri, name)):
                (local / name).write_bytes(store.read(join(run_uri, name)))
        experiment = f"{args.environment}-{args.model}-monitoring"
        log_to_mlflow(args.mlflow_tracking_arn, experiment, args.version, local, flat)
    return result


def parse_args(argv: Sequence[str]) -> JobArgs:
    p = argparse.ArgumentParser(prog="drift_job", description=__doc__.splitlines()[0])
    p.add_argument("--environment", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--capture-uri", required=True, help="the endpoint's capture prefix (s3:// or a directory)")
    p.add_argument("--reference-uri", required=True, help="folder holding the version's reference.csv")
    p.add_argument("--report-uri", required=True, help="prefix of this model version's reports")
    p.add_argument("--window-hours", type=int, required=True)
    p.add_argument("--ground-truth-uri")
    p.add_argument("--labels-delay-hours", type=int, default=0)
    p.add_argument("--prediction-attribute")
    p.add_argument("--probability-threshold", type=float, default=0.5)
    p.add_argument("--mlflow-tracking-arn")
    p.add_argument("--summary-dir", help="local folder for a copy of metrics.json (the job's output)")
    a = p.parse_args(argv)
    return JobArgs(
        environment=a.environment,
        model=a.model,
        version=a.version,
        capture_uri=a.capture_uri,
        reference_uri=a.reference_uri,
        report_uri=a.report_uri,
        window_hours=a.window_hours,
        ground_truth_uri=a.ground_truth_uri,
        labels_delay_hours=a.labels_delay_hours,
        prediction_attribute=a.prediction_attribute,
        probability_threshold=a.probability_threshold,
        mlflow_tracking_arn=a.mlflow_tracking_arn,
        summary_dir=a.summary_dir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run(args, now=datetime.now(UTC), store=Store(), cloudwatch=boto3.client("cloudwatch"))
    print(json.dumps({"rows": result.rows, "drift": result.drift, "quality": result.quality}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
