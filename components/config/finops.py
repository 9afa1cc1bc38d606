"""Budgets and cost guardrails of an environment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from components.config.base import Strict


class FinOps(Strict):
    """Environment-wide budget settings; per-team budgets live on each team."""

    monthly_budget_usd: Annotated[float, Field(gt=0)]
    """Budget for the whole environment, in USD per month."""
