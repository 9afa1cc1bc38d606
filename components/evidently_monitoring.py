"""The `evidently` monitoring engine: our drift job (components/jobs/drift_job.py) on a schedule.

Per monitored endpoint: a one-step SageMaker Pipeline whose processing step runs the drift job image (pinned by
digest), an EventBridge Scheduler schedule that starts it hourly or daily, CloudWatch alarms on the metrics the
job publishes (namespace and dimensions in components/jobs/metrics_contract.py) routed to the team's topics,
and one least-privilege role that runs the pipeline and its job.

Unlike Model Monitor, this works in any account: AWS closed Model Monitor to new customers and names open-source
monitoring on processing jobs with results in CloudWatch and MLflow as the path ("Amazon SageMaker Model Monitor
availability change", on the Model Monitor pages, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html,
read 2026-11-25 for docs/observability.md; the issue quotes the same page).

Network: the job reads only its window's captures (the hour folders data capture writes), so it lists and reads
S3 itself, then publishes to CloudWatch (and MLflow where the tracking server is in its account). SageMaker's
EnableNetworkIsolation would cut the container off from all three, so this job runs without it: in the
environment's VPC (private subnets, its security groups) when there is one, and with a role that can read and
write only its own prefixes. Volumes are encrypted with the environment key; its reports take the bucket's
default encryption (the same key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.artifacts import BASELINE_FILES, DATA_QUALITY, version_baselines_prefix
from components.base import PlatformComponent
from components.config import LoadedEnvironment, Model, Network
from components.config.observability import Monitoring
from components.iam import image_and_network_statements
from components.jobs.metrics_contract import (
    DRIFT_METRIC,
    NAMESPACE,
    QUALITY_METRIC_PREFIX,
    REFERENCE_FILE,
    ROWS_METRIC,
)
from components.mlflow import ARTIFACTS_PREFIX as MLFLOW_ARTIFACTS
from components.mlflow import logging_statement, tracking_server_arn
from components.monitoring_image import drift_job_image_uri, drift_job_repository
from components.naming import CLOUDWATCH_ALARM, EVENTBRIDGE_RULE, IAM_ROLE, SAGEMAKER_PIPELINE, physical_name
from components.serving import CAPTURE_PREFIX, RegistryKey
from components.tagging import CostTags
from components.warnings import warn

REPORTS_PREFIX = "monitoring"
"""Reports go under <capture bucket>/monitoring/<model>/v<version>/<run>/ (and latest.json beside the runs)."""
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
SUMMARY_DIR = "/opt/ml/processing/output"
STEP = "Drift"
# SageMaker Pipelines definition schema version (https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/,
# the "Version" the sagemaker SDK writes).
DEFINITION_VERSION = "2020-12-01"


def reference_prefix(model: str, version: int) -> str:
    """Where a version's reference data lives once approved: its data-quality folder, baselines/v<version>/
    data-quality/ (the training pipeline writes it with the baseline; components/baselines.py copies both)."""
    return f"{version_baselines_prefix(model, version)}{DATA_QUALITY}/"


# The drift job reads the file the training pipeline writes and the approval copies.
assert REFERENCE_FILE in BASELINE_FILES


def report_prefix(model: str, version: int) -> str:
    return f"{REPORTS_PREFIX}/{model}/v{version}/"


def pipeline_name(environment: str, model: str) -> str:
    return physical_name(SAGEMAKER_PIPELINE, environment, model, "monitoring")


def drift_alarm_name(environment: str, model: str, feature: str) -> str:
    return physical_name(CLOUDWATCH_ALARM, environment, model, "drift", feature)


def quality_alarm_name(environment: str, model: str, metric: str) -> str:
    return physical_name(CLOUDWATCH_ALARM, environment, model, "quality", metric)


@dataclass(frozen=True)
class EvidentlyMonitorArgs:
    """Inputs of `EvidentlyMonitor`; `evidently_monitor_args` builds them from the environment file."""

    environment: str
    model: str
    version: int
    """The served version: its reference data, and the `version` dimension of every metric."""
    monitoring: Monitoring
    account_id: str
    region: str
    reference_bucket: str
    """The registry environment's artifact bucket, where the version's reference data is."""
    registry_key: RegistryKey | None
    """That bucket's key when it is in another account (its policy must allow this account too)."""
    capture_bucket: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    network: Network | None
    topic_arns: dict[str, pulumi.Input[str]]
    drift_severity: str
    quality_severity: str
    image_digest: str | None
    """The drift job image's digest in this environment's repository; None plans no pipeline (with a warning)."""
    mlflow_tracking_arn: str | None
    """The tracking server of this account, when it has one: the job logs its reports to it."""


def evidently_monitor_args(
    env: LoadedEnvironment,
    *,
    model: Model,
    monitoring: Monitoring,
    endpoint: pulumi.Input[str],
    capture_bucket: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    topic_arns: dict[str, pulumi.Input[str]],
) -> EvidentlyMonitorArgs:
    from components.foundation import artifact_bucket_name, key_alias_name

    registry = env.registry
    tracking = env.experiment_tracking.enabled and env.hosts_registry
    return EvidentlyMonitorArgs(
        environment=env.name,
        model=model.name,
        version=model.version,
        monitoring=monitoring,
        account_id=env.account_id,
        region=env.region,
        reference_bucket=artifact_bucket_name(registry.environment, registry.account_id, registry.region),
        registry_key=None
        if registry.account_id == env.account_id
        else RegistryKey(registry.account_id, registry.region, key_alias_name(registry.environment)),
        capture_bucket=capture_bucket,
        endpoint_name=endpoint,
        kms_key_arn=kms_key_arn,
        network=env.network,
        topic_arns=topic_arns,
        drift_severity=env.alerting.drift,
        quality_severity=env.alerting.model_quality,
        image_digest=env.monitoring_image_digest,
        mlflow_tracking_arn=tracking_server_arn(env.region, env.account_id, env.name) if tracking else None,
    )


class EvidentlyMonitor(PlatformComponent):
    """The drift job of one endpoint on a schedule, its alarms and its role."""

    role: aws.iam.Role
    pipeline: aws.sagemaker.Pipeline | None
    schedule: aws.scheduler.Schedule | None
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(
        self, name: str, args: EvidentlyMonitorArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:evidently_monitoring:EvidentlyMonitor", name, tags, opts)
        self.args = args
        role_name = physical_name(IAM_ROLE, args.environment, args.model, "monitor")
        role_arn = f"arn:aws:iam::{args.account_id}:role/{role_name}"
        self.role, role_policy = self.service_role(
            f"{name}-role",
            f"{name}-role-policy",
            role_name=role_name,
            description=f"The drift job of {args.model} in {args.environment} and the pipeline that runs it",
            service="sagemaker.amazonaws.com",
            account_id=args.account_id,
            policy=pulumi.Output.all(args.kms_key_arn, args.capture_bucket).apply(
                lambda v: json.dumps(monitor_policy(args, role_arn, str(v[0]), str(v[1])), sort_keys=True)
            ),
        )
        self.pipeline = None
        self.schedule = None
        if args.image_digest is None:
            # No image pushed yet: say so instead of guessing a tag. The alarms exist and stay OK (no data).
            warn(
                name,
                f"no drift job image pinned (monitoring_image_digest is not set): {args.model} gets its alarms but no "
                f"monitoring pipeline or schedule; run the monitoring-image workflow, which pushes to "
                f"{drift_job_repository(args.environment)} and prints the digest to pin",
            )
        else:
            image = drift_job_image_uri(args.account_id, args.region, args.environment, args.image_digest)
            name_of_pipeline = pipeline_name(args.environment, args.model)
            self.pipeline = aws.sagemaker.Pipeline(
                f"{name}-pipeline",
                pipeline_name=name_of_pipeline,
                pipeline_display_name=name_of_pipeline,
                pipeline_description=f"Drift and quality of {args.model} v{args.version} ({args.environment})",
                role_arn=self.role.arn,
                pipeline_definition=pulumi.Output.all(
                    self.role.arn, args.kms_key_arn, args.capture_bucket, args.endpoint_name
                ).apply(
                    lambda v: json.dumps(
                        definition(
                            args,
                            image,
                            role_arn=str(v[0]),
                            kms_key_arn=str(v[1]),
                            capture_bucket=str(v[2]),
                            endpoint=str(v[3]),
                        ),
                        sort_keys=True,
                    )
                ),
                opts=self.child_opts(depends_on=[role_policy]),
            )
            scheduler_role, scheduler_policy = self.service_role(
                f"{name}-scheduler-role",
                f"{name}-scheduler-policy",
                role_name=physical_name(IAM_ROLE, args.environment, args.model, "monitor-schedule"),
                description=f"Lets EventBridge Scheduler start the {args.model} monitoring pipeline",
                service="scheduler.amazonaws.com",
                account_id=args.account_id,
                policy=self.pipeline.arn.apply(
                    lambda arn: json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "StartThisPipeline",
                                    "Effect": "Allow",
                                    "Action": ["sagemaker:StartPipelineExecution"],
                                    "Resource": arn,
                                }
                            ],
                        },
                        sort_keys=True,
                    )
                ),
            )
            self.schedule = aws.scheduler.Schedule(
                f"{name}-schedule",
                name=physical_name(EVENTBRIDGE_RULE, args.environment, args.model, "monitoring"),
                description=f"{args.monitoring.schedule} drift run of {args.model}",
                # Same cron forms as Model Monitor's (EventBridge Scheduler accepts them): the job reads the
                # whole hours before the one it starts in.
                schedule_expression=args.monitoring.expression,
                schedule_expression_timezone="UTC",
                flexible_time_window={"mode": "OFF"},
                # The environment key encrypts the schedule's data, as every schedule's (policy schedule-encrypted).
                kms_key_arn=args.kms_key_arn,
                target={"arn": self.pipeline.arn, "role_arn": scheduler_role.arn},
                opts=self.child_opts(depends_on=[scheduler_policy]),
            )
        self.alarms = self._alarms(name, args)
        if self.pipeline is not None:
            self.alarms.append(self._silence_alarm(name, args))
        self.register_outputs(
            {
                "roleArn": self.role.arn,
                "pipelineName": self.pipeline.pipeline_name if self.pipeline else None,
                "alarmNames": [a.name for a in self.alarms],
            }
        )

    def _silence_alarm(self, name: str, args: EvidentlyMonitorArgs) -> aws.cloudwatch.MetricAlarm:
        """Every run publishes captured_rows; none for two intervals means the job is failing (or not running),
        and then every other alarm stays OK only because it has no data. Drift severity."""
        topic = args.topic_arns[args.drift_severity]
        return aws.cloudwatch.MetricAlarm(
            f"{name}-alarm-silent",
            name=physical_name(CLOUDWATCH_ALARM, args.environment, args.model, "monitoring-silent"),
            alarm_description=f"The drift job of {args.model} v{args.version} published nothing for two runs: "
            f"check the executions of pipeline {pipeline_name(args.environment, args.model)}",
            namespace=NAMESPACE,
            metric_name=ROWS_METRIC,
            dimensions={"environment": args.environment, "model": args.model, "version": str(args.version)},
            statistic="SampleCount",
            period=args.monitoring.period_seconds,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=[topic],
            ok_actions=[topic],
            opts=self.child_opts(),
        )

    def _alarms(self, name: str, args: EvidentlyMonitorArgs) -> list[aws.cloudwatch.MetricAlarm]:
        m = args.monitoring
        dims = {"environment": args.environment, "model": args.model, "version": str(args.version)}
        specs: list[tuple[str, str, dict[str, Any]]] = [
            (
                f"drift-{d.feature}",
                d.severity or args.drift_severity,
                {
                    "name": drift_alarm_name(args.environment, args.model, d.feature),
                    "alarm_description": f"Input feature {d.feature} of v{args.version} drifted from its reference "
                    f"data by more than {d.threshold} (drift job report: s3://<capture bucket>/"
                    f"{report_prefix(args.model, args.version)}latest.json)",
                    "metric_name": DRIFT_METRIC,
                    "dimensions": dims | {"feature": d.feature},
                    "threshold": d.threshold,
                    "comparison_operator": "GreaterThanThreshold",
                },
            )
            for d in m.drift_alarms
        ]
        specs += [
            (
                f"quality-{q.metric}",
                q.severity or args.quality_severity,
                {
                    "name": quality_alarm_name(args.environment, args.model, q.metric),
                    "alarm_description": f"Model quality {q.metric} of v{args.version} {q.comparison} {q.threshold}",
                    "metric_name": QUALITY_METRIC_PREFIX + q.metric,
                    "dimensions": dims,
                    "threshold": q.threshold,
                    "comparison_operator": q.comparison,
                },
            )
            for q in (m.ground_truth.alarms if m.ground_truth else [])
        ]
        actions = args.topic_arns
        return [
            aws.cloudwatch.MetricAlarm(
                f"{name}-alarm-{suffix}",
                namespace=NAMESPACE,
                statistic="Maximum",
                # One datapoint per run: the period is the schedule's interval.
                period=m.period_seconds,
                evaluation_periods=1,
                datapoints_to_alarm=1,
                # A run that published nothing (no traffic, failed job) is not evidence of drift.
                treat_missing_data="notBreaching",
                alarm_actions=[actions[severity]],
                ok_actions=[actions[severity]],
                opts=self.child_opts(),
                **spec,
            )
            for suffix, severity, spec in specs
        ]


def container_arguments(args: EvidentlyMonitorArgs, capture_bucket: str, endpoint: str) -> list[str]:
    """The drift job's command line (components/jobs/drift_job.py parse_args)."""
    m = args.monitoring
    argv = [
        "--environment", args.environment,
        "--model", args.model,
        "--version", str(args.version),
        "--capture-uri", f"s3://{capture_bucket}/{CAPTURE_PREFIX}/{endpoint}",
        "--reference-uri", f"s3://{args.reference_bucket}/{reference_prefix(args.model, args.version)}",
        "--report-uri", f"s3://{capture_bucket}/{report_prefix(args.model, args.version)}",
        "--window-hours", str(m.interval_hours),
        "--summary-dir", SUMMARY_DIR,
    ]  # fmt: skip
    truth = m.ground_truth
    if truth is not None:
        argv += ["--ground-truth-uri", truth.s3_uri, "--labels-delay-hours", str(truth.labels_delay_hours)]
        attribute = truth.probability_attribute or truth.inference_attribute
        if attribute:
            argv += ["--prediction-attribute", attribute]
        if truth.probability_threshold is not None:
            argv += ["--probability-threshold", str(truth.probability_threshold)]
    if args.mlflow_tracking_arn:
        argv += ["--mlflow-tracking-arn", args.mlflow_tracking_arn]
    return argv


def definition(
    args: EvidentlyMonitorArgs, image: str, *, role_arn: str, kms_key_arn: str, capture_bucket: str, endpoint: str
) -> dict[str, Any]:
    """The pipeline: one processing step, the CreateProcessingJob request without its name (SageMaker names
    each execution's job)."""
    m = args.monitoring
    executions = f"s3://{capture_bucket}/{report_prefix(args.model, args.version)}executions"
    network: dict[str, Any] = {"EnableNetworkIsolation": False, "EnableInterContainerTrafficEncryption": True}
    if args.network:
        network["VpcConfig"] = {
            "Subnets": list(args.network.subnet_ids),
            "SecurityGroupIds": list(args.network.security_group_ids),
        }
    return {
        "Version": DEFINITION_VERSION,
        "Metadata": {},
        "Parameters": [],
        "Steps": [
            {
                "Name": STEP,
                "Type": "Processing",
                "Arguments": {
                    "AppSpecification": {
                        "ImageUri": image,
                        "ContainerArguments": container_arguments(args, capture_bucket, endpoint),
                    },
                    "ProcessingResources": {
                        "ClusterConfig": {
                            "InstanceCount": m.instance_count,
                            "InstanceType": m.instance_type,
                            "VolumeSizeInGB": m.volume_gb,
                            "VolumeKmsKeyId": kms_key_arn,
                        }
                    },
                    # The run's summary (metrics.json), uploaded by SageMaker per execution and encrypted with the
                    # environment key; the report itself is written by the job under the run's own folder.
                    "ProcessingOutputConfig": {
                        "KmsKeyId": kms_key_arn,
                        "Outputs": [
                            {
                                "OutputName": "summary",
                                "S3Output": {
                                    "S3Uri": {
                                        "Std:Join": {
                                            "On": "/",
                                            "Values": [
                                                executions,
                                                {"Get": "Execution.PipelineExecutionId"},
                                            ],
                                        }
                                    },
                                    "LocalPath": SUMMARY_DIR,
                                    "S3UploadMode": "EndOfJob",
                                },
                            }
                        ],
                    },
                    "NetworkConfig": network,
                    "StoppingCondition": {"MaxRuntimeInSeconds": m.max_runtime_minutes * 60},
                    "RoleArn": role_arn,
                    "Environment": {"AWS_DEFAULT_REGION": args.region},
                },
            }
        ],
    }


def monitor_policy(args: EvidentlyMonitorArgs, role_arn: str, kms_key_arn: str, capture_bucket: str) -> dict[str, Any]:
    """The role of the pipeline and its job: every statement names its resources, except the actions that have
    no resource types (PutMetricData, conditioned on our namespace; the ECR token; VPC describes)."""
    capture_arn = f"arn:aws:s3:::{capture_bucket}"
    reports = report_prefix(args.model, args.version)
    repository = f"arn:aws:ecr:{args.region}:{args.account_id}:repository/{drift_job_repository(args.environment)}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "RunOwnDriftJob",
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
            ],
            "Resource": [f"arn:aws:sagemaker:{args.region}:{args.account_id}:processing-job/*"],
        },
        {
            "Sid": "TagOwnDriftJob",
            "Effect": "Allow",
            "Action": ["sagemaker:AddTags"],
            "Resource": [f"arn:aws:sagemaker:{args.region}:{args.account_id}:processing-job/*"],
        },
        {
            "Sid": "PassOwnRoleToTheJob",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [role_arn],
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        {
            "Sid": "ReadOwnCapture",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{capture_arn}/{CAPTURE_PREFIX}/*", f"{capture_arn}/{reports}*"],
        },
        {
            "Sid": "ListOwnCapture",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [capture_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{CAPTURE_PREFIX}/*", f"{reports}*"]}},
        },
        {
            "Sid": "WriteOwnReports",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"{capture_arn}/{reports}*"],
        },
        {
            "Sid": "ReadServedVersionReference",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [
                f"arn:aws:s3:::{args.reference_bucket}/{reference_prefix(args.model, args.version)}{REFERENCE_FILE}"
            ],
        },
        {
            "Sid": "UseEnvironmentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": [kms_key_arn],
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [f"arn:aws:logs:{args.region}:{args.account_id}:log-group:{PROCESSING_LOG_GROUP}:*"],
        },
        {
            "Sid": "PullDriftJobImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": [repository],
        },
        {
            "Sid": "PublishDriftMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}},
        },
    ]
    if args.registry_key is not None:
        # Cross-account SSE-KMS: the reference data is encrypted with the registry environment's key, whose
        # policy allows this account (components/foundation.py); the role needs the grant in its own policy too.
        statements.append(args.registry_key.decrypt_statement())
    truth = args.monitoring.ground_truth
    if truth is not None:
        bucket, _, key = truth.s3_uri.removeprefix("s3://").partition("/")
        key = key.rstrip("/")
        objects = f"{key}/*" if key else "*"
        statements += [
            {
                "Sid": "ReadGroundTruth",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/{objects}"],
            },
            {
                "Sid": "ListGroundTruth",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [objects]}},
            },
        ]
    if args.mlflow_tracking_arn:
        # The MLflow client uploads artifacts straight to the tracking server's artifact store (same account).
        statements += [
            logging_statement(args.mlflow_tracking_arn),
            {
                "Sid": "UploadRunArtifacts",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{args.reference_bucket}/{MLFLOW_ARTIFACTS}*"],
            },
        ]
    statements += image_and_network_statements(args.region, args.account_id, args.network)
    return {"Version": "2012-10-17", "Statement": statements}
