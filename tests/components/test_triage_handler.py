"""The triage handler against moto: an endpoint mid-rollout, its rollback alarm and metrics written by the
test, a team topic read back through SQS (see triage_fixtures for the calls moto cannot answer)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from components.functions.triage.gather import alarm_from_message, top_drifting_features
from components.functions.triage.handler import alarms_in, lambda_handler, triage
from tests.components import triage_fixtures as fx


@pytest.fixture
def aws() -> object:
    with mock_aws():
        yield


def test_an_alarm_during_a_rollout_gets_a_note_with_the_rollout_metrics_history_and_next_step(aws: object) -> None:
    world = fx.build_world()
    result = lambda_handler(fx.alarm_event(), clients=world.clients, settings=fx.settings())

    assert result["triaged"][0]["delivered"] == [f"topic arn:aws:sns:{fx.REGION}:{fx.ACCOUNT}:stg-fraud-notify"]
    [message] = world.messages()
    note = message["Body"]
    lines = note.splitlines()
    assert lines[0] == "## [triage stg] stg-fraud-scoring-p99-latency ALARM fraud-scoring v15"
    assert "`stg-fraud-scoring-p99-latency` went to ALARM" in note
    assert "on `ModelLatency` (GreaterThanThreshold 250000)" in note
    assert "**Model.** `fraud-scoring` version 15 (registry group `fraud-scoring`), team `fraud`" in note
    # The rollout, from the endpoint's deployment state.
    assert f"**Likely cause.** the rollout in progress (to `{fx.NEW_CONFIG}`)" in note
    assert (
        f"- Endpoint Updating: a rollout is IN PROGRESS; configuration `{fx.OLD_CONFIG}` -> `{fx.NEW_CONFIG}`" in note
    )
    assert "- serving variant `primary`: weight 0.75 (desired 0.75), instances 2" in lines
    assert "- new fleet `primary`: weight 0.25 (desired 0.25), instances 1/2, Baking" in lines
    assert "- last deploy commit: `0a1b2c3d4e5f`" in lines
    # Metrics around the alarm against the day and week before (counts from moto, percentiles stubbed).
    assert "| primary | invocations | 1200 | 1000 | 900 |" in lines
    assert "| primary | 5xx errors | 40 | 0 | 1 |" in lines
    assert "| primary | latency p99 (ms) | 350 | 90 | 85 |" in lines
    assert "| primary | latency p50 (ms) | 40 | 38 | 37 |" in lines
    # History, newest first, and the runbook's step for a rollout in progress.
    history = lines.index("**Alarm history** (newest first):")
    assert lines[history + 2].endswith("Alarm updated from OK to ALARM")
    assert lines[history + 3].endswith("Alarm updated from ALARM to OK")
    assert "Runbook: https://github.com/payments-co/ml-platform/blob/main/docs/runbooks/stg/fraud-scoring.md" in lines
    assert fx.STOP_ROLLOUT in lines
    assert fx.ROLL_BACK not in note
    assert "AI summary" not in note  # no llm configured
    assert "Not available" not in note
    # The note carries the attribute the function's own subscription filters out.
    assert message["MessageAttributes"]["mlp-triage"]["StringValue"] == "note"
    world.cloudwatch_stub.assert_no_pending_responses()
    world.sagemaker_stub.assert_no_pending_responses()


def test_a_drift_alarm_names_the_latest_reports_top_drifting_features(aws: object) -> None:
    world = fx.build_world()
    s3 = boto3.client("s3", region_name=fx.REGION)
    s3.put_object(
        Bucket=fx.REPORT_BUCKET,
        Key="monitoring/2026/11/29/report.json",
        Body=json.dumps({"features": {"amount": {"drift_score": 0.9}}}),
    )
    s3.put_object(
        Bucket=fx.REPORT_BUCKET,
        Key="monitoring/2026/11/30/report.json",
        Body=json.dumps(
            {"features": {"amount": {"drift_score": 0.42}, "card_country": {"drift_score": 0.61}, "mcc": 0.05}}
        ),
    )
    alarm = alarm_from_message(
        {
            "AlarmName": fx.DRIFT_ALARM,
            "NewStateValue": "ALARM",
            "NewStateReason": "Threshold Crossed",
            "Trigger": {
                "MetricName": "feature_baseline_drift_amount",
                "Namespace": "aws/sagemaker/Endpoints/data-metrics",
                "Dimensions": [
                    {"name": "Endpoint", "value": fx.ENDPOINT},
                    {"name": "MonitoringSchedule", "value": "s"},
                ],
            },
        }
    )
    result = triage(world.clients, fx.settings(), alarm, deliver_note=False, use_llm=False)

    assert result.context.report_key == "monitoring/2026/11/30/report.json"
    assert result.context.drift == [("card_country", 0.61), ("amount", 0.42), ("mcc", 0.05)]
    assert (
        "**Likely cause.** input drift: the latest monitoring report's most drifted features are `card_country` (0.61)"
        in result.note
    )
    assert (
        "**Top drifting features** (report `monitoring/2026/11/30/report.json`): `card_country` 0.61, `amount` 0.42"
        in result.note
    )
    assert world.messages() == []  # deliver_note=False (what `mlp triage` uses) posts nothing


def test_a_drift_alarm_without_a_report_still_gets_a_note_saying_so(aws: object) -> None:
    world = fx.build_world()
    alarm = alarm_from_message(
        {
            "AlarmName": fx.DRIFT_ALARM,
            "Trigger": {
                "MetricName": "feature_baseline_drift_amount",
                "Namespace": "aws/sagemaker/Endpoints/data-metrics",
            },
        }
    )
    result = triage(world.clients, fx.settings(), alarm, deliver_note=False, use_llm=False)
    assert result.context.model is not None and result.context.model.model == "fraud-scoring"  # by name prefix
    assert f"no monitoring report under s3://{fx.REPORT_BUCKET}/monitoring/ yet" in result.note
    assert "input drift on the alarm's feature; no monitoring report with per-feature scores was found." in result.note


def test_report_shapes_accepted_and_unreadable_ones_give_no_features() -> None:
    assert top_drifting_features({"drift_by_columns": {"a": {"stattest_value": 0.2}, "b": 0.3}}) == [
        ("b", 0.3),
        ("a", 0.2),
    ]
    assert top_drifting_features({"features": [{"name": "a", "score": 0.1}, {"column": "b", "drift_score": 0.4}]}) == [
        ("b", 0.4),
        ("a", 0.1),
    ]
    assert top_drifting_features({"violations": [{"feature_name": "amount", "description": "..."}]}) == [
        ("amount", 1.0)
    ]
    assert top_drifting_features(["not", "a", "report"]) == []
    assert top_drifting_features({"features": {"a": True, "b": "high"}}) == []


def test_only_alarm_notifications_in_alarm_state_are_triaged_never_our_own_notes(aws: object) -> None:
    world = fx.build_world()
    own_note = {"Records": [{"Sns": {"Message": "## a note", "MessageAttributes": {"mlp-triage": {"Value": "note"}}}}]}
    assert alarms_in(own_note) == []
    assert alarms_in({"Records": [{"Sns": {"Message": "not json"}}]}) == []
    ok = lambda_handler(fx.alarm_event(state="OK"), clients=world.clients, settings=fx.settings())
    assert ok == {"triaged": []}
    assert world.messages() == []


def test_an_alarm_of_no_known_model_still_gets_a_note_to_nobody(aws: object) -> None:
    world = fx.build_world()
    alarm = alarm_from_message({"AlarmName": "other-thing", "NewStateValue": "ALARM", "Trigger": {}})
    result = triage(world.clients, fx.settings(), alarm, deliver_note=True, use_llm=False)
    assert "no model of this environment matches alarm other-thing" in result.note
    assert result.delivered == []
