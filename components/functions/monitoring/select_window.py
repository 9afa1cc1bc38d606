"""The select step: which capture objects the drift job analyses, as manifests it can mount.

A ProcessingInput names a fixed S3 prefix or a manifest, never "the last hour", so this step turns the window
into manifests. The manifest format (botocore sagemaker service-2.json, S3DataSource.S3Uri, and the
TransformS3DataSource page https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TransformS3DataSource.html,
read 2026-11-30): a JSON array whose first element is {"prefix": "s3://bucket/prefix/"} and whose other
elements are keys relative to it, all in that one bucket. Each capture manifest also lists the run's
window.json (written here, beside the manifests), so it is never empty: a window without traffic still
runs the job, which reports 0 captured rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3

from components.jobs.metrics_contract import REFERENCE_FILE, WINDOW_FILE, window_hours

CAPTURE_MANIFEST = "capture.manifest"
LABELLED_MANIFEST = "labelled-capture.manifest"
REFERENCE_MANIFEST = "reference.manifest"


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _list(s3: Any, bucket: str, prefix: str, delimiter: str | None = None) -> tuple[list[str], list[str]]:
    """Keys and common prefixes under `prefix` (every page of ListObjectsV2)."""
    keys: list[str] = []
    folders: list[str] = []
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        request["Delimiter"] = delimiter
    while True:
        page = s3.list_objects_v2(**request)
        keys += [o["Key"] for o in page.get("Contents", [])]
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page.get("IsTruncated"):
            return keys, folders
        request["ContinuationToken"] = page["NextContinuationToken"]


def window_keys(s3: Any, bucket: str, capture_prefix: str, hours: list[datetime]) -> list[str]:
    """Capture objects of every variant for the given hours: one "/"-delimited listing for the variants, then
    one listing per variant and hour (never the whole retention period)."""
    root = capture_prefix.rstrip("/") + "/"
    _, variants = _list(s3, bucket, root, "/")
    keys: list[str] = []
    for variant in sorted(variants):
        for hour in hours:
            found, _ = _list(s3, bucket, f"{variant}{hour.strftime('%Y/%m/%d/%H')}/")
            keys += found
    return sorted(keys)


def _put_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    # The bucket's default encryption (the environment key) applies; the role may write only here.
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(value).encode(), ContentType="application/json")


def select(s3: Any, event: dict[str, Any], now: datetime) -> dict[str, str]:
    """Write the manifests of one run under event["manifest_uri"] (a folder of the capture bucket) and return
    their URIs (the pipeline's next step mounts them) and the window's end."""
    bucket = str(event["capture_bucket"])
    capture_prefix = str(event["capture_prefix"])
    hours_per_window = int(event["window_hours"])
    manifest_bucket, folder = _split(str(event["manifest_uri"]).rstrip("/") + "/")
    if manifest_bucket != bucket:
        raise ValueError(f"manifests go to the capture bucket {bucket}, not {manifest_bucket}")
    hours = window_hours(now, hours_per_window, 0)
    window_key = folder + WINDOW_FILE
    _put_json(
        s3,
        bucket,
        window_key,
        {"now": now.astimezone(UTC).isoformat(), "hours": [h.isoformat() for h in hours]},
    )
    prefix = {"prefix": f"s3://{bucket}/"}
    outputs: dict[str, str] = {}
    manifests = {CAPTURE_MANIFEST: window_keys(s3, bucket, capture_prefix, hours)}
    if event.get("labels_delay_hours") not in (None, ""):
        late = window_hours(now, hours_per_window, int(event["labels_delay_hours"]))
        manifests[LABELLED_MANIFEST] = window_keys(s3, bucket, capture_prefix, late)
    for name, keys in manifests.items():
        _put_json(s3, bucket, folder + name, [prefix, *keys, window_key])
        outputs[name.removesuffix(".manifest").replace("-", "_") + "_manifest"] = f"s3://{bucket}/{folder}{name}"
    # The reference data is in the registry's bucket: a manifest of its one file, so the job's role needs
    # GetObject on that file only (no listing of another account's bucket).
    reference = str(event["reference_uri"]).rstrip("/") + "/"
    _put_json(s3, bucket, folder + REFERENCE_MANIFEST, [{"prefix": reference}, REFERENCE_FILE])
    outputs["reference_manifest"] = f"s3://{bucket}/{folder}{REFERENCE_MANIFEST}"
    return outputs


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """The LambdaStep's function: its inputs are the event, its return value the step's OutputParameters."""
    s3 = boto3.client("s3")
    return select(s3, event, datetime.now(UTC))
