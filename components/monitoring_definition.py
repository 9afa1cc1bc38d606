"""The evidently engine's monitoring pipeline, built with the sagemaker SDK v3 offline (like the batch and
feature pipelines, components/job_definitions.py): three steps, so that the step that reads the captures is
network-isolated.

1. `SelectWindow` (LambdaStep, components/functions/monitoring/select_window.py): lists the window's capture
   objects and writes them as ProcessingInput manifests, with the reference data's; returns their URIs.
2. `Analyse` (ProcessingStep, the drift job image, `--isolated`): EnableNetworkIsolation, every input a
   ProcessingInput (the manifests from step 1's outputs, the ground truth), every output a ProcessingOutput (the
   report and metrics.json under the run's folder), volume and outputs encrypted with the environment key.
3. `Publish` (LambdaStep, components/functions/monitoring/publish_run.py): metrics.json to CloudWatch, and
   latest.json pointing at the run.

A run's folder is `<report prefix><execution id>/` (manifests under `manifests/`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from components.jobs.metrics_contract import (
    CAPTURE_INPUT,
    GROUND_TRUTH_INPUT,
    INPUT_DIR,
    LABELLED_INPUT,
    LATEST_POINTER,
    OUTPUT_DIR,
    REFERENCE_INPUT,
)

SELECT_STEP = "SelectWindow"
ANALYSE_STEP = "Analyse"
PUBLISH_STEP = "Publish"
MANIFESTS = "manifests"
# The select function's outputs (components/functions/monitoring/select_window.py returns these keys).
CAPTURE_MANIFEST_OUTPUT = "capture_manifest"
LABELLED_MANIFEST_OUTPUT = "labelled_capture_manifest"
REFERENCE_MANIFEST_OUTPUT = "reference_manifest"


@dataclass(frozen=True)
class MonitoringSpec:
    """Everything the monitoring pipeline's definition depends on (plain values)."""

    pipeline_name: str
    region: str
    role_arn: str
    bucket: str
    """The capture bucket (the offline session's default bucket; nothing is uploaded)."""
    environment: str
    model: str
    version: int
    image: str
    instance_type: str
    instance_count: int
    volume_size_gb: int
    max_runtime_seconds: int
    kms_key_arn: str
    select_function_arn: str
    publish_function_arn: str
    capture_prefix: str
    """The endpoint's capture folder in the bucket: capture/<endpoint>/."""
    report_uri: str
    """s3://<capture bucket>/monitoring/<model>/v<version>/: each run writes under <execution id>/."""
    reference_uri: str
    """The folder of the version's reference.csv (the registry's bucket)."""
    window_hours: int
    ground_truth_uri: str | None
    labels_delay_hours: int | None
    prediction_attribute: str | None
    probability_threshold: float | None
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]

    def build(self, session: Any) -> str:
        from sagemaker.core.lambda_helper import Lambda
        from sagemaker.core.network import NetworkConfig
        from sagemaker.core.processing import Processor
        from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join
        from sagemaker.mlops.workflow import Pipeline, ProcessingStep
        from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaStep

        run_uri = Join(on="/", values=[self.report_uri.rstrip("/"), ExecutionVariables.PIPELINE_EXECUTION_ID])
        select_inputs: dict[str, Any] = {
            "capture_bucket": self.bucket,
            "capture_prefix": self.capture_prefix,
            "window_hours": str(self.window_hours),
            "manifest_uri": Join(on="/", values=[run_uri, MANIFESTS]),
            "reference_uri": self.reference_uri,
        }
        outputs = [CAPTURE_MANIFEST_OUTPUT, REFERENCE_MANIFEST_OUTPUT]
        if self.ground_truth_uri:
            select_inputs["labels_delay_hours"] = str(self.labels_delay_hours or 0)
            outputs.append(LABELLED_MANIFEST_OUTPUT)
        select = LambdaStep(
            name=SELECT_STEP,
            lambda_func=Lambda(function_arn=self.select_function_arn, session=session),
            inputs=select_inputs,
            outputs=[LambdaOutput(output_name=name) for name in outputs],
        )

        def manifest(name: str, output: str) -> Any:
            return ProcessingInput(
                input_name=name,
                s3_input=ProcessingS3Input(
                    s3_uri=select.properties.Outputs[output],
                    local_path=f"{INPUT_DIR}/{name}",
                    s3_data_type="ManifestFile",
                    s3_input_mode="File",
                    s3_data_distribution_type="FullyReplicated",
                ),
            )

        inputs = [
            manifest(CAPTURE_INPUT, CAPTURE_MANIFEST_OUTPUT),
            manifest(REFERENCE_INPUT, REFERENCE_MANIFEST_OUTPUT),
        ]
        arguments = ["--isolated"]
        if self.ground_truth_uri:
            inputs += [
                manifest(LABELLED_INPUT, LABELLED_MANIFEST_OUTPUT),
                ProcessingInput(
                    input_name=GROUND_TRUTH_INPUT,
                    s3_input=ProcessingS3Input(
                        s3_uri=self.ground_truth_uri,
                        local_path=f"{INPUT_DIR}/{GROUND_TRUTH_INPUT}",
                        s3_data_type="S3Prefix",
                        s3_input_mode="File",
                        s3_data_distribution_type="FullyReplicated",
                    ),
                ),
            ]
            if self.prediction_attribute:
                arguments += ["--prediction-attribute", self.prediction_attribute]
            if self.probability_threshold is not None:
                arguments += ["--probability-threshold", str(self.probability_threshold)]
        vpc = bool(self.subnet_ids)
        processor = Processor(
            role=self.role_arn,
            image_uri=self.image,
            instance_count=self.instance_count,
            instance_type=self.instance_type,
            volume_size_in_gb=self.volume_size_gb,
            volume_kms_key=self.kms_key_arn,
            output_kms_key=self.kms_key_arn,
            max_runtime_in_seconds=self.max_runtime_seconds,
            base_job_name=self.pipeline_name,
            sagemaker_session=session,
            # Evidently's usage telemetry (evidently/telemetry.py of 0.7.23, used by its UI and collector, not by
            # reports) is off when DO_NOT_TRACK is set: nothing would reach it from an isolated container anyway.
            env={"AWS_DEFAULT_REGION": self.region, "DO_NOT_TRACK": "1"},
            # The job reads only its mounted inputs and writes only its outputs: no network at all.
            network_config=NetworkConfig(
                enable_network_isolation=True,
                encrypt_inter_container_traffic=True,
                subnets=list(self.subnet_ids) if vpc else None,
                security_group_ids=list(self.security_group_ids) if vpc else None,
            ),
        )
        report = ProcessingOutput(
            output_name="report",
            s3_output=ProcessingS3Output(s3_uri=run_uri, local_path=OUTPUT_DIR, s3_upload_mode="EndOfJob"),
        )
        analyse = ProcessingStep(
            name=ANALYSE_STEP,
            step_args=processor.run(inputs=inputs, outputs=[report], arguments=arguments),
        )
        publish = LambdaStep(
            name=PUBLISH_STEP,
            lambda_func=Lambda(function_arn=self.publish_function_arn, session=session),
            inputs={
                "run_uri": run_uri,
                "latest_uri": f"{self.report_uri.rstrip('/')}/{LATEST_POINTER}",
                "environment": self.environment,
                "model": self.model,
                "version": str(self.version),
            },
            outputs=[LambdaOutput(output_name="published")],
            depends_on=[analyse],
        )
        pipeline = Pipeline(
            name=self.pipeline_name,
            parameters=[],
            steps=[select, analyse, publish],
            sagemaker_session=session,
            pipeline_experiment_config=None,
        )
        definition: str = pipeline.definition()
        return definition


@functools.cache
def build_monitoring_definition(spec: MonitoringSpec) -> str:
    """The definition JSON of `spec` (canonical: sorted keys), built with the training pipelines' offline SDK,
    or read from the definition cache (as components/job_definitions.py's build_job_definition does)."""
    from components.sdk_patches import build_offline

    return build_offline(spec, spec.build)
