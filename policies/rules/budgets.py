"""FinOps: a budget exists for the environment and for every team that owns resources in it.

A team budget is an aws:budgets/budget:Budget whose cost filter selects the team's `team` cost-allocation tag
(cost filter TagKeyValue `user:team$<team>`, or a filter expression on the `team` tag); any other budget is an
environment budget. Shared resources belong to the `platform` team and are covered by the environment budget.
TagKeyValue values read `user:<tag key>$<tag value>` (the cost-filter example of
https://www.pulumi.com/registry/packages/aws/api-docs/budgets/budget/, also in pulumi_aws/budgets/budget.py;
read 2026-11-25).
"""

from __future__ import annotations

import re
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


# Lines whose lower bound holds without the environment file's usage assumptions: instances that run all
# month (at an autoscaled variant's minimum) and fixed fees. Jobs are left out: without the expected runtimes
# their lines are upper bounds, and comparing an upper bound with a budget would cry wolf.
ALWAYS_ON = ("endpoint", "shadow", "fixed")
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d):")


def _region(resources: Sequence[Resource]) -> str | None:
    """The stack's region: its AWS provider's, else the first regional ARN among the inputs."""
    for r in resources:
        if r.get("type") == "pulumi:providers:aws" and inputs(r).get("region"):
            return str(inputs(r)["region"])
    for r in resources:
        for value in inputs(r).values():
            match = _ARN_REGION.match(value) if isinstance(value, str) else None
            if match:
                return match.group(1)
    return None


def _limit(budget: Resource) -> float | None:
    try:
        return float(str(inputs(budget).get("limitAmount")))
    except ValueError:
        return None


@stack_rule(
    "estimate-within-budget",
    "The always-on monthly cost (endpoint instances at their minimum, fixed fees) fits the environment budget "
    "and each team's budget.",
)
def estimate_within_budget(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    from mlp.cost_estimate import estimate
    from mlp.pricing import load_prices

    budgets = [(b, _limit(b)) for b in of_type(resources, BUDGET)]
    if not any(limit for _, limit in budgets):
        return []
    plan = {"stack": "", "resources": [dict(r) for r in resources]}
    items = [i for i in estimate(plan, load_prices(), region=_region(resources)).items if i.category in ALWAYS_ON]
    found: list[StackFinding] = []
    for budget, limit in budgets:
        if not limit:
            continue
        teams = budget_teams(budget)
        chosen = [i for i in items if not teams or i.owner.team in teams]
        known = sum(i.low for i in chosen if i.low is not None)
        if known > limit:
            whose = f"team {', '.join(sorted(teams))}" if teams else "the environment"
            unknown = sum(1 for i in chosen if i.low is None)
            found.append(
                (
                    budget,
                    f"the always-on cost of {whose} is at least {known:,.2f} USD/month (endpoint instances at their "
                    f"minimum and fixed fees{f', {unknown} more lines unpriced' if unknown else ''}), above its "
                    f"budget of {limit:,.2f} USD: raise the budget in the environment file or serve on fewer or "
                    "smaller instances (`mlp cost` shows the lines)",
                )
            )
    return found


RULES = (budgets_exist, estimate_within_budget)
