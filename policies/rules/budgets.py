"""FinOps: a budget exists for the environment and for every team that owns resources in it.

A team budget is an aws:budgets/budget:Budget whose cost filter selects the team's `team` cost-allocation tag
(cost filter TagKeyValue `user:team$<team>`, or a filter expression on the `team` tag); any other budget is an
environment budget. Shared resources belong to the `platform` team and are covered by the environment budget.
TagKeyValue values read `user:<tag key>$<tag value>` (the cost-filter example of
https://www.pulumi.com/registry/packages/aws/api-docs/budgets/budget/, also in pulumi_aws/budgets/budget.py;
read 2026-11-25).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.tagging import PLATFORM_TEAM, is_taggable
from policies.rules.base import Resource, RuleConfig, StackFinding, as_list, inputs, known, of_type, stack_rule

BUDGET = "aws:budgets/budget:Budget"
TEAM_TAG = "team"


def _tag_key(key: Any) -> str:
    return str(key).removeprefix("user:")


def budget_teams(budget: Resource) -> set[str]:
    """Teams a budget's filters select (empty for an environment-wide budget)."""
    teams: set[str] = set()
    for f in inputs(budget).get("costFilters") or []:
        if isinstance(f, Mapping) and f.get("name") == "TagKeyValue":
            for value in as_list(f.get("values")):
                key, sep, team = str(value).partition("$")
                if sep and _tag_key(key) == TEAM_TAG and team:
                    teams.add(team)
    pending: list[Any] = [inputs(budget).get("filterExpression")]
    while pending:
        node = pending.pop()
        if isinstance(node, Mapping):
            tags = node.get("tags")
            if isinstance(tags, Mapping) and _tag_key(tags.get("key")) == TEAM_TAG:
                teams.update(str(v) for v in as_list(tags.get("values")))
            pending += [v for k, v in node.items() if k != "tags"]
        elif isinstance(node, list):
            pending += node
    return teams


def owning_teams(resources: Sequence[Resource]) -> set[str]:
    teams = set()
    for r in resources:
        tags = inputs(r).get("tags")
        team = tags.get(TEAM_TAG) if isinstance(tags, Mapping) else None
        if is_taggable(str(r.get("type"))) and isinstance(team, str) and team and known(team):
            teams.add(team)
    return teams - {PLATFORM_TEAM}


@stack_rule(
    "budgets-exist",
    "The environment has a budget, and so does every team that owns resources in it.",
)
def budgets_exist(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    budgets = of_type(resources, BUDGET)
    found: list[StackFinding] = []
    if not any(not budget_teams(b) for b in budgets):
        found.append(
            (None, "no environment budget: add an AWS budget for the environment (finops in the environment file)")
        )
    covered = {t for b in budgets for t in budget_teams(b)}
    for team in sorted(owning_teams(resources) - covered):
        found.append((None, f"team {team!r} owns resources but has no budget: add a budget filtered on its team tag"))
    return found


RULES = (budgets_exist,)
