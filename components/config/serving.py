"""How a model is served: SageMaker real-time endpoints or Kubernetes (KServe).

The rollout settings are shared by both platforms, so a model's rollout policy reads the same whichever
way it is served.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from components.config.base import Strict
from components.config.kubernetes import KServeSettings


class AllAtOnce(Strict):
    """Shift all traffic to the new fleet at once (blue/green without a canary). Cheap; for dev."""

    strategy: Literal["all-at-once"]
    wait_minutes: Annotated[int, Field(ge=0, le=60)] = 0
    """Bake time after the shift, while rollback alarms are watched."""


class Canary(Strict):
    """Send a small share of traffic to the new fleet first, bake, then shift the rest."""

    strategy: Literal["canary"]
    percent: Annotated[int, Field(ge=1, le=50)]
    """Share of traffic (and of the new fleet) the canary receives; at most 50."""
    bake_minutes: Annotated[int, Field(ge=0, le=60)]
    """How long the canary serves before the rest shifts."""


class Linear(Strict):
    """Shift traffic in equal steps with a bake time after each."""

    strategy: Literal["linear"]
    step_percent: Annotated[int, Field(ge=1, le=50)]
    """Share of traffic moved at each step."""
    interval_minutes: Annotated[int, Field(ge=0, le=60)]
    """Bake time between steps."""


class Rolling(Strict):
    """Replace instances in batches (SageMaker rolling deployment)."""

    strategy: Literal["rolling"]
    batch_percent: Annotated[int, Field(ge=5, le=50)]
    """Share of the fleet replaced per batch."""
    wait_minutes: Annotated[int, Field(ge=0, le=60)]
    """Bake time between batches."""


Rollout = Annotated[AllAtOnce | Canary | Linear | Rolling, Field(discriminator="strategy")]


class Serving(Strict):
    """Serving settings of one model. Code defaults are the cheap, safe choice; env files override."""

    platform: Literal["sagemaker", "kubernetes"] = "sagemaker"
    """Where the model is served: a SageMaker real-time endpoint or a KServe InferenceService on EKS."""
    instance_type: str = "ml.m5.large"
    """SageMaker hosting instance type of the production variant."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of the production variant when the endpoint is created."""
    rollout: Rollout = AllAtOnce(strategy="all-at-once")
    """How a new version reaches traffic."""
    kserve: KServeSettings | None = None
    """KServe settings; required when `platform` is kubernetes."""
