"""The training pipeline's definition, built with the sagemaker SDK v3 and without any AWS call.

`build_definition(spec)` turns a `DefinitionSpec` (plain, hashable values) into the pipeline definition
JSON. It runs inside `Output.all(...).apply(...)` in `components.pipelines` and only computes a string:
it creates no resource and calls no AWS API:

- the SDK runs sandboxed (`components/sdk_patches.py`): its boto session's credential chain is empty, so a
  request could not even be signed (and the chain never queries instance metadata); the session's default
  bucket is given, so the SDK never looks one up; its configuration is explicit (telemetry off), so no user
  or admin config file changes the output; role validation is switched off for the build and the role is
  an ARN, so the SDK never asks IAM about it;
- processing code lives in S3 (configuration), so nothing is uploaded.

`import sagemaker` takes seconds, so it happens inside `build_definition` only, each distinct spec is
built once per process (`functools.cache`), and builds are cached on disk by content
(`components/definition_cache.py`); plans first read the environment's committed renderings
(`components/rendered_pipelines.py`). The SDK session is shared by the builds of a process (one per region
and bucket), see `components.sdk_patches.sdk_session`. The images a spec names come from
`components/sdk_images.py`; an environment's image versions are checked by `components/image_validation.py`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from components.artifacts import DATA_QUALITY, EXECUTION_METADATA_KEY
from components.sdk_patches import build_offline, quality_check_step_class

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


@functools.cache
def build_definition(spec: DefinitionSpec) -> str:
    """The pipeline definition JSON for `spec` (canonical: sorted keys), built with the sagemaker SDK, or
    read from the definition cache when this spec was built before by the same SDK and builder."""
    return build_offline(spec, lambda session: _build(spec, session))


def _build(spec: DefinitionSpec, session: Any) -> str:
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

    # The execution's data-quality folder: the baseline step's statistics and constraints, and the reference
    # data, land there side by side (and are copied to the version's folder together).
    data_quality_folder = Join(
        on="/",
        values=[
            f"s3://{spec.bucket}/{spec.baselines_prefix}".rstrip("/"),
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            DATA_QUALITY,
        ],
    )
    # The reference data the evidently engine's drift job compares captures with: preprocess.py writes the
    # prepared features (CSV with a header, no label) as reference.csv into this output, which lands in the
    # execution's data-quality folder next to the baseline and is copied to the version's with it.
    reference_output = ProcessingOutput(
        output_name=REFERENCE_OUTPUT,
        s3_output=ProcessingS3Output(
            s3_uri=data_quality_folder,
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
    baseline = quality_check_step_class()(
        name=BASELINE_STEP,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=prepared("train"),
            # The features as the built-in XGBoost reads them: CSV without a header, label first.
            dataset_format=DatasetFormat.csv(header=False),
            output_s3_uri=data_quality_folder,
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
