"""Security: models run network-isolated; training and processing run inside the VPC where required.

Where VPC placement is required is configuration: the enforcement level of `training-in-vpc` in the
environment's `policies` section (disabled where the environment has no VPC).
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.rules.base import Resource, RuleConfig, dig, inputs, resource_rule
from policies.rules.pipelines import PIPELINE, pipeline_definition, steps

MODEL = "aws:sagemaker/model:Model"

# Where a step's request keeps its VPC settings (SageMaker API request shapes):
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html (VpcConfig)
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateProcessingJob.html (NetworkConfig.VpcConfig)
# (read 2026-11-25)
VPC_PATHS = {"Training": ("VpcConfig",), "Processing": ("NetworkConfig", "VpcConfig")}


@resource_rule(
    "model-network-isolation",
    "SageMaker models run with network isolation, so a container cannot call out.",
)
def model_network_isolation(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != MODEL or inputs(r).get("enableNetworkIsolation") is True:
        return []
    return [
        (
            "network isolation is off: a serverless endpoint cannot be network-isolated, so in the environment file "
            "serve the model on instances (remove its serving.serverless), or relax the rule under policies.rules"
        )
    ]


@resource_rule(
    "training-in-vpc",
    "Training and processing steps of SageMaker pipelines run in the environment's VPC subnets.",
)
def training_in_vpc(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != PIPELINE:
        return []
    definition = pipeline_definition(r)
    if definition is None:
        return []
    found = []
    for step in steps(definition):
        path = VPC_PATHS.get(str(step.get("Type")))
        if path is None:
            continue
        vpc = dig(step, "Arguments", *path)
        if not isinstance(vpc, Mapping) or not vpc.get("Subnets") or not vpc.get("SecurityGroupIds"):
            found.append(
                f"step {step.get('Name')!r} runs outside the VPC: set {'.'.join(path)} with the environment's "
                "subnets and security groups (network: in the environment file)"
            )
    return found


RULES = (model_network_isolation, training_in_vpc)
