"""Feature ingestion and backfill: read a source prefix day by day and write its records to a feature group.

The source holds one folder per day, `<source>/<YYYY-MM-DD>/*.csv`, each file with a header naming the
features. A scheduled run ingests yesterday (`--start-date yesterday --end-date yesterday`, the pipeline
parameters' defaults); a backfill passes a date range as the StartDate and EndDate pipeline parameters:

    aws sagemaker start-pipeline-execution --pipeline-name <env>-<group>-ingestion \
      --pipeline-parameters Name=StartDate,Value=2026-01-01 Name=EndDate,Value=2026-01-31

Records go through PutRecord (online and offline store). Columns that are not features of the group are
ignored; a record missing a feature is reported and skipped. The run fails (exit 1) when any record failed,
so the pipeline's failure alarm reaches the owning team. The report is written to
/opt/ml/processing/report/ingestion.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

REPORT = Path("/opt/ml/processing/report/ingestion.json")


def day_range(start: str, end: str, today: dt.date) -> list[dt.date]:
    """The days from start to end inclusive; "yesterday" is the day before `today` (UTC)."""
    first, last = (today - dt.timedelta(days=1) if d == "yesterday" else dt.date.fromisoformat(d) for d in (start, end))
    if last < first:
        raise ValueError(f"end date {last} is before start date {first}")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def records(rows: Iterable[dict[str, str]], features: list[str]) -> Iterator[list[dict[str, str]] | str]:
    """PutRecord `Record` values of the rows (only the group's features), or a reason when a row lacks one."""
    for n, row in enumerate(rows, start=1):
        missing = [f for f in features if (row.get(f) or "") == ""]
        if missing:
            yield f"row {n}: missing {', '.join(missing)}"
            continue
        yield [{"FeatureName": f, "ValueAsString": row[f]} for f in features]


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def ingest(
    s3: Any, runtime: Any, *, group: str, source: str, days: list[dt.date], features: list[str]
) -> dict[str, Any]:
    bucket, prefix = split_s3(source.rstrip("/") + "/")
    report: dict[str, Any] = {"feature_group": group, "days": [d.isoformat() for d in days], "written": 0, "failed": []}
    for day in days:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}{day.isoformat()}/")
        for page in pages:
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode("utf-8")
                for record in records(csv.DictReader(io.StringIO(body)), features):
                    if isinstance(record, str):
                        report["failed"].append(f"{item['Key']}: {record}")
                        continue
                    runtime.put_record(FeatureGroupName=group, Record=record)
                    report["written"] += 1
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feature-group", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--features", required=True, help="comma-separated feature names")
    parser.add_argument("--source-data", required=True, help="s3://bucket/prefix/ with one folder per day")
    parser.add_argument("--start-date", default="yesterday")
    parser.add_argument("--end-date", default="yesterday")
    args = parser.parse_args(argv)
    import boto3

    days = day_range(args.start_date, args.end_date, dt.datetime.now(dt.UTC).date())
    report = ingest(
        boto3.client("s3", region_name=args.region),
        boto3.client("sagemaker-featurestore-runtime", region_name=args.region),
        group=args.feature_group,
        source=args.source_data,
        days=days,
        features=args.features.split(","),
    )
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v if k != "failed" else len(v) for k, v in report.items()}))
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
