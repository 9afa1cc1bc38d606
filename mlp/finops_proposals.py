"""What the FinOps advisor proposes (a Proposal and the environment-file values it changes), and the instance
sizes it may propose, shared by the endpoint advice (mlp/finops_advise.py) and the training advice
(mlp/finops_training.py)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from components.config.serving import hosting_instance_types

RIGHTSIZE_PEAK_PERCENT = 40.0
"""Peak CPU and memory below this share: half the instance would still run below 2x this (80%)."""
PERIOD_SECONDS = 3600
"""One CloudWatch data point per hour: the advisor reads hourly statistics."""
TRAINING_KINDS = ("spot-training", "on-demand-training", "smaller-training-instance")
"""Proposals about a training pipeline (mlp/finops_training.py): their `endpoint` is the pipeline's name."""
_RESIZABLE = re.compile(r"^ml\.(m5|c5|r5)\.(large|xlarge|\d+xlarge)$")


@dataclass(frozen=True)
class Change:
    """One value of the environment file: models[<model>].<section>.<field> = value."""

    model: str
    field: str
    """Dotted path under the section, e.g. instance_type or autoscaling.min_capacity."""
    old: Any
    new: Any
    section: str = "serving"
    """The model's block the field is in: serving, or training (mlp/finops_training.py)."""
    added: bool = False
    """The key is not in the file (`old` is its default): the edit adds it as one new line."""

    @property
    def path(self) -> str:
        return f"models[{self.model}].{self.section}.{self.field}"


@dataclass(frozen=True)
class Proposal:
    model: str
    endpoint: str
    """The endpoint the proposal is about; for a training proposal (TRAINING_KINDS), the pipeline."""
    kind: str
    summary: str
    evidence: tuple[str, ...]
    monthly_saving_usd: float | None
    change: Change | None = None
    also: tuple[Change, ...] = ()
    """Further values the same proposal sets so the file stays valid (max_wait_minutes with spot)."""

    @property
    def changes(self) -> tuple[Change, ...]:
        return () if self.change is None else (self.change, *self.also)


def vcpus(instance_type: str) -> int | None:
    """vCPUs of an m5/c5/r5 size (large = 2, xlarge = 4, Nxlarge = 4N); None for other families."""
    match = _RESIZABLE.match(instance_type)
    if not match:
        return None
    size = match.group(2)
    if size == "large":
        return 2
    if size == "xlarge":
        return 4
    return 4 * int(size.removesuffix("xlarge"))


def smaller(instance_type: str, known: Collection[str] | None = None) -> str | None:
    """The next smaller size of the same family with half the vCPUs, if it is one of `known` (default: the
    SageMaker hosting instance types)."""
    cpus = vcpus(instance_type)
    if cpus is None or cpus <= 2:
        return None
    family = instance_type.split(".")[1]
    half = cpus // 2
    size = "large" if half == 2 else "xlarge" if half == 4 else f"{half // 4}xlarge"
    candidate = f"ml.{family}.{size}"
    allowed = hosting_instance_types() if known is None else known
    return candidate if vcpus(candidate) == half and candidate in allowed else None
