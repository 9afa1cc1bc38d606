"""SageMaker serving: what each environment's endpoints are made of, read from the plan document."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.config import LoadedEnvironment, Model
from components.config.serving import AllAtOnce, Canary, Linear, Rolling, hosting_instance_types
from components.foundation import artifact_bucket_name
from mlp.cli import EXIT_OK, main
from mlp.plan import Plan, build_plan
from tests.conftest import ENVIRONMENTS, fixture_env, one_of, resources_of

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
SCHEDULED = "aws:appautoscaling/scheduledAction:ScheduledAction"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"

CASES = [(env, m.name) for env in ENVIRONMENTS for m in fixture_env(env).models if m.serving.platform == "sagemaker"]


def spec(env: str, model: str) -> tuple[LoadedEnvironment, Model]:
    loaded = fixture_env(env)
    return loaded, next(m for m in loaded.models if m.name == model)


def children(plan: Plan, model: str, type_: str) -> list[dict[str, Any]]:
    """Resources of a type inside the model's ModelEndpoint component."""
    component = one_of(plan, "mlplatform:serving:ModelEndpoint", model)
    return [r for r in resources_of(plan, type_) if r["parent"] == component["urn"]]


def env_key_arn(plan: Plan) -> str:
    encryption = one_of(plan, ENCRYPTION, f"{plan['stack']}-foundation-artifacts-encryption")
    return str(encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"])


def test_every_sagemaker_model_gets_one_endpoint_named_after_environment_and_model(plans: dict[str, Plan]) -> None:
    for env in ENVIRONMENTS:
        names = {r["name"]: r["inputs"]["name"] for r in resources_of(plans[env], ENDPOINT)}
        assert names == {
            f"{m.name}-endpoint": f"{env}-{m.name}"
            for m in fixture_env(env).models
            if m.serving.platform == "sagemaker"
        }


@pytest.mark.parametrize(("env", "model"), CASES)
def test_model_serves_the_pinned_package_isolated_and_in_the_environment_vpc(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    loaded, m = spec(env, model)
    primary = one_of(plans[env], MODEL, f"{model}-model")["inputs"]
    assert primary["primaryContainer"] == {
        "modelPackageName": loaded.registry.model_package_arn(m.registry_group, m.version)
    }
    # Serverless Inference has no network isolation (the plan warns); every instance endpoint is isolated.
    assert primary["enableNetworkIsolation"] is (m.serving.serverless is None)
    if loaded.network:
        assert primary["vpcConfig"] == {
            "subnets": loaded.network.subnet_ids,
            "securityGroupIds": loaded.network.security_group_ids,
        }
    else:
        assert "vpcConfig" not in primary
    role = one_of(plans[env], "aws:iam/role:Role", f"{model}-role")
    assert primary["executionRoleArn"] == f"arn:aws:iam::{loaded.account_id}:role/{role['inputs']['name']}"


def test_staging_and_prod_serve_from_the_dev_registry(plans: dict[str, Plan]) -> None:
    dev = fixture_env("dev")
    for env in ("staging", "prod"):
        package = one_of(plans[env], MODEL, "fraud-scoring-model")["inputs"]["primaryContainer"]["modelPackageName"]
        assert package.startswith(f"arn:aws:sagemaker:{dev.region}:{dev.account_id}:model-package/fraud-scoring/")


@pytest.mark.parametrize(("env", "model"), CASES)
def test_endpoint_config_variants_as_declared(plans: dict[str, Plan], env: str, model: str) -> None:
    _, m = spec(env, model)
    serving = m.serving
    config = one_of(plans[env], CONFIG, f"{model}-config")["inputs"]
    primary_model = one_of(plans[env], MODEL, f"{model}-model")["inputs"]["name"]
    [variant] = config["productionVariants"]
    assert variant["variantName"] == "primary"
    assert variant["modelName"] == primary_model
    if serving.serverless:
        assert variant["serverlessConfig"] == {
            "memorySizeInMb": serving.serverless.memory_mb,
            "maxConcurrency": serving.serverless.max_concurrency,
        }
        assert "instanceType" not in variant
    else:
        assert variant["instanceType"] == serving.instance_type
        assert variant["initialInstanceCount"] == serving.instance_count
        assert variant["instanceType"] in hosting_instance_types()
    if serving.shadow:
        [shadow] = config["shadowProductionVariants"]
        shadow_model = one_of(plans[env], MODEL, f"{model}-shadow-model")["inputs"]
        assert shadow["modelName"] == shadow_model["name"] != primary_model
        assert shadow_model["primaryContainer"]["modelPackageName"].endswith(f"/{serving.shadow.version}")
        assert shadow["initialVariantWeight"] == serving.shadow.mirror_percent / 100
        assert shadow["initialInstanceCount"] == serving.shadow.instance_count
    else:
        assert "shadowProductionVariants" not in config
        assert not children(plans[env], model, MODEL)[1:]


def test_prod_runs_a_shadow_challenger_and_dev_serves_cheaply() -> None:
    prod, dev = fixture_env("prod"), fixture_env("dev")
    assert any(m.serving.shadow for m in prod.models)
    for m in dev.models:
        assert isinstance(m.serving.rollout, AllAtOnce)
        assert m.serving.serverless is not None or m.serving.instance_count == 1
    assert any(m.serving.serverless for m in dev.models)
    rollouts = {m.name: m.serving.rollout.strategy for m in prod.models if m.serving.platform == "sagemaker"}
    assert rollouts == {"fraud-scoring": "canary", "transaction-anomaly": "linear"}
    staging = {m.name: m.serving.rollout for m in fixture_env("staging").models if m.serving.platform == "sagemaker"}
    assert {name: r.strategy for name, r in staging.items()} == rollouts


@pytest.mark.parametrize(("env", "model"), CASES)
def test_deployment_config_is_the_declared_rollout(plans: dict[str, Plan], env: str, model: str) -> None:
    _, m = spec(env, model)
    serving = m.serving
    rollout = serving.rollout
    deployment = one_of(plans[env], ENDPOINT, f"{model}-endpoint")["inputs"]["deploymentConfig"]
    timeout = serving.deployment_timeout_minutes
    if isinstance(rollout, Rolling):
        policy = deployment["rollingUpdatePolicy"]
        assert policy["maximumBatchSize"] == {"type": "CAPACITY_PERCENT", "value": rollout.batch_percent}
        assert policy["waitIntervalInSeconds"] == rollout.wait_minutes * 60
        assert "blueGreenUpdatePolicy" not in deployment
        return
    policy = deployment["blueGreenUpdatePolicy"]
    routing = policy["trafficRoutingConfiguration"]
    if isinstance(rollout, Canary):
        assert routing == {
            "type": "CANARY",
            "canarySize": {"type": "CAPACITY_PERCENT", "value": rollout.percent},
            "waitIntervalInSeconds": rollout.bake_minutes * 60,
        }
    elif isinstance(rollout, Linear):
        assert routing == {
            "type": "LINEAR",
            "linearStepSize": {"type": "CAPACITY_PERCENT", "value": rollout.step_percent},
            "waitIntervalInSeconds": rollout.interval_minutes * 60,
        }
    else:
        assert routing == {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": rollout.wait_minutes * 60}
    assert policy["terminationWaitInSeconds"] == serving.termination_wait_minutes * 60
    assert policy.get("maximumExecutionTimeoutInSeconds") == (timeout * 60 if timeout else None)


@pytest.mark.parametrize(("env", "model"), CASES)
def test_rollback_alarms_are_exactly_the_alarms_in_the_plan(plans: dict[str, Plan], env: str, model: str) -> None:
    _, m = spec(env, model)
    deployment = one_of(plans[env], ENDPOINT, f"{model}-endpoint")["inputs"]["deploymentConfig"]
    alarms = children(plans[env], model, ALARM)
    if m.serving.slos is None:
        assert alarms == []
        assert "autoRollbackConfiguration" not in deployment
        return
    rollback = [a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]]
    assert sorted(rollback) == sorted(a["inputs"]["name"] for a in alarms)
    assert len(rollback) == 2 + len(m.serving.slos.extra_alarms)
    # The endpoint depends on every alarm, so the alarms exist before a deployment watches them.
    endpoint = one_of(plans[env], ENDPOINT, f"{model}-endpoint")
    assert {a["urn"] for a in alarms} <= set(endpoint["dependencies"])


@pytest.mark.parametrize(("env", "model"), CASES)
def test_alarms_watch_the_endpoint_with_the_slo_thresholds(plans: dict[str, Plan], env: str, model: str) -> None:
    _, m = spec(env, model)
    slos = m.serving.slos
    if slos is None:
        assert children(plans[env], model, ALARM) == []
        return
    by_name = {a["name"].removeprefix(f"{model}-alarm-"): a["inputs"] for a in children(plans[env], model, ALARM)}
    dimensions = {"EndpointName": f"{env}-{model}", "VariantName": "primary"}
    latency = by_name["p99-latency"]
    assert (latency["namespace"], latency["metricName"], latency["extendedStatistic"]) == (
        "AWS/SageMaker",
        "ModelLatency",
        "p99",
    )
    assert latency["threshold"] == slos.p99_latency_ms * 1000  # ModelLatency is in microseconds
    errors = by_name["5xx-errors"]
    assert (errors["metricName"], errors["statistic"]) == ("Invocation5XXErrors", "Sum")
    assert errors["threshold"] == slos.max_5xx_errors_per_minute
    for alarm in (latency, errors):
        assert alarm["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm["dimensions"] == dimensions
        assert alarm["period"] == 60
        assert alarm["evaluationPeriods"] == alarm["datapointsToAlarm"] == slos.evaluation_minutes
    for extra in slos.extra_alarms:
        alarm = by_name[extra.name]
        assert (alarm["namespace"], alarm["metricName"], alarm["threshold"]) == (
            extra.namespace,
            extra.metric,
            extra.threshold,
        )
        assert alarm["dimensions"] == dimensions
        assert alarm["evaluationPeriods"] == extra.evaluation_minutes


def test_prod_fraud_scoring_rolls_back_on_four_alarms(plans: dict[str, Plan]) -> None:
    deployment = one_of(plans["prod"], ENDPOINT, "fraud-scoring-endpoint")["inputs"]["deploymentConfig"]
    assert [a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]] == [
        "prod-fraud-scoring-p99-latency",
        "prod-fraud-scoring-5xx-errors",
        "prod-fraud-scoring-invocation-4xx-errors",
        "prod-fraud-scoring-cpu",
    ]


@pytest.mark.parametrize(("env", "model"), CASES)
def test_kms_on_every_endpoint_config_and_capture_location(plans: dict[str, Plan], env: str, model: str) -> None:
    loaded, m = spec(env, model)
    plan = plans[env]
    key = env_key_arn(plan)
    config = one_of(plan, CONFIG, f"{model}-config")["inputs"]
    assert config["kmsKeyArn"] == key
    capture = m.serving.data_capture
    if capture is None:
        assert "dataCaptureConfig" not in config
        assert [r["name"] for r in children(plan, model, "aws:s3/bucket:Bucket")] == []
        return
    bucket = one_of(plan, "aws:s3/bucket:Bucket", f"{model}-capture")
    assert bucket["protect"] is loaded.protect_stateful_resources
    captured = config["dataCaptureConfig"]
    assert captured["enableCapture"] is True
    assert captured["initialSamplingPercentage"] == capture.sampling_percent
    assert captured["kmsKeyId"] == key
    assert captured["destinationS3Uri"] == f"s3://{bucket['inputs']['bucket']}/capture"
    assert sorted(o["captureMode"] for o in captured["captureOptions"]) == ["Input", "Output"]
    encryption = one_of(plan, ENCRYPTION, f"{model}-capture-encryption")["inputs"]["rules"][0]
    assert encryption["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key}
    [rule] = one_of(
        plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{model}-capture-expiry"
    )["inputs"]["rules"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"] == {"days": capture.retention_days}
    assert rule["filter"] == {"prefix": ""}
    block = one_of(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{model}-capture-public-access")
    assert all(block["inputs"][k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"))
    tls = json.loads(one_of(plan, "aws:s3/bucketPolicy:BucketPolicy", f"{model}-capture-tls-only")["inputs"]["policy"])
    assert tls["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_prod_and_staging_capture_data_dev_does_not(plans: dict[str, Plan]) -> None:
    for env, captures in (("dev", False), ("staging", True), ("prod", True)):
        configs = resources_of(plans[env], CONFIG)
        assert all(("dataCaptureConfig" in c["inputs"]) is captures for c in configs)


# Actions IAM accepts only on "*" (components/serving.py cites the Service Authorization Reference).
UNSCOPABLE = {
    "ecr:GetAuthorizationToken",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
}


@pytest.mark.parametrize(("env", "model"), CASES)
def test_execution_role_is_least_privilege(plans: dict[str, Plan], env: str, model: str) -> None:
    loaded, m = spec(env, model)
    plan = plans[env]
    trust = json.loads(one_of(plan, "aws:iam/role:Role", f"{model}-role")["inputs"]["assumeRolePolicy"])
    [assume] = trust["Statement"]
    assert assume["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert assume["Condition"] == {"StringEquals": {"aws:SourceAccount": loaded.account_id}}

    [role_policy] = children(plan, model, ROLE_POLICY)
    statements = {s["Sid"]: s for s in json.loads(role_policy["inputs"]["policy"])["Statement"]}
    for statement in statements.values():
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in statement["Action"]), statement
    # One statement on "*", holding only actions that have no resource types.
    on_star = [s for s in statements.values() if s["Resource"] == "*"]
    assert [s["Sid"] for s in on_star] == ["ActionsWithoutResourceTypes"]
    assert set(on_star[0]["Action"]) <= UNSCOPABLE
    for statement in statements.values():
        if statement["Resource"] != "*":
            assert all(r != "*" and not r.endswith(":*") for r in statement["Resource"]), statement

    registry = loaded.registry
    bucket = artifact_bucket_name(registry.environment, registry.account_id, registry.region)
    # The prefix the model's training pipeline writes its model artifacts to (components/artifacts.py).
    assert statements["ReadOwnModelArtifacts"]["Resource"] == [f"arn:aws:s3:::{bucket}/pipelines/{m.name}/models/*"]
    assert statements["ListOwnModelArtifacts"]["Condition"] == {
        "StringLike": {"s3:prefix": [f"pipelines/{m.name}/models/*"]}
    }
    versions = [m.version] + ([m.serving.shadow.version] if m.serving.shadow else [])
    assert statements["DescribeServedModelPackages"]["Resource"] == [
        registry.model_package_arn(m.registry_group, v) for v in versions
    ]
    assert statements["PullOwnImage"]["Resource"] == [
        f"arn:aws:ecr:{registry.region}:{registry.account_id}:repository/{m.registry_group}"
    ]
    assert statements["UseEnvironmentKey"]["Resource"] == [env_key_arn(plan)]
    assert statements["WriteOwnLogs"]["Resource"] == [
        f"arn:aws:logs:{loaded.region}:{loaded.account_id}:log-group:/aws/sagemaker/Endpoints/{env}-{model}*"
    ]
    if m.serving.data_capture:
        bucket_name = one_of(plan, "aws:s3/bucket:Bucket", f"{model}-capture")["inputs"]["bucket"]
        assert statements["WriteOwnCapture"]["Resource"] == [f"arn:aws:s3:::{bucket_name}/capture/*"]
    else:
        assert "WriteOwnCapture" not in statements
    if loaded.network:
        resources = statements["AttachToOwnSubnets"]["Resource"]
        assert {r.rsplit("/", 1)[1] for r in resources if ":subnet/" in r} == set(loaded.network.subnet_ids)
        assert "ec2:DescribeSubnets" in on_star[0]["Action"]
    else:
        assert "AttachToOwnSubnets" not in statements
        assert on_star[0]["Action"] == ["ecr:GetAuthorizationToken"]


@pytest.mark.parametrize(("env", "model"), CASES)
def test_autoscaling_bounds_and_scale_down_windows(plans: dict[str, Plan], env: str, model: str) -> None:
    _, m = spec(env, model)
    scaling = m.serving.autoscaling
    targets = children(plans[env], model, TARGET)
    if scaling is None:
        assert targets == []
        assert children(plans[env], model, SCHEDULED) == []
        return
    [target] = targets
    resource_id = f"endpoint/{env}-{model}/variant/primary"
    assert target["inputs"]["resourceId"] == resource_id
    assert target["inputs"]["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["inputs"]["minCapacity"], target["inputs"]["maxCapacity"]) == (
        scaling.min_capacity,
        scaling.max_capacity,
    )
    assert target["inputs"]["minCapacity"] <= m.serving.instance_count <= target["inputs"]["maxCapacity"]
    [policy] = children(plans[env], model, SCALING_POLICY)
    tracking = policy["inputs"]["targetTrackingScalingPolicyConfiguration"]
    assert policy["inputs"]["resourceId"] == resource_id
    assert tracking["predefinedMetricSpecification"] == {
        "predefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert tracking["targetValue"] == scaling.invocations_per_instance
    assert target["urn"] in policy["dependencies"]
    actions = {a["name"].removeprefix(f"{model}-"): a["inputs"] for a in children(plans[env], model, SCHEDULED)}
    assert len(actions) == 2 * len(scaling.scale_down_windows)
    for window in scaling.scale_down_windows:
        start, end = actions[f"{window.name}-start"], actions[f"{window.name}-end"]
        assert (start["schedule"], start["timezone"]) == (window.start, window.timezone)
        assert start["scalableTargetAction"] == {"minCapacity": window.min_capacity, "maxCapacity": window.max_capacity}
        assert end["schedule"] == window.end
        assert end["scalableTargetAction"] == {"minCapacity": scaling.min_capacity, "maxCapacity": scaling.max_capacity}
        assert start["resourceId"] == end["resourceId"] == resource_id


def test_scale_down_windows_in_dev_and_staging_only(plans: dict[str, Plan]) -> None:
    assert resources_of(plans["prod"], SCHEDULED) == []
    assert resources_of(plans["staging"], SCHEDULED)
    assert resources_of(plans["dev"], SCHEDULED)


def test_version_bump_replaces_model_and_config_and_updates_the_endpoint_in_place(
    plans: dict[str, Plan], edit_env: Callable[..., Path]
) -> None:
    def bump(data: Any) -> None:
        fraud = data["models"][0]
        fraud["version"] = 13
        fraud["serving"]["shadow"]["version"] = 14

    before = plans["prod"]
    after = build_plan("prod", edit_env("prod", bump))

    def named(plan: Plan, type_: str, name: str) -> dict[str, Any]:
        return one_of(plan, type_, name)

    for type_, name in (
        (MODEL, "fraud-scoring-model"),
        (CONFIG, "fraud-scoring-config"),
        (ENDPOINT, "fraud-scoring-endpoint"),
    ):
        # Same logical resource (URN): Pulumi replaces or updates it, never adds a second one.
        assert named(before, type_, name)["urn"] == named(after, type_, name)["urn"]
    old_model, new_model = (named(p, MODEL, "fraud-scoring-model")["inputs"]["name"] for p in (before, after))
    old_config, new_config = (named(p, CONFIG, "fraud-scoring-config")["inputs"]["name"] for p in (before, after))
    assert old_model.startswith("prod-fraud-scoring-v12-") and new_model.startswith("prod-fraud-scoring-v13-")
    assert old_config.startswith("prod-fraud-scoring-v12-") and new_config.startswith("prod-fraud-scoring-v13-")
    assert new_model != old_model and new_config != old_config
    # The endpoint keeps its name and now points at the new configuration: an in-place update, which is
    # what makes SageMaker run the canary.
    old_endpoint, new_endpoint = (named(p, ENDPOINT, "fraud-scoring-endpoint")["inputs"] for p in (before, after))
    assert old_endpoint["name"] == new_endpoint["name"] == "prod-fraud-scoring"
    assert (old_endpoint["endpointConfigName"], new_endpoint["endpointConfigName"]) == (old_config, new_config)
    assert old_endpoint["deploymentConfig"] == new_endpoint["deploymentConfig"]
    # The production variant keeps its name, as a blue/green update requires.
    variants = [named(p, CONFIG, "fraud-scoring-config")["inputs"]["productionVariants"][0] for p in (before, after)]
    assert variants[0]["variantName"] == variants[1]["variantName"] == "primary"
    assert variants[1]["modelName"] == new_model
    # The other model is untouched.
    for type_, name in ((MODEL, "transaction-anomaly-model"), (CONFIG, "transaction-anomaly-config")):
        assert named(before, type_, name)["inputs"]["name"] == named(after, type_, name)["inputs"]["name"]


def test_resizing_replaces_only_the_endpoint_config(plans: dict[str, Plan], edit_env: Callable[..., Path]) -> None:
    def resize(data: Any) -> None:
        data["models"][1]["serving"]["instance_count"] = 4

    after = build_plan("prod", edit_env("prod", resize))
    before = plans["prod"]
    model_names = [one_of(p, MODEL, "transaction-anomaly-model")["inputs"]["name"] for p in (before, after)]
    config_names = [one_of(p, CONFIG, "transaction-anomaly-config")["inputs"]["name"] for p in (before, after)]
    assert model_names[0] == model_names[1]
    assert config_names[0] != config_names[1]
    assert one_of(after, ENDPOINT, "transaction-anomaly-endpoint")["inputs"]["endpointConfigName"] == config_names[1]


def test_plan_is_warned_when_a_canary_is_the_whole_fleet(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def one_instance(data: Any) -> None:
        serving = data["models"][0]["serving"]
        serving["instance_count"] = 1
        serving["rollout"] = {"strategy": "canary", "percent": 10, "bake_minutes": 10}
        del serving["autoscaling"]
        data["monitoring_image_digest"] = PINNED  # no warning about the drift job's image

    root = edit_env("prod", one_instance)
    assert main(["plan", "prod", "--root", str(root)]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out.startswith("Plan for stack prod")
    assert captured.err.splitlines() == [
        "warning: fraud-scoring: canary of 10% of 1 instance(s) is the whole fleet: the canary step shifts all "
        "traffic at once; add instances or use all-at-once"
    ]
    assert build_plan("prod", root)["warnings"] == [captured.err.splitlines()[0].removeprefix("warning: ")]


PINNED = "sha256:" + "0" * 64


def test_linear_step_that_is_the_whole_fleet_is_warned(edit_env: Callable[..., Path]) -> None:
    def one_instance(data: Any) -> None:
        serving = data["models"][1]["serving"]
        serving["instance_count"] = 1
        serving["autoscaling"]["min_capacity"] = 1
        serving["rollout"]["step_percent"] = 50
        data["monitoring_image_digest"] = PINNED

    warnings = build_plan("prod", edit_env("prod", one_instance))["warnings"]
    assert warnings == [
        "transaction-anomaly: linear step of 50% of 1 instance(s) is the whole fleet: there is one step; "
        "add instances or use a canary"
    ]


def test_serverless_dev_endpoint_is_warned_about_network_isolation(plans: dict[str, Plan]) -> None:
    assert plans["dev"]["warnings"] == [
        "transaction-anomaly: serverless endpoints run without network isolation, which Serverless Inference does "
        "not support (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html); serve on "
        "instances where the model must have no network access"
    ]
    # (Their only warnings: no drift job image pinned yet, docs/observability.md.)
    for env in ("staging", "prod"):
        assert [w for w in plans[env]["warnings"] if "no drift job image pinned" not in w] == []


def test_changing_capture_retention_keeps_the_endpoint_config(
    plans: dict[str, Plan], edit_env: Callable[..., Path]
) -> None:
    def longer(data: Any) -> None:
        data["models"][0]["serving"]["data_capture"]["retention_days"] = 90

    after = build_plan("prod", edit_env("prod", longer))
    before = plans["prod"]
    names = [one_of(p, CONFIG, "fraud-scoring-config")["inputs"]["name"] for p in (before, after)]
    assert names[0] == names[1]
    expiry = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    assert one_of(after, expiry, "fraud-scoring-capture-expiry")["inputs"]["rules"][0]["expiration"] == {"days": 90}


@pytest.mark.parametrize(("env", "model"), CASES)
def test_cross_account_endpoints_may_decrypt_the_registry_artifacts_through_s3_only(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    loaded = fixture_env(env)
    policy = json.loads(one_of(plans[env], "aws:iam/rolePolicy:RolePolicy", f"{model}-role-policy")["inputs"]["policy"])
    grants = {s["Sid"]: s for s in policy["Statement"]}
    if loaded.hosts_registry:
        assert "DecryptRegistryArtifactsThroughS3" not in grants
        return
    registry = loaded.registry
    grant = grants["DecryptRegistryArtifactsThroughS3"]
    assert grant["Action"] == ["kms:Decrypt"]
    assert grant["Resource"] == [f"arn:aws:kms:{registry.region}:{registry.account_id}:key/*"]
    alias = one_of(plans[registry.environment], "aws:kms/alias:Alias")["inputs"]["name"]
    assert grant["Condition"]["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": [alias]}
    assert grant["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{registry.region}.amazonaws.com"}


@pytest.mark.parametrize(("env", "model"), CASES)
def test_role_may_describe_exactly_its_rollback_alarms(plans: dict[str, Plan], env: str, model: str) -> None:
    """SageMaker reads the rollback alarms with the execution role during a deployment."""
    loaded, m = spec(env, model)
    policy = json.loads(one_of(plans[env], "aws:iam/rolePolicy:RolePolicy", f"{model}-role-policy")["inputs"]["policy"])
    grants = {s["Sid"]: s for s in policy["Statement"]}
    endpoint = one_of(plans[env], ENDPOINT, f"{model}-endpoint")["inputs"]
    rollback = (endpoint.get("deploymentConfig") or {}).get("autoRollbackConfiguration") or {}
    names = sorted(a["alarmName"] for a in rollback.get("alarms", []))
    if not m.serving.slos:
        assert "ReadOwnRollbackAlarms" not in grants and names == []
        return
    arns = sorted(grants["ReadOwnRollbackAlarms"]["Resource"])
    assert grants["ReadOwnRollbackAlarms"]["Action"] == ["cloudwatch:DescribeAlarms"]
    assert arns == [f"arn:aws:cloudwatch:{loaded.region}:{loaded.account_id}:alarm:{n}" for n in names]
