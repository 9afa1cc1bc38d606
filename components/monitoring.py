"""The `model-monitor` engine: SageMaker Model Monitor for one endpoint (data quality always, model quality where
ground truth is named), for accounts that still have Model Monitor; components/evidently_monitoring.py is the
default engine.

The monitors compare the endpoint's captured requests with the baseline of the model-package version
being served. The training pipeline writes that baseline to a fixed place derived from the model and
version (`baseline_uri`), so a version bump in the environment file moves the monitors to the new
version's baseline in the same pull request.

Jobs run network isolated in the environment's VPC, encrypt their volume and reports with the
environment key, and use a role that can read only this endpoint's capture, this version's baseline and
the ground truth, and write only this endpoint's reports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.artifacts import DATA_QUALITY, MODEL_QUALITY, version_baselines_prefix
from components.base import PlatformComponent
from components.config import Network
from components.config.observability import (
    HOURLY_MODEL_QUALITY_MAX_RUNTIME_MINUTES,
    Monitoring,
)
from components.iam import (
    monitoring_job_access_statements,
    monitoring_job_statements,
    pull_image_statement,
)
from components.naming import CLOUDWATCH_ALARM, IAM_ROLE, SAGEMAKER, physical_name
from components.sdk_images import MODEL_MONITOR_REPOSITORY, model_monitor_image_uri, model_monitor_registries
from components.serving import CAPTURE_PREFIX, RegistryKey
from components.tagging import CostTags

# --- The baseline contract with the training pipeline -------------------------------------------------
# Each registered version's baselines live under the model's pipeline prefix (components/artifacts.py):
#   s3://<registry artifact bucket>/pipelines/<model>/baselines/v<version>/<kind>/
# with kind "data-quality" (statistics.json, constraints.json: what the QualityCheckStep of the
# training pipeline writes, copied there from the execution's folder when the version is approved, by
# components/baselines.py). Model-quality jobs use no baseline (see `_model_quality`).
# docs/observability.md states it.
REPORTS_PREFIX = "monitoring"

# Metrics the Model Monitor containers publish (read 2026-11-25). AWS's page on data-quality metrics
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html) names the
# per-feature metric feature_baseline_drift_<feature>; the namespace and dimension names below are the
# ones the sagemaker SDK's own monitoring dashboards query (aws/sagemaker/Endpoints/data-metrics with
# Endpoint and MonitoringSchedule), which differ in spelling from that page. Model-quality metrics:
# aws/sagemaker/Endpoints/model-metrics
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html).
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
DRIFT_METRIC_PREFIX = "feature_baseline_drift_"
# The built-in container publishes CloudWatch metrics when this environment variable is Enabled.
PUBLISH_METRICS = {"publish_cloudwatch_metrics": "Enabled"}
LOCAL_INPUT = "/opt/ml/processing/input/endpoint"
LOCAL_GROUND_TRUTH = "/opt/ml/processing/groundtruth"
LOCAL_OUTPUT = "/opt/ml/processing/output"
# Processing jobs (monitoring executions run as such) log to this group.


# cloudwatch:PutMetricData has no resource types (Service Authorization Reference,
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html, read
# 2026-11-25): it is granted on "*" and scoped by the cloudwatch:namespace condition key.
def monitor_image_uri(region: str) -> str:
    """The analyzer image the monitoring jobs run: the one the training pipeline's baseline step uses."""
    registries = model_monitor_registries()
    if region not in registries:
        raise ValueError(
            f"Model Monitor has no analyzer image in {region} (sagemaker SDK model-monitor.json); "
            f"regions with one: {', '.join(sorted(registries))}"
        )
    return f"{model_monitor_image_uri(region)}:latest"


def baseline_uri(bucket: str, model: str, version: int, kind: str) -> str:
    return f"s3://{bucket}/{version_baselines_prefix(model, version)}{kind}"


def endpoint_name(environment: str, model: str) -> str:
    """The endpoint's physical name, as components/serving.py names it."""
    return physical_name(SAGEMAKER, environment, model)


def schedule_name(environment: str, model: str, kind: str) -> str:
    return physical_name(SAGEMAKER, environment, model, kind)


def drift_alarm_name(environment: str, model: str, feature: str) -> str:
    return physical_name(CLOUDWATCH_ALARM, environment, model, "drift", feature)


def quality_alarm_name(environment: str, model: str, metric: str) -> str:
    return physical_name(CLOUDWATCH_ALARM, environment, model, "quality", metric)


@dataclass(frozen=True)
class ModelMonitorArgs:
    """Inputs of `ModelMonitor`; `composition.model_monitor_args` builds them from the environment file."""

    environment: str
    """Environment (= stack) name, the first part of every physical name."""
    model: str
    """Model name."""
    registry_group: str
    """Model package group: part of the baseline location."""
    version: int
    """The served version: the monitors use its baseline."""
    monitoring: Monitoring
    """Schedule, job size, ground truth and alarms (validated by the schema)."""
    account_id: str
    """Account the jobs run in (role, log and alarm ARNs)."""
    region: str
    """Region the jobs run in (and the analyzer image's registry)."""
    baseline_bucket: str
    """The registry environment's artifact bucket, where the training pipeline writes baselines."""
    endpoint_name: pulumi.Input[str]
    """The monitored endpoint (its output, so the monitors are created after it)."""
    capture_bucket: pulumi.Input[str]
    """The endpoint's capture bucket: captured data under `capture/`, reports written under `monitoring/`."""
    kms_key_arn: pulumi.Input[str]
    """The environment key: job volumes and reports."""
    network: Network | None
    """VPC of the jobs; None runs them without a VPC (still network isolated)."""
    topic_arns: dict[str, pulumi.Input[str]]
    """The owning team's alert topic per severity."""
    drift_severity: str
    """Severity of drift alarms that name none (`alerting.drift`)."""
    quality_severity: str
    """Severity of model-quality alarms that name none (`alerting.model_quality`)."""
    registry_key: RegistryKey | None = None
    """The baseline bucket's key when that bucket is in another account: cross-account SSE-KMS needs the grant
    in the key policy (components/foundation.py allows the consumer accounts) and in this role's policy."""


def _digest(*values: Any) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:8]


class ModelMonitor(PlatformComponent):
    """Model Monitor on one endpoint: job definitions, hourly or daily schedules, alarms and a role."""

    role: aws.iam.Role
    data_quality: aws.sagemaker.DataQualityJobDefinition
    schedules: dict[str, aws.sagemaker.MonitoringSchedule]
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(
        self,
        name: str,
        args: ModelMonitorArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:monitoring:ModelMonitor", name, tags, opts)
        self.args = args
        self.image_uri = monitor_image_uri(args.region)
        self.role = self._role(name, args)
        self.schedules = {}
        self.data_quality = self._data_quality(name, args)
        self.schedules[DATA_QUALITY] = self._schedule(
            name,
            args,
            kind=DATA_QUALITY,
            monitoring_type="DataQuality",
            job_name=self.data_quality.name,
            definition=self.data_quality,
        )
        self.model_quality: aws.cloudcontrol.Resource | None = None
        if args.monitoring.ground_truth is not None:
            self.model_quality = self._model_quality(name, args, tags)
            self.schedules[MODEL_QUALITY] = self._schedule(
                name,
                args,
                kind=MODEL_QUALITY,
                monitoring_type="ModelQuality",
                job_name=self.model_quality_name,
                definition=self.model_quality,
            )
        self.alarms = self._alarms(name, args)
        self.register_outputs(
            {
                "roleArn": self.role.arn,
                "scheduleNames": {k: s.name for k, s in self.schedules.items()},
                "alarmNames": [a.name for a in self.alarms],
            }
        )

    # --- role -----------------------------------------------------------------------------------------

    def _role(self, name: str, args: ModelMonitorArgs) -> aws.iam.Role:
        role, _ = self.service_role(
            f"{name}-role",
            f"{name}-role-policy",
            role_name=physical_name(IAM_ROLE, args.environment, args.model, "monitor"),
            description=f"Model Monitor jobs of endpoint {endpoint_name(args.environment, args.model)}",
            service="sagemaker.amazonaws.com",
            account_id=args.account_id,
            policy=pulumi.Output.all(args.kms_key_arn, args.capture_bucket).apply(
                lambda v: json.dumps(monitor_policy(args, self.image_uri, v[0], v[1]), sort_keys=True)
            ),
        )
        return role

    # --- job definitions ------------------------------------------------------------------------------

    def _job_name(self, args: ModelMonitorArgs, short: str, *hashed: Any) -> str:
        # Job definitions are immutable: every change is a replacement, so the name carries the version and
        # a hash of the content and the new definition never collides with the old one.
        return physical_name(SAGEMAKER, args.environment, args.model, short, f"v{args.version}", _digest(*hashed))

    def _network(self, args: ModelMonitorArgs) -> aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgsDict:
        network: aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgsDict = {
            "enable_network_isolation": True,
            "enable_inter_container_traffic_encryption": True,
        }
        if args.network:
            network["vpc_config"] = {
                "subnets": list(args.network.subnet_ids),
                "security_group_ids": list(args.network.security_group_ids),
            }
        return network

    def _data_quality(self, name: str, args: ModelMonitorArgs) -> aws.sagemaker.DataQualityJobDefinition:
        m = args.monitoring
        prefix = baseline_uri(args.baseline_bucket, args.model, args.version, DATA_QUALITY)
        job_name = self._job_name(
            args, "dq", prefix, m.instance_type, m.volume_gb, m.max_runtime_minutes, args.network, self.image_uri
        )
        return aws.sagemaker.DataQualityJobDefinition(
            f"{name}-data-quality",
            name=job_name,
            role_arn=self.role.arn,
            data_quality_app_specification={"image_uri": self.image_uri, "environment": dict(PUBLISH_METRICS)},
            data_quality_baseline_config={
                "constraints_resource": {"s3_uri": f"{prefix}/constraints.json"},
                "statistics_resource": {"s3_uri": f"{prefix}/statistics.json"},
            },
            data_quality_job_input={
                "endpoint_input": {
                    "endpoint_name": args.endpoint_name,
                    "local_path": LOCAL_INPUT,
                    "s3_data_distribution_type": "FullyReplicated",
                    "s3_input_mode": "File",
                }
            },
            data_quality_job_output_config={
                "kms_key_id": args.kms_key_arn,
                "monitoring_outputs": {
                    "s3_output": {
                        "s3_uri": pulumi.Output.from_input(args.capture_bucket).apply(
                            lambda b: f"s3://{b}/{REPORTS_PREFIX}/{DATA_QUALITY}"
                        ),
                        "local_path": LOCAL_OUTPUT,
                        "s3_upload_mode": "EndOfJob",
                    }
                },
            },
            job_resources={
                "cluster_config": {
                    "instance_count": 1,
                    "instance_type": m.instance_type,
                    "volume_size_in_gb": m.volume_gb,
                    "volume_kms_key_id": args.kms_key_arn,
                }
            },
            network_config=self._network(args),
            stopping_condition={"max_runtime_in_seconds": m.max_runtime_minutes * 60},
            opts=self.child_opts(depends_on=[self.role]),
        )

    def _model_quality(self, name: str, args: ModelMonitorArgs, tags: CostTags) -> aws.cloudcontrol.Resource:
        """pulumi_aws has no ModelQualityJobDefinition resource; the Cloud Control API creates the
        CloudFormation type AWS::SageMaker::ModelQualityJobDefinition from its documented properties
        (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-modelqualityjobdefinition.html)."""
        m = args.monitoring
        truth = m.ground_truth
        assert truth is not None
        # No ModelQualityBaselineConfig: the training pipeline computes no model-quality baseline (it needs
        # predictions joined with labels), and the job does without one (optional in CreateModelQualityJobDefinition,
        # botocore's sagemaker service model; the SDK's ModelQualityMonitor omits it when given no
        # constraints). The job still publishes its metrics, and the alarms compare them with the thresholds
        # of the environment file. The version stays in the job's name, as for data quality.
        prefix = baseline_uri(args.baseline_bucket, args.model, args.version, MODEL_QUALITY)
        job_name = self._job_name(
            args, "mq", prefix, truth.model_dump(), m.instance_type, m.volume_gb, m.max_runtime_minutes, args.network
        )
        self.model_quality_name = job_name
        endpoint_input: dict[str, Any] = {
            "LocalPath": LOCAL_INPUT,
            "S3DataDistributionType": "FullyReplicated",
            "S3InputMode": "File",
        }
        if truth.labels_delay_hours:
            # One schedule interval's predictions, labels_delay_hours ago: the windows of runs never overlap.
            interval_hours = m.period_seconds // 3600
            endpoint_input["StartTimeOffset"] = f"-PT{truth.labels_delay_hours + interval_hours}H"
            endpoint_input["EndTimeOffset"] = f"-PT{truth.labels_delay_hours}H"
        for key, value in (
            ("InferenceAttribute", truth.inference_attribute),
            ("ProbabilityAttribute", truth.probability_attribute),
            ("ProbabilityThresholdAttribute", truth.probability_threshold),
        ):
            if value is not None:
                endpoint_input[key] = value
        network: dict[str, Any] = {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True}
        if args.network:
            network["VpcConfig"] = {
                "Subnets": list(args.network.subnet_ids),
                "SecurityGroupIds": list(args.network.security_group_ids),
            }

        # An hourly model-quality run may last at most 30 minutes (MODEL_QUALITY_SCHEDULE).
        runtime_minutes = (
            min(m.max_runtime_minutes, HOURLY_MODEL_QUALITY_MAX_RUNTIME_MINUTES)
            if m.schedule == "hourly"
            else m.max_runtime_minutes
        )

        def state(values: list[Any]) -> str:
            endpoint, role_arn, key, bucket = values
            return json.dumps(
                {
                    "JobDefinitionName": job_name,
                    "RoleArn": role_arn,
                    "ModelQualityAppSpecification": {
                        "ImageUri": self.image_uri,
                        "ProblemType": truth.problem_type,
                        "Environment": dict(PUBLISH_METRICS),
                    },
                    "ModelQualityJobInput": {
                        "EndpointInput": {"EndpointName": endpoint, **endpoint_input},
                        "GroundTruthS3Input": {"S3Uri": truth.s3_uri},
                    },
                    "ModelQualityJobOutputConfig": {
                        "KmsKeyId": key,
                        "MonitoringOutputs": [
                            {
                                "S3Output": {
                                    "S3Uri": f"s3://{bucket}/{REPORTS_PREFIX}/{MODEL_QUALITY}",
                                    "LocalPath": LOCAL_OUTPUT,
                                    "S3UploadMode": "EndOfJob",
                                }
                            }
                        ],
                    },
                    "JobResources": {
                        "ClusterConfig": {
                            "InstanceCount": 1,
                            "InstanceType": m.instance_type,
                            "VolumeSizeInGB": m.volume_gb,
                            "VolumeKmsKeyId": key,
                        }
                    },
                    "NetworkConfig": network,
                    "StoppingCondition": {"MaxRuntimeInSeconds": runtime_minutes * 60},
                    # Cloud Control resources take no `tags` input, so the cost tags are written here.
                    "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.as_dict().items())],
                },
                sort_keys=True,
            )

        return aws.cloudcontrol.Resource(
            f"{name}-model-quality",
            type_name="AWS::SageMaker::ModelQualityJobDefinition",
            desired_state=pulumi.Output.all(
                args.endpoint_name, self.role.arn, args.kms_key_arn, args.capture_bucket
            ).apply(state),
            opts=self.child_opts(depends_on=[self.role]),
        )

    # --- schedules ------------------------------------------------------------------------------------

    def _schedule(
        self,
        name: str,
        args: ModelMonitorArgs,
        *,
        kind: str,
        monitoring_type: str,
        job_name: pulumi.Input[str],
        definition: pulumi.Resource,
    ) -> aws.sagemaker.MonitoringSchedule:
        return aws.sagemaker.MonitoringSchedule(
            f"{name}-{kind}-schedule",
            name=schedule_name(args.environment, args.model, kind),
            monitoring_schedule_config={
                "monitoring_type": monitoring_type,
                "monitoring_job_definition_name": job_name,
                "schedule_config": {"schedule_expression": args.monitoring.expression},
            },
            opts=self.child_opts(depends_on=[definition]),
        )

    # --- alarms ---------------------------------------------------------------------------------------

    def _alarms(self, name: str, args: ModelMonitorArgs) -> list[aws.cloudwatch.MetricAlarm]:
        m = args.monitoring
        alarms: list[aws.cloudwatch.MetricAlarm] = []
        specs: list[tuple[str, str, dict[str, Any]]] = []
        for drift in m.drift_alarms:
            specs.append(
                (
                    f"drift-{drift.feature}",
                    drift.severity or args.drift_severity,
                    {
                        "name": drift_alarm_name(args.environment, args.model, drift.feature),
                        "alarm_description": f"Input feature {drift.feature} drifted from the baseline of "
                        f"v{args.version} by more than {drift.threshold}",
                        "namespace": DATA_METRICS_NAMESPACE,
                        "metric_name": f"{DRIFT_METRIC_PREFIX}{drift.feature}",
                        "threshold": drift.threshold,
                        "comparison_operator": "GreaterThanThreshold",
                        "kind": DATA_QUALITY,
                    },
                )
            )
        for quality in m.ground_truth.alarms if m.ground_truth else []:
            specs.append(
                (
                    f"quality-{quality.metric}",
                    quality.severity or args.quality_severity,
                    {
                        "name": quality_alarm_name(args.environment, args.model, quality.metric),
                        "alarm_description": f"Model quality {quality.metric} {quality.comparison} {quality.threshold}",
                        "namespace": MODEL_METRICS_NAMESPACE,
                        "metric_name": quality.metric,
                        "threshold": quality.threshold,
                        "comparison_operator": quality.comparison,
                        "kind": MODEL_QUALITY,
                    },
                )
            )
        for suffix, severity, spec in specs:
            kind = spec.pop("kind")
            actions = [args.topic_arns[severity]]
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-alarm-{suffix}",
                    dimensions={
                        "Endpoint": args.endpoint_name,
                        "MonitoringSchedule": schedule_name(args.environment, args.model, kind),
                    },
                    statistic="Maximum",
                    # One datapoint per run: the period is the schedule's interval.
                    period=m.period_seconds,
                    evaluation_periods=1,
                    datapoints_to_alarm=1,
                    # A run that published nothing (no traffic, failed job) is not evidence of drift.
                    treat_missing_data="notBreaching",
                    alarm_actions=actions,
                    ok_actions=actions,
                    opts=self.child_opts(),
                    **spec,
                )
            )
        return alarms


def monitor_policy(args: ModelMonitorArgs, image_uri: str, kms_key_arn: str, capture_bucket: str) -> dict[str, Any]:
    """The monitoring role's policy: every statement names its resources, except the two actions that have
    no resource types, which are conditioned (PutMetricData) or needed to pull an image (ECR token)."""
    capture_arn = f"arn:aws:s3:::{capture_bucket}"
    baseline_arn = f"arn:aws:s3:::{args.baseline_bucket}"
    baseline = version_baselines_prefix(args.model, args.version)
    registry_account = image_uri.partition(".dkr.ecr.")[0]
    endpoint_arn = f"arn:aws:sagemaker:{args.region}:{args.account_id}:endpoint/"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadOwnCapture",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{capture_arn}/{CAPTURE_PREFIX}/*"],
        },
        {
            "Sid": "ListOwnCapture",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [capture_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{CAPTURE_PREFIX}/*", f"{REPORTS_PREFIX}/*"]}},
        },
        {
            "Sid": "WriteOwnReports",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"{capture_arn}/{REPORTS_PREFIX}/*"],
        },
        {
            "Sid": "ReadServedVersionBaseline",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{baseline_arn}/{baseline}*"],
        },
        {
            "Sid": "DescribeOwnEndpoint",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeEndpoint"],
            "Resource": [endpoint_arn + endpoint_name(args.environment, args.model)],
        },
        *monitoring_job_statements(args.region, args.account_id, kms_key_arn),
        pull_image_statement(
            "PullMonitorImage", f"arn:aws:ecr:{args.region}:{registry_account}:repository/{MODEL_MONITOR_REPOSITORY}"
        ),
        {
            "Sid": "PublishMonitorMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": [DATA_METRICS_NAMESPACE, MODEL_METRICS_NAMESPACE]}},
        },
    ]
    statements += monitoring_job_access_statements(
        args.region,
        args.account_id,
        args.network,
        registry_decrypt=args.registry_key.decrypt_statement() if args.registry_key is not None else None,
        ground_truth_uri=args.monitoring.ground_truth.s3_uri if args.monitoring.ground_truth else None,
    )
    return {"Version": "2012-10-17", "Statement": statements}
