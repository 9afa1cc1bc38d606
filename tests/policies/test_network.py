"""policies/rules/network.py: network-isolated models; training and processing inside the VPC."""

from __future__ import annotations

import pytest

from policies.rules.network import model_network_isolation, training_in_vpc
from tests.policies.fixtures import changed, compliant_stack, messages, model, pipeline, processing_step, training_step


@pytest.mark.parametrize("rule", [model_network_isolation, training_in_vpc])
def test_a_compliant_stack_passes(rule: object) -> None:
    assert messages(rule, compliant_stack()) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [False, None])
def test_a_model_without_network_isolation_is_reported(value: object) -> None:
    broken = changed(model(), "enableNetworkIsolation", value=value)
    assert messages(model_network_isolation, [broken]) == [
        "prod-fraud-scoring-model: network isolation is off: a serverless endpoint cannot be network-isolated, so "
        "in the environment file serve the model on instances (remove its serving.serverless), or relax the rule "
        "under policies.rules"
    ]


def test_a_training_step_outside_the_vpc_is_reported() -> None:
    step = training_step()
    del step["Arguments"]["VpcConfig"]
    assert messages(training_in_vpc, [pipeline([step])]) == [
        "prod-fraud-scoring-training: step 'Train' runs outside the VPC: set VpcConfig with the environment's subnets "
        "and security groups (network: in the environment file)"
    ]


def test_a_processing_step_outside_the_vpc_is_reported() -> None:
    step = processing_step(NetworkConfig={"EnableNetworkIsolation": True})
    assert messages(training_in_vpc, [pipeline([step])]) == [
        "prod-fraud-scoring-training: step 'Evaluate' runs outside the VPC: set NetworkConfig.VpcConfig with the "
        "environment's subnets and security groups (network: in the environment file)"
    ]


def test_a_vpc_config_without_subnets_is_reported() -> None:
    step = training_step(VpcConfig={"SecurityGroupIds": ["sg-0f1e2d3c4b5a69701"], "Subnets": []})
    assert len(messages(training_in_vpc, [pipeline([step])])) == 1


def test_other_step_types_need_no_vpc() -> None:
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": "fraud-scoring"}}
    assert messages(training_in_vpc, [pipeline([register])]) == []
