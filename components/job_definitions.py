"""Definitions of the batch-inference and feature pipelines, built with the sagemaker SDK v3 offline.

Each spec is a frozen dataclass of plain values with a `build(session)` that returns the SDK's definition
JSON; `build_job_definition` runs it in the same offline, quiet SDK as the training pipelines, caches it by
content and the plan reads the committed rendering when it matches
(`components.rendered_pipelines`). Building makes no AWS call: the session is the offline one.

Build with `build_job_definition(spec)`.

- `BatchSpec`: one TransformStep over the model's pinned version (a SageMaker model the component creates
  from the registry version the environment file names), outputs and volumes encrypted with the environment
  key. Network isolation is a property of that model (EnableNetworkIsolation).
- `ProcessingJobSpec`: one ProcessingStep running a script of this repository (components/jobs/), used by
  feature ingestion (and backfill: a date range as pipeline parameters) and by the parity check.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from components.sdk_patches import build_offline

TRANSFORM_STEP = "BatchTransform"
PARAM_INPUT_DATA = "InputData"
# Processing jobs run scripts with python3 from these images; the argument values may be pipeline
# parameters, written as {"parameter": default}.
JOB_CODE = "/opt/ml/processing/code"


@dataclass(frozen=True)
class BatchSpec:
    """Everything a batch pipeline's definition depends on."""

    pipeline_name: str
    region: str
    role_arn: str
    bucket: str
    environment: str
    model_name: str
    """The SageMaker model serving the pinned version (created by components.batch.BatchInference)."""
    input_uri: str
    """Default of the InputData parameter."""
    output_uri: str
    """Predictions go to <output_uri>/<execution id>/."""
    kms_key_arn: str
    instance_type: str
    instance_count: int
    max_payload_mb: int
    max_concurrent_transforms: int | None
    split_type: str
    batch_strategy: str
    content_type: str
    accept: str
    assemble_with: str

    def build(self, session: Any) -> str:
        from sagemaker.core.transformer import Transformer
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join
        from sagemaker.core.workflow.parameters import ParameterString
        from sagemaker.mlops.workflow import Pipeline, TransformStep

        input_data = ParameterString(PARAM_INPUT_DATA, default_value=self.input_uri)
        transformer = Transformer(
            model_name=self.model_name,
            instance_count=self.instance_count,
            instance_type=self.instance_type,
            strategy=self.batch_strategy,
            assemble_with=self.assemble_with,
            # One folder per execution, so runs never overwrite each other's predictions.
            output_path=Join(on="/", values=[self.output_uri.rstrip("/"), ExecutionVariables.PIPELINE_EXECUTION_ID]),
            output_kms_key=self.kms_key_arn,
            accept=self.accept,
            max_concurrent_transforms=self.max_concurrent_transforms,
            max_payload=self.max_payload_mb,
            base_transform_job_name=self.pipeline_name,
            sagemaker_session=session,
            volume_kms_key=self.kms_key_arn,
        )
        step = TransformStep(
            name=TRANSFORM_STEP,
            step_args=transformer.transform(
                data=input_data, content_type=self.content_type, split_type=self.split_type
            ),
        )
        pipeline = Pipeline(
            name=self.pipeline_name,
            parameters=[input_data],
            steps=[step],
            sagemaker_session=session,
            pipeline_experiment_config=None,
        )
        definition: str = pipeline.definition()
        return definition


@dataclass(frozen=True)
class ProcessingJobSpec:
    """A one-step pipeline running one of this repository's job scripts."""

    pipeline_name: str
    region: str
    role_arn: str
    bucket: str
    environment: str
    step_name: str
    image: str
    instance_type: str
    volume_size_gb: int
    max_runtime_seconds: int
    code_uri: str
    """S3 URI of the script (uploaded by the component from components/jobs/)."""
    report_uri: str
    """Each execution writes its report under <report_uri>/<execution id>/."""
    kms_key_arn: str
    arguments: tuple[tuple[str, str], ...]
    """Fixed script arguments (flag, value)."""
    parameters: tuple[tuple[str, str], ...]
    """Script arguments an execution may override, as pipeline parameters (name, default); the flag is
    the name in kebab case (StartDate -> --start-date)."""
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]

    def build(self, session: Any) -> str:
        from sagemaker.core.network import NetworkConfig
        from sagemaker.core.processing import ProcessingOutput, ScriptProcessor
        from sagemaker.core.shapes import ProcessingS3Output
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join
        from sagemaker.core.workflow.parameters import ParameterString
        from sagemaker.mlops.workflow import Pipeline, ProcessingStep

        vpc = bool(self.subnet_ids)
        processor = ScriptProcessor(
            role=self.role_arn,
            image_uri=self.image,
            command=["python3"],
            instance_count=1,
            instance_type=self.instance_type,
            volume_size_in_gb=self.volume_size_gb,
            volume_kms_key=self.kms_key_arn,
            output_kms_key=self.kms_key_arn,
            max_runtime_in_seconds=self.max_runtime_seconds,
            base_job_name=self.pipeline_name,
            sagemaker_session=session,
            # The scripts call Feature Store, Athena and CloudWatch: no network isolation. In the VPC when the
            # environment declares one (reaching those APIs through its endpoints).
            network_config=NetworkConfig(
                enable_network_isolation=False,
                subnets=list(self.subnet_ids) if vpc else None,
                security_group_ids=list(self.security_group_ids) if vpc else None,
            ),
        )
        parameters = [ParameterString(name, default_value=default) for name, default in self.parameters]
        arguments: list[Any] = [item for flag, value in self.arguments for item in (flag, value)]
        for parameter in parameters:
            arguments += [_flag(parameter.name), parameter]
        report = ProcessingOutput(
            output_name="report",
            s3_output=ProcessingS3Output(
                s3_uri=Join(on="/", values=[self.report_uri.rstrip("/"), ExecutionVariables.PIPELINE_EXECUTION_ID]),
                local_path="/opt/ml/processing/report",
                s3_upload_mode="EndOfJob",
            ),
        )
        step = ProcessingStep(
            name=self.step_name,
            step_args=processor.run(code=self.code_uri, outputs=[report], arguments=arguments),
        )
        pipeline = Pipeline(
            name=self.pipeline_name,
            parameters=parameters,
            steps=[step],
            sagemaker_session=session,
            pipeline_experiment_config=None,
        )
        definition: str = pipeline.definition()
        return definition


JobSpec = BatchSpec | ProcessingJobSpec


@functools.cache
def build_job_definition(spec: JobSpec) -> str:
    """The definition JSON of `spec` (canonical: sorted keys), built with the offline SDK of the training
    pipelines (`components.sdk_patches.offline_sdk`), or read from the definition cache."""
    return build_offline(spec, spec.build)


def _flag(parameter: str) -> str:
    """StartDate -> --start-date."""
    return "--" + "".join(f"-{c.lower()}" if c.isupper() else c for c in parameter).lstrip("-")
