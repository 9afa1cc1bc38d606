"""The training pipeline's definition, built with the sagemaker SDK v3 and without any AWS call.

`build_definition(spec)` turns a `DefinitionSpec` (plain, hashable values) into the pipeline definition
JSON. It runs inside `Output.all(...).apply(...)` in `components.pipelines` and only computes a string:
it creates no resource and calls no AWS API:

- the SDK gets a boto session whose credential chain is empty, so a request could not even be signed
  (and the chain never queries instance metadata); the session's default bucket is given, so the SDK
  never looks one up;
- the SDK configuration is passed explicitly (telemetry off), so no user or admin config file changes
  the output;
- role validation is switched off for the build (`SAGEMAKER_VALIDATE_ROLE=false`) and the role is an ARN,
  so the SDK never asks IAM about it;
- processing code lives in S3 (configuration), so nothing is uploaded.

`import sagemaker` takes seconds, so it happens inside `build_definition` only, each distinct spec is
built once per process (`functools.cache`), and builds are cached on disk by content
(`components/definition_cache.py`); plans first read the environment's committed renderings
(`components/rendered_pipelines.py`). The SDK session is shared by the builds of a process (one per region
and bucket), see `_session`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
import json
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.artifacts import DATA_QUALITY, EXECUTION_METADATA_KEY
from components.definition_cache import definition_cache_dir, definition_key, read_cached, write_cached

if TYPE_CHECKING:
    from components.config.training import Training

# Step names: the order of the pipeline, and what tests and docs refer to.
PREPARE_STEP = "PrepareFeatures"
TRAIN_STEP = "Train"
BASELINE_STEP = "DataQualityBaseline"
EVALUATE_STEP = "Evaluate"
CHECK_STEP = "CheckMetric"
REGISTER_STEP = "RegisterModel"
FAIL_STEP = "MetricBelowThreshold"

# Pipeline parameters: an execution may override them (e.g. a bigger instance for one run).
PARAM_PROCESSING_INSTANCE = "ProcessingInstanceType"
PARAM_TRAINING_INSTANCE = "TrainingInstanceType"
PARAM_INPUT_DATA = "InputData"

EVALUATION_REPORT = "evaluation.json"
PREPROCESS_SCRIPT = "preprocess.py"
EVALUATE_SCRIPT = "evaluate.py"
REFERENCE_OUTPUT = "reference"


@dataclass(frozen=True)
class DefinitionSpec:
    """Everything the definition depends on, as plain hashable values (so builds can be cached)."""

    pipeline_name: str
    """Name of the SageMaker pipeline (also the prefix of its job names)."""
    region: str
    """Region the pipeline runs in."""
    role_arn: str
    """Execution role of every step."""
    bucket: str
    """Artifact bucket: outputs, checkpoints and models go under `output_prefix`."""
    output_prefix: str
    """Key prefix (ending in '/') of everything the pipeline writes."""
    baselines_prefix: str
    """Key prefix (ending in '/') of the data-quality baselines (components/artifacts.baselines_prefix)."""
    input_uri: str
    """Default S3 URI of the raw data (pipeline parameter InputData)."""
    code_uri: str
    """S3 URI (ending in '/') holding preprocess.py and evaluate.py."""
    kms_key_arn: str
    """Key that encrypts volumes and outputs."""
    training_image: str
    processing_image: str
    training_instance_type: str
    training_instance_count: int
    processing_instance_type: str
    volume_size_gb: int
    spot: bool
    max_runtime_seconds: int
    max_wait_seconds: int
    network_isolation: bool
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    hyperparameters: tuple[tuple[str, str], ...]
    metric_name: str
    metric_minimum: float
    model_package_group: str
    """Name or ARN of the model package group (an ARN when the registry is in another account)."""
    environment: str
    """Recorded on each registered version as customer metadata (`trained-in`)."""
    mlflow_tracking_arn: str | None = None
    """The environment's MLflow tracking server: the evaluation step logs its run there (None: no tracking)."""


# The SDK configuration used for every build: explicit, so no config file on the machine changes the
# definition, and with telemetry off (the SDK would otherwise send usage pings over HTTP).
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def builtin_image_uri(framework: str, version: str, region: str) -> str:
    """URI of an AWS built-in image, from the registries in the sagemaker SDK's bundled
    `sagemaker/core/image_uri_config/<framework>.json` (read without importing sagemaker).

    Raises ValueError naming what is available when the version or region is unknown.
    """
    config = _image_config(framework)
    versions = config["training"]["versions"] if "training" in config else config["versions"]
    if version not in versions:
        raise ValueError(f"{framework} version {version!r} is not known; known versions: {', '.join(versions)}")
    entry = versions[version]
    registries: dict[str, str] = entry["registries"]
    if region not in registries:
        raise ValueError(f"the built-in {framework} {version} image is not published in {region}")
    repository = entry["repository"]
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    tag = f"{version}-cpu-py3" if framework == "sklearn" else version
    return f"{registries[region]}.dkr.ecr.{region}.{domain}/{repository}:{tag}"


def model_monitor_image_uri(region: str) -> str:
    """URI of the Model Monitor analyzer image (data-quality baselining), from the SDK's bundled
    `sagemaker/core/image_uri_config/model-monitor.json` (the registry the SDK's DefaultModelMonitor uses).

    Raises ValueError when the image is not published in region.
    """
    registries = model_monitor_registries()
    if region not in registries:
        raise ValueError(f"the Model Monitor analyzer image is not published in {region}")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{registries[region]}.dkr.ecr.{region}.{domain}/{MODEL_MONITOR_REPOSITORY}"


MODEL_MONITOR_REPOSITORY = "sagemaker-model-monitor-analyzer"


def model_monitor_registries() -> dict[str, str]:
    """Account of the Model Monitor analyzer image per region (the SDK's model-monitor.json)."""
    registries: dict[str, str] = _image_config("model-monitor")["versions"][""]["registries"]
    return registries


@functools.cache
def _image_config(framework: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("sagemaker")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sagemaker SDK is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config" / f"{framework}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@functools.cache
def build_definition(spec: DefinitionSpec) -> str:
    """The pipeline definition JSON for `spec` (canonical: sorted keys), built with the sagemaker SDK, or
    read from the definition cache when this spec was built before by the same SDK and builder."""
    cache = definition_cache_dir()
    entry = cache / f"{definition_key(spec)}.json" if cache else None
    cached = read_cached(entry) if entry else None
    if cached is not None:
        return cached
    with _offline_sdk(spec.region):
        raw = _build(spec)
    definition = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    if entry:
        write_cached(entry, definition)
    return definition


@contextlib.contextmanager
def _offline_sdk(region: str) -> Iterator[None]:
    """Quiet, validation-free SDK that cannot reach AWS, for the duration of one build; restores the
    process's environment, logging and default boto3 session after.

    Some SDK modules create boto3 clients from the default session at import time (e.g.
    `sagemaker.ai_registry.air_hub`); with no credentials in the environment that would probe the
    instance metadata endpoint over the network. The default session is swapped for an offline one
    while the SDK is imported and used.
    """
    import boto3

    overrides = {
        "SAGEMAKER_VALIDATE_ROLE": "false",
        # Some SDK code builds its own boto3.Session(): give it the region, and make sure its credential
        # chain can never reach the instance metadata endpoint.
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    saved_env = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    previous_session = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = _offline_boto_session(region)
    # The SDK re-validates its config against its JSON Schema (checking the schema itself first) on every
    # config lookup: ~0.35 s each, about 90 lookups per definition (profiled). Ours is a constant, so it is
    # validated once per process and the lookups skip it.
    from sagemaker.core.config.config_manager import SageMakerConfig

    previous_validate = SageMakerConfig.__dict__["validate_sagemaker_config"]
    SageMakerConfig.validate_sagemaker_config = staticmethod(_validate_sdk_config)
    # ProcessingStep (and TransformStep) instantiate a LocalSagemakerClient only to read the name of one
    # of its methods; each instance creates a LocalSession with its own boto clients: ~0.4 s per step
    # (profiled). During a build the steps module sees a subclass with the same methods that creates
    # no session.
    from sagemaker.mlops.workflow import steps

    previous_local_client = steps.LocalSagemakerClient
    steps.LocalSagemakerClient = _method_names_only(previous_local_client)
    # The SDK logs (and warns) at length about what a pipeline session skips; a plan shows none of it.
    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(disabled)
        steps.LocalSagemakerClient = previous_local_client
        SageMakerConfig.validate_sagemaker_config = previous_validate
        boto3.DEFAULT_SESSION = previous_session
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@functools.cache
def _method_names_only(client_class: type) -> type:
    """A subclass of the SDK's LocalSagemakerClient whose constructor creates no session: the steps only
    read its methods' names, which it inherits unchanged."""

    def init(self: Any, sagemaker_session: Any = None) -> None:
        self.sagemaker_session = sagemaker_session

    return type(client_class.__name__, (client_class,), {"__init__": init, "__module__": __name__})


def _validate_sdk_config(sagemaker_config: dict[str, Any] | None = None) -> None:
    """The SDK's config validation, done once for our constant SDK_CONFIG and every time for anything else."""
    from sagemaker.core.config.config_manager import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    if sagemaker_config == SDK_CONFIG:
        _validate_constant_config_once()
        return
    import jsonschema

    jsonschema.validate(sagemaker_config, SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)


@functools.cache
def _validate_constant_config_once() -> None:
    import jsonschema
    from sagemaker.core.config.config_manager import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    jsonschema.validate(SDK_CONFIG, SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)


@functools.cache
def _offline_boto_session(region: str) -> Any:
    """A boto3 session that cannot call AWS: its credential chain is empty, so nothing is looked up
    (no files, no instance metadata) and no request could be signed.

    One per region per process: its loader keeps the service models it parsed, and the SDK creates a
    dozen clients (sagemaker's model alone is megabytes of JSON, profiled at ~0.2 s a parse).
    """
    import boto3
    import botocore.credentials
    import botocore.session

    core = botocore.session.Session()
    core.register_component("credential_provider", botocore.credentials.CredentialResolver(providers=[]))
    return boto3.Session(botocore_session=core, region_name=region)


@functools.cache
def _session(region: str, bucket: str) -> Any:
    """The SDK session of a build: offline boto session, known default bucket, explicit SDK config.

    One per (region, bucket) per process: creating one costs ~1 s (it creates a dozen boto3 clients,
    profiled), and a build only reads it (its defaults) or overwrites its `context` with the step being
    built, so consecutive builds that share it produce the same definitions as fresh ones
    (tests/components/test_pipelines.py checks every model of the example environments).
    """
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    return PipelineSession(
        boto_session=_offline_boto_session(region), default_bucket=bucket, sagemaker_config=SDK_CONFIG
    )


def _build(spec: DefinitionSpec) -> str:
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.model_monitor.dataset_format import DatasetFormat
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
    from sagemaker.core.shapes import ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.shapes.shapes import MlflowConfig
    from sagemaker.core.training.configs import (
        CheckpointConfig,
        Compute,
        InputData,
        Networking,
        OutputDataConfig,
        StoppingCondition,
    )
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import ConditionStep, FailStep, ModelStep, Pipeline, ProcessingStep, TrainingStep
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.model_trainer import ModelTrainer

    session = _session(spec.region, spec.bucket)
    session.context = None  # as a fresh session starts, even if an earlier build failed halfway
    base = f"s3://{spec.bucket}/{spec.output_prefix}".rstrip("/")
    processing_instance = ParameterString(PARAM_PROCESSING_INSTANCE, default_value=spec.processing_instance_type)
    training_instance = ParameterString(PARAM_TRAINING_INSTANCE, default_value=spec.training_instance_type)
    input_data = ParameterString(PARAM_INPUT_DATA, default_value=spec.input_uri)
    vpc = bool(spec.subnet_ids)

    def network() -> Any:
        return NetworkConfig(
            enable_network_isolation=spec.network_isolation,
            subnets=list(spec.subnet_ids) if vpc else None,
            security_group_ids=list(spec.security_group_ids) if vpc else None,
        )

    def processor() -> Any:
        return ScriptProcessor(
            role=spec.role_arn,
            image_uri=spec.processing_image,
            command=["python3"],
            instance_count=1,
            instance_type=processing_instance,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key=spec.kms_key_arn,
            output_kms_key=spec.kms_key_arn,
            base_job_name=spec.pipeline_name,
            sagemaker_session=session,
            network_config=network(),
        )

    def s3_input(name: str, uri: Any) -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri, local_path=f"/opt/ml/processing/{name}", s3_data_type="S3Prefix", s3_input_mode="File"
            ),
        )

    def s3_output(name: str) -> Any:
        # One folder per execution, so runs never overwrite each other's data.
        uri = Join(on="/", values=[base, ExecutionVariables.PIPELINE_EXECUTION_ID, name])
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=uri, local_path=f"/opt/ml/processing/{name}", s3_upload_mode="EndOfJob"
            ),
        )

    # The reference data the evidently engine's drift job compares captures with: preprocess.py writes the
    # prepared features (CSV with a header, no label) as reference.csv into this output, which lands in the
    # execution's data-quality folder next to the baseline and is copied to the version's with it.
    reference_output = ProcessingOutput(
        output_name=REFERENCE_OUTPUT,
        s3_output=ProcessingS3Output(
            s3_uri=Join(
                on="/",
                values=[
                    f"s3://{spec.bucket}/{spec.baselines_prefix}".rstrip("/"),
                    ExecutionVariables.PIPELINE_EXECUTION_ID,
                    DATA_QUALITY,
                ],
            ),
            local_path=f"/opt/ml/processing/{REFERENCE_OUTPUT}",
            s3_upload_mode="EndOfJob",
        ),
    )
    prepare = ProcessingStep(
        name=PREPARE_STEP,
        step_args=processor().run(
            code=spec.code_uri + PREPROCESS_SCRIPT,
            inputs=[s3_input("raw", input_data)],
            outputs=[s3_output("train"), s3_output("validation"), s3_output("test"), reference_output],
        ),
    )

    def prepared(name: str) -> Any:
        return prepare.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    # Data-quality baseline of the prepared training features (statistics.json, constraints.json), the
    # baseline each registered version carries (DriftCheckBaselines) and model monitoring checks against.
    # One folder per execution (<execution id>/data-quality/, laid out as the monitors' v<version>/
    # folders): the version number is only known after registration.
    baseline = _quality_check_step_class()(
        name=BASELINE_STEP,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=prepared("train"),
            # The features as the built-in XGBoost reads them: CSV without a header, label first.
            dataset_format=DatasetFormat.csv(header=False),
            output_s3_uri=Join(
                on="/",
                values=[
                    f"s3://{spec.bucket}/{spec.baselines_prefix}".rstrip("/"),
                    ExecutionVariables.PIPELINE_EXECUTION_ID,
                    DATA_QUALITY,
                ],
            ),
        ),
        check_job_config=CheckJobConfig(
            role=spec.role_arn,
            instance_count=1,
            instance_type=processing_instance,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key=spec.kms_key_arn,
            max_runtime_in_seconds=spec.max_runtime_seconds,
            output_kms_key=spec.kms_key_arn,
            base_job_name=spec.pipeline_name,
            sagemaker_session=session,
            network_config=network(),
        ),
        # A first baseline: compute it and register it, compare it with nothing (there may be no approved
        # version to compare with, and the pipeline's own gate is the evaluation metric).
        skip_check=True,
        register_new_baseline=True,
    )

    trainer = ModelTrainer(
        sagemaker_session=session,
        role=spec.role_arn,
        training_image=spec.training_image,
        base_job_name=spec.pipeline_name,
        compute=Compute(
            instance_type=training_instance,
            instance_count=spec.training_instance_count,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key_id=spec.kms_key_arn,
            enable_managed_spot_training=spec.spot,
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=spec.max_runtime_seconds,
            max_wait_time_in_seconds=spec.max_wait_seconds if spec.spot else None,
        ),
        networking=Networking(
            enable_network_isolation=spec.network_isolation,
            subnets=list(spec.subnet_ids) if vpc else None,
            security_group_ids=list(spec.security_group_ids) if vpc else None,
        ),
        # components/artifacts.model_artifacts_prefix: serving reads exactly this prefix.
        output_data_config=OutputDataConfig(s3_output_path=f"{base}/models", kms_key_id=spec.kms_key_arn),
        # Spot training resumes from the last checkpoint after an interruption.
        checkpoint_config=CheckpointConfig(s3_uri=f"{base}/checkpoints") if spec.spot else None,
        hyperparameters=dict(spec.hyperparameters),
    )
    train = TrainingStep(
        name=TRAIN_STEP,
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name="train", data_source=prepared("train"), content_type="text/csv"),
                InputData(channel_name="validation", data_source=prepared("validation"), content_type="text/csv"),
            ]
        ),
    )
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_REPORT)
    evaluate = ProcessingStep(
        name=EVALUATE_STEP,
        step_args=processor().run(
            code=spec.code_uri + EVALUATE_SCRIPT,
            inputs=[s3_input("model", model_data), s3_input("test", prepared("test"))],
            outputs=[s3_output("evaluation")],
        ),
        property_files=[report],
    )
    evaluation_uri = evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri
    metric = JsonGet(step_name=EVALUATE_STEP, property_file=report, json_path=f"metrics.{spec.metric_name}.value")

    builder = ModelBuilder(
        image_uri=spec.training_image,
        s3_model_data_url=model_data,
        sagemaker_session=session,
        role_arn=spec.role_arn,
        dependencies={},  # nothing to package: the image serves the model artifact as it is
    )
    register = ModelStep(
        name=REGISTER_STEP,
        step_args=builder.register(
            model_package_group_name=spec.model_package_group,
            approval_status="PendingManualApproval",
            content_types=["text/csv"],
            response_types=["text/csv"],
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    s3_uri=Join(on="/", values=[evaluation_uri, EVALUATION_REPORT]), content_type="application/json"
                ),
                model_data_statistics=MetricsSource(
                    s3_uri=baseline.properties.CalculatedBaselineStatistics, content_type="application/json"
                ),
                model_data_constraints=MetricsSource(
                    s3_uri=baseline.properties.CalculatedBaselineConstraints, content_type="application/json"
                ),
            ),
            drift_check_baselines=DriftCheckBaselines(
                model_data_statistics=MetricsSource(
                    s3_uri=baseline.properties.CalculatedBaselineStatistics, content_type="application/json"
                ),
                model_data_constraints=MetricsSource(
                    s3_uri=baseline.properties.CalculatedBaselineConstraints, content_type="application/json"
                ),
            ),
            # `execution` names the folder the baseline step wrote; components/baselines.py copies it to the
            # version's folder when the version is approved.
            customer_metadata_properties={
                "trained-in": spec.environment,
                "pipeline": spec.pipeline_name,
                EXECUTION_METADATA_KEY: ExecutionVariables.PIPELINE_EXECUTION_ID,
            },
        ),
    )
    fail = FailStep(
        name=FAIL_STEP,
        error_message=Join(
            on=" ",
            values=[f"{spec.metric_name} is below the threshold {spec.metric_minimum}: got", metric],
        ),
    )
    check = ConditionStep(
        name=CHECK_STEP,
        conditions=[ConditionGreaterThanOrEqualTo(left=metric, right=spec.metric_minimum)],
        if_steps=[register],
        else_steps=[fail],
    )
    pipeline = Pipeline(
        name=spec.pipeline_name,
        parameters=[processing_instance, training_instance, input_data],
        steps=[prepare, baseline, train, evaluate, check],
        sagemaker_session=session,
        pipeline_experiment_config=None,
        # SageMaker Pipelines' MLflow integration: the service logs each execution (parameters, step metrics)
        # to the tracking server as a run of this experiment; the jobs themselves stay network-isolated. The
        # registered version carries the execution id (customer metadata `execution`), which links it to the
        # run. (CreatePipeline's definition key MlflowConfig: MlflowResourceArn, MlflowExperimentName —
        # botocore sagemaker service model, shape MlflowConfig.)
        mlflow_config=(
            MlflowConfig(mlflow_resource_arn=spec.mlflow_tracking_arn, mlflow_experiment_name=spec.pipeline_name)
            if spec.mlflow_tracking_arn
            else None
        ),
    )
    definition: str = pipeline.definition()
    return definition


@functools.cache
def _quality_check_step_class() -> type:
    """The SDK's QualityCheckStep, with its job's NetworkConfig in API form.

    The SDK (sagemaker-mlops, `_check_job_request._build_check_job_request`) puts the NetworkConfig
    object itself into the CreateProcessingJob request, which `Pipeline.definition()` cannot serialise
    (TypeError: Object of type NetworkConfig is not JSON serializable). This subclass converts it with
    the object's own `_to_request_dict()`, as the SDK's processors do for ProcessingStep.
    """
    from sagemaker.core.network import NetworkConfig
    from sagemaker.mlops.workflow.quality_check_step import QualityCheckStep

    def arguments(self: Any) -> Any:
        request = QualityCheckStep.arguments.fget(self)
        if isinstance(request.get("NetworkConfig"), NetworkConfig):
            request["NetworkConfig"] = request["NetworkConfig"]._to_request_dict()
        return request

    return type("QualityCheckStep", (QualityCheckStep,), {"arguments": property(arguments), "__module__": __name__})


def image_problems(region: str, training: Training) -> list[tuple[str, str]]:
    """(field, message) for built-in image versions the SDK does not know or does not publish in region."""
    found: list[tuple[str, str]] = []
    for field, framework, version, own in (
        ("xgboost_version", "xgboost", training.xgboost_version, training.image),
        ("sklearn_version", "sklearn", training.sklearn_version, training.processing_image),
    ):
        if own is not None:
            continue  # the team's own image replaces the built-in one
        try:
            builtin_image_uri(framework, version, region)
        except ValueError as exc:
            found.append((field, f"{exc}; pick a listed version, or set your own image"))
    return found
