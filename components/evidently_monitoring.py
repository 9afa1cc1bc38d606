"""The `evidently` monitoring engine: our drift job (components/jobs/drift_job.py) on a schedule.

Per monitored endpoint: a three-step SageMaker Pipeline (select, analyse, publish) whose processing step runs the
drift job image (pinned by digest), an EventBridge Scheduler schedule that starts it hourly or daily, CloudWatch
alarms on the metrics the publish step sends (namespace and dimensions in components/jobs/metrics_contract.py)
routed to the team's topics, a least-privilege role that runs the pipeline and its job, and the two steps' Lambda
functions with a role each.

Unlike Model Monitor, this works in any account: AWS closed Model Monitor to new customers and names open-source
monitoring on processing jobs with results in CloudWatch and MLflow as the path ("Amazon SageMaker Model Monitor
availability change", on the Model Monitor pages, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html,
read 2026-11-25 for docs/observability.md; the issue quotes the same page).

Network: the drift job runs with SageMaker's EnableNetworkIsolation. The pipeline has three steps
(components/monitoring_definition.py): a Lambda function selects the window's capture objects and writes them as
ProcessingInput manifests; the isolated job reads only those mounted inputs and writes only its ProcessingOutputs
(report and metrics.json); a second Lambda function publishes metrics.json to CloudWatch and points latest.json
at the run. Each function has its own role, allowed exactly what its code calls. Volumes, outputs, the functions'
variables and log groups are encrypted with the environment key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components import rendered_pipelines
from components.artifacts import BASELINE_FILES, DATA_QUALITY, version_baselines_prefix
from components.base import PlatformComponent
from components.config import Network
from components.config.observability import Monitoring
from components.functions.monitoring import mlflow_run
from components.functions.monitoring.publish_run import TRACKING_ARN_VARIABLE
from components.iam import (
    lambda_trust_policy,
    monitoring_job_access_statements,
    monitoring_job_statements,
    pull_image_statement,
)
from components.jobs.metrics_contract import (
    DRIFT_METRIC,
    LATEST_POINTER,
    METRICS_JSON,
    NAMESPACE,
    QUALITY_METRIC_PREFIX,
    REFERENCE_FILE,
    ROWS_METRIC,
)
from components.mlflow import logging_statement

# The alarms keep the Model Monitor engine's names, so dashboards and runbooks find either engine's.
from components.monitoring import drift_alarm_name, quality_alarm_name
from components.monitoring_definition import MANIFESTS, MonitoringSpec
from components.monitoring_image import drift_job_image_uri, drift_job_repository
from components.naming import (
    CLOUDWATCH_ALARM,
    EVENTBRIDGE_RULE,
    IAM_POLICY,
    IAM_ROLE,
    SAGEMAKER_PIPELINE,
    physical_name,
)
from components.serving import CAPTURE_PREFIX, RegistryKey
from components.tagging import CostTags
from components.triage import ARCHITECTURE, LAMBDA_FUNCTION, RUNTIME
from components.warnings import warn

REPORTS_PREFIX = "monitoring"
"""Reports go under <capture bucket>/monitoring/<model>/v<version>/<run>/ (and latest.json beside the runs)."""
# The select and publish steps' functions (components/functions/monitoring/), packaged with the metrics contract
# they import (components/jobs/metrics_contract.py imports nothing).
FUNCTION_SOURCE = Path(__file__).parent / "functions" / "monitoring"
FUNCTION_PACKAGE = "monitoring"
CONTRACT_FILES = ("__init__.py", "jobs/__init__.py", "jobs/metrics_contract.py")
SELECT = "select"
PUBLISH = "publish"
HANDLERS = {
    SELECT: f"{FUNCTION_PACKAGE}.select_window.lambda_handler",
    PUBLISH: f"{FUNCTION_PACKAGE}.publish_run.lambda_handler",
}
FUNCTION_MODULES = {SELECT: "select_window.py", PUBLISH: "publish_run.py"}
# Listing a day's hour folders of every variant, or one metrics.json: both well inside these bounds.
FUNCTION_TIMEOUT_SECONDS = {SELECT: 300, PUBLISH: 60}
FUNCTION_MEMORY_MB = 128
# Our choice; a valid CloudWatch Logs retention (botocore logs service-2.json, PutRetentionPolicy Days).
FUNCTION_LOG_RETENTION_DAYS = 30


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


def function_name(environment: str, model: str, step: str) -> str:
    return physical_name(LAMBDA_FUNCTION, environment, model, f"monitor-{step}")


def function_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:function:{name}"


def function_log_group(name: str) -> str:
    return f"/aws/lambda/{name}"


def code_archive() -> pulumi.AssetArchive:
    """The functions' modules (sorted, no caches) under monitoring/, and the metrics contract under components/."""
    components = Path(__file__).parent
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        f"{FUNCTION_PACKAGE}/{path.name}": pulumi.FileAsset(str(path)) for path in sorted(FUNCTION_SOURCE.glob("*.py"))
    }
    assets |= {f"components/{name}": pulumi.FileAsset(str(components / name)) for name in CONTRACT_FILES}
    return pulumi.AssetArchive(assets)


@dataclass(frozen=True)
class EvidentlyMonitorArgs:
    """Inputs of `EvidentlyMonitor`; `composition.evidently_monitor_args` builds them from the environment file."""

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
    mlflow_tracking_arn: str | None = None
    """The tracking server the publish function logs each run to (components/composition.py
    `registry_tracking_server_arn`); None: no MLflow logging."""


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
            functions = [
                self._function(name, args, SELECT, select_policy),
                self._function(name, args, PUBLISH, publish_policy),
            ]
            self.pipeline = aws.sagemaker.Pipeline(
                f"{name}-pipeline",
                pipeline_name=name_of_pipeline,
                pipeline_display_name=name_of_pipeline,
                pipeline_description=f"Drift and quality of {args.model} v{args.version} ({args.environment})",
                role_arn=self.role.arn,
                pipeline_definition=pulumi.Output.all(args.kms_key_arn, args.capture_bucket, args.endpoint_name).apply(
                    lambda v: rendered_pipelines.definition(
                        monitoring_spec(
                            args,
                            image,
                            role_arn=role_arn,
                            kms_key_arn=str(v[0]),
                            capture_bucket=str(v[1]),
                            endpoint=str(v[2]),
                        ),
                        f"{args.model}-monitoring",
                    )
                ),
                opts=self.child_opts(depends_on=[role_policy, *functions]),
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

    def _function(self, name: str, args: EvidentlyMonitorArgs, step: str, policy_of: Any) -> aws.lambda_.Function:
        """One step's Lambda function: its own role (Lambda's trust policy, as components/triage.py's), allowed
        exactly what the step's code calls; variables and log group encrypted with the environment key."""
        fn_name = function_name(args.environment, args.model, step)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-{step}-logs",
            name=function_log_group(fn_name),
            retention_in_days=FUNCTION_LOG_RETENTION_DAYS,
            kms_key_id=args.kms_key_arn,
            opts=self.child_opts(),
        )
        role = aws.iam.Role(
            f"{name}-{step}-role",
            name=physical_name(IAM_ROLE, args.environment, args.model, f"monitor-{step}"),
            description=f"Lambda function {fn_name}: the {step} step of the {args.model} monitoring pipeline",
            assume_role_policy=lambda_trust_policy(),
            opts=self.child_opts(),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-{step}-role-policy",
            name=physical_name(IAM_POLICY, args.model, f"monitor-{step}"),
            role=role.id,
            policy=pulumi.Output.all(args.kms_key_arn, args.capture_bucket, args.endpoint_name).apply(
                lambda v: json.dumps(policy_of(args, str(v[0]), str(v[1]), str(v[2])), sort_keys=True)
            ),
            opts=self.child_opts(),
        )
        return aws.lambda_.Function(
            f"{name}-{step}-function",
            name=fn_name,
            description=f"ml-platform {args.environment}: {step} step of the {args.model} monitoring pipeline",
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=HANDLERS[step],
            code=code_archive(),
            role=role.arn,
            timeout=FUNCTION_TIMEOUT_SECONDS[step],
            memory_size=FUNCTION_MEMORY_MB,
            kms_key_arn=args.kms_key_arn,
            # Only the publish step logs to MLflow; the server's ARN is all it needs (publish_run.py).
            environment={"variables": {TRACKING_ARN_VARIABLE: args.mlflow_tracking_arn}}
            if step == PUBLISH and args.mlflow_tracking_arn
            else None,
            logging_config={"log_format": "Text", "log_group": log_group.name},
            opts=self.child_opts(depends_on=[log_group, policy]),
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


def monitoring_spec(
    args: EvidentlyMonitorArgs, image: str, *, role_arn: str, kms_key_arn: str, capture_bucket: str, endpoint: str
) -> MonitoringSpec:
    """The three-step pipeline's spec (components/monitoring_definition.py builds it with the SDK)."""
    m = args.monitoring
    truth = m.ground_truth
    return MonitoringSpec(
        pipeline_name=pipeline_name(args.environment, args.model),
        region=args.region,
        role_arn=role_arn,
        bucket=capture_bucket,
        environment=args.environment,
        model=args.model,
        version=args.version,
        image=image,
        instance_type=m.instance_type,
        instance_count=m.instance_count,
        volume_size_gb=m.volume_gb,
        max_runtime_seconds=m.max_runtime_minutes * 60,
        kms_key_arn=kms_key_arn,
        select_function_arn=function_arn(
            args.region, args.account_id, function_name(args.environment, args.model, SELECT)
        ),
        publish_function_arn=function_arn(
            args.region, args.account_id, function_name(args.environment, args.model, PUBLISH)
        ),
        capture_prefix=f"{CAPTURE_PREFIX}/{endpoint}/",
        report_uri=f"s3://{capture_bucket}/{report_prefix(args.model, args.version)}",
        reference_uri=f"s3://{args.reference_bucket}/{reference_prefix(args.model, args.version)}",
        window_hours=m.interval_hours,
        ground_truth_uri=truth.s3_uri if truth else None,
        labels_delay_hours=truth.labels_delay_hours if truth else None,
        prediction_attribute=(truth.probability_attribute or truth.inference_attribute) if truth else None,
        probability_threshold=truth.probability_threshold if truth else None,
        subnet_ids=tuple(args.network.subnet_ids) if args.network else (),
        security_group_ids=tuple(args.network.security_group_ids) if args.network else (),
    )


def _logs_statement(args: EvidentlyMonitorArgs, step: str) -> dict[str, Any]:
    group = function_log_group(function_name(args.environment, args.model, step))
    return {
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [f"arn:aws:logs:{args.region}:{args.account_id}:log-group:{group}:*"],
    }


def select_policy(args: EvidentlyMonitorArgs, kms_key_arn: str, capture_bucket: str, endpoint: str) -> dict[str, Any]:
    """The select function (select_window.py): list this endpoint's captures, write this model version's
    manifests (S3 PutObject with the bucket's default encryption needs GenerateDataKey on its key)."""
    capture_arn = f"arn:aws:s3:::{capture_bucket}"
    reports = report_prefix(args.model, args.version)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListOwnCaptures",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [capture_arn],
                "Condition": {"StringLike": {"s3:prefix": [f"{CAPTURE_PREFIX}/{endpoint}/*"]}},
            },
            {
                "Sid": "WriteRunManifests",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"{capture_arn}/{reports}*/{MANIFESTS}/*"],
            },
            {
                "Sid": "EncryptWithEnvironmentKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey"],
                "Resource": [kms_key_arn],
            },
            _logs_statement(args, SELECT),
        ],
    }


def publish_policy(args: EvidentlyMonitorArgs, kms_key_arn: str, capture_bucket: str, endpoint: str) -> dict[str, Any]:
    """The publish function (publish_run.py): read a run's metrics.json, publish in our namespace only, write
    latest.json; with a tracking server, the MLflow operations its REST client calls (mlflow_run.py) on that
    server only."""
    capture_arn = f"arn:aws:s3:::{capture_bucket}"
    reports = report_prefix(args.model, args.version)
    mlflow = [logging_statement(args.mlflow_tracking_arn, mlflow_run.ACTIONS)] if args.mlflow_tracking_arn else []
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadRunMetrics",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{capture_arn}/{reports}*/{METRICS_JSON}"],
            },
            {
                "Sid": "PointLatestAtTheRun",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"{capture_arn}/{reports}{LATEST_POINTER}"],
            },
            {
                # PutMetricData has no resource types (Service Authorization Reference, CloudWatch, read
                # 2026-11-30): conditioned on our namespace instead.
                "Sid": "PublishDriftMetrics",
                "Effect": "Allow",
                "Action": ["cloudwatch:PutMetricData"],
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}},
            },
            {
                "Sid": "UseEnvironmentKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [kms_key_arn],
            },
            _logs_statement(args, PUBLISH),
            *mlflow,
        ],
    }


def monitor_policy(args: EvidentlyMonitorArgs, role_arn: str, kms_key_arn: str, capture_bucket: str) -> dict[str, Any]:
    """The role of the pipeline and its isolated job: every statement names its resources, except the actions that
    have no resource types (the ECR token; VPC describes). It lists no captures, publishes no metrics and logs to no
    MLflow: the select and publish functions do that with their own roles; it invokes only those two."""
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
            # A LambdaStep's function is invoked with the pipeline's role: AWS's managed policy for Lambda steps,
            # AmazonSageMakerPipelinesIntegrations, grants lambda:InvokeFunction to "any role used for authoring or
            # executing a pipeline" (https://docs.aws.amazon.com/sagemaker/latest/dg/security-iam-awsmanpol-pipelines.html,
            # read 2026-11-30). Only this pipeline's two functions here.
            "Sid": "InvokeOwnStepFunctions",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [
                function_arn(args.region, args.account_id, function_name(args.environment, args.model, step))
                for step in (SELECT, PUBLISH)
            ],
        },
        {
            # The manifests' objects (SageMaker downloads each key a manifest names: no listing).
            "Sid": "ReadOwnCapture",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{capture_arn}/{CAPTURE_PREFIX}/*", f"{capture_arn}/{reports}*"],
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
        *monitoring_job_statements(args.region, args.account_id, kms_key_arn),
        pull_image_statement("PullDriftJobImage", repository),
    ]
    statements += monitoring_job_access_statements(
        args.region,
        args.account_id,
        args.network,
        registry_decrypt=args.registry_key.decrypt_statement() if args.registry_key is not None else None,
        ground_truth_uri=args.monitoring.ground_truth.s3_uri if args.monitoring.ground_truth else None,
    )
    return {"Version": "2012-10-17", "Statement": statements}
