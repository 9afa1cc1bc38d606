"""policies/rules/instances.py: instance types from the environment's allowlist."""

from __future__ import annotations

import json

from policies.rules.instances import instance_type_allowlist
from tests.policies.fixtures import (
    ALLOWED,
    compliant_stack,
    endpoint_config,
    messages,
    pipeline,
    processing_step,
    training_step,
)


def test_a_compliant_stack_passes() -> None:
    assert messages(instance_type_allowlist, compliant_stack(), ALLOWED) == []


def test_an_endpoint_variant_outside_the_allowlist_is_reported() -> None:
    assert messages(instance_type_allowlist, [endpoint_config("ml.p4d.24xlarge")], ALLOWED) == [
        "prod-fraud-scoring-config: variant 'AllTraffic' uses ml.p4d.24xlarge, not in this environment's allowlist "
        "(ml.c5.2xlarge, ml.m5.xlarge, ml.m5.4xlarge): pick an allowed type or add it to "
        "policies.allowed_instance_types"
    ]


def test_a_shadow_variant_is_checked_too() -> None:
    config = endpoint_config()
    config["inputs"]["shadowProductionVariants"] = [
        {"variantName": "Shadow", "modelName": "m", "initialInstanceCount": 1, "instanceType": "ml.g5.xlarge"}
    ]
    assert [m.split(" uses ")[1].split(",")[0] for m in messages(instance_type_allowlist, [config], ALLOWED)] == [
        "ml.g5.xlarge"
    ]


def test_pipeline_training_and_processing_instances_are_checked() -> None:
    train = training_step(ResourceConfig={"InstanceType": "ml.p3.16xlarge", "InstanceCount": 1, "VolumeKmsKeyId": "k"})
    evaluate = processing_step(
        ProcessingResources={"ClusterConfig": {"InstanceType": "ml.r5.24xlarge", "InstanceCount": 1}}
    )
    found = messages(instance_type_allowlist, [pipeline([evaluate, train])], ALLOWED)
    assert [m.split(": ")[1].split(",")[0] for m in found] == [
        "step 'Evaluate' uses ml.r5.24xlarge",
        "step 'Train' uses ml.p3.16xlarge",
    ]


def test_without_an_allowlist_nothing_is_allowed() -> None:
    assert messages(instance_type_allowlist, [endpoint_config("ml.m5.large")], {}) == [
        "prod-fraud-scoring-config: variant 'AllTraffic' uses ml.m5.large, not in this environment's allowlist "
        "(none): pick an allowed type or add it to policies.allowed_instance_types"
    ]


def test_a_parameterised_instance_type_is_checked_at_its_default() -> None:
    train = training_step(
        ResourceConfig={"InstanceType": {"Get": "Parameters.TrainingInstanceType"}, "InstanceCount": 1}
    )
    resource = pipeline([train])
    definition = json.loads(resource["inputs"]["pipelineDefinition"])
    definition["Parameters"] = [{"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.p3.2xlarge"}]
    resource["inputs"]["pipelineDefinition"] = json.dumps(definition)
    assert [m.split(", not in")[0] for m in messages(instance_type_allowlist, [resource], ALLOWED)] == [
        "prod-fraud-scoring-training: step 'Train' uses ml.p3.2xlarge"
    ]
