"""Cost guardrails: budgets per environment and team, anomaly alerts, an encrypted topic, tag activation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.finops import CostGuardrails, FinOpsArgs, TeamBudget
from components.tagging import CostTags
from mlp.cli import EXIT_INPUT, main
from mlp.plan import Plan, build_plan
from tests.conftest import ENVIRONMENTS, ComponentPlanner, fixture_env, one_of, resources_of

BUDGET = "aws:budgets/budget:Budget"
TOPIC = "aws:sns/topic:Topic"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
ALLOCATION_TAG = "aws:costexplorer/costAllocationTag:CostAllocationTag"


def _notifications(budget: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["notificationType"]: n for n in budget["inputs"]["notifications"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_budget_alerts_at_the_file_thresholds(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    plan = plans[env]
    budget = one_of(plan, BUDGET, f"{env}-finops-environment")["inputs"]
    assert budget["limitAmount"] == f"{spec.finops.monthly_budget_usd:.2f}"
    assert (budget["budgetType"], budget["limitUnit"], budget["timeUnit"]) == ("COST", "USD", "MONTHLY")
    assert budget["accountId"] == spec.account_id
    assert "costFilters" not in budget, "the environment budget covers the whole (dedicated) account"
    topic_arn = one_of(plan, TOPIC, f"{plan['stack']}-finops-alerts")["inputs"]
    notes = _notifications({"inputs": budget})
    assert notes["FORECASTED"]["threshold"] == spec.finops.forecasted_alert_percent
    assert notes["ACTUAL"]["threshold"] == spec.finops.actual_alert_percent
    expected = spec.finops.alert_emails or sorted({e for t in spec.teams for e in t.owners})
    for note in notes.values():
        assert note["thresholdType"] == "PERCENTAGE"
        assert note["comparisonOperator"] == "GREATER_THAN"
        assert note["subscriberEmailAddresses"] == expected
        [sns] = note["subscriberSnsTopicArns"]
        assert sns.endswith(":" + topic_arn["name"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_team_has_a_budget_filtered_on_its_team_tag(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    budgets = {b["name"]: b["inputs"] for b in resources_of(plans[env], BUDGET)}
    assert len(budgets) == 1 + len(spec.teams)
    for team in spec.teams:
        budget = budgets[f"{env}-finops-team-{team.name}"]
        assert budget["limitAmount"] == f"{team.monthly_budget_usd:.2f}"
        assert budget["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:team${team.name}"]}]
        notes = _notifications({"inputs": budget})
        assert notes["FORECASTED"]["threshold"] == spec.finops.forecasted_alert_percent
        assert notes["ACTUAL"]["threshold"] == spec.finops.actual_alert_percent
        assert all(n["subscriberEmailAddresses"] == team.owners for n in notes.values())
        # The budget itself is tagged to the platform team, like every shared resource.
        assert budget["tags"]["team"] == "platform"


def test_prod_thresholds_and_recipients_are_the_ones_in_the_file(plans: dict[str, Plan]) -> None:
    """Spelled out for one environment, so a wrong read of the file cannot hide behind the loader."""
    budget = one_of(plans["prod"], BUDGET, "prod-finops-environment")["inputs"]
    notes = _notifications({"inputs": budget})
    assert (notes["FORECASTED"]["threshold"], notes["ACTUAL"]["threshold"]) == (100, 80)
    assert notes["ACTUAL"]["subscriberEmailAddresses"] == ["finops@payments.example.com"]
    fraud = one_of(plans["prod"], BUDGET, "prod-finops-team-fraud")["inputs"]
    assert fraud["limitAmount"] == "22000.00"
    assert _notifications({"inputs": fraud})["ACTUAL"]["subscriberEmailAddresses"] == [
        "fraud-ml@payments.example.com",
        "fraud-oncall@payments.example.com",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alert_topic_is_encrypted_with_the_environment_key(plans: dict[str, Plan], env: str) -> None:
    plan = plans[env]
    key = one_of(plan, "aws:kms/key:Key")
    topic = one_of(plan, TOPIC, f"{plan['stack']}-finops-alerts")
    assert topic["inputs"]["kmsMasterKeyId"].startswith(f"arn:aws:kms:eu-west-1:{fixture_env(env).account_id}:")
    assert key["urn"] in topic["dependencies"]
    # The key lets the two publishing services use it, and only for data keys and decrypt.
    statements = json.loads(key["inputs"]["policy"])["Statement"]
    [services] = [s for s in statements if s.get("Sid") == "ServicesPublishToEncryptedTopics"]
    # (events.amazonaws.com joins them where the registry lives: registry decisions.)
    assert {"budgets.amazonaws.com", "costalerts.amazonaws.com"} <= set(services["Principal"]["Service"])
    assert services["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


ACCOUNT = "111122223333"


def guardrails(plan_component: ComponentPlanner, *, payer: bool = False) -> Plan:
    """One CostGuardrails on its own: an environment budget, two teams, anomaly alerts above 250 USD."""

    def build(opts: pulumi.ResourceOptions) -> None:
        args = FinOpsArgs(
            environment="qa",
            account_id=ACCOUNT,
            kms_key_arn=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/fixture",
            monthly_budget_usd=5000,
            forecasted_alert_percent=90,
            actual_alert_percent=75,
            environment_recipients=("finops@payments.example.com",),
            teams=(
                TeamBudget("fraud", 3000, ("fraud-ml@payments.example.com",)),
                TeamBudget("risk", 1500, ("risk@payments.example.com", "risk-lead@payments.example.com")),
            ),
            anomaly_threshold_usd=250,
            activate_cost_allocation_tags=payer,
        )
        tags = CostTags(environment="qa", team="platform", cost_center="CC-4100", repository="payments-co/ml-platform")
        CostGuardrails("qa-finops", args, tags, opts=opts)

    return plan_component(build, stack="qa", account_id=ACCOUNT)


def test_team_budgets_filter_on_the_team_tag_and_alert_its_owners(plan_component: ComponentPlanner) -> None:
    budgets = {b["name"]: b["inputs"] for b in resources_of(guardrails(plan_component), BUDGET)}
    assert sorted(budgets) == ["qa-finops-environment", "qa-finops-team-fraud", "qa-finops-team-risk"]
    risk = budgets["qa-finops-team-risk"]
    assert risk["limitAmount"] == "1500.00"
    assert risk["costFilters"] == [{"name": "TagKeyValue", "values": ["user:team$risk"]}]
    notes = _notifications({"inputs": risk})
    assert (notes["FORECASTED"]["threshold"], notes["ACTUAL"]["threshold"]) == (90, 75)
    assert all(
        n["subscriberEmailAddresses"] == ["risk@payments.example.com", "risk-lead@payments.example.com"]
        for n in notes.values()
    )
    environment = budgets["qa-finops-environment"]
    assert (environment["limitAmount"], environment["accountId"]) == ("5000.00", ACCOUNT)
    assert "costFilters" not in environment


def test_only_budgets_and_anomaly_detection_of_this_account_may_publish(plan_component: ComponentPlanner) -> None:
    policy = json.loads(
        one_of(guardrails(plan_component), "aws:sns/topicPolicy:TopicPolicy", "qa-finops-alerts-policy")["inputs"][
            "policy"
        ]
    )
    by_service = {s["Principal"]["Service"]: s for s in policy["Statement"]}
    assert set(by_service) == {"budgets.amazonaws.com", "costalerts.amazonaws.com"}
    assert all(s["Action"] == "SNS:Publish" for s in by_service.values())
    assert all(s["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT} for s in by_service.values())
    assert by_service["budgets.amazonaws.com"]["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:budgets::{ACCOUNT}:*"
    }


def test_anomaly_monitor_alerts_the_topic_and_the_recipients(plan_component: ComponentPlanner) -> None:
    plan = guardrails(plan_component)
    monitor = one_of(plan, MONITOR)
    assert (monitor["inputs"]["monitorType"], monitor["inputs"]["monitorDimension"]) == ("DIMENSIONAL", "SERVICE")
    subscriptions = {s["inputs"]["frequency"]: s["inputs"] for s in resources_of(plan, SUBSCRIPTION)}
    assert set(subscriptions) == {"IMMEDIATE", "DAILY"}
    immediate, daily = subscriptions["IMMEDIATE"], subscriptions["DAILY"]
    [sns] = immediate["subscribers"]
    assert sns["type"] == "SNS"
    assert sns["address"].endswith(":" + one_of(plan, TOPIC, "qa-finops-alerts")["inputs"]["name"])
    assert [s["address"] for s in daily["subscribers"]] == ["finops@payments.example.com"]
    assert all(monitor["urn"] in s["dependencies"] for s in resources_of(plan, SUBSCRIPTION))
    for sub in (immediate, daily):
        [monitored] = sub["monitorArnLists"]
        assert monitored.startswith(f"arn:aws:ce::{ACCOUNT}:anomalymonitor/")
        assert sub["thresholdExpression"]["dimension"] == {
            "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "matchOptions": ["GREATER_THAN_OR_EQUAL"],
            "values": ["250.00"],
        }


@pytest.mark.parametrize("payer", [False, True])
def test_cost_allocation_tags_are_activated_only_when_asked(plan_component: ComponentPlanner, payer: bool) -> None:
    activated = resources_of(guardrails(plan_component, payer=payer), ALLOCATION_TAG)
    assert bool(activated) is payer


def test_cost_allocation_tags_are_activated_only_in_the_payer_account(
    plans: dict[str, Plan], edit_env: Callable[[str, Callable[[Any], None]], Path]
) -> None:
    assert all(not resources_of(plans[env], ALLOCATION_TAG) for env in ENVIRONMENTS)

    def payer(data: Any) -> None:
        data["finops"]["payer_account"] = True

    plan = build_plan("dev", edit_env("dev", payer))
    activated = {r["inputs"]["tagKey"]: r["inputs"]["status"] for r in resources_of(plan, ALLOCATION_TAG)}
    assert activated == {
        "environment": "Active",
        "team": "Active",
        "cost-center": "Active",
        "managed-by": "Active",
        "repository": "Active",
        "model": "Active",
    }


def test_serverless_usage_must_name_a_model_of_the_environment(
    edit_env: Callable[[str, Callable[[Any], None]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def unknown_model(data: Any) -> None:
        data["finops"]["serverless_usage"] = [{"model": "no-such-model", "monthly_requests": 10, "mean_duration_ms": 5}]

    root = edit_env("dev", unknown_model)
    code = main(["plan", "dev", "--root", str(root)])
    [error] = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_INPUT
    line = next(
        i + 1
        for i, text in enumerate((root / "environments/dev.yaml").read_text().splitlines())
        if "no-such-model" in text
    )
    assert error == (
        f"error: environments/dev.yaml:{line}: finops.serverless_usage[0].model: model 'no-such-model' does not exist; "
        "models here: " + ", ".join(m.name for m in fixture_env("dev").models)
    )


def test_alert_thresholds_must_be_positive(
    edit_env: Callable[[str, Callable[[Any], None]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def zero(data: Any) -> None:
        data["finops"]["actual_alert_percent"] = 0

    code = main(["plan", "dev", "--root", str(edit_env("dev", zero))])
    [error] = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_INPUT
    assert "finops.actual_alert_percent:" in error
    assert "greater than 0" in error


def test_a_team_with_more_owners_than_an_alert_reaches_is_refused(
    edit_env: Callable[[str, Callable[[Any], None]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def crowd(data: Any) -> None:
        data["teams"][0]["owners"] = [f"person{i}@payments.example.com" for i in range(11)]

    code = main(["plan", "dev", "--root", str(edit_env("dev", crowd))])
    errors = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_INPUT
    assert any(
        "teams[0].owners: team 'fraud' has 11 owners but a budget alert reaches at most 10 email addresses" in e
        for e in errors
    )
    assert any("finops: the environment's alerts go to every team owner" in e for e in errors)
