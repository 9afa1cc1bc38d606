"""Reliability: endpoints roll out gradually with alarm-driven rollback, capture data and serve pinned versions.

Which environments require each rule is configuration (the rule's enforcement level in the environment's
`policies` section), not the stack's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from policies.rules.base import (
    Resource,
    RuleConfig,
    StackFinding,
    dig,
    inputs,
    known,
    of_type,
    resource_rule,
    stack_rule,
)

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

# Blue/green traffic shifting modes of SageMaker deployment guardrails.
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html (read 2026-11-25)
GRADUAL = ("CANARY", "LINEAR")
# A versioned model package ARN ends with /<version>.
# https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-version.html (read 2026-11-25)
PINNED = re.compile(r"/\d+$")


@stack_rule(
    "endpoint-gradual-rollout",
    "SageMaker endpoints roll out by canary or linear traffic shifting with a rollback alarm of this stack.",
)
def endpoint_gradual_rollout(resources: Sequence[Resource], _config: RuleConfig) -> list[StackFinding]:
    found: list[StackFinding] = []
    alarms = of_type(resources, ALARM)
    alarm_names = {inputs(a).get("name") for a in alarms}
    alarm_urns = {a.get("urn") for a in alarms}
    for endpoint in of_type(resources, ENDPOINT):
        deployment = inputs(endpoint).get("deploymentConfig")
        mode = dig(deployment, "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type")
        if mode not in GRADUAL:
            shown = mode or ("rolling" if dig(deployment, "rollingUpdatePolicy") else "none")
            found.append(
                (
                    endpoint,
                    f"traffic shifting is {shown}: use a canary or linear blue/green rollout "
                    "(serving.rollout in the environment file)",
                )
            )
        names = [
            a.get("alarmName")
            for a in dig(deployment, "autoRollbackConfiguration", "alarms") or []
            if isinstance(a, Mapping)
        ]
        if not names:
            found.append(
                (
                    endpoint,
                    "no rollback alarm: add serving.slos (p99_latency_ms, max_5xx_errors_per_minute) to the model "
                    "in the environment file; its alarms roll a bad deployment back",
                )
            )
            continue
        for name in names:
            if known(name) and name not in alarm_names:
                found.append(
                    (
                        endpoint,
                        f"rollback alarm {name!r} is not a MetricAlarm of this stack: roll back on one it creates",
                    )
                )
            elif not known(name) and not alarm_urns & set(endpoint.get("dependencies") or []):
                found.append(
                    (
                        endpoint,
                        "rollback alarm name is not from a MetricAlarm of this stack: use the alarm's name output",
                    )
                )
    return found


@resource_rule(
    "endpoint-data-capture",
    "SageMaker endpoint configurations capture request and response payloads.",
)
def endpoint_data_capture(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != ENDPOINT_CONFIG:
        return []
    capture = inputs(r).get("dataCaptureConfig")
    if not isinstance(capture, Mapping):
        return ["no data capture: add serving.data_capture (sampling_percent) to the model in the environment file"]
    if capture.get("enableCapture") is not True:
        return ["data capture is not enabled: add serving.data_capture to the model in the environment file"]
    return []


@resource_rule(
    "pinned-model-version",
    "SageMaker models serve a pinned model-package version (a versioned model package ARN).",
)
def pinned_model_version(r: Resource, _config: RuleConfig) -> list[str]:
    if r.get("type") != MODEL:
        return []
    containers = [c for c in inputs(r).get("containers") or [] if isinstance(c, Mapping)]
    primary = inputs(r).get("primaryContainer")
    if isinstance(primary, Mapping):
        containers.append(primary)
    if not containers:
        return ["no container: serve a model package version through containers[].model_package_name"]
    found = []
    for c in containers:
        package = c.get("modelPackageName")
        if not isinstance(package, str) or not package:
            found.append("a container serves no model package: set model_package_name to a versioned package ARN")
        elif known(package) and not PINNED.search(package):
            found.append(f"model package {package!r} is not pinned: end it with /<version> (models[].version)")
    return found


RULES = (endpoint_gradual_rollout, endpoint_data_capture, pinned_model_version)
