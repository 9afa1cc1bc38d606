"""Experiment tracking: a SageMaker managed MLflow tracking server where the registries live.

Training pipelines log parameters, metrics and the registered version to it, and monitoring runs log their
reports to the served version's run (components/jobs/drift_job.py). Resource: pulumi_aws
`aws.sagemaker.MlflowTrackingServer`, i.e. CreateMlflowTrackingServer (botocore sagemaker service model:
TrackingServerName, ArtifactStoreUri and RoleArn required; TrackingServerSize Small|Medium|Large;
WeeklyMaintenanceWindowStart; Tags). The API takes no KMS key: the artifacts are encrypted by the artifact
store, our environment bucket (default encryption with the environment key), and the server has no public
endpoint: every call is signed with IAM (sagemaker-mlflow actions) or goes through a presigned URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.naming import IAM_ROLE, SAGEMAKER, physical_name
from components.tagging import CostTags

ARTIFACTS_PREFIX = "mlflow/"
"""Where the tracking server stores run artifacts in the environment's artifact bucket."""

# Actions a run logger needs; each takes the mlflow-tracking-server resource type (Service Authorization
# Reference, https://docs.aws.amazon.com/service-authorization/latest/reference/list_sagemaker-mlflow.html,
# read 2026-11-30).
LOGGING_ACTIONS = (
    "sagemaker-mlflow:CreateExperiment",
    "sagemaker-mlflow:CreateRun",
    "sagemaker-mlflow:GetExperimentByName",
    "sagemaker-mlflow:LogBatch",
    "sagemaker-mlflow:LogMetric",
    "sagemaker-mlflow:LogParam",
    "sagemaker-mlflow:SearchRuns",
    "sagemaker-mlflow:SetTag",
    "sagemaker-mlflow:UpdateRun",
)


def tracking_server_name(environment: str) -> str:
    return physical_name(SAGEMAKER, environment, "mlflow")


def tracking_server_arn(region: str, account_id: str, environment: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account_id}:mlflow-tracking-server/{tracking_server_name(environment)}"


def logging_statement(server_arn: str) -> dict[str, Any]:
    """What a pipeline or job role needs to log runs to the tracking server, and nothing more."""
    return {"Sid": "LogRunsToMlflow", "Effect": "Allow", "Action": list(LOGGING_ACTIONS), "Resource": [server_arn]}


@dataclass(frozen=True)
class ExperimentTrackingArgs:
    """Inputs of `ExperimentTracking`."""

    environment: str
    account_id: str
    bucket_name: pulumi.Input[str]
    """The environment's artifact bucket: the artifact store, under ARTIFACTS_PREFIX."""
    kms_key_arn: pulumi.Input[str]
    """The environment key, which encrypts the artifact store."""
    size: str
    weekly_maintenance_window_start: str


class ExperimentTracking(PlatformComponent):
    """The managed MLflow tracking server and the role it uses to reach its artifact store."""

    server: aws.sagemaker.MlflowTrackingServer

    def __init__(
        self, name: str, args: ExperimentTrackingArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:mlflow:ExperimentTracking", name, tags, opts)
        role, policy = self.service_role(
            f"{name}-role",
            f"{name}-role-policy",
            role_name=physical_name(IAM_ROLE, args.environment, "mlflow"),
            description=f"The MLflow tracking server of {args.environment}: its artifact store only",
            service="sagemaker.amazonaws.com",
            account_id=args.account_id,
            policy=pulumi.Output.all(args.bucket_name, args.kms_key_arn).apply(
                lambda v: json.dumps(artifact_store_policy(str(v[0]), str(v[1])), sort_keys=True)
            ),
        )
        self.server = aws.sagemaker.MlflowTrackingServer(
            f"{name}-server",
            tracking_server_name=tracking_server_name(args.environment),
            artifact_store_uri=pulumi.Output.from_input(args.bucket_name).apply(
                lambda b: f"s3://{b}/{ARTIFACTS_PREFIX}"
            ),
            role_arn=role.arn,
            tracking_server_size=args.size,
            weekly_maintenance_window_start=args.weekly_maintenance_window_start,
            # Versions are registered by the training pipelines, not by MLflow.
            automatic_model_registration=False,
            opts=self.child_opts(depends_on=[policy]),
        )
        self.register_outputs({"trackingServerArn": self.server.arn})


def artifact_store_policy(bucket: str, kms_key_arn: str) -> dict[str, Any]:
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadWriteArtifactStore",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"{arn}/{ARTIFACTS_PREFIX}*"],
            },
            {
                "Sid": "ListArtifactStore",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [arn],
                "Condition": {"StringLike": {"s3:prefix": [f"{ARTIFACTS_PREFIX}*"]}},
            },
            {
                "Sid": "UseEnvironmentKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [kms_key_arn],
            },
        ],
    }
