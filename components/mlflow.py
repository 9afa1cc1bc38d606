"""Experiment tracking: a SageMaker managed MLflow tracking server where the registries live.

Training pipelines log parameters, metrics and the registered version to it, and monitoring runs log their
metrics and report's S3 URI to the served version's run (the evidently engine's publish step,
components/functions/monitoring/publish_run.py; by hand, components/jobs/drift_job.py). Resource: pulumi_aws
`aws.sagemaker.MlflowTrackingServer`, i.e. CreateMlflowTrackingServer (botocore sagemaker service model:
TrackingServerName, ArtifactStoreUri and RoleArn required; TrackingServerSize Small|Medium|Large;
WeeklyMaintenanceWindowStart; Tags). The API takes no KMS key: the artifacts are encrypted by the artifact
store, our environment bucket (default encryption with the environment key), and the server has no public
endpoint: every call is signed with IAM (sagemaker-mlflow actions) or goes through a presigned URL.

Across accounts (the environments that serve from this registry, in their own accounts) the server is shared
with AWS Resource Access Manager, the way SageMaker AI shares its resources with other accounts: a resource
share in the owning account names the server and the consumer accounts; each consumer's roles then need the
sagemaker-mlflow actions on the shared server's ARN in their own IAM policy (`logging_statement`). A consumer
outside the owner's AWS Organization gets an invitation it must accept, and only a share that allows external
principals can name it (RAM CreateResourceShare `allowExternalPrincipals`, botocore ram service-2.json: "A
value of true lets you share with individual Amazon Web Services accounts that are not in your organization",
default true; read 2026-11-30).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.naming import IAM_ROLE, SAGEMAKER, physical_name
from components.tagging import CostTags

ARTIFACTS_PREFIX = "mlflow/"
"""Where the tracking server stores run artifacts in the environment's artifact bucket."""

# What a run logger calls, as MLflow's client (3.x) calls it: set_experiment (GetExperimentByName, then
# CreateExperiment and GetExperiment on first use), search_runs (SearchRuns), start_run (CreateRun, or GetRun
# and UpdateRun to resume the served version's run), log_metric, log_param and set_tag (LogMetric, LogParam,
# SetTag) or log_metrics/log_params (LogBatch), and end_run (UpdateRun); tests/components/test_mlflow_sharing.py
# records the calls. Each action takes the mlflow-tracking-server resource type, so the statement names the
# one server (Service Authorization Reference, "Actions, resources, and condition keys for Amazon SageMaker
# with MLflow", https://docs.aws.amazon.com/service-authorization/latest/reference/list_sagemaker-mlflow.html,
# read 2026-11-30). Artifacts (log_artifacts) do not go through these actions: the client writes them straight
# to the artifact store in S3.
LOGGING_ACTIONS = (
    "sagemaker-mlflow:CreateExperiment",
    "sagemaker-mlflow:CreateRun",
    "sagemaker-mlflow:GetExperiment",
    "sagemaker-mlflow:GetExperimentByName",
    "sagemaker-mlflow:GetRun",
    "sagemaker-mlflow:LogBatch",
    "sagemaker-mlflow:LogMetric",
    "sagemaker-mlflow:LogParam",
    "sagemaker-mlflow:SearchRuns",
    "sagemaker-mlflow:SetTag",
    "sagemaker-mlflow:UpdateRun",
)

# botocore sagemaker service model, shape TrackingServerArn (read 2026-11-30).
TRACKING_SERVER_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:mlflow-tracking-server/.+$")


def tracking_server_name(environment: str) -> str:
    return physical_name(SAGEMAKER, environment, "mlflow")


def tracking_server_arn(region: str, account_id: str, environment: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account_id}:mlflow-tracking-server/{tracking_server_name(environment)}"


def logging_statement(server_arn: str, actions: Sequence[str] = LOGGING_ACTIONS) -> dict[str, Any]:
    """What a pipeline or job role needs to log runs to the tracking server (its own account's, or the
    registry account's shared one), and nothing more: by default what an mlflow client calls, or fewer
    `actions` for code that calls fewer (the monitoring publish function's REST client)."""
    if not TRACKING_SERVER_ARN.match(server_arn):
        raise ValueError(
            f"{server_arn!r} is not a tracking server ARN: arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME"
        )
    if unknown := sorted(set(actions) - set(LOGGING_ACTIONS)):
        raise ValueError(f"not logging actions: {', '.join(unknown)} (allowed: {', '.join(LOGGING_ACTIONS)})")
    return {"Sid": "LogRunsToMlflow", "Effect": "Allow", "Action": list(actions), "Resource": [server_arn]}


def share_name(environment: str) -> str:
    """Name of the RAM resource share (botocore ram: a String, no pattern; ours stays in SageMaker's rule)."""
    return physical_name(SAGEMAKER, "mlp", environment, "mlflow")


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
    consumer_account_ids: tuple[str, ...] = ()
    """Accounts of the environments serving from this registry (the registry's consumers, as the model
    package group policy admits them): the server is shared with each through RAM. Empty: no share."""
    share_outside_organization: bool = False
    """Allow external principals on the share (consumers outside this account's organization)."""


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
        self.share: aws.ram.ResourceShare | None = None
        consumers = sorted(set(args.consumer_account_ids) - {args.account_id})  # the own account needs no share
        if consumers:
            self.share = aws.ram.ResourceShare(
                f"{name}-share",
                name=share_name(args.environment),
                allow_external_principals=args.share_outside_organization,
                # No permission_arns: RAM associates the resource type's default managed permission.
                opts=self.child_opts(),
            )
            aws.ram.ResourceAssociation(
                f"{name}-share-server",
                resource_arn=self.server.arn,
                resource_share_arn=self.share.arn,
                opts=self.child_opts(),
            )
            for account in consumers:
                aws.ram.PrincipalAssociation(
                    f"{name}-share-{account}",
                    principal=account,
                    resource_share_arn=self.share.arn,
                    opts=self.child_opts(),
                )
        self.register_outputs(
            {"trackingServerArn": self.server.arn, "resourceShareArn": self.share.arn if self.share else None}
        )


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
