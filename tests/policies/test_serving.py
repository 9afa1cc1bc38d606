"""policies/rules/serving.py: gradual rollouts with rollback alarms, data capture, pinned versions."""

from __future__ import annotations

import pytest

from policies.rules.base import KNOWN_AFTER_APPLY
from policies.rules.serving import endpoint_data_capture, endpoint_gradual_rollout, pinned_model_version
from tests.policies.fixtures import alarm, changed, compliant_stack, endpoint, endpoint_config, messages, model


@pytest.mark.parametrize("rule", [endpoint_gradual_rollout, endpoint_data_capture, pinned_model_version])
def test_a_compliant_stack_passes(rule: object) -> None:
    assert messages(rule, compliant_stack()) == []  # type: ignore[arg-type]


def test_linear_rollouts_pass() -> None:
    assert messages(endpoint_gradual_rollout, [alarm(), endpoint("LINEAR")]) == []


def test_an_all_at_once_rollout_is_reported() -> None:
    assert messages(endpoint_gradual_rollout, [alarm(), endpoint("ALL_AT_ONCE")]) == [
        "prod-fraud-scoring: traffic shifting is ALL_AT_ONCE: use a canary or linear blue/green rollout "
        "(serving.rollout in the environment file)"
    ]


def test_a_rolling_or_missing_deployment_config_is_reported() -> None:
    rolling = changed(endpoint(), "deploymentConfig", "blueGreenUpdatePolicy", delete=True)
    rolling["inputs"]["deploymentConfig"]["rollingUpdatePolicy"] = {
        "maximumBatchSize": {"type": "CAPACITY_PERCENT", "value": 25},
        "waitIntervalInSeconds": 300,
    }
    bare = changed(endpoint(), "deploymentConfig", delete=True)
    assert messages(endpoint_gradual_rollout, [alarm(), rolling]) == [
        "prod-fraud-scoring: traffic shifting is rolling: use a canary or linear blue/green rollout "
        "(serving.rollout in the environment file)"
    ]
    assert messages(endpoint_gradual_rollout, [alarm(), bare]) == [
        "prod-fraud-scoring: traffic shifting is none: use a canary or linear blue/green rollout "
        "(serving.rollout in the environment file)",
        "prod-fraud-scoring: no rollback alarm: add serving.slos (p99_latency_ms, max_5xx_errors_per_minute) to "
        "the model in the environment file; its alarms roll a bad deployment back",
    ]


def test_a_rollout_without_rollback_alarms_is_reported() -> None:
    assert messages(endpoint_gradual_rollout, [alarm(), endpoint(alarms=())]) == [
        "prod-fraud-scoring: no rollback alarm: add serving.slos (p99_latency_ms, max_5xx_errors_per_minute) to "
        "the model in the environment file; its alarms roll a bad deployment back"
    ]


def test_a_rollback_alarm_that_is_not_in_the_stack_is_reported() -> None:
    assert messages(endpoint_gradual_rollout, [alarm(), endpoint(alarms=("someone-elses-alarm",))]) == [
        "prod-fraud-scoring: rollback alarm 'someone-elses-alarm' is not a MetricAlarm of this stack: roll back on "
        "one it creates"
    ]


def test_an_alarm_name_known_after_apply_must_come_from_an_alarm_of_the_stack() -> None:
    a = alarm()
    late = endpoint(alarms=(KNOWN_AFTER_APPLY,))
    assert messages(endpoint_gradual_rollout, [a, late]) == [
        "prod-fraud-scoring: rollback alarm name is not from a MetricAlarm of this stack: use the alarm's name output"
    ]
    late["dependencies"] = [a["urn"]]
    assert messages(endpoint_gradual_rollout, [a, late]) == []


def test_no_endpoints_means_nothing_to_check() -> None:
    assert messages(endpoint_gradual_rollout, [alarm()]) == []


def test_an_endpoint_config_without_data_capture_is_reported() -> None:
    assert messages(endpoint_data_capture, [changed(endpoint_config(), "dataCaptureConfig", delete=True)]) == [
        "prod-fraud-scoring-config: no data capture: add serving.data_capture (sampling_percent) to the model in "
        "the environment file"
    ]


@pytest.mark.parametrize("value", [False, None])
def test_disabled_data_capture_is_reported(value: object) -> None:
    broken = changed(endpoint_config(), "dataCaptureConfig", "enableCapture", value=value)
    assert messages(endpoint_data_capture, [broken]) == [
        "prod-fraud-scoring-config: data capture is not enabled: add serving.data_capture to the model in the "
        "environment file"
    ]


def test_an_unpinned_model_package_is_reported() -> None:
    group_arn = "arn:aws:sagemaker:eu-west-1:418295730164:model-package-group/fraud-scoring"
    assert messages(pinned_model_version, [changed(model(), "containers", 0, "modelPackageName", value=group_arn)]) == [
        f"prod-fraud-scoring-model: model package {group_arn!r} is not pinned: end it with /<version> "
        "(models[].version)"
    ]


def test_a_container_serving_an_image_instead_of_a_package_is_reported() -> None:
    image = {"image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/xgb:1.7-1", "modelDataUrl": "s3://x/model.tar.gz"}
    assert messages(pinned_model_version, [changed(model(), "containers", value=[image])]) == [
        "prod-fraud-scoring-model: a container serves no model package: set model_package_name to a versioned "
        "package ARN"
    ]


def test_a_model_without_containers_is_reported() -> None:
    assert messages(pinned_model_version, [changed(model(), "containers", delete=True)]) == [
        "prod-fraud-scoring-model: no container: serve a model package version through containers[].model_package_name"
    ]


def test_the_primary_container_is_checked_too() -> None:
    primary = changed(model(), "containers", delete=True)
    primary["inputs"]["primaryContainer"] = {"modelPackageName": "arn:aws:sagemaker:eu-west-1:1:model-package/g/3"}
    assert messages(pinned_model_version, [primary]) == []
