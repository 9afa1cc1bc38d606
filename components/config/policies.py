"""How strictly the policy pack enforces each rule in an environment, and the data its rules need.

The same settings drive `mlp policy ENV` / `mlp plan ENV` offline and `pulumi preview --policy-pack policies`
(through the policy-pack config `mlp policy ENV --pack-config` writes), so both see the same levels.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from components.config.base import Strict

EnforcementLevel = Literal["advisory", "mandatory", "disabled"]
"""CrossGuard's levels: advisory prints a warning, mandatory fails the change, disabled skips the rule."""
RuleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$")]
InstanceType = Annotated[str, StringConstraints(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")]


class Policies(Strict):
    """Enforcement of the policy pack in this environment (see docs/policies.md for the rules)."""

    enforcement: EnforcementLevel = "mandatory"
    """Level of every rule not listed under `rules`. Mandatory unless the environment relaxes it."""
    rules: dict[RuleName, EnforcementLevel] = Field(default_factory=dict)
    """Per-rule levels, e.g. `training-in-vpc: disabled` where the environment has no VPC."""
    allowed_instance_types: list[InstanceType] = Field(default_factory=list)
    """SageMaker instance types endpoints and pipeline steps may use here (rule instance-type-allowlist)."""
