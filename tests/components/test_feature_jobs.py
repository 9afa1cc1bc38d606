"""The job scripts of components/jobs/ on generated records: the parity check counts a planted mismatch and
nothing otherwise; ingestion reads the days of its range and writes every complete row to the group."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest

from components.jobs import feature_parity, ingest_features
from components.jobs.feature_parity import Parity, compare, read_online, sample_query

TYPES = {
    "card_token": "String",
    "event_time": "Fractional",
    "txn_count_1h": "Integral",
    "amount_sum_24h": "Fractional",
    "last_country": "String",
}


def generated(n: int, seed: int = 7) -> dict[str, dict[str, str]]:
    """n offline records as Athena returns them (strings), keyed by record identifier."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    records = {}
    for i in range(n):
        token = f"tok_{i:05d}"
        records[token] = {
            "card_token": token,
            "event_time": f"{1764460800 + rng.randint(0, 86400)}.0",
            "txn_count_1h": str(rng.randint(0, 30)),
            "amount_sum_24h": f"{rng.uniform(0, 5000):.2f}",
            "last_country": rng.choice(["IE", "FR", "DE", "ES"]),
        }
    return records


def online_copy(offline: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The same records as the online store prints them: numbers in another form, same values."""
    online = {}
    for token, record in offline.items():
        online[token] = {
            **record,
            "event_time": repr(float(record["event_time"])),  # 1764461234.0 -> '1764461234.0'
            "txn_count_1h": str(int(record["txn_count_1h"])),
            "amount_sum_24h": str(float(record["amount_sum_24h"])),  # '12.50' -> '12.5'
        }
    return online


def test_identical_stores_have_no_mismatch() -> None:
    offline = generated(200)
    result = compare(offline, online_copy(offline), TYPES, "event_time")
    assert result == Parity(compared_records=200, compared_values=1000, mismatched_values=0)
    assert result.mismatch_percent == 0.0


def test_a_planted_mismatch_is_counted_once() -> None:
    offline = generated(200)
    online = online_copy(offline)
    online["tok_00042"]["amount_sum_24h"] = str(float(offline["tok_00042"]["amount_sum_24h"]) + 0.01)
    result = compare(offline, online, TYPES, "event_time")
    assert (result.compared_values, result.mismatched_values) == (1000, 1)
    assert result.mismatches_by_feature == {"amount_sum_24h": 1}
    assert result.mismatch_percent == pytest.approx(0.1)


def test_offline_columns_in_lower_case_match_mixed_case_features() -> None:
    offline = {"t1": {"card_token": "t1", "event_time": "1.0", "txncount": "3"}}
    online = {"t1": {"card_token": "t1", "event_time": "1.0", "txnCount": "3"}}
    types = {"card_token": "String", "event_time": "Fractional", "txnCount": "Integral"}
    assert compare(offline, online, types, "event_time").mismatched_values == 0
    online["t1"]["txnCount"] = "4"
    assert compare(offline, online, types, "event_time").mismatches_by_feature == {"txnCount": 1}


def test_a_record_missing_online_mismatches_every_feature() -> None:
    offline = generated(10)
    online = online_copy(offline)
    del online["tok_00003"]
    result = compare(offline, online, TYPES, "event_time")
    assert (result.missing_online, result.mismatched_values, result.compared_values) == (1, 5, 50)


def test_a_record_updated_online_after_the_offline_write_is_skipped_not_counted() -> None:
    offline = generated(10)
    online = online_copy(offline)
    newer = online["tok_00005"]
    newer["event_time"] = str(float(newer["event_time"]) + 60)
    newer["txn_count_1h"] = str(int(newer["txn_count_1h"]) + 1)
    result = compare(offline, online, TYPES, "event_time")
    assert (result.skipped_newer_online, result.compared_records, result.mismatched_values) == (1, 9, 0)


def test_online_reads_go_in_batches_of_at_most_100_identifiers() -> None:
    offline = generated(250)
    online = online_copy(offline)

    class Runtime:
        def __init__(self) -> None:
            self.calls: list[int] = []

        def batch_get_record(self, Identifiers: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            [ask] = Identifiers
            self.calls.append(len(ask["RecordIdentifiersValueAsString"]))
            return {
                "Records": [
                    {
                        "RecordIdentifierValueAsString": t,
                        "Record": [{"FeatureName": k, "ValueAsString": v} for k, v in online[t].items()],
                    }
                    for t in ask["RecordIdentifiersValueAsString"]
                ]
            }

    runtime = Runtime()
    assert read_online(runtime, "fx-cards", sorted(offline)) == online
    assert runtime.calls == [100, 100, 50]


def test_the_sampling_query_takes_the_latest_live_version_within_the_ttl() -> None:
    query = sample_query(
        database="fx_features",
        table="fx_cards",
        identifier="card_token",
        event_time="event_time",
        sample=300,
        max_age=259200,
    )
    assert 'PARTITION BY "card_token" ORDER BY "event_time" DESC' in query
    assert 'FROM "fx_features"."fx_cards"' in query
    assert "interval '259200' second" in query
    assert query.endswith("WHERE rank_ = 1 AND NOT is_deleted ORDER BY random() LIMIT 300")


def test_the_parity_job_publishes_the_share_and_reports_no_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = generated(20)
    online = online_copy(offline)
    online["tok_00001"]["last_country"] = "PT"
    published: list[dict[str, Any]] = []

    class Fake:
        def __init__(self, service: str) -> None:
            self.service = service

        def put_metric_data(self, **kwargs: Any) -> None:
            published.append(kwargs)

    monkeypatch.setattr(feature_parity, "REPORT", tmp_path / "parity.json")
    monkeypatch.setattr(feature_parity, "read_offline", lambda *a, **k: offline)
    monkeypatch.setattr(feature_parity, "read_online", lambda *a, **k: online)
    import boto3

    monkeypatch.setattr(boto3, "client", lambda service, **_: Fake(service))
    code = feature_parity.main(
        [
            "--feature-group=fx-cards",
            "--region=eu-west-1",
            "--feature-types=" + ",".join(f"{k}:{v}" for k, v in TYPES.items()),
            "--record-identifier=card_token",
            "--event-time=event_time",
            "--database=fx_features",
            "--table=fx_cards",
            "--athena-output=s3://bucket/athena/",
            "--kms-key=arn:aws:kms:eu-west-1:111122223333:key/k",
            "--namespace=MLPlatform/FeatureStore",
        ]
    )
    assert code == 0
    [call] = published
    [datum] = call["MetricData"]
    assert call["Namespace"] == "MLPlatform/FeatureStore"
    assert (datum["MetricName"], datum["Unit"], datum["Dimensions"]) == (
        "FeatureMismatchPercent",
        "Percent",
        [{"Name": "FeatureGroup", "Value": "fx-cards"}],
    )
    assert datum["Value"] == pytest.approx(100 / 100)  # 1 of 100 values
    report = (tmp_path / "parity.json").read_text()
    assert json.loads(report)["mismatches_by_feature"] == {"last_country": 1}
    assert "tok_0000" not in report and "PT" not in report, "no identifiers or values leave the job"


def test_ingestion_reads_each_day_of_the_range_and_writes_complete_rows() -> None:
    files = {
        "raw/cards/2026-11-01/a.csv": "card_token,event_time,txn_count_1h,extra\nt1,1.0,3,x\nt2,2.0,,y\n",
        "raw/cards/2026-11-02/a.csv": "card_token,event_time,txn_count_1h\nt3,3.0,1\n",
        "raw/cards/2026-11-03/a.csv": "card_token,event_time,txn_count_1h\nt4,4.0,1\n",
    }

    class S3:
        def get_paginator(self, _: str) -> Any:
            class Pages:
                def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:  # noqa: N803
                    return [{"Contents": [{"Key": k} for k in files if k.startswith(Prefix)]}]

            return Pages()

        def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
            return {"Body": io.BytesIO(files[Key].encode())}

    written: list[list[dict[str, str]]] = []

    class Runtime:
        def put_record(self, FeatureGroupName: str, Record: list[dict[str, str]]) -> None:  # noqa: N803
            assert FeatureGroupName == "fx-cards"
            written.append(Record)

    days = ingest_features.day_range("2026-11-01", "2026-11-02", dt.date(2026, 11, 30))
    report = ingest_features.ingest(
        S3(),
        Runtime(),
        group="fx-cards",
        source="s3://bucket/raw/cards/",
        days=days,
        features=["card_token", "event_time", "txn_count_1h"],
    )
    assert [r[0]["ValueAsString"] for r in written] == ["t1", "t3"], "day 3 is outside the range; t2 is incomplete"
    assert written[0] == [
        {"FeatureName": "card_token", "ValueAsString": "t1"},
        {"FeatureName": "event_time", "ValueAsString": "1.0"},
        {"FeatureName": "txn_count_1h", "ValueAsString": "3"},
    ]
    assert report["written"] == 2
    assert report["failed"] == ["raw/cards/2026-11-01/a.csv: row 2: missing txn_count_1h"]


def test_a_scheduled_run_ingests_yesterday_and_a_reversed_range_is_refused() -> None:
    assert ingest_features.day_range("yesterday", "yesterday", dt.date(2026, 11, 30)) == [dt.date(2026, 11, 29)]
    with pytest.raises(ValueError, match="before start date"):
        ingest_features.day_range("2026-11-05", "2026-11-01", dt.date(2026, 11, 30))
