"""TrainingPipeline: a model's SageMaker Pipeline, its least-privilege execution role and its schedule.

The definition is built by `components.pipeline_definition` with the sagemaker SDK, from Output values
(role ARN, bucket, key ARN) inside one `Output.all(...).apply(...)` that only computes a string; when the
environment's committed rendering was built from the same inputs, it is read instead
(`components.rendered_pipelines`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import rendered_pipelines
from components.artifacts import baselines_prefix, pipeline_prefix
from components.base import PlatformComponent
from components.mlflow import ARTIFACTS_PREFIX as MLFLOW_ARTIFACTS
from components.mlflow import logging_statement
from components.naming import EVENTBRIDGE_RULE, IAM_POLICY, IAM_ROLE, SAGEMAKER_PIPELINE, physical_name
from components.pipeline_definition import DefinitionSpec
from components.sdk_images import model_monitor_image_uri
from components.tagging import CostTags

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"


@dataclass(frozen=True)
class TrainingPipelineArgs:
    """Inputs of `TrainingPipeline`. Everything but the Outputs is a plain value from the env file."""

    environment: str
    """Environment name; part of every physical name and recorded on registered versions."""
    model: str
    """Model name; the pipeline writes under `pipelines/<model>/` in the artifact bucket."""
    account_id: str
    """Account the pipeline runs in."""
    region: str
    """Region the pipeline runs in."""
    bucket_name: pulumi.Input[str]
    """Artifact bucket (the environment's): inputs, code, outputs, checkpoints, models."""
    bucket_arn: pulumi.Input[str]
    """ARN of the artifact bucket, for the execution role's policy."""
    kms_key_arn: pulumi.Input[str]
    """Environment key: encrypts job volumes and outputs."""
    model_package_group_arn: str
    """Group the pipeline registers versions in (may be in the registry account, cross-account)."""
    model_package_group: str
    """Name or ARN passed to RegisterModel: the ARN when the group is in another account."""
    training_image: str
    """Training (and inference) image."""
    processing_image: str
    """Image of feature preparation and evaluation."""
    code_prefix: str
    """Key prefix holding preprocess.py and evaluate.py."""
    input_prefix: str
    """Key prefix of the raw data (default of the InputData parameter)."""
    training_instance_type: str
    training_instance_count: int
    processing_instance_type: str
    volume_size_gb: int
    spot: bool
    """Managed spot training with checkpoints."""
    max_runtime_seconds: int
    max_wait_seconds: int
    network_isolation: bool
    subnet_ids: tuple[str, ...]
    """Private subnets from env.network; empty runs without a VPC (dev)."""
    security_group_ids: tuple[str, ...]
    vpc_id: str | None
    hyperparameters: tuple[tuple[str, str], ...]
    metric_name: str
    metric_minimum: float
    schedule: str | None
    """EventBridge Scheduler expression; None creates no schedule."""
    schedule_timezone: str = "UTC"
    mlflow_tracking_arn: str | None = None
    """The environment's MLflow tracking server (where the registries live): evaluation logs its run there."""

    @property
    def output_prefix(self) -> str:
        return pipeline_prefix(self.model)


class TrainingPipeline(PlatformComponent):
    """A SageMaker Pipeline (prepare -> train on spot -> evaluate -> gate -> register) for one model."""

    role: aws.iam.Role
    pipeline: aws.sagemaker.Pipeline
    schedule: aws.scheduler.Schedule | None

    def __init__(
        self,
        name: str,
        args: TrainingPipelineArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:pipelines:TrainingPipeline", name, tags, opts)
        pipeline_name = physical_name(SAGEMAKER_PIPELINE, args.environment, args.model, "training")
        role_name = physical_name(IAM_ROLE, args.environment, args.model, "training")
        role_arn = f"arn:aws:iam::{args.account_id}:role/{role_name}"

        self.role, role_policy = self.service_role(
            f"{name}-role",
            f"{name}-role-policy",
            role_name=role_name,
            description=f"Runs the {args.model} training pipeline and its jobs in {args.environment}",
            service=SAGEMAKER_SERVICE,
            account_id=args.account_id,
            policy_name=physical_name(IAM_POLICY, args.environment, args.model, "training"),
            policy=pulumi.Output.all(args.bucket_arn, args.kms_key_arn).apply(
                lambda v: json.dumps(execution_policy(args, role_arn, str(v[0]), str(v[1])), sort_keys=True)
            ),
        )

        definition = pulumi.Output.all(self.role.arn, args.bucket_name, args.kms_key_arn).apply(
            lambda v: rendered_pipelines.definition(
                definition_spec(args, pipeline_name, str(v[0]), str(v[1]), str(v[2])), args.model
            )
        )
        self.pipeline = aws.sagemaker.Pipeline(
            f"{name}-pipeline",
            pipeline_name=pipeline_name,
            pipeline_display_name=pipeline_name,
            pipeline_description=f"Trains, evaluates and registers {args.model} ({args.environment})",
            role_arn=self.role.arn,
            pipeline_definition=definition,
            # The jobs fail without their permissions: create the policy before the pipeline can run.
            opts=self.child_opts(depends_on=[role_policy]),
        )

        self.schedule = None
        if args.schedule:
            scheduler_role, scheduler_policy = self.service_role(
                f"{name}-scheduler-role",
                f"{name}-scheduler-policy",
                role_name=physical_name(IAM_ROLE, args.environment, args.model, "training-schedule"),
                description=f"Lets EventBridge Scheduler start the {args.model} training pipeline",
                service=SCHEDULER_SERVICE,
                account_id=args.account_id,
                policy_name=physical_name(IAM_POLICY, args.environment, args.model, "training-schedule"),
                policy=self.pipeline.arn.apply(lambda arn: json.dumps(scheduler_policy_document(arn), sort_keys=True)),
            )
            self.schedule = aws.scheduler.Schedule(
                f"{name}-schedule",
                name=physical_name(EVENTBRIDGE_RULE, args.environment, args.model, "training"),
                description=f"Scheduled retraining of {args.model}",
                schedule_expression=args.schedule,
                schedule_expression_timezone=args.schedule_timezone,
                flexible_time_window={"mode": "OFF"},
                # The environment key encrypts the schedule's data (CreateSchedule KmsKeyArn, botocore
                # scheduler service-2.json; default: an AWS-owned key).
                kms_key_arn=args.kms_key_arn,
                # Templated target: EventBridge Scheduler calls StartPipelineExecution on this ARN, with the
                # parameters' defaults from the definition.
                target={"arn": self.pipeline.arn, "role_arn": scheduler_role.arn},
                opts=self.child_opts(depends_on=[scheduler_policy]),
            )

        self.register_outputs({"pipelineArn": self.pipeline.arn, "roleArn": self.role.arn})


def definition_spec(
    args: TrainingPipelineArgs, pipeline_name: str, role_arn: str, bucket: str, key_arn: str
) -> DefinitionSpec:
    """The definition's inputs, once the Outputs are known."""
    return DefinitionSpec(
        pipeline_name=pipeline_name,
        region=args.region,
        role_arn=role_arn,
        bucket=bucket,
        output_prefix=args.output_prefix,
        baselines_prefix=baselines_prefix(args.model),
        input_uri=f"s3://{bucket}/{args.input_prefix}",
        code_uri=f"s3://{bucket}/{args.code_prefix}",
        kms_key_arn=key_arn,
        training_image=args.training_image,
        processing_image=args.processing_image,
        training_instance_type=args.training_instance_type,
        training_instance_count=args.training_instance_count,
        processing_instance_type=args.processing_instance_type,
        volume_size_gb=args.volume_size_gb,
        spot=args.spot,
        max_runtime_seconds=args.max_runtime_seconds,
        max_wait_seconds=args.max_wait_seconds,
        network_isolation=args.network_isolation,
        subnet_ids=args.subnet_ids,
        security_group_ids=args.security_group_ids,
        hyperparameters=args.hyperparameters,
        metric_name=args.metric_name,
        metric_minimum=args.metric_minimum,
        model_package_group=args.model_package_group,
        environment=args.environment,
        mlflow_tracking_arn=args.mlflow_tracking_arn,
    )


def _ecr_repository_arn(image: str) -> str:
    """Repository ARN of an image URI: <account>.dkr.ecr.<region>.<domain>/<name>:<tag> ->
    arn:aws:ecr:<region>:<account>:repository/<name>."""
    host, _, path = image.partition("/")
    account, _, rest = host.partition(".dkr.ecr.")
    region = rest.split(".")[0]
    repository = path.split("@")[0].split(":")[0]
    return f"arn:aws:ecr:{region}:{account}:repository/{repository}"


def execution_policy(args: TrainingPipelineArgs, role_arn: str, bucket_arn: str, key_arn: str) -> dict[str, Any]:
    """The execution role's permissions: its prefixes, its key, its group, its images, its own jobs.

    Action lists follow the SageMaker execution-role guide
    (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html, read 2026-11-25). Two kinds
    of action accept no resource but "*" (Service Authorization Reference, read 2026-11-25):
    ecr:GetAuthorizationToken (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html)
    and the ec2:Describe* calls a job makes to place itself in the VPC
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
    """
    prefix = f"arn:aws:sagemaker:{args.region}:{args.account_id}"
    read_prefixes = [args.input_prefix, args.code_prefix]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListOwnPrefixes",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in [*read_prefixes, args.output_prefix]]}},
        },
        {
            "Sid": "ReadInputsAndCode",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{p}*" for p in read_prefixes],
        },
        {
            "Sid": "ReadWriteOwnOutputs",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": f"{bucket_arn}/{args.output_prefix}*",
        },
        {
            "Sid": "UseEnvironmentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": key_arn,
        },
        {
            # Encrypted job volumes: SageMaker creates a grant for the instance's EBS volume.
            "Sid": "GrantKeyToJobVolumes",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": key_arn,
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {
            "Sid": "RunOwnJobs",
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:CreateTrainingJob",
                "sagemaker:DescribeTrainingJob",
                "sagemaker:StopTrainingJob",
                "sagemaker:AddTags",
            ],
            "Resource": [f"{prefix}:processing-job/*", f"{prefix}:training-job/*"],
        },
        {
            "Sid": "RegisterInOwnGroup",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:AddTags"],
            "Resource": [
                args.model_package_group_arn,
                args.model_package_group_arn.replace(":model-package-group/", ":model-package/") + "/*",
            ],
        },
        {
            "Sid": "DescribeOwnGroup",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeModelPackageGroup"],
            "Resource": args.model_package_group_arn,
        },
        {
            "Sid": "PullOwnImages",
            "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            # Training, processing, and the Model Monitor analyzer of the data-quality baseline step.
            "Resource": sorted(
                {
                    _ecr_repository_arn(args.training_image),
                    _ecr_repository_arn(args.processing_image),
                    _ecr_repository_arn(model_monitor_image_uri(args.region)),
                }
            ),
        },
        {
            "Sid": "EcrLoginHasNoResourceLevelPermissions",
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken"],
            "Resource": "*",
        },
        {
            "Sid": "WriteJobLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [
                f"arn:aws:logs:{args.region}:{args.account_id}:log-group:/aws/sagemaker/ProcessingJobs:*",
                f"arn:aws:logs:{args.region}:{args.account_id}:log-group:/aws/sagemaker/TrainingJobs:*",
            ],
        },
        {
            # The pipeline passes this role to its own jobs, and to nothing else.
            "Sid": "PassOnlyItselfToSageMaker",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
        },
    ]
    if args.vpc_id:
        ec2 = f"arn:aws:ec2:{args.region}:{args.account_id}"
        statements += [
            {
                "Sid": "DescribeNetworkHasNoResourceLevelPermissions",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeDhcpOptions",
                ],
                "Resource": "*",
            },
            {
                "Sid": "JobNetworkInterfacesInOwnSubnets",
                "Effect": "Allow",
                "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission"],
                "Resource": [
                    f"{ec2}:network-interface/*",
                    *(f"{ec2}:subnet/{s}" for s in args.subnet_ids),
                    *(f"{ec2}:security-group/{g}" for g in args.security_group_ids),
                ],
            },
            {
                "Sid": "RemoveJobNetworkInterfacesInOwnVpc",
                "Effect": "Allow",
                "Action": ["ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
                "Resource": f"{ec2}:network-interface/*",
                "Condition": {"ArnEquals": {"ec2:Vpc": f"{ec2}:vpc/{args.vpc_id}"}},
            },
        ]
    if args.mlflow_tracking_arn:
        # Evaluation logs its run; the MLflow client uploads artifacts straight to the artifact store.
        statements += [
            logging_statement(args.mlflow_tracking_arn),
            {
                "Sid": "UploadRunArtifacts",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": f"{bucket_arn}/{MLFLOW_ARTIFACTS}*",
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def scheduler_policy_document(pipeline_arn: str) -> dict[str, Any]:
    """EventBridge Scheduler may start this pipeline and do nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StartThisPipeline",
                "Effect": "Allow",
                "Action": ["sagemaker:StartPipelineExecution"],
                "Resource": pipeline_arn,
            }
        ],
    }
