"""Reading a SageMaker pipeline definition (the JSON the sagemaker SDK produces) for the rules.

Steps are listed under `Steps`, each with `Name`, `Type` and `Arguments` (the API request of the job it
starts); a Condition step nests further steps under Arguments.IfSteps/ElseSteps (the pipeline definition JSON
schema, linked from https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines-sdk.html, read 2026-11-25).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.rules.base import Resource, RuleConfig, inputs, known, parse_json_document, resource_rule

PIPELINE = "aws:sagemaker/pipeline:Pipeline"


def pipeline_definition(r: Resource) -> Mapping[str, Any] | None:
    """The pipeline's inline definition, or None when it is unknown until apply or not inline."""
    return parse_json_document(inputs(r).get("pipelineDefinition"))


def steps(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every step, including those nested in Condition steps."""
    found: list[Mapping[str, Any]] = []
    pending = list(definition.get("Steps") or [])
    while pending:
        step = pending.pop(0)
        if not isinstance(step, Mapping):
            continue
        found.append(step)
        args = step.get("Arguments")
        if isinstance(args, Mapping):
            pending += list(args.get("IfSteps") or []) + list(args.get("ElseSteps") or [])
    return found


def resolve(definition: Mapping[str, Any], value: Any) -> Any:
    """A step argument with a pipeline parameter reference (`{"Get": "Parameters.X"}`) replaced by the
    parameter's default value — what a run gets unless it overrides the parameter."""
    if not isinstance(value, Mapping) or not str(value.get("Get", "")).startswith("Parameters."):
        return value
    name = str(value["Get"]).removeprefix("Parameters.")
    for parameter in definition.get("Parameters") or []:
        if isinstance(parameter, Mapping) and parameter.get("Name") == name:
            return parameter.get("DefaultValue")
    return None


@resource_rule(
    "pipeline-definition-inline",
    "SageMaker pipelines carry their definition inline so policies can check encryption and networking.",
)
def pipeline_definition_inline(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != PIPELINE:
        return []
    value = inputs(r).get("pipelineDefinition")
    if value is not None and not known(value):
        return []
    if pipeline_definition(r) is None:
        return [
            "the pipeline definition is not inline JSON: pass pipeline_definition=<definition JSON> instead of "
            "an S3 location, so encryption and VPC rules can read it"
        ]
    return []


RULES = (pipeline_definition_inline,)
