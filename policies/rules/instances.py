"""FinOps: instance types come from the environment's allowlist (`policies.allowed_instance_types`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.rules.base import Resource, RuleConfig, dig, inputs, known, resource_rule
from policies.rules.pipelines import PIPELINE, pipeline_definition, resolve, steps

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
CONFIG_KEY = "allowedInstanceTypes"

# Where each step's request names its instance type (SageMaker API request shapes, see encryption.py).
STEP_INSTANCE_PATHS = {
    "Training": ("ResourceConfig", "InstanceType"),
    "Processing": ("ProcessingResources", "ClusterConfig", "InstanceType"),
    "Transform": ("TransformResources", "InstanceType"),
}


def instance_types(r: Resource) -> list[tuple[str, Any]]:
    """(where, instance type) of each fleet the resource starts."""
    found: list[tuple[str, Any]] = []
    if r.get("type") == ENDPOINT_CONFIG:
        for key in ("productionVariants", "shadowProductionVariants"):
            for v in inputs(r).get(key) or []:
                if isinstance(v, Mapping) and "instanceType" in v:
                    found.append((f"variant {v.get('variantName')!r}", v.get("instanceType")))
    elif r.get("type") == PIPELINE and (definition := pipeline_definition(r)) is not None:
        for step in steps(definition):
            path = STEP_INSTANCE_PATHS.get(str(step.get("Type")))
            if path is not None:
                # A parameterised type is checked at its default; a run that overrides it is not a deployment.
                found.append((f"step {step.get('Name')!r}", resolve(definition, dig(step, "Arguments", *path))))
    return found


@resource_rule(
    "instance-type-allowlist",
    "Endpoints and pipeline steps use instance types from the environment's allowlist.",
    config_schema={CONFIG_KEY: {"type": "array", "items": {"type": "string"}, "default": []}},
)
def instance_type_allowlist(r: Resource, config: RuleConfig) -> list[str]:
    allowed = [str(t) for t in config.get(CONFIG_KEY) or []]
    found = []
    for where, kind in instance_types(r):
        if isinstance(kind, str) and known(kind) and kind not in allowed:
            listed = ", ".join(allowed) or "none"
            found.append(
                f"{where} uses {kind}, not in this environment's allowlist ({listed}): pick an allowed type or add "
                "it to policies.allowed_instance_types"
            )
    return found


RULES = (instance_type_allowlist,)
