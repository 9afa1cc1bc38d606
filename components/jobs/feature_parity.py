"""Online/offline parity of a feature group: sample records, read both stores, publish the mismatch share.

1. Sample up to `--sample-size` record identifiers from the offline store with Athena: the latest,
   not deleted, version of each record whose event time is within `--max-age-seconds` (the online store's
   TTL; records older than that may rightly be gone online).
2. Read the same identifiers from the online store (BatchGetRecord, 100 identifiers a call).
3. Compare feature by feature. A record whose online event time is newer than the offline one was updated
   after the offline store's last write and is skipped (the offline store lags the online one); a record
   missing online counts every feature as mismatching.
4. Publish `FeatureMismatchPercent` (mismatching values / compared values x 100) to CloudWatch under
   `--namespace` with the dimension FeatureGroup; the team's alarm watches it.

Values never leave the job: the report (/opt/ml/processing/report/parity.json) holds counts per feature,
not identifiers or values, since features may be card or customer data.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT = Path("/opt/ml/processing/report/parity.json")
METRIC = "FeatureMismatchPercent"
BATCH_GET_LIMIT = 100  # sagemaker-featurestore-runtime RecordIdentifiers: 1..100 (botocore)
Record = Mapping[str, str]


@dataclass
class Parity:
    """What one comparison found."""

    compared_records: int = 0
    compared_values: int = 0
    mismatched_values: int = 0
    missing_online: int = 0
    skipped_newer_online: int = 0
    mismatches_by_feature: dict[str, int] = field(default_factory=dict)

    @property
    def mismatch_percent(self) -> float:
        return 100.0 * self.mismatched_values / self.compared_values if self.compared_values else 0.0


def same(kind: str, left: str | None, right: str | None) -> bool:
    """Equal as the feature type reads them: numbers by value (Athena and the online store print them
    differently), strings exactly."""
    if left is None or right is None:
        return left is right
    if kind == "Integral":
        try:
            return int(float(left)) == int(float(right))
        except ValueError:
            return left == right
    if kind == "Fractional":
        try:
            return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-12)
        except ValueError:
            return left == right
    return left == right


def _event_time(kind: str, value: str | None) -> float | str | None:
    if value is None:
        return None
    try:
        return float(value) if kind == "Fractional" else value
    except ValueError:
        return value


def compare(
    offline: Mapping[str, Record],
    online: Mapping[str, Record],
    types: Mapping[str, str],
    event_time: str,
) -> Parity:
    """Compare each sampled offline record (by identifier) with the online record of the same identifier.
    Offline columns are looked up in lower case as well: the Glue table lower-cases column names."""
    result = Parity()
    for identifier, offline_record in offline.items():
        old = {**{k.lower(): v for k, v in offline_record.items()}, **offline_record}
        old.update({name: old[name.lower()] for name in types if name not in old and name.lower() in old})
        new = online.get(identifier)
        if new is not None:
            kind = types[event_time]
            newer = _event_time(kind, new.get(event_time)), _event_time(kind, old.get(event_time))
            if newer[0] is not None and newer[1] is not None and newer[0] > newer[1]:  # type: ignore[operator]
                result.skipped_newer_online += 1
                continue
        result.compared_records += 1
        if new is None:
            result.missing_online += 1
        for name, kind in types.items():
            result.compared_values += 1
            if new is None or not same(kind, old.get(name), new.get(name)):
                result.mismatched_values += 1
                result.mismatches_by_feature[name] = result.mismatches_by_feature.get(name, 0) + 1
    return result


def sample_query(*, database: str, table: str, identifier: str, event_time: str, sample: int, max_age: int) -> str:
    """Athena SQL: the latest, not deleted, version of up to `sample` random records. Every name comes from
    the validated environment file (feature and Glue names allow no quotes), never from data."""
    window = f"AND write_time >= current_timestamp - interval '{max_age}' second" if max_age else ""
    # Identifiers come from the validated environment file and the sample is an int: nothing from data.
    return (
        f'SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY "{identifier}" '  # noqa: S608
        f'ORDER BY "{event_time}" DESC, api_invocation_time DESC, write_time DESC) AS rank_ '
        f'FROM "{database}"."{table}" WHERE TRUE {window}) '
        f"WHERE rank_ = 1 AND NOT is_deleted ORDER BY random() LIMIT {int(sample)}"
    )


def read_offline(athena: Any, query: str, output: str, key: str, identifier: str) -> dict[str, Record]:
    started = athena.start_query_execution(
        QueryString=query,
        ResultConfiguration={
            "OutputLocation": output,
            "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": key},
        },
    )
    query_id = started["QueryExecutionId"]
    while True:
        state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(2)
    if state["State"] != "SUCCEEDED":
        raise RuntimeError(f"the sampling query {state['State']}: {state.get('StateChangeReason', '')}")
    rows: list[list[str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        rows += [[c.get("VarCharValue") for c in r["Data"]] for r in page["ResultSet"]["Rows"]]
    header = [str(h) for h in rows[0]] if rows else []
    records = [dict(zip(header, r, strict=False)) for r in rows[1:]]
    key = identifier.lower()  # Glue lower-cases column names
    return {str(r[key]): {k: v for k, v in r.items() if v is not None} for r in records}


def read_online(runtime: Any, group: str, identifiers: Sequence[str]) -> dict[str, Record]:
    found: dict[str, Record] = {}
    for i in range(0, len(identifiers), BATCH_GET_LIMIT):
        chunk = list(identifiers[i : i + BATCH_GET_LIMIT])
        answer = runtime.batch_get_record(
            Identifiers=[{"FeatureGroupName": group, "RecordIdentifiersValueAsString": chunk}]
        )
        for record in answer.get("Records", []):
            values = {v["FeatureName"]: v.get("ValueAsString") for v in record["Record"]}
            found[str(record["RecordIdentifierValueAsString"])] = values
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feature-group", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--feature-types", required=True, help="name:Type,... of every feature")
    parser.add_argument("--record-identifier", required=True)
    parser.add_argument("--event-time", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--athena-output", required=True, help="s3:// prefix for the query results")
    parser.add_argument("--kms-key", required=True, help="key encrypting the query results")
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--max-age-seconds", type=int, default=0)
    parser.add_argument("--sample-size", type=int, default=500)
    args = parser.parse_args(argv)
    import boto3

    types = dict(pair.split(":", 1) for pair in args.feature_types.split(","))
    query = sample_query(
        database=args.database,
        table=args.table,
        identifier=args.record_identifier,
        event_time=args.event_time,
        sample=args.sample_size,
        max_age=args.max_age_seconds,
    )
    offline = read_offline(
        boto3.client("athena", region_name=args.region), query, args.athena_output, args.kms_key, args.record_identifier
    )
    online = read_online(
        boto3.client("sagemaker-featurestore-runtime", region_name=args.region), args.feature_group, sorted(offline)
    )
    result = compare(offline, online, types, args.event_time)
    boto3.client("cloudwatch", region_name=args.region).put_metric_data(
        Namespace=args.namespace,
        MetricData=[
            {
                "MetricName": METRIC,
                "Dimensions": [{"Name": "FeatureGroup", "Value": args.feature_group}],
                "Value": result.mismatch_percent,
                "Unit": "Percent",
            }
        ],
    )
    report = {**result.__dict__, "mismatch_percent": result.mismatch_percent, "feature_group": args.feature_group}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True))
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
