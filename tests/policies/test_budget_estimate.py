"""policies/rules/budgets.py, estimate-within-budget: the always-on cost fits the budgets."""

from __future__ import annotations

from typing import Any

from policies.rules.budgets import estimate_within_budget
from tests.policies.fixtures import budget, changed, cost_tags, messages, resource

HOSTING_M5_XLARGE = 0.257
"""eu-west-1 hosting price of ml.m5.xlarge in the committed mlp/data/prices.json (per instance-hour)."""


def endpoint(team: str, count: int, instance: str = "ml.m5.xlarge") -> list[dict[str, Any]]:
    config = resource(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        f"{team}-config",
        {
            "name": f"prod-{team}-config",
            "productionVariants": [{"variantName": "primary", "instanceType": instance, "initialInstanceCount": count}],
            "tags": cost_tags(team, model=f"{team}-model"),
            "kmsKeyArn": "arn:aws:kms:eu-west-1:630417952386:key/k",
        },
    )
    live = resource(
        "aws:sagemaker/endpoint:Endpoint",
        f"{team}-endpoint",
        {"name": f"prod-{team}", "endpointConfigName": f"prod-{team}-config", "tags": cost_tags(team)},
        dependencies=[config["urn"]],
    )
    return [config, live]


def limited(b: dict[str, Any], usd: float) -> dict[str, Any]:
    return changed(b, "limitAmount", value=str(usd))


def test_an_estimate_within_every_budget_passes() -> None:
    # 2 x 0.257 x 730 = 375.22 USD for fraud, well within 1,000 (team) and 5,000 (environment).
    stack = [*endpoint("fraud", 2), limited(budget("prod-env"), 5000), limited(budget("prod-fraud", "fraud"), 1000)]
    assert messages(estimate_within_budget, stack) == []


def test_a_team_whose_endpoints_cost_more_than_its_budget_is_reported() -> None:
    stack = [*endpoint("fraud", 2), *endpoint("risk", 1), limited(budget("prod-env"), 5000)]
    stack.append(limited(budget("prod-fraud", "fraud"), 300))
    stack.append(limited(budget("prod-risk", "risk"), 300))

    [found] = messages(estimate_within_budget, stack)

    fraud = 2 * HOSTING_M5_XLARGE * 730
    assert found.startswith(f"prod-fraud: the always-on cost of team fraud is at least {fraud:,.2f} USD/month")
    assert "above its budget of 300.00 USD" in found


def test_the_environment_budget_counts_every_team() -> None:
    # 3 + 3 instances: 1,125.66 USD, above 1,000 though each team alone (562.83) is below it.
    stack = [*endpoint("fraud", 3), *endpoint("risk", 3), limited(budget("prod-env"), 1000)]
    [found] = messages(estimate_within_budget, stack)
    total = 6 * HOSTING_M5_XLARGE * 730
    assert found.startswith(f"prod-env: the always-on cost of the environment is at least {total:,.2f}")


def test_unpriced_instances_never_count_as_zero_or_as_over_budget() -> None:
    stack = [*endpoint("fraud", 40, instance="ml.c5.2xlarge"), limited(budget("prod-fraud", "fraud"), 1)]
    assert messages(estimate_within_budget, stack) == []


def test_budget_warning_when_team_budgets_add_up_to_more_than_the_environment_budget() -> None:
    from components.finops import FinOpsArgs, TeamBudget, budget_warnings

    args = FinOpsArgs(
        environment="prod",
        account_id="630417952386",
        kms_key_arn="arn:aws:kms:eu-west-1:630417952386:key/k",
        monthly_budget_usd=30000,
        forecasted_alert_percent=100,
        actual_alert_percent=80,
        environment_recipients=("finops@payments.example.com",),
        teams=(TeamBudget("fraud", 22000, ()), TeamBudget("risk", 12000, ())),
        anomaly_threshold_usd=500,
    )
    [warning] = budget_warnings(args)
    assert warning.startswith("team budgets add up to 34000 USD/month (fraud 22000 + risk 12000), above the")
    assert budget_warnings(FinOpsArgs(**{**args.__dict__, "monthly_budget_usd": 34000})) == []
