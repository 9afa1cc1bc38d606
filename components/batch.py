"""BatchInference: a model's scheduled batch transform, as a SageMaker pipeline with one TransformStep.

The transform runs a SageMaker model created here from the registry version the environment file pins
(`version`, the one the endpoint serves): promoting the version (one line, `mlp promote`) changes the
model's name, so the pipeline's TransformStep and the endpoint move to the new version in the same
deployment. The model is network-isolated and in the environment's VPC when one is declared; the transform's
volumes and predictions are encrypted with the environment key; a failed execution alarms the team.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import rendered_pipelines
from components.base import PlatformComponent
from components.config import Network
from components.config.batch import Batch
from components.iam import image_and_network_statements, job_key_statements, pull_image_statement
from components.job_definitions import BatchSpec
from components.naming import IAM_POLICY, IAM_ROLE, SAGEMAKER, SAGEMAKER_PIPELINE, physical_name
from components.scheduled_pipelines import add_pipeline
from components.serving import RegistryKey, _digest
from components.tagging import CostTags

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
PURPOSE = "batch"


def batch_input_prefix(model: str, batch: Batch) -> str:
    return batch.input_prefix or f"batch/{model}/input/"


def batch_output_prefix(model: str, batch: Batch) -> str:
    return batch.output_prefix or f"batch/{model}/output/"


@dataclass(frozen=True)
class BatchInferenceArgs:
    """Inputs of `BatchInference`; `composition.batch_inference_args` builds them from the environment file."""

    environment: str
    model: str
    version: int
    """The pinned registry version (the model's `version`, shared with its endpoint)."""
    batch: Batch
    account_id: str
    region: str
    model_package_arn: str
    artifact_bucket: str
    """Bucket of the model artifacts (the registry environment's)."""
    artifact_prefix: str
    image_repository_arn: str
    registry_key: RegistryKey | None
    bucket_name: pulumi.Input[str]
    """This environment's artifact bucket: the transform's input and output."""
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    network: Network | None
    alarm_topic_arn: pulumi.Input[str]


class BatchInference(PlatformComponent):
    """The batch model (pinned version), its scheduled transform pipeline and its failure alarm."""

    model: aws.sagemaker.Model
    pipeline: aws.sagemaker.Pipeline

    def __init__(
        self, name: str, args: BatchInferenceArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:batch:BatchInference", name, tags, opts)
        env = args.environment
        batch = args.batch
        input_prefix = batch_input_prefix(args.model, batch)
        output_prefix = batch_output_prefix(args.model, batch)

        model_role, model_policy = self.service_role(
            f"{name}-model-role",
            f"{name}-model-policy",
            role_name=physical_name(IAM_ROLE, env, args.model, "batch-model"),
            description=f"Execution role of {args.model}'s batch transform model in {env}",
            service=SAGEMAKER_SERVICE,
            account_id=args.account_id,
            policy=pulumi.Output.all(args.bucket_arn, args.kms_key_arn).apply(
                lambda v: json.dumps(
                    model_policy_document(args, str(v[0]), str(v[1]), input_prefix, output_prefix), sort_keys=True
                )
            ),
        )
        vpc: aws.sagemaker.ModelVpcConfigArgsDict | None = (
            {"subnets": list(args.network.subnet_ids), "security_group_ids": list(args.network.security_group_ids)}
            if args.network
            else None
        )
        # The version and everything that forces a replacement are in the name (create-before-delete never
        # collides), and the pipeline's TransformStep names this model.
        self.model_name = physical_name(
            SAGEMAKER, env, args.model, "batch", f"v{args.version}", _digest(args.model_package_arn, vpc)
        )
        self.model = aws.sagemaker.Model(
            f"{name}-model",
            name=self.model_name,
            execution_role_arn=model_role.arn,
            primary_container={"model_package_name": args.model_package_arn},
            enable_network_isolation=True,
            vpc_config=vpc,
            opts=self.child_opts(depends_on=[model_policy]),
        )

        pipeline_name = physical_name(SAGEMAKER_PIPELINE, env, args.model, PURPOSE)
        role, role_policy = self.service_role(
            f"{name}-role",
            f"{name}-role-policy",
            role_name=physical_name(IAM_ROLE, env, args.model, PURPOSE),
            description=f"Runs {pipeline_name}: starts transform jobs of {self.model_name}",
            service=SAGEMAKER_SERVICE,
            account_id=args.account_id,
            policy_name=physical_name(IAM_POLICY, env, args.model, PURPOSE),
            policy=pulumi.Output.from_input(args.kms_key_arn).apply(
                lambda key: json.dumps(pipeline_policy_document(args, self.model_name, str(key)), sort_keys=True)
            ),
        )

        def spec(role_arn: str, bucket: str, key: str) -> BatchSpec:
            return BatchSpec(
                pipeline_name=pipeline_name,
                region=args.region,
                role_arn=role_arn,
                bucket=bucket,
                environment=env,
                model_name=self.model_name,
                input_uri=f"s3://{bucket}/{input_prefix}",
                output_uri=f"s3://{bucket}/{output_prefix}",
                kms_key_arn=key,
                instance_type=batch.instance_type,
                instance_count=batch.instance_count,
                max_payload_mb=batch.max_payload_mb,
                max_concurrent_transforms=batch.max_concurrent_transforms,
                split_type=batch.split_type,
                batch_strategy=batch.batch_strategy,
                content_type=batch.content_type,
                accept=batch.accept,
                assemble_with=batch.assemble_with,
            )

        definition = pulumi.Output.all(role.arn, args.bucket_name, args.kms_key_arn).apply(
            lambda v: rendered_pipelines.definition(spec(str(v[0]), str(v[1]), str(v[2])), f"{args.model}-batch")
        )
        self.pipeline, self.schedule, self.failure_alarm = add_pipeline(
            self,
            name,
            environment=env,
            account_id=args.account_id,
            owner=args.model,
            purpose=PURPOSE,
            pipeline_name=pipeline_name,
            description=f"Batch inference of {args.model} v{args.version} ({env})",
            role=role,
            role_policy=role_policy,
            definition=definition,
            schedule=batch.schedule,
            schedule_timezone=batch.schedule_timezone,
            alarm_topic_arn=args.alarm_topic_arn,
            kms_key_arn=args.kms_key_arn,
            # The step names the model: a promotion creates the new model before the pipeline points at it
            # (and deletes the old one after).
            depends_on=[self.model],
        )
        self.register_outputs({"pipelineArn": self.pipeline.arn, "modelName": self.model.name})


def model_policy_document(
    args: BatchInferenceArgs, bucket_arn: str, key_arn: str, input_prefix: str, output_prefix: str
) -> dict[str, Any]:
    """The batch model's role: its package and artifacts, its image, its input and output prefixes, the key,
    its transform jobs' logs."""
    registry_bucket = f"arn:aws:s3:::{args.artifact_bucket}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DescribeServedModelPackage",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeModelPackage"],
            "Resource": [args.model_package_arn],
        },
        {
            "Sid": "ReadOwnModelArtifacts",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{registry_bucket}/{args.artifact_prefix}*"],
        },
        {
            "Sid": "ListInputAndArtifacts",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": sorted({registry_bucket, bucket_arn}),
            "Condition": {"StringLike": {"s3:prefix": [f"{args.artifact_prefix}*", f"{input_prefix}*"]}},
        },
        {
            "Sid": "ReadInput",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{input_prefix}*"],
        },
        {
            "Sid": "WritePredictions",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": [f"{bucket_arn}/{output_prefix}*"],
        },
        pull_image_statement("PullOwnImage", args.image_repository_arn),
        *job_key_statements(key_arn),
        {
            "Sid": "WriteJobLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [f"arn:aws:logs:{args.region}:{args.account_id}:log-group:/aws/sagemaker/TransformJobs:*"],
        },
    ]
    if args.registry_key is not None:
        statements.append(args.registry_key.decrypt_statement())
    statements += image_and_network_statements(args.region, args.account_id, args.network)
    return {"Version": "2012-10-17", "Statement": statements}


def pipeline_policy_document(args: BatchInferenceArgs, model_name: str, key_arn: str) -> dict[str, Any]:
    """The pipeline's role starts transform jobs (of its model only) and nothing else; the jobs use the model's
    role for data."""
    prefix = f"arn:aws:sagemaker:{args.region}:{args.account_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RunOwnTransformJobs",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:CreateTransformJob",
                    "sagemaker:DescribeTransformJob",
                    "sagemaker:StopTransformJob",
                    "sagemaker:AddTags",
                ],
                "Resource": [f"{prefix}:transform-job/*"],
            },
            {
                "Sid": "UseOwnModel",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeModel"],
                "Resource": [f"{prefix}:model/{model_name.lower()}"],
            },
            {"Sid": "DescribeEnvironmentKey", "Effect": "Allow", "Action": ["kms:DescribeKey"], "Resource": [key_arn]},
            {
                # Encrypted volumes and outputs are created on the caller's behalf.
                "Sid": "GrantKeyToJobVolumes",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant"],
                "Resource": [key_arn],
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ],
    }
