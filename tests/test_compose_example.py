"""docs/examples/compose/: two components composed from typed args alone, planned with the mock runtime from a
data root that holds no environment file at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlp.plan import Plan, plan_document
from mlp.runtime import run_program
from tests.conftest import one_of, resources_of

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "compose"
PROJECT = "ml-platform-compose-example"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    empty = tmp_path_factory.mktemp("no-environments")  # nothing to load: the program reads no environment file
    config = {f"{PROJECT}:accountId": "123456789012", f"{PROJECT}:region": "eu-west-1", f"{PROJECT}:kmsKeyArn": KEY}
    warnings: list[str] = []
    registrations = run_program(EXAMPLE, empty, "example", config, set(), warnings=warnings, project=PROJECT)
    assert not list(empty.iterdir())
    return plan_document("example", registrations, warnings)


def inputs(resource: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = resource["inputs"]
    return result


def test_the_two_components_and_only_their_resources(plan: Plan) -> None:
    components = sorted((r["type"], r["name"]) for r in plan["resources"] if not r["custom"])
    assert components == [
        ("mlplatform:alerting:TeamAlerts", "fraud-alerts"),
        ("mlplatform:serving:ModelEndpoint", "card-fraud"),
    ]
    assert plan["warnings"] == []


def test_team_topics_are_encrypted_and_page_the_on_call(plan: Plan) -> None:
    topics = {inputs(t)["name"]: t for t in resources_of(plan, TOPIC)}
    assert sorted(topics) == ["sandbox-fraud-notify", "sandbox-fraud-page"]
    assert {inputs(t)["kmsMasterKeyId"] for t in topics.values()} == {KEY}
    # Owners hear every severity; the on-call only the severity that pages.
    heard = {(inputs(s)["topic"].rsplit(":", 1)[1], inputs(s)["endpoint"]) for s in resources_of(plan, SUBSCRIPTION)}
    assert heard == {
        ("sandbox-fraud-page", "fraud-ml@example.com"),
        ("sandbox-fraud-page", "fraud-oncall@example.com"),
        ("sandbox-fraud-notify", "fraud-ml@example.com"),
    }
    assert {inputs(s)["protocol"] for s in resources_of(plan, SUBSCRIPTION)} == {"email"}


def test_rollback_alarms_notify_the_teams_page_topic(plan: Plan) -> None:
    """The wiring between the two: the endpoint's SLO alarms act on the topic TeamAlerts made."""
    alarms = resources_of(plan, ALARM)
    assert sorted(inputs(a)["name"] for a in alarms) == [
        "sandbox-card-fraud-5xx-errors",
        "sandbox-card-fraud-p99-latency",
    ]
    for alarm in alarms:
        assert [a.rsplit(":", 1)[1] for a in inputs(alarm)["alarmActions"]] == ["sandbox-fraud-page"]
        assert inputs(alarm)["okActions"] == inputs(alarm)["alarmActions"]
    endpoint = inputs(one_of(plan, ENDPOINT))
    assert endpoint["name"] == "sandbox-card-fraud"
    policy = endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert policy["type"] == "CANARY" and policy["canarySize"] == {"type": "CAPACITY_PERCENT", "value": 50}
    rollback = endpoint["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert sorted(a["alarmName"] for a in rollback) == sorted(inputs(a)["name"] for a in alarms)


def test_every_taggable_resource_carries_the_owners_tags(plan: Plan) -> None:
    tagged = [r for r in plan["resources"] if r["custom"] and "tags" in inputs(r)]
    assert {r["type"] for r in tagged} >= {TOPIC, ALARM, ENDPOINT, "aws:iam/role:Role", "aws:sagemaker/model:Model"}
    for resource in tagged:
        tags = inputs(resource)["tags"]
        assert (tags["environment"], tags["team"], tags["cost-center"]) == ("sandbox", "fraud", "cc-1234")
        # Only the endpoint's resources belong to the model; the team's topics do not.
        assert tags.get("model") == (None if resource["type"] == TOPIC else "card-fraud")
