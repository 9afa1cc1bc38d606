"""Alert routing: encrypted topics per team and severity, subscribers from the file, rollback alarms routed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.alerting import TeamAlerts, TeamAlertsArgs
from components.config.observability import Severity
from components.tagging import CostTags
from mlp.cli import EXIT_INPUT, main
from mlp.plan import Plan, build_plan
from tests.conftest import ENVIRONMENTS, ComponentPlanner, fixture_env, one_of, resources_of

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def env_key_arn(plan: Plan) -> str:
    encryption = one_of(plan, ENCRYPTION, f"{plan['stack']}-foundation-artifacts-encryption")
    return str(encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"])


def team_topics(plan: Plan) -> list[dict[str, Any]]:
    """Topics of the TeamAlerts components (other components have topics of their own)."""
    parents = {r["urn"] for r in resources_of(plan, "mlplatform:alerting:TeamAlerts")}
    return [t for t in resources_of(plan, TOPIC) if t["parent"] in parents]


def subscriptions(plan: Plan) -> dict[str, list[str]]:
    """Topic name -> subscribed addresses."""
    found: dict[str, list[str]] = {}
    parents = {r["urn"] for r in resources_of(plan, "mlplatform:alerting:TeamAlerts")}
    for sub in (s for s in resources_of(plan, SUBSCRIPTION) if s["parent"] in parents):
        assert sub["inputs"]["protocol"] == "email"
        topic = sub["inputs"]["topic"].rsplit(":", 1)[1]
        found.setdefault(topic, []).append(sub["inputs"]["endpoint"])
    return {k: sorted(v) for k, v in found.items()}


KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b3c2f5e-1111-4222-8333-944445555666"


def team_alerts(plan_component: ComponentPlanner) -> Plan:
    """One TeamAlerts on its own: two severities, one that pages; an owner who is also on call."""

    def build(opts: pulumi.ResourceOptions) -> None:
        args = TeamAlertsArgs(
            environment="qa",
            team="fraud",
            owners=("fraud-ml@payments.example.com", "lead@payments.example.com"),
            on_call=("fraud-pager@payments.example.com", "lead@payments.example.com"),
            severities=(Severity(name="page", pages=True), Severity(name="notify", pages=False)),
            kms_key_arn=KEY,
        )
        tags = CostTags(environment="qa", team="fraud", cost_center="CC-4100", repository="payments-co/ml-platform")
        TeamAlerts("fraud-alerts", args, tags, opts=opts)

    return plan_component(build, stack="qa")


def test_one_encrypted_topic_per_severity_tagged_to_the_team(plan_component: ComponentPlanner) -> None:
    plan = team_alerts(plan_component)
    topics = {t["inputs"]["name"]: t["inputs"] for t in team_topics(plan)}
    assert sorted(topics) == ["qa-fraud-notify", "qa-fraud-page"]
    assert all(t["kmsMasterKeyId"] == KEY for t in topics.values())
    assert all(t["tags"]["team"] == "fraud" and t["tags"]["cost-center"] == "CC-4100" for t in topics.values())


def test_owners_hear_every_severity_and_the_on_call_only_what_pages(plan_component: ComponentPlanner) -> None:
    assert subscriptions(team_alerts(plan_component)) == {
        "qa-fraud-notify": ["fraud-ml@payments.example.com", "lead@payments.example.com"],
        # Someone who is both owner and on call is subscribed once.
        "qa-fraud-page": [
            "fraud-ml@payments.example.com",
            "fraud-pager@payments.example.com",
            "lead@payments.example.com",
        ],
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_team_gets_the_environments_severities_with_its_people(plans: dict[str, Plan], env: str) -> None:
    """The environment file reaches TeamAlerts: its teams, severities, owners and on-call, and its key."""
    loaded = fixture_env(env)
    found = subscriptions(plans[env])
    assert sorted(found) == sorted(f"{env}-{t.name}-{s.name}" for t in loaded.teams for s in loaded.alerting.severities)
    key = env_key_arn(plans[env])
    assert all(t["inputs"]["kmsMasterKeyId"] == key for t in team_topics(plans[env]))
    for team in loaded.teams:
        for severity in loaded.alerting.severities:
            wanted = set(team.owners) | (set(team.on_call) if severity.pages else set())
            assert found[f"{env}-{team.name}-{severity.name}"] == sorted(wanted)


def test_prod_pages_the_on_call_and_dev_and_staging_page_nobody(plans: dict[str, Plan]) -> None:
    prod = subscriptions(plans["prod"])
    assert "fraud-ml-pager@payments.example.com" in prod["prod-fraud-page"]
    assert "fraud-ml-pager@payments.example.com" not in prod["prod-fraud-notify"]
    assert "risk-analytics-pager@payments.example.com" in prod["prod-risk-page"]
    for env in ("dev", "staging"):
        assert [s.name for s in fixture_env(env).alerting.severities] == ["notify"]
        assert all(not t["inputs"]["name"].endswith("-page") for t in team_topics(plans[env]))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_rollback_alarms_notify_the_owning_teams_slo_topic(plans: dict[str, Plan], env: str) -> None:
    loaded = fixture_env(env)
    plan = plans[env]
    for model in (m for m in loaded.models if m.serving.platform == "sagemaker"):
        component = one_of(plan, "mlplatform:serving:ModelEndpoint", model.name)
        alarms = [a for a in resources_of(plan, ALARM) if a["parent"] == component["urn"]]
        assert len(alarms) == (2 + len(model.serving.slos.extra_alarms) if model.serving.slos else 0)
        topic = f"arn:aws:sns:{loaded.region}:{loaded.account_id}:{env}-{model.team}-{loaded.alerting.slo}"
        for alarm in alarms:
            assert alarm["inputs"]["alarmActions"] == alarm["inputs"]["okActions"] == [topic]


def test_prod_rollback_alarms_page_with_their_thresholds(plans: dict[str, Plan]) -> None:
    alarms = {a["inputs"]["name"]: a["inputs"] for a in resources_of(plans["prod"], ALARM)}
    latency = alarms["prod-fraud-scoring-p99-latency"]
    assert (latency["threshold"], latency["alarmActions"]) == (
        150_000,
        ["arn:aws:sns:eu-west-1:630417952386:prod-fraud-page"],
    )
    anomaly = alarms["prod-transaction-anomaly-5xx-errors"]
    assert (anomaly["threshold"], anomaly["alarmActions"]) == (5, ["arn:aws:sns:eu-west-1:630417952386:prod-risk-page"])


def test_routing_is_data_an_slo_severity_change_reroutes_rollback_alarms(edit_env: Callable[..., Path]) -> None:
    def quieter(data: Any) -> None:
        data["alerting"]["slo"] = "notify"

    plan = build_plan("prod", edit_env("prod", quieter))
    alarms = {a["inputs"]["name"]: a["inputs"] for a in resources_of(plan, ALARM)}
    assert alarms["prod-fraud-scoring-p99-latency"]["alarmActions"] == [
        "arn:aws:sns:eu-west-1:630417952386:prod-fraud-notify"
    ]
    # Drift alarms with an explicit severity keep it.
    assert alarms["prod-fraud-scoring-drift-card_country"]["alarmActions"] == [
        "arn:aws:sns:eu-west-1:630417952386:prod-fraud-page"
    ]


def test_a_paging_severity_without_on_call_is_warned(edit_env: Callable[..., Path]) -> None:
    def no_on_call(data: Any) -> None:
        del data["teams"][1]["on_call"]
        data["monitoring_image_digest"] = "sha256:" + "0" * 64  # no warning about the drift job's image

    warnings = build_plan("prod", edit_env("prod", no_on_call))["warnings"]
    assert warnings == [
        "risk-alerts: team risk has no on_call addresses: paging alarms reach its owners by email only; "
        "add on_call (e.g. the pager's email integration) to the team"
    ]


def test_an_undefined_slo_severity_is_refused(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def typo(data: Any) -> None:
        data["alerting"]["slo"] = "pager"

    root = edit_env("prod", typo)
    code = main(["plan", "prod", "--root", str(root)])
    captured = capsys.readouterr()
    assert code == EXIT_INPUT
    lines = (root / "environments" / "prod.yaml").read_text().splitlines()
    line = next(i + 1 for i, text in enumerate(lines) if text.startswith("alerting:"))
    assert captured.err.strip() == (
        f"error: environments/prod.yaml:{line}: alerting: slo severity 'pager' is not defined; "
        "severities here: page, notify"
    )
