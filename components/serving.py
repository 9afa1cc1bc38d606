"""SageMaker real-time serving: one `ModelEndpoint` per model served on SageMaker.

A model's endpoint keeps its name for life; a new version (or any change to what the model or endpoint
configuration holds) gets a new `Model` and a new `EndpointConfiguration` with generated names, and the
`Endpoint` is updated in place to point at them. That in-place update is what makes SageMaker run the
blue/green deployment (all-at-once, canary, linear) or the rolling one declared in the environment file,
watching the rollback alarms this component creates from the model's SLOs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.config import Network
from components.config.serving import (
    BUILTIN_ALARMS,
    AllAtOnce,
    Canary,
    Linear,
    Rolling,
    Serving,
    sagemaker_warnings,
)
from components.iam import image_and_network_statements, pull_image_statement
from components.naming import CLOUDWATCH_ALARM, IAM_ROLE, S3_BUCKET, SAGEMAKER, physical_name
from components.storage import PrivateBucket, PrivateBucketArgs
from components.tagging import CostTags
from components.warnings import warn

# The production variant keeps this name in every endpoint configuration: a blue/green or rolling update
# requires the new configuration to use the old one's variant name
# (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html, read 2026-11-25).
VARIANT = "primary"
SHADOW_VARIANT = "shadow"
CAPTURE_PREFIX = "capture"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# SageMaker metrics: ModelLatency is in microseconds, Invocation5XXErrors a count
# (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html, read 2026-11-25).
METRIC_PERIOD_SECONDS = 60
MICROSECONDS_PER_MS = 1000


@dataclass(frozen=True)
class ModelEndpointArgs:
    """Inputs of `ModelEndpoint`; `composition.model_endpoint_args` builds them from the environment file."""

    environment: str
    """Environment (= stack) name, the first part of every physical name."""
    model: str
    """Model name; the endpoint is named `<environment>-<model>`."""
    version: int
    """Model-package version served by the production variant."""
    serving: Serving
    """The model's serving section (validated by the schema and `sagemaker_problems`)."""
    model_package_arn: str
    """ARN of the model package version to serve (possibly in the registry's account)."""
    shadow_model_package_arn: str | None
    """ARN of the challenger's model package when the serving section declares a shadow."""
    account_id: str
    """Account the endpoint runs in (log group and alarm ARNs)."""
    region: str
    """Region the endpoint runs in."""
    artifact_bucket: str
    """Bucket holding the model artifacts (the registry environment's artifact bucket)."""
    artifact_prefix: str
    """Key prefix of this model's artifacts in that bucket; the role reads nothing else."""
    image_repository_arn: str
    """ECR repository of the serving image; the role pulls from nothing else."""
    kms_key_arn: pulumi.Input[str]
    """The environment's KMS key: endpoint storage, captured data and the capture bucket."""
    network: Network | None
    """VPC placement of the model containers; None runs without a VPC."""
    protect_stateful: bool
    """Protect the capture bucket (it holds customer data) from deletion."""
    registry_key: RegistryKey | None = None
    """The registry environment's key, when models are served from another account's artifacts."""

    alarm_topic_arn: pulumi.Input[str] | None = None
    """SNS topic the rollback (SLO) alarms notify on ALARM and OK (the owning team's topic of the
    environment's `alerting.slo` severity); None notifies nobody."""


@dataclass(frozen=True)
class RegistryKey:
    """The key encrypting another account's model artifacts, named by its alias (its id is not known here)."""

    account_id: str
    region: str
    alias: str

    def decrypt_statement(self) -> dict[str, Any]:
        """kms:Decrypt on that account's key with this alias, only through S3 (the key policy grants the same).

        kms:ResourceAliases: https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
        (read 2026-11-25)."""
        return {
            "Sid": "DecryptRegistryArtifactsThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [f"arn:aws:kms:{self.region}:{self.account_id}:key/*"],
            "Condition": {
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": [self.alias]},
                "StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"},
            },
        }


def capture_bucket_name(environment: str, model: str, account_id: str, region: str) -> str:
    """Physical name of a model's capture bucket: captured payloads and the monitors' reports (dashboards,
    runbooks and the triage function name it too)."""
    return physical_name(S3_BUCKET, "mlp", environment, model, "capture", account_id, region)


def endpoint_name(environment: str, model: str) -> str:
    """A model's endpoint name, kept for life (the triage function reads the endpoint by it)."""
    return physical_name(SAGEMAKER, environment, model)


def _role_name(args: ModelEndpointArgs) -> str:
    return physical_name(IAM_ROLE, args.environment, args.model, "endpoint")


def _digest(*values: Any) -> str:
    """8 hex characters that change whenever one of the values does (for generated names)."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:8]


class ModelEndpoint(PlatformComponent):
    """A SageMaker real-time endpoint for one model: model, endpoint configuration, endpoint with its
    deployment policy and rollback alarms, autoscaling, data capture and a least-privilege role."""

    endpoint: aws.sagemaker.Endpoint
    endpoint_config: aws.sagemaker.EndpointConfiguration
    model: aws.sagemaker.Model
    role: aws.iam.Role
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(
        self,
        name: str,
        args: ModelEndpointArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:serving:ModelEndpoint", name, tags, opts)
        serving = args.serving
        self.endpoint_name = endpoint_name(args.environment, args.model)
        for message in sagemaker_warnings(serving):
            warn(name, message)

        self.capture_bucket = self._capture_bucket(name, args) if serving.data_capture else None
        self.role = self._execution_role(name, args)

        self.model_names: list[str] = []
        self.model = self._model(name, args, args.model_package_arn, args.version, "model")
        self.shadow_model = (
            self._model(name, args, args.shadow_model_package_arn, serving.shadow.version, "shadow-model")
            if serving.shadow and args.shadow_model_package_arn
            else None
        )
        self.alarms = self._alarms(name, args)
        self.endpoint_config = self._endpoint_config(name, args)
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.name,
            deployment_config=deployment_config(serving, [a.name for a in self.alarms]),
            opts=self.child_opts(),
        )
        self._autoscaling(name, args)

        self.register_outputs(
            {
                "endpointName": self.endpoint.name,
                "endpointArn": self.endpoint.arn,
                "roleArn": self.role.arn,
                "alarmNames": [a.name for a in self.alarms],
            }
        )

    # --- data capture -------------------------------------------------------------------------------

    def _capture_bucket(self, name: str, args: ModelEndpointArgs) -> aws.s3.Bucket:
        """A bucket per endpoint for captured payloads: customer data, so KMS-encrypted with the environment
        key, private, TLS-only, and expired after `retention_days` by a lifecycle rule."""
        capture = args.serving.data_capture
        assert capture is not None
        # Unversioned on purpose: an expired capture is gone, not kept as a noncurrent version.
        bucket = PrivateBucket(
            f"{name}-capture",
            PrivateBucketArgs(
                bucket_name=capture_bucket_name(args.environment, args.model, args.account_id, args.region),
                kms_key_arn=args.kms_key_arn,
                protect=args.protect_stateful,
                versioned=False,
                expire_after_days=capture.retention_days,
            ),
            self.tags,
            opts=self.child_opts(),
        ).bucket
        return bucket

    # --- execution role -----------------------------------------------------------------------------

    def _execution_role(self, name: str, args: ModelEndpointArgs) -> aws.iam.Role:
        capture_bucket = self.capture_bucket.bucket if self.capture_bucket else None
        role, _ = self.service_role(
            f"{name}-role",
            f"{name}-role-policy",
            role_name=_role_name(args),
            description=f"SageMaker execution role of endpoint {self.endpoint_name}",
            service="sagemaker.amazonaws.com",
            account_id=args.account_id,
            policy=pulumi.Output.all(args.kms_key_arn, capture_bucket).apply(
                lambda v: json.dumps(execution_policy(args, self.endpoint_name, v[0], v[1]), sort_keys=True)
            ),
        )
        return role

    # --- model --------------------------------------------------------------------------------------

    def _model(
        self, name: str, args: ModelEndpointArgs, package_arn: str | None, version: int, suffix: str
    ) -> aws.sagemaker.Model:
        # Serverless Inference does not support network isolation (a warning says so in the plan).
        isolated = args.serving.serverless is None
        vpc: aws.sagemaker.ModelVpcConfigArgsDict | None = (
            {"subnets": list(args.network.subnet_ids), "security_group_ids": list(args.network.security_group_ids)}
            if args.network
            else None
        )
        role_name = _role_name(args)
        # Everything that forces a replacement is in the name, so a new Model never collides with the old
        # one while both exist (create-before-delete).
        model_name = physical_name(
            SAGEMAKER, args.environment, args.model, f"v{version}", _digest(package_arn, isolated, vpc, role_name)
        )
        self.model_names.append(model_name)
        return aws.sagemaker.Model(
            f"{name}-{suffix}",
            name=model_name,
            execution_role_arn=self.role.arn,
            primary_container=aws.sagemaker.ModelPrimaryContainerArgsDict(model_package_name=package_arn),
            enable_network_isolation=isolated,
            vpc_config=vpc,
            opts=self.child_opts(depends_on=[self.role]),
        )

    # --- rollback alarms ----------------------------------------------------------------------------

    def _alarms(self, name: str, args: ModelEndpointArgs) -> list[aws.cloudwatch.MetricAlarm]:
        slos = args.serving.slos
        if slos is None:
            return []
        dimensions = {"EndpointName": self.endpoint_name, "VariantName": VARIANT}
        specs: list[dict[str, Any]] = [
            {
                "suffix": "p99-latency",
                "description": f"p99 ModelLatency above {slos.p99_latency_ms} ms (SLO)",
                "namespace": "AWS/SageMaker",
                "metric_name": "ModelLatency",
                "extended_statistic": "p99",
                "threshold": slos.p99_latency_ms * MICROSECONDS_PER_MS,
                "comparison_operator": "GreaterThanThreshold",
                "minutes": slos.evaluation_minutes,
            },
            {
                "suffix": "5xx-errors",
                "description": f"more than {slos.max_5xx_errors_per_minute} Invocation5XXErrors per minute (SLO)",
                "namespace": "AWS/SageMaker",
                "metric_name": "Invocation5XXErrors",
                "statistic": "Sum",
                "threshold": float(slos.max_5xx_errors_per_minute),
                "comparison_operator": "GreaterThanThreshold",
                "minutes": slos.evaluation_minutes,
            },
        ]
        for extra in slos.extra_alarms:
            percentile = extra.statistic.startswith("p")
            specs.append(
                {
                    "suffix": extra.name,
                    "description": f"{extra.metric} {extra.statistic} {extra.comparison} {extra.threshold}",
                    "namespace": extra.namespace,
                    "metric_name": extra.metric,
                    "extended_statistic" if percentile else "statistic": extra.statistic,
                    "threshold": extra.threshold,
                    "comparison_operator": extra.comparison,
                    "minutes": extra.evaluation_minutes,
                }
            )
        alarms = []
        actions = [args.alarm_topic_arn] if args.alarm_topic_arn is not None else None
        for spec in specs:
            suffix = spec.pop("suffix")
            minutes = spec.pop("minutes")
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-alarm-{suffix}",
                    name=physical_name(CLOUDWATCH_ALARM, args.environment, args.model, suffix),
                    alarm_description=f"Rolls back deployments of {self.endpoint_name}: {spec.pop('description')}",
                    dimensions=dimensions,
                    period=METRIC_PERIOD_SECONDS,
                    evaluation_periods=minutes,
                    datapoints_to_alarm=minutes,
                    # No traffic is no evidence of a bad version.
                    treat_missing_data="notBreaching",
                    alarm_actions=actions,
                    ok_actions=actions,
                    opts=self.child_opts(),
                    **spec,
                )
            )
        return alarms

    # --- endpoint configuration ---------------------------------------------------------------------

    def _endpoint_config(self, name: str, args: ModelEndpointArgs) -> aws.sagemaker.EndpointConfiguration:
        serving = args.serving
        primary: aws.sagemaker.EndpointConfigurationProductionVariantArgsDict = {
            "variant_name": VARIANT,
            "model_name": self.model.name,
            "initial_variant_weight": 1.0,
        }
        if serving.serverless:
            primary["serverless_config"] = {
                "memory_size_in_mb": serving.serverless.memory_mb,
                "max_concurrency": serving.serverless.max_concurrency,
            }
        else:
            primary["instance_type"] = serving.instance_type
            primary["initial_instance_count"] = serving.instance_count
        shadows: list[aws.sagemaker.EndpointConfigurationShadowProductionVariantArgsDict] | None = None
        if serving.shadow and self.shadow_model:
            # Our reading of ShadowProductionVariants: the shadow's weight relative to the production
            # variant's (1.0) is the share of requests copied to it
            # (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html).
            shadows = [
                {
                    "variant_name": SHADOW_VARIANT,
                    "model_name": self.shadow_model.name,
                    "instance_type": serving.shadow.instance_type or serving.instance_type,
                    "initial_instance_count": serving.shadow.instance_count,
                    "initial_variant_weight": serving.shadow.mirror_percent / 100,
                }
            ]
        capture: aws.sagemaker.EndpointConfigurationDataCaptureConfigArgsDict | None = None
        if serving.data_capture and self.capture_bucket:
            capture = {
                "enable_capture": True,
                "initial_sampling_percentage": serving.data_capture.sampling_percent,
                "destination_s3_uri": self.capture_bucket.bucket.apply(lambda b: f"s3://{b}/{CAPTURE_PREFIX}"),
                "kms_key_id": args.kms_key_arn,
                "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
            }
        config_name = physical_name(
            SAGEMAKER,
            args.environment,
            args.model,
            f"v{args.version}",
            _digest(
                self.model_names,
                serving.serverless.model_dump() if serving.serverless else serving.instance_type,
                serving.instance_count,
                serving.shadow.model_dump() if serving.shadow else None,
                # Retention is the bucket's lifecycle, not the configuration's: changing it replaces nothing.
                serving.data_capture.sampling_percent if serving.data_capture else None,
            ),
        )
        return aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            name=config_name,
            production_variants=[primary],
            shadow_production_variants=shadows,
            data_capture_config=capture,
            kms_key_arn=args.kms_key_arn,
            opts=self.child_opts(),
        )

    # --- autoscaling --------------------------------------------------------------------------------

    def _autoscaling(self, name: str, args: ModelEndpointArgs) -> None:
        scaling = args.serving.autoscaling
        if scaling is None:
            return
        resource_id = self.endpoint.name.apply(lambda n: f"endpoint/{n}/variant/{VARIANT}")
        target = aws.appautoscaling.Target(
            f"{name}-scaling-target",
            service_namespace="sagemaker",
            scalable_dimension=SCALABLE_DIMENSION,
            resource_id=resource_id,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            opts=self.child_opts(),
        )
        target_opts = self.child_opts(depends_on=[target])
        aws.appautoscaling.Policy(
            f"{name}-scaling-policy",
            name=f"{self.endpoint_name}-invocations-per-instance",
            policy_type="TargetTrackingScaling",
            service_namespace="sagemaker",
            scalable_dimension=SCALABLE_DIMENSION,
            resource_id=resource_id,
            target_tracking_scaling_policy_configuration={
                "target_value": scaling.invocations_per_instance,
                "predefined_metric_specification": {"predefined_metric_type": "SageMakerVariantInvocationsPerInstance"},
                "scale_in_cooldown": scaling.scale_in_cooldown_seconds,
                "scale_out_cooldown": scaling.scale_out_cooldown_seconds,
            },
            opts=target_opts,
        )
        for window in scaling.scale_down_windows:
            for edge, schedule, low, high in (
                ("start", window.start, window.min_capacity, window.max_capacity),
                ("end", window.end, scaling.min_capacity, scaling.max_capacity),
            ):
                aws.appautoscaling.ScheduledAction(
                    f"{name}-{window.name}-{edge}",
                    name=f"{self.endpoint_name}-{window.name}-{edge}",
                    service_namespace="sagemaker",
                    scalable_dimension=SCALABLE_DIMENSION,
                    resource_id=resource_id,
                    schedule=schedule,
                    timezone=window.timezone,
                    scalable_target_action={"min_capacity": low, "max_capacity": high},
                    opts=target_opts,
                )


def deployment_config(
    serving: Serving, alarm_names: list[pulumi.Output[str]]
) -> aws.sagemaker.EndpointDeploymentConfigArgsDict:
    """The Endpoint's deployment_config: how SageMaker shifts traffic to a new configuration, and the
    alarms that roll it back (input names of pulumi_aws.sagemaker.EndpointDeploymentConfigArgs)."""
    rollout = serving.rollout
    timeout = serving.deployment_timeout_minutes * 60 if serving.deployment_timeout_minutes else None
    config: aws.sagemaker.EndpointDeploymentConfigArgsDict = {}
    if isinstance(rollout, Rolling):
        config["rolling_update_policy"] = {
            "maximum_batch_size": {"type": "CAPACITY_PERCENT", "value": rollout.batch_percent},
            "wait_interval_in_seconds": rollout.wait_minutes * 60,
            "maximum_execution_timeout_in_seconds": timeout,
        }
    else:
        routing: aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgsDict
        if isinstance(rollout, Canary):
            routing = {
                "type": "CANARY",
                "canary_size": {"type": "CAPACITY_PERCENT", "value": rollout.percent},
                "wait_interval_in_seconds": rollout.bake_minutes * 60,
            }
        elif isinstance(rollout, Linear):
            routing = {
                "type": "LINEAR",
                "linear_step_size": {"type": "CAPACITY_PERCENT", "value": rollout.step_percent},
                "wait_interval_in_seconds": rollout.interval_minutes * 60,
            }
        else:
            assert isinstance(rollout, AllAtOnce)
            routing = {"type": "ALL_AT_ONCE", "wait_interval_in_seconds": rollout.wait_minutes * 60}
        config["blue_green_update_policy"] = {
            "traffic_routing_configuration": routing,
            "termination_wait_in_seconds": serving.termination_wait_minutes * 60,
            "maximum_execution_timeout_in_seconds": timeout,
        }
    if alarm_names:
        config["auto_rollback_configuration"] = {"alarms": [{"alarm_name": n} for n in alarm_names]}
    return config


def rollback_alarm_names(args: ModelEndpointArgs) -> list[str]:
    """Physical names of the endpoint's rollback alarms: the built-in SLO alarms, then the extra ones."""
    slos = args.serving.slos
    if slos is None:
        return []
    suffixes = [*BUILTIN_ALARMS, *(extra.name for extra in slos.extra_alarms)]
    return [physical_name(CLOUDWATCH_ALARM, args.environment, args.model, suffix) for suffix in suffixes]


def execution_policy(
    args: ModelEndpointArgs, endpoint_name: str, kms_key_arn: str, capture_bucket: str | None
) -> dict[str, Any]:
    """The endpoint's execution role policy: every statement names its resources; the one statement on
    "*" holds only actions that support no resource-level permissions (components/iam.py)."""
    packages = [args.model_package_arn] + ([args.shadow_model_package_arn] if args.shadow_model_package_arn else [])
    bucket_arn = f"arn:aws:s3:::{args.artifact_bucket}"
    key_actions = ["kms:Decrypt"] + (["kms:GenerateDataKey"] if capture_bucket else [])
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DescribeServedModelPackages",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeModelPackage"],
            "Resource": packages,
        },
        {
            "Sid": "ReadOwnModelArtifacts",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{args.artifact_prefix}*"],
        },
        {
            "Sid": "ListOwnModelArtifacts",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{args.artifact_prefix}*"]}},
        },
        pull_image_statement("PullOwnImage", args.image_repository_arn),
        {
            "Sid": "UseEnvironmentKey",
            "Effect": "Allow",
            "Action": key_actions,
            "Resource": [kms_key_arn],
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [
                f"arn:aws:logs:{args.region}:{args.account_id}:log-group:/aws/sagemaker/Endpoints/{endpoint_name}*"
            ],
        },
    ]
    if args.registry_key is not None:
        statements.append(args.registry_key.decrypt_statement())
    if args.serving.slos is not None:
        # "Ensure that your IAM execution role has permission to perform the cloudwatch:DescribeAlarms
        # action on the auto-rollback alarms you specify" (deployment-guardrails-configuration.html, read
        # 2026-11-25): exactly this endpoint's rollback alarms.
        statements.append(
            {
                "Sid": "ReadOwnRollbackAlarms",
                "Effect": "Allow",
                "Action": ["cloudwatch:DescribeAlarms"],
                "Resource": [
                    f"arn:aws:cloudwatch:{args.region}:{args.account_id}:alarm:{alarm}"
                    for alarm in rollback_alarm_names(args)
                ],
            }
        )
    if capture_bucket:
        statements.append(
            {
                "Sid": "WriteOwnCapture",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{capture_bucket}/{CAPTURE_PREFIX}/*"],
            }
        )
    statements += image_and_network_statements(args.region, args.account_id, args.network)
    return {"Version": "2012-10-17", "Statement": statements}
