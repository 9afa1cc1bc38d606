"""policies/rules/budgets.py: a budget for the environment and for every team with resources."""

from __future__ import annotations

from typing import Any

from policies.rules.budgets import budget_teams, budgets_exist
from tests.policies.fixtures import budget, compliant_stack, cost_tags, messages, resource, topic


def test_a_compliant_stack_passes() -> None:
    assert messages(budgets_exist, compliant_stack()) == []


def test_a_missing_environment_budget_is_reported() -> None:
    assert messages(budgets_exist, [topic(), budget("prod-fraud", "fraud")]) == [
        "stack: no environment budget: add an AWS budget for the environment (finops in the environment file)"
    ]


def test_a_team_with_resources_but_no_budget_is_reported() -> None:
    risk_topic = resource("aws:sns/topic:Topic", "prod-risk-alerts", {"tags": cost_tags("risk")})
    found = messages(budgets_exist, [topic(), risk_topic, budget("prod-env"), budget("prod-fraud", "fraud")])
    assert found == ["stack: team 'risk' owns resources but has no budget: add a budget filtered on its team tag"]


def test_shared_platform_resources_are_covered_by_the_environment_budget() -> None:
    shared = resource("aws:kms/key:Key", "prod-key", {"enableKeyRotation": True, "tags": cost_tags("platform")})
    assert messages(budgets_exist, [shared, budget("prod-env")]) == []


def test_an_empty_stack_still_needs_an_environment_budget() -> None:
    assert messages(budgets_exist, []) == [
        "stack: no environment budget: add an AWS budget for the environment (finops in the environment file)"
    ]


def test_team_filters_are_read_from_cost_filters_and_filter_expressions() -> None:
    expression: dict[str, Any] = {
        "and": [
            {"tags": {"key": "environment", "values": ["prod"]}},
            {"tags": {"key": "user:team", "values": ["risk"]}},
        ]
    }
    by_expression = resource("aws:budgets/budget:Budget", "b", {"filterExpression": expression})
    by_cost_filter = budget("prod-fraud", "fraud")
    environment = resource(
        "aws:budgets/budget:Budget",
        "e",
        {"costFilters": [{"name": "TagKeyValue", "values": ["user:environment$prod"]}]},
    )
    assert budget_teams(by_expression) == {"risk"}
    assert budget_teams(by_cost_filter) == {"fraud"}
    assert budget_teams(environment) == set()


def test_a_team_tag_known_only_after_apply_is_not_a_team() -> None:
    unknown = resource("aws:sns/topic:Topic", "t", {"tags": cost_tags("(known after apply)")})
    assert messages(budgets_exist, [unknown, budget("prod-env")]) == []
