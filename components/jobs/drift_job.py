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
4. writes the Evidently report (HTML and JSON) and metrics.json.

The scheduled pipeline runs it network-isolated (`--isolated`, `run_isolated`): the select step (a Lambda
function, components/functions/monitoring/select_window.py) chose the window's objects and SageMaker mounted
them under /opt/ml/processing/input/ (capture, labelled-capture, reference, ground-truth); the job writes
report.html, report.json and metrics.json to /opt/ml/processing/output/report, which SageMaker uploads to the
run's folder; the publish step (publish_run.py) sends metrics.json to CloudWatch and writes latest.json.

By hand, with network (`run`): paths may be `s3://` URIs or local directories laid out as data capture writes
them; the run selects its window itself, writes `<report prefix>/<run>/` and `latest.json`, publishes the
metrics when given a CloudWatch client and, when a tracking server is named, logs the report to MLflow.

It imports nothing of the repository but the metrics contract, so its image holds only these two modules and
requirements.txt.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from components.jobs.metrics_contract import (
    CAPTURE_INPUT,
    GROUND_TRUTH_INPUT,
    INPUT_DIR,
    LABELLED_INPUT,
    LATEST_POINTER,
    METRICS_JSON,
    NAMESPACE,
    OUTPUT_DIR,
    REFERENCE_FILE,
    REFERENCE_INPUT,
    REPORT_HTML,
    REPORT_JSON,
    WINDOW_FILE,
    window_hours,
)
from components.jobs.metrics_contract import metric_data as contract_metric_data

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
    """The CloudWatch metric data of a run (metrics_contract.metric_data, which the publish step uses too)."""
    return contract_metric_data(
        environment=environment,
        model=model,
        version=version,
        timestamp=now,
        rows=result.rows,
        drift=result.drift,
        missing=result.missing,
        quality=result.quality,
        labelled=result.labelled,
    )


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


def _write_report(store: Store, run_uri: str, result: Result, metrics: dict[str, Any], run_id: str) -> None:
    """metrics.json, and the Evidently report (JSON and HTML) when the window had rows."""
    store.write(join(run_uri, METRICS_JSON), json.dumps(metrics, sort_keys=True).encode(), "application/json")
    if result.snapshot is not None:
        store.write(join(run_uri, REPORT_JSON), result.snapshot.json().encode(), "application/json")
        html = Path("/tmp") / f"evidently-{run_id}.html"  # noqa: S108 - the job's own scratch space
        result.snapshot.save_html(str(html))
        store.write(join(run_uri, REPORT_HTML), html.read_bytes(), "text/html")


def _metrics(result: Result, hours: Sequence[datetime], now: datetime) -> dict[str, Any]:
    """metrics.json: what the publish step turns into CloudWatch metrics (metrics_contract.metric_data)."""
    return {
        "rows": result.rows,
        "drift": result.drift,
        "missing": result.missing,
        "quality": result.quality,
        "labelled": result.labelled,
        "window": [h.isoformat() for h in hours],
        "now": now.astimezone(UTC).isoformat(),
    }


def run(args: JobArgs, *, now: datetime, store: Store, cloudwatch: Any = None) -> Result:
    """One monitoring run that selects its window itself (s3:// URIs or local folders laid out as data capture
    writes them); publishes to CloudWatch when given a client. The scheduled pipeline runs `run_isolated`."""
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
    metrics = _metrics(result, hours, now)
    _write_report(store, run_uri, result, metrics, run_id)
    if args.summary_dir:
        Path(args.summary_dir).mkdir(parents=True, exist_ok=True)
        (Path(args.summary_dir) / METRICS_JSON).write_text(json.dumps(metrics | {"run": run_uri}, sort_keys=True))
    store.write(join(args.report_uri, LATEST_POINTER), json.dumps({"run": run_uri}).encode(), "application/json")
    if cloudwatch is not None:
        publish(
            cloudwatch,
            metric_data(result, environment=args.environment, model=args.model, version=args.version, now=now),
        )
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


# --- the isolated run (the scheduled pipeline's analyse step) ------------------------------------------


@dataclass(frozen=True)
class IsolatedArgs:
    """The analyse step: every input mounted by SageMaker under `input_dir`, every output written under
    `output_dir` (uploaded by SageMaker), no network."""

    input_dir: str = INPUT_DIR
    output_dir: str = OUTPUT_DIR
    prediction_attribute: str | None = None
    probability_threshold: float = 0.5


def _files(folder: Path, suffix: str) -> list[str]:
    """Every file under a mounted input with this suffix, sorted; whatever folders SageMaker made of the
    manifest's keys (the files are found by name, not by layout)."""
    return sorted(str(p) for p in folder.rglob(f"*{suffix}") if p.is_file()) if folder.is_dir() else []


def run_isolated(args: IsolatedArgs) -> Result:
    """Analyse exactly what the select step chose: the captures of the window (and of the labelled window),
    the version's reference data and the ground truth, all local files; write metrics.json and the report to
    the output folder. The window and the run's time come from the select step's window.json."""
    store = Store()
    inputs, output = Path(args.input_dir), Path(args.output_dir)
    [reference_file] = [f for f in _files(inputs / REFERENCE_INPUT, ".csv") if Path(f).name == REFERENCE_FILE]
    reference = pd.read_csv(reference_file)
    features = list(reference.columns)
    window_files = [f for f in _files(inputs / CAPTURE_INPUT, ".json") if Path(f).name == WINDOW_FILE]
    window = json.loads(Path(window_files[0]).read_text()) if window_files else {}
    now = datetime.fromisoformat(window["now"]) if "now" in window else datetime.now(UTC)
    hours = [datetime.fromisoformat(h) for h in window.get("hours", [])]
    current = parse_captures(_lines(store, _files(inputs / CAPTURE_INPUT, ".jsonl")), features, None)
    result = analyse(reference, current)
    if (inputs / GROUND_TRUTH_INPUT).is_dir():
        predictions = parse_captures(
            _lines(store, _files(inputs / LABELLED_INPUT, ".jsonl")), features, args.prediction_attribute
        )
        truth = parse_ground_truth(_lines(store, _files(inputs / GROUND_TRUTH_INPUT, "")))
        result.quality, result.labelled = quality(predictions, truth, args.probability_threshold)
    _write_report(store, str(output), result, _metrics(result, hours, now), "run")
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


def parse_isolated_args(argv: Sequence[str]) -> IsolatedArgs:
    p = argparse.ArgumentParser(prog="drift_job --isolated", description="the analyse step: local inputs only")
    p.add_argument("--input-dir", default=INPUT_DIR)
    p.add_argument("--output-dir", default=OUTPUT_DIR)
    p.add_argument("--prediction-attribute")
    p.add_argument("--probability-threshold", type=float, default=0.5)
    a = p.parse_args(argv)
    return IsolatedArgs(
        input_dir=a.input_dir,
        output_dir=a.output_dir,
        prediction_attribute=a.prediction_attribute,
        probability_threshold=a.probability_threshold,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`--isolated [...]`: the scheduled pipeline's network-isolated analyse step (run_isolated); otherwise a
    run that selects its window and publishes itself (by hand, with network)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--isolated"]:
        result = run_isolated(parse_isolated_args(argv[1:]))
    else:
        import boto3

        args = parse_args(argv)
        result = run(args, now=datetime.now(UTC), store=Store(), cloudwatch=boto3.client("cloudwatch"))
    print(json.dumps({"rows": result.rows, "drift": result.drift, "quality": result.quality}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
