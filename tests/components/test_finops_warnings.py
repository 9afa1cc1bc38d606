"""components/finops.py: the review-time warnings of `mlp plan` about budgets and who pays for shared resources."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlp.plan import build_plan


def test_team_budgets_above_the_environment_budget_and_an_unnamed_payer_are_warned(
    edit_env: Callable[[str, Callable[[Any], None]], Path],
) -> None:
    expected: list[str] = []

    def overcommitted(data: Any) -> None:
        for team in data["teams"]:
            team["monthly_budget_usd"] = 1000
        total = 1000 * len(data["teams"])
        data["finops"]["monthly_budget_usd"] = total - 500
        parts = " + ".join(f"{t['name']} 1000" for t in data["teams"])
        expected.append(
            f"dev-finops: team budgets add up to {total} USD/month ({parts}), above the environment budget of "
            f"{total - 500} USD: the environment alert fires before any team's; raise finops.monthly_budget_usd "
            "or lower the team budgets"
        )
        data["finops"].pop("platform_cost_center", None)
        for model in data["models"]:
            model.pop("training", None)  # no pipeline: the plan needs no SDK build

    warnings = build_plan("dev", edit_env("dev", overcommitted))["warnings"]

    finops = [w for w in warnings if w.startswith("dev-finops: ")]
    assert finops[0] == expected[0]
    assert finops[1].startswith("dev-finops: shared resources: charged to cost center ")
    assert "cost center is used; name the payer in finops.platform_cost_center)" in finops[1]
