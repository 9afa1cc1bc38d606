"""TrainingPipeline: the SDK-built definition per environment, its determinism without network, what
moto's SageMaker accepts, the execution role's scope and the schedule."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components.artifacts import baselines_prefix, model_artifacts_prefix
from components.composition import training_pipeline_args
from components.config import LoadedEnvironment, Model, Training
from components.data_root import repo_root
from components.pipeline_definition import (
    BASELINE_STEP,
    CHECK_STEP,
    EVALUATE_STEP,
    FAIL_STEP,
    PREPARE_STEP,
    REGISTER_STEP,
    TRAIN_STEP,
    build_definition,
)
from components.pipelines import definition_spec
from components.sdk_images import builtin_image_uri, model_monitor_image_uri
from mlp.plan import Plan
from tests.conftest import ENVIRONMENTS, fixture_env, one_of, resources_of
from tests.mlp.test_plan_errors import plan_errors

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ENV_MODELS = [(env, model.name) for env in ENVIRONMENTS for model in fixture_env(env).models if model.training]


def _model(env: LoadedEnvironment, name: str) -> tuple[Model, Training]:
    model = next(m for m in env.models if m.name == name)
    assert model.training is not None
    return model, model.training


def _training(plan: Plan, type_: str) -> list[dict[str, Any]]:
    """Resources of a type inside training pipelines (batch and feature pipelines are tested elsewhere)."""
    return [r for r in resources_of(plan, type_) if "mlplatform:pipelines:TrainingPipeline" in r["urn"]]


def _pipeline(plan: Plan, model: str) -> dict[str, Any]:
    found = [r for r in _training(plan, PIPELINE) if r["inputs"]["tags"]["model"] == model]
    assert len(found) == 1
    return found[0]


def _definition(plan: Plan, model: str) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(_pipeline(plan, model)["inputs"]["pipelineDefinition"])
    return definition


def _steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    steps = {s["Name"]: s for s in definition["Steps"]}
    check = steps[CHECK_STEP]["Arguments"]
    steps.update({s["Name"]: s for s in check["IfSteps"] + check["ElseSteps"]})
    return steps


def _foundation(plan: Plan) -> tuple[str, str, str]:
    """bucket name, bucket ARN and key ARN as planned."""
    bucket = one_of(plan, "aws:s3/bucket:Bucket", f"{plan['stack']}-foundation-artifacts")["inputs"]["bucket"]
    encryption = one_of(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        f"{plan['stack']}-foundation-artifacts-encryption",
    )
    key_arn = encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    return bucket, f"arn:aws:s3:::{bucket}", key_arn


def test_every_model_with_training_settings_gets_a_pipeline(plans: dict[str, Plan]) -> None:
    for env in ENVIRONMENTS:
        expected = sorted(m.name for m in fixture_env(env).models if m.training)
        assert expected, "the example environments train every example model"
        assert sorted(r["inputs"]["tags"]["model"] for r in _training(plans[env], PIPELINE)) == expected


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_steps_run_prepare_train_evaluate_then_gate(plans: dict[str, Plan], env: str, model: str) -> None:
    definition = _definition(plans[env], model)
    assert [(s["Name"], s["Type"]) for s in definition["Steps"]] == [
        (PREPARE_STEP, "Processing"),
        (BASELINE_STEP, "QualityCheck"),
        (TRAIN_STEP, "Training"),
        (EVALUATE_STEP, "Processing"),
        (CHECK_STEP, "Condition"),
    ]
    check = definition["Steps"][4]["Arguments"]
    assert [(s["Name"], s["Type"]) for s in check["IfSteps"]] == [(REGISTER_STEP, "RegisterModel")]
    assert [(s["Name"], s["Type"]) for s in check["ElseSteps"]] == [(FAIL_STEP, "Fail")]
    steps = _steps(definition)
    # Data flows through step properties, which is what orders the steps at run time.
    train_inputs = steps[TRAIN_STEP]["Arguments"]["InputDataConfig"]
    assert [c["DataSource"]["S3DataSource"]["S3Uri"]["Get"] for c in train_inputs] == [
        f"Steps.{PREPARE_STEP}.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri",
        f"Steps.{PREPARE_STEP}.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri",
    ]
    evaluate_inputs = {
        i["InputName"]: i["S3Input"]["S3Uri"] for i in steps[EVALUATE_STEP]["Arguments"]["ProcessingInputs"]
    }
    assert evaluate_inputs["model"] == {"Get": f"Steps.{TRAIN_STEP}.ModelArtifacts.S3ModelArtifacts"}


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_parameters_default_to_the_environment_file(plans: dict[str, Plan], env: str, model: str) -> None:
    spec = fixture_env(env)
    _, training = _model(spec, model)
    bucket, _, _ = _foundation(plans[env])
    definition = _definition(plans[env], model)
    assert {p["Name"]: (p["Type"], p["DefaultValue"]) for p in definition["Parameters"]} == {
        "ProcessingInstanceType": ("String", training.processing_instance_type),
        "TrainingInstanceType": ("String", training.instance_type),
        "InputData": ("String", f"s3://{bucket}/datasets/{model}/"),
    }
    steps = _steps(definition)
    train = steps[TRAIN_STEP]["Arguments"]["ResourceConfig"]
    assert train["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert train["InstanceCount"] == training.instance_count
    for step in (PREPARE_STEP, BASELINE_STEP, EVALUATE_STEP):
        cluster = steps[step]["Arguments"]["ProcessingResources"]["ClusterConfig"]
        assert cluster["InstanceType"] == {"Get": "Parameters.ProcessingInstanceType"}
    raw = steps[PREPARE_STEP]["Arguments"]["ProcessingInputs"][0]
    assert raw["InputName"] == "raw" and raw["S3Input"]["S3Uri"] == {"Get": "Parameters.InputData"}


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_training_runs_on_spot_with_checkpoints_and_a_max_wait(plans: dict[str, Plan], env: str, model: str) -> None:
    _, training = _model(fixture_env(env), model)
    bucket, _, _ = _foundation(plans[env])
    train = _steps(_definition(plans[env], model))[TRAIN_STEP]["Arguments"]
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"] == {
        "MaxRuntimeInSeconds": training.max_runtime_minutes * 60,
        "MaxWaitTimeInSeconds": training.max_wait_minutes * 60,
    }
    assert train["StoppingCondition"]["MaxWaitTimeInSeconds"] >= train["StoppingCondition"]["MaxRuntimeInSeconds"]
    assert train["CheckpointConfig"]["S3Uri"] == f"s3://{bucket}/pipelines/{model}/checkpoints"


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_volumes_and_outputs_are_encrypted_with_the_environment_key(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    bucket, _, key_arn = _foundation(plans[env])
    steps = _steps(_definition(plans[env], model))
    train = steps[TRAIN_STEP]["Arguments"]
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == key_arn
    assert train["OutputDataConfig"] == {
        "S3OutputPath": f"s3://{bucket}/pipelines/{model}/models",
        "KmsKeyId": key_arn,
        "CompressionType": "GZIP",
    }
    for step in (PREPARE_STEP, EVALUATE_STEP):
        args = steps[step]["Arguments"]
        assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key_arn
        assert args["ProcessingOutputConfig"]["KmsKeyId"] == key_arn
        for output in args["ProcessingOutputConfig"]["Outputs"]:
            # Under the model's prefix: its outputs, or (the reference data) its baselines folder.
            assert output["S3Output"]["S3Uri"]["Std:Join"]["Values"][0] in (
                f"s3://{bucket}/pipelines/{model}",
                f"s3://{bucket}/pipelines/{model}/baselines",
            )


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_data_quality_baseline_of_the_training_features_is_registered_with_each_version(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    spec = fixture_env(env)
    _, training = _model(spec, model)
    bucket, _, key_arn = _foundation(plans[env])
    steps = _steps(_definition(plans[env], model))
    baseline = steps[BASELINE_STEP]
    # A first baseline: computed from this execution's features and registered, compared with nothing.
    assert (baseline["CheckType"], baseline["SkipCheck"], baseline["RegisterNewBaseline"]) == (
        "DATA_QUALITY",
        True,
        True,
    )
    args = baseline["Arguments"]
    # It reads exactly the prepared training features (which orders it after PrepareFeatures) ...
    assert [(i["InputName"], i["S3Input"]["S3Uri"]) for i in args["ProcessingInputs"]] == [
        (
            "baseline_dataset_input",
            {"Get": f"Steps.{PREPARE_STEP}.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
        )
    ]
    # ... runs in parallel with training (nothing of Train's is an input) ...
    assert "Train" not in json.dumps(args) and "DependsOn" not in baseline
    # ... with the Model Monitor analyzer image of the region, the pipeline's role and instance parameter ...
    assert args["AppSpecification"]["ImageUri"] == model_monitor_image_uri(spec.region)
    assert args["AppSpecification"]["ImageUri"].endswith(".amazonaws.com/sagemaker-model-monitor-analyzer")
    assert args["RoleArn"] == _pipeline(plans[env], model)["inputs"]["roleArn"]
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": training.max_runtime_minutes * 60}
    # ... encrypted with the environment key, volume and output ...
    assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key_arn
    assert args["ProcessingOutputConfig"]["KmsKeyId"] == key_arn
    # ... and writes one folder per execution under the model's baselines prefix.
    [output] = args["ProcessingOutputConfig"]["Outputs"]
    assert baselines_prefix(model) == f"pipelines/{model}/baselines/"
    assert output["S3Output"]["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                f"s3://{bucket}/pipelines/{model}/baselines",
                {"Get": "Execution.PipelineExecutionId"},
                "data-quality",
            ],
        }
    }
    # The registered version carries the statistics and constraints that step calculated, as its drift
    # check baseline and in its model metrics (next to the evaluation report).
    calculated = {
        "Statistics": {
            "ContentType": "application/json",
            "S3Uri": {"Get": f"Steps.{BASELINE_STEP}.CalculatedBaselineStatistics"},
        },
        "Constraints": {
            "ContentType": "application/json",
            "S3Uri": {"Get": f"Steps.{BASELINE_STEP}.CalculatedBaselineConstraints"},
        },
    }
    register = steps[REGISTER_STEP]["Arguments"]
    assert register["DriftCheckBaselines"] == {"ModelDataQuality": calculated}
    assert register["ModelMetrics"]["ModelDataQuality"] == calculated


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_network_isolation_and_vpc_come_from_the_environment(plans: dict[str, Plan], env: str, model: str) -> None:
    network = fixture_env(env).network
    steps = _steps(_definition(plans[env], model))
    train = steps[TRAIN_STEP]["Arguments"]
    assert train["EnableNetworkIsolation"] is True
    vpc = {"SecurityGroupIds": network.security_group_ids, "Subnets": network.subnet_ids} if network else None
    assert train.get("VpcConfig") == vpc
    for step in (PREPARE_STEP, BASELINE_STEP, EVALUATE_STEP):
        config = steps[step]["Arguments"]["NetworkConfig"]
        assert config["EnableNetworkIsolation"] is True
        assert config.get("VpcConfig") == vpc


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_condition_gates_registration_on_the_threshold(plans: dict[str, Plan], env: str, model: str) -> None:
    spec = fixture_env(env)
    model_spec, training = _model(spec, model)
    steps = _steps(_definition(plans[env], model))
    evaluate = steps[EVALUATE_STEP]
    assert evaluate["PropertyFiles"] == [
        {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}
    ]
    [condition] = steps[CHECK_STEP]["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["RightValue"] == training.metric.minimum
    assert condition["LeftValue"] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": f"Steps.{EVALUATE_STEP}.PropertyFiles.EvaluationReport"},
            "Path": f"metrics.{training.metric.name}.value",
        }
    }
    register = steps[REGISTER_STEP]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    group_arn = spec.registry.model_package_group_arn(model_spec.registry_group)
    # The hosting environment registers by name; the others into dev's group, by its ARN.
    assert register["ModelPackageGroupName"] == (model_spec.registry_group if spec.hosts_registry else group_arn)
    statistics = register["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    assert statistics["S3Uri"]["Std:Join"]["Values"] == [
        {"Get": f"Steps.{EVALUATE_STEP}.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
        "evaluation.json",
    ]
    assert register["CustomerMetadataProperties"]["trained-in"] == env
    assert register["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == {
        "Get": f"Steps.{TRAIN_STEP}.ModelArtifacts.S3ModelArtifacts"
    }
    message = steps[FAIL_STEP]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert message[0] == f"{training.metric.name} is below the threshold {training.metric.minimum}: got"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_default_images_are_the_sdk_built_in_images_of_the_region(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    for model in (m for m in spec.models if m.training is not None):
        assert model.training is not None and model.training.image is None
        steps = _steps(_definition(plans[env], model.name))
        xgboost = steps[TRAIN_STEP]["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
        sklearn = steps[PREPARE_STEP]["Arguments"]["AppSpecification"]["ImageUri"]
        assert xgboost == builtin_image_uri("xgboost", model.training.xgboost_version, spec.region)
        assert sklearn == builtin_image_uri("sklearn", model.training.sklearn_version, spec.region)


def test_built_in_image_uris_agree_with_the_sdk() -> None:
    """Our reader of the SDK's bundled image config gives what the SDK's own image_uris.retrieve gives."""
    from sagemaker.core import image_uris

    for region in ("eu-west-1", "us-east-1", "ap-southeast-2"):
        assert builtin_image_uri("xgboost", "1.7-1", region) == image_uris.retrieve(
            "xgboost", region=region, version="1.7-1"
        )
        assert builtin_image_uri("sklearn", "1.2-1", region) == image_uris.retrieve(
            "sklearn", region=region, version="1.2-1", instance_type="ml.m5.large"
        )


def _spec_of(plans: dict[str, Plan], env: str, model: str) -> Any:
    """The DefinitionSpec the plan built from, rebuilt from the plan's values."""
    spec = fixture_env(env)
    model_spec, training = _model(spec, model)
    bucket, bucket_arn, key_arn = _foundation(plans[env])
    pipeline = _pipeline(plans[env], model)
    args = training_pipeline_args(
        spec, model_spec, training, bucket_name=bucket, bucket_arn=bucket_arn, kms_key_arn=key_arn
    )
    return definition_spec(args, pipeline["inputs"]["pipelineName"], pipeline["inputs"]["roleArn"], bucket, key_arn)


def test_definition_is_byte_identical_when_rebuilt(plans: dict[str, Plan]) -> None:
    spec = _spec_of(plans, "prod", "fraud-scoring")
    build_definition.cache_clear()
    first = build_definition(spec)
    build_definition.cache_clear()
    assert build_definition(spec) == first == _pipeline(plans["prod"], "fraud-scoring")["inputs"]["pipelineDefinition"]


# Sockets and botocore refuse to send: a build that tried to reach AWS fails.
NO_NETWORK = textwrap.dedent(
    """
    import json, socket, sys
    import botocore.endpoint

    def refuse(*args, **kwargs):
        raise RuntimeError("network access while building a pipeline definition")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    botocore.endpoint.Endpoint._send = refuse
    botocore.endpoint.Endpoint.make_request = refuse
    """
)

NO_NETWORK_BUILD = NO_NETWORK + textwrap.dedent(
    """
    from components.pipeline_definition import DefinitionSpec, build_definition

    values = json.load(sys.stdin)
    for name in ("subnet_ids", "security_group_ids"):
        values[name] = tuple(values[name])
    values["hyperparameters"] = tuple(tuple(kv) for kv in values["hyperparameters"])
    sys.stdout.write(build_definition(DefinitionSpec(**values)))
    """
)


def build_in_a_bare_process(script: str, spec: Any, **extra_env: str) -> str:
    """What `script` (reading `spec` as JSON on stdin) writes, run in a fresh interpreter with no AWS
    settings or credentials; the process must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(dataclasses.asdict(spec)),
        capture_output=True,
        text=True,
        cwd=repo_root(),
        env=env | extra_env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_definition_builds_without_network_credentials_or_region(plans: dict[str, Plan]) -> None:
    """A fresh process with sockets and botocore refusing to send, and no AWS settings at all, builds
    the same bytes as the plan: importing the SDK and building make no AWS call and depend on nothing
    of the machine's."""
    spec = _spec_of(plans, "staging", "fraud-scoring")
    built = build_in_a_bare_process(NO_NETWORK_BUILD, spec)
    assert built == _pipeline(plans["staging"], "fraud-scoring")["inputs"]["pipelineDefinition"]


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_moto_accepts_the_pipeline_its_role_and_runs_with_its_parameters(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    resources = {r["urn"]: r for r in plans[env]["resources"]}
    pipeline = _pipeline(plans[env], model)
    role = next(resources[u] for u in pipeline["dependencies"] if resources[u]["type"] == "aws:iam/role:Role")
    policy = next(resources[u] for u in pipeline["dependencies"] if resources[u]["type"] == ROLE_POLICY)
    definition = pipeline["inputs"]["pipelineDefinition"]
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        created = iam.create_role(
            RoleName=role["inputs"]["name"], AssumeRolePolicyDocument=role["inputs"]["assumeRolePolicy"]
        )
        assert created["Role"]["Arn"] == pipeline["inputs"]["roleArn"].replace(
            fixture_env(env).account_id, "123456789012"
        )
        # moto validates the policy grammar (version, actions as service:Action, ARNs).
        iam.put_role_policy(
            RoleName=role["inputs"]["name"],
            PolicyName=policy["inputs"]["name"],
            PolicyDocument=policy["inputs"]["policy"],
        )
        sagemaker = boto3.client("sagemaker", region_name=fixture_env(env).region)
        sagemaker.create_pipeline(
            PipelineName=pipeline["inputs"]["pipelineName"],
            PipelineDefinition=definition,
            RoleArn=created["Role"]["Arn"],
        )
        described = sagemaker.describe_pipeline(PipelineName=pipeline["inputs"]["pipelineName"])
        assert described["PipelineDefinition"] == definition
        run = sagemaker.start_pipeline_execution(
            PipelineName=pipeline["inputs"]["pipelineName"],
            PipelineParameters=[{"Name": "TrainingInstanceType", "Value": "ml.m5.2xlarge"}],
        )
        parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=run["PipelineExecutionArn"])
        assert parameters["PipelineParameters"] == [{"Name": "TrainingInstanceType", "Value": "ml.m5.2xlarge"}]
    # Every overridable parameter name the scheduler or a person may pass exists in the definition.
    assert {"TrainingInstanceType"} <= {p["Name"] for p in json.loads(definition)["Parameters"]}


# Actions that accept no resource but "*" (Service Authorization Reference, read 2026-11-25).
UNSCOPABLE = {
    "ecr:GetAuthorizationToken",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeDhcpOptions",
}


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_execution_role_is_least_privilege(plans: dict[str, Plan], env: str, model: str) -> None:
    spec = fixture_env(env)
    model_spec, _ = _model(spec, model)
    _, bucket_arn, key_arn = _foundation(plans[env])
    pipeline = _pipeline(plans[env], model)
    resources = {r["urn"]: r for r in plans[env]["resources"]}
    policy_resource = next(resources[u] for u in pipeline["dependencies"] if resources[u]["type"] == ROLE_POLICY)
    statements = json.loads(policy_resource["inputs"]["policy"])["Statement"]
    group_arn = spec.registry.model_package_group_arn(model_spec.registry_group)
    sagemaker_prefix = f"arn:aws:sagemaker:{spec.region}:{spec.account_id}:"
    allowed_prefixes = (
        f"{bucket_arn}/datasets/{model}/",
        f"{bucket_arn}/code/{model}/",
        f"{bucket_arn}/pipelines/{model}/",
        f"{bucket_arn}/mlflow/",  # the tracking server's artifact store, where the registries live
    )
    role_arn = pipeline["inputs"]["roleArn"]
    versions_arn = group_arn.replace(":model-package-group/", ":model-package/") + "/"
    # Per service: which resources its actions may name.
    scoped: dict[str, Callable[[str, str], bool]] = {
        "s3": lambda a, t: t == bucket_arn or t.startswith(allowed_prefixes),
        "kms": lambda a, t: t == key_arn,
        "sagemaker": lambda a, t: (
            t == group_arn
            or t.startswith((versions_arn, f"{sagemaker_prefix}processing-job/", f"{sagemaker_prefix}training-job/"))
        ),
        "iam": lambda a, t: a == "iam:PassRole" and t == role_arn,
        "ecr": lambda a, t: t.startswith("arn:aws:ecr:") and ":repository/sagemaker-" in t,
        "logs": lambda a, t: t.startswith(f"arn:aws:logs:{spec.region}:{spec.account_id}:log-group:/aws/sagemaker/"),
        "ec2": lambda a, t: spec.network is not None and t.startswith(f"arn:aws:ec2:{spec.region}:{spec.account_id}:"),
        "sagemaker-mlflow": lambda a, t: t == f"{sagemaker_prefix}mlflow-tracking-server/{spec.name}-mlflow",
    }
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        assert all("*" not in a for a in actions), statement
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if targets == ["*"]:
            assert set(actions) <= UNSCOPABLE, statement
            continue
        for action in actions:
            for target in targets:
                assert scoped[action.split(":")[0]](action, target), (action, target)
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["RegisterInOwnGroup"]["Resource"] == [group_arn, versions_arn + "*"]
    assert [s["Sid"] for s in statements if "sagemaker:CreateModelPackage" in s["Action"]] == ["RegisterInOwnGroup"]
    assert by_sid["PassOnlyItselfToSageMaker"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert ("JobNetworkInterfacesInOwnSubnets" in by_sid) is (spec.network is not None)
    # The baseline step's image: the region's Model Monitor analyzer repository, and no other of its account.
    analyzer_account = model_monitor_image_uri(spec.region).split(".")[0]
    assert [r for r in by_sid["PullOwnImages"]["Resource"] if f":{analyzer_account}:" in r] == [
        f"arn:aws:ecr:{spec.region}:{analyzer_account}:repository/sagemaker-model-monitor-analyzer"
    ]
    list_condition = by_sid["ListOwnPrefixes"]["Condition"]["StringLike"]["s3:prefix"]
    assert list_condition == [f"datasets/{model}/*", f"code/{model}/*", f"pipelines/{model}/*"]
    trust = json.loads(
        next(resources[u] for u in pipeline["dependencies"] if resources[u]["type"] == "aws:iam/role:Role")["inputs"][
            "assumeRolePolicy"
        ]
    )
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": spec.account_id}}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_schedules_follow_the_environment_file(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    schedules = _training(plans[env], "aws:scheduler/schedule:Schedule")
    expected = {m.name: m.training.schedule for m in spec.models if m.training and m.training.schedule}
    assert len(schedules) == len(expected)
    for model, expression in expected.items():
        pipeline = _pipeline(plans[env], model)
        [schedule] = [s for s in schedules if f"-{model}-training" in s["name"]]
        assert schedule["inputs"]["scheduleExpression"] == expression
        assert schedule["inputs"]["flexibleTimeWindow"] == {"mode": "OFF"}
        target = schedule["inputs"]["target"]
        pipeline_arn = (
            f"arn:aws:sagemaker:{spec.region}:{spec.account_id}:pipeline/{pipeline['inputs']['pipelineName']}"
        )
        assert target["arn"] == pipeline_arn
        role_name = target["roleArn"].rsplit("/", 1)[1]
        role = one_of(
            plans[env],
            "aws:iam/role:Role",
            next(r["name"] for r in resources_of(plans[env], "aws:iam/role:Role") if r["inputs"]["name"] == role_name),
        )
        assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {
            "Service": "scheduler.amazonaws.com"
        }
        [policy] = [p for p in resources_of(plans[env], ROLE_POLICY) if p["inputs"]["role"] == role_name]
        assert json.loads(policy["inputs"]["policy"])["Statement"] == [
            {
                "Sid": "StartThisPipeline",
                "Effect": "Allow",
                "Action": ["sagemaker:StartPipelineExecution"],
                "Resource": pipeline_arn,
            }
        ]
    # Dev trains on demand; prod retrains on a schedule.
    assert (env == "prod") is bool(expected)


EditFn = Callable[[Any], None]


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        (
            lambda t: t.update(max_runtime_minutes=300, max_wait_minutes=120),
            "models[0].training",
            "max_wait_minutes 120 is below max_runtime_minutes 300",
        ),
        (lambda t: t.update(xgboost_version="0.1-0"), "models[0].training.xgboost_version", "known versions: "),
        (lambda t: t.update(schedule="every monday"), "models[0].training.schedule", "'every monday'"),
        (lambda t: t.pop("metric"), "models[0].training.metric", "required field is missing"),
        (lambda t: t.update(instance_type="m5.large"), "models[0].training.instance_type", "'m5.large'"),
        (lambda t: t.update(code_prefix="/code"), "models[0].training.code_prefix", "'/code'"),
        (
            lambda t: t.update(instance_type="ml.m5.4xlargee"),
            "models[0].training.instance_type",
            "ml.m5.4xlargee is not a SageMaker training instance type; e.g. ml.m5.large",
        ),
        (
            lambda t: t.update(processing_instance_type="ml.p9.huge"),
            "models[0].training.processing_instance_type",
            "ml.p9.huge is not a SageMaker processing instance type",
        ),
    ],
)
def test_bad_training_settings_are_input_errors(
    edit_env: Callable[[str, EditFn], Path],
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Any], Any],
    field: str,
    fragment: str,
) -> None:
    root = edit_env("prod", lambda data: change(data["models"][0]["training"]))
    [error] = plan_errors(root, "prod", capsys)
    assert error.startswith("error: environments/prod.yaml:")
    text = (root / "environments" / "prod.yaml").read_text().splitlines()
    training_line = next(i for i, t in enumerate(text) if t.strip() == "training:")
    key = field.rsplit(".", 1)[1] + ":"
    # The first model's block ends where the next model starts.
    block_end = next((i for i in range(training_line, len(text)) if text[i].lstrip().startswith("- name:")), len(text))
    field_line = next((i for i in range(training_line, block_end) if text[i].strip().startswith(key)), training_line)
    assert error.startswith(f"error: environments/prod.yaml:{field_line + 1}: {field}: "), error
    assert fragment in error


def test_planning_code_does_not_import_the_sdk_up_front() -> None:
    """`import sagemaker` takes seconds: only building a definition may import it."""
    script = (
        "import sys, components.platform, components.loader, mlp.plan\n"
        "print(sorted(m for m in sys.modules if m == 'sagemaker' or m.startswith('sagemaker.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=repo_root(), timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("env", "model"), ENV_MODELS)
def test_endpoints_read_exactly_where_their_pipeline_writes_model_artifacts(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    """The training step's output path and the serving role's read grant are the same prefix."""
    steps = _steps(_definition(plans[env], model))
    output = steps[TRAIN_STEP]["Arguments"]["OutputDataConfig"]["S3OutputPath"]
    assert output.endswith("/" + model_artifacts_prefix(model).rstrip("/"))
    role_policy = one_of(plans[env], "aws:iam/rolePolicy:RolePolicy", f"{model}-role-policy")
    grants = json.loads(role_policy["inputs"]["policy"])["Statement"]
    read = next(s for s in grants if s.get("Sid") == "ReadOwnModelArtifacts")
    assert [r.split(":::", 1)[1].split("/", 1)[1] for r in read["Resource"]] == [model_artifacts_prefix(model) + "*"]
