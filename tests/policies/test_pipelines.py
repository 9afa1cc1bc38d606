"""policies/rules/pipelines.py: pipeline definitions are inline so the other rules can read them."""

from __future__ import annotations

from policies.rules.base import KNOWN_AFTER_APPLY
from policies.rules.pipelines import pipeline_definition_inline, resolve, steps
from tests.policies.fixtures import changed, compliant_stack, messages, pipeline, processing_step, training_step


def test_a_compliant_stack_passes() -> None:
    assert messages(pipeline_definition_inline, compliant_stack()) == []


def test_a_definition_in_s3_is_reported() -> None:
    broken = changed(pipeline(), "pipelineDefinition", delete=True)
    broken["inputs"]["pipelineDefinitionS3Location"] = {"bucket": "mlp-prod-artifacts", "objectKey": "pipeline.json"}
    assert messages(pipeline_definition_inline, [broken]) == [
        "prod-fraud-scoring-training: the pipeline definition is not inline JSON: pass pipeline_definition=<definition "
        "JSON> instead of an S3 location, so encryption and VPC rules can read it"
    ]


def test_a_definition_that_is_not_json_is_reported() -> None:
    assert len(messages(pipeline_definition_inline, [changed(pipeline(), "pipelineDefinition", value="{oops")])) == 1


def test_a_definition_known_only_after_apply_is_not_judged() -> None:
    assert (
        messages(pipeline_definition_inline, [changed(pipeline(), "pipelineDefinition", value=KNOWN_AFTER_APPLY)]) == []
    )


def test_steps_include_condition_branches() -> None:
    train, evaluate = training_step(), processing_step()
    gate = {"Name": "Gate", "Type": "Condition", "Arguments": {"IfSteps": [train], "ElseSteps": [evaluate]}}
    assert [s["Name"] for s in steps({"Steps": [gate]})] == ["Gate", "Train", "Evaluate"]


def test_parameter_references_resolve_to_their_defaults() -> None:
    definition = {"Parameters": [{"Name": "Kms", "Type": "String", "DefaultValue": "arn:aws:kms:k"}]}
    assert resolve(definition, {"Get": "Parameters.Kms"}) == "arn:aws:kms:k"
    assert resolve(definition, {"Get": "Parameters.Missing"}) is None
    assert resolve(definition, {"Get": "Steps.Train.ModelArtifacts"}) == {"Get": "Steps.Train.ModelArtifacts"}
    assert resolve(definition, "ml.m5.xlarge") == "ml.m5.xlarge"
