"""VersionBaselines: when a person approves a model version, its baseline moves to where its monitors read.

A training pipeline's baseline step writes `pipelines/<model>/baselines/<execution id>/data-quality/`
and registers the version with the execution id as customer metadata (components/pipeline_definition.py);
the version number exists only once the version is registered. The monitors of an endpoint read the
baseline of the version it serves from `baselines/v<version>/data-quality/` (components/monitoring.py).
This component joins the two without code to run: each registry's decisions rule (components/registry.py)
starts a Step Functions state machine that describes the version and, when it is approved and carries a
pipeline baseline from this environment, copies statistics.json and constraints.json to the version's
folder. A version it cannot copy is announced to the owning team's topic and the execution fails.

AWS facts used (read 2026-11-25):
- AWS SDK service integrations call any API as `arn:aws:states:::aws-sdk:<service>:<apiAction>`
  (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html); SNS publishes
  through the optimized `arn:aws:states:::sns:publish` integration.
- A copy without encryption headers is encrypted with the destination bucket's default encryption
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html): the artifact bucket's default
  is the environment key (components/storage.py).
- With a customer managed key, Step Functions encrypts the definition and execution history; the
  encryption context is `aws:states:stateMachineArn`, and the execution role needs kms:Decrypt and
  kms:GenerateDataKey on the key (https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html),
  as does whoever starts an execution (StartExecution: kms:GenerateDataKey and kms:Decrypt, per the
  Step Functions team's review in https://github.com/aws-samples/aws-stepfunctions-examples/pull/74).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.artifacts import (
    BASELINE_FILES,
    DATA_QUALITY,
    EXECUTION_METADATA_KEY,
    execution_baselines_prefix,
    version_baselines_prefix,
)
from components.base import PlatformComponent
from components.naming import IAM_POLICY, IAM_ROLE, STATE_MACHINE, physical_name
from components.tagging import CostTags

# The metadata key the pipeline records its environment under (components/pipeline_definition.py).
TRAINED_IN_METADATA_KEY = "trained-in"
# Error names of the executions that could not copy (what the team's message and the history show).
ERROR_TRAINED_ELSEWHERE = "BaselineInAnotherEnvironment"
ERROR_COPY_FAILED = "BaselineCopyFailed"
# Seconds one API call may take before the execution gives up on it.
TASK_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class VersionBaselinesArgs:
    """Inputs of `VersionBaselines`."""

    environment: str
    """The environment that hosts the registries; part of physical names, and the `trained-in` value
    whose baselines are in this environment's bucket."""
    account_id: str
    """Account of the registry (the state machine, roles and model packages)."""
    region: str
    """Region of the registry."""
    bucket: str
    """The environment's artifact bucket: both where pipelines write baselines and where monitors read."""
    kms_key_arn: pulumi.Input[str]
    """The environment key: encrypts the state machine; the bucket and the team topics use it too."""
    topic_arns: Sequence[pulumi.Input[str]]
    """Team topics a failed copy may be announced on (each registry target names its team's)."""


@dataclass(frozen=True)
class BaselineCopyTarget:
    """What one model's registry needs to start a copy on its decisions rule (`VersionBaselines.target_for`)."""

    state_machine_arn: str
    role_arn: pulumi.Output[str]
    """Role EventBridge assumes to start executions."""
    input_template: pulumi.Output[str]
    """The target's input template: the model and its team's topic (`execution_input_template`)."""


def state_machine_name(environment: str) -> str:
    return physical_name(STATE_MACHINE, environment, "version-baselines")


def state_machine_arn(environment: str, account_id: str, region: str) -> str:
    return f"arn:aws:states:{region}:{account_id}:stateMachine:{state_machine_name(environment)}"


def execution_input_template(model: str, topic_arn: str) -> str:
    """The registry target's input template: the model (whose folders to use), the team topic, and the
    version's ARN from the event (a string, so its placeholder sits inside quotes, as in
    components/gitops.py's dispatch template)."""
    return f'{{"model": {json.dumps(model)}, "topic": {json.dumps(topic_arn)}, "package": "<package>"}}'


EXECUTION_INPUT_PATHS = {"package": "$.detail.ModelPackageArn"}


def copy_definition(environment: str, bucket: str) -> dict[str, Any]:
    """The state machine (Amazon States Language, JSONPath) that copies an approved version's baseline.

    Input: {"model", "topic", "package"}. The version is described rather than read from the event, so
    a late or replayed event acts on the version's current status."""
    metadata = "$.version.CustomerMetadataProperties"
    execution = f"{metadata}.{EXECUTION_METADATA_KEY}"
    # States.Format fills each {} in order: model, execution id or version, file.
    source_key = execution_baselines_prefix("{}", "{}") + f"{DATA_QUALITY}/" + "{}"
    target_key = version_baselines_prefix("{}", "{}") + f"{DATA_QUALITY}/" + "{}"
    # Transient API errors get one more try; copying the same objects again is harmless.
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0}]
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "AnnounceCopyFailed"}]
    states: dict[str, Any] = {
        "DescribeVersion": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeModelPackage",
            "Parameters": {"ModelPackageName.$": "$.package"},
            "ResultPath": "$.version",
            "TimeoutSeconds": TASK_TIMEOUT_SECONDS,
            "Retry": retry,
            "Catch": catch,
            "Next": "IsApprovedPipelineVersion",
        },
        "IsApprovedPipelineVersion": {
            "Type": "Choice",
            "Choices": [
                {
                    "Not": {"Variable": "$.version.ModelApprovalStatus", "StringEquals": "Approved"},
                    "Next": "NotApproved",
                },
                {
                    "Not": {"Variable": f"{metadata}.{EXECUTION_METADATA_KEY}", "IsPresent": True},
                    "Next": "NotFromAPipeline",
                },
                {
                    "Not": {
                        "Variable": f"{metadata}['{TRAINED_IN_METADATA_KEY}']",
                        "StringEquals": environment,
                    },
                    "Next": "AnnounceTrainedElsewhere",
                },
            ],
            "Default": f"Copy{_title(BASELINE_FILES[0])}",
        },
        "NotApproved": _outcome("not approved: nothing to copy"),
        "NotFromAPipeline": _outcome("registered without a pipeline baseline: nothing to copy"),
    }
    for i, file in enumerate(BASELINE_FILES):
        last = i == len(BASELINE_FILES) - 1
        states[f"Copy{_title(file)}"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:copyObject",
            "Parameters": {
                "Bucket": bucket,
                "CopySource.$": f"States.Format('{bucket}/{source_key}', $.model, {execution}, '{file}')",
                "Key.$": f"States.Format('{target_key}', $.model, $.version.ModelPackageVersion, '{file}')",
            },
            "ResultPath": None,
            "TimeoutSeconds": TASK_TIMEOUT_SECONDS,
            "Retry": retry,
            "Catch": catch,
            "Next": "Copied" if last else f"Copy{_title(BASELINE_FILES[i + 1])}",
        }
    states["Copied"] = {
        "Type": "Pass",
        "Parameters": {
            "model.$": "$.model",
            "version.$": "$.version.ModelPackageVersion",
            "execution.$": f"{metadata}.{EXECUTION_METADATA_KEY}",
            "outcome": "copied",
        },
        "End": True,
    }
    states["AnnounceTrainedElsewhere"] = _announce(
        "States.Format('Version {} of {} was trained in {}, so its baseline is in the bucket of that environment, "
        f"not in {bucket}. Its monitors have no baseline until it is copied to "
        f"{version_baselines_prefix('{}', '{}')}{DATA_QUALITY}/.', $.version.ModelPackageVersion, $.model, "
        f"{metadata}['{TRAINED_IN_METADATA_KEY}'], $.model, $.version.ModelPackageVersion)",
        next_state="TrainedElsewhere",
    )
    states["TrainedElsewhere"] = {
        "Type": "Fail",
        "Error": ERROR_TRAINED_ELSEWHERE,
        "Cause": "The version's baseline is in another environment's bucket (see the team's message).",
    }
    states["AnnounceCopyFailed"] = _announce(
        "States.Format('The baseline of {} ({}) could not be copied to its version folder: {}. Its monitors "
        "have no baseline until it is.', $.model, $.package, $.error.Error)",
        next_state="CopyFailed",
    )
    states["CopyFailed"] = {
        "Type": "Fail",
        "Error": ERROR_COPY_FAILED,
        "Cause": "Describing the version or copying its baseline failed (see the execution history).",
    }
    return {
        "Comment": "Copy an approved model version's data-quality baseline to the version's folder",
        "StartAt": "DescribeVersion",
        "States": states,
    }


def _title(file: str) -> str:
    return file.split(".", maxsplit=1)[0].title()


def _outcome(reason: str) -> dict[str, Any]:
    return {
        "Type": "Pass",
        "Parameters": {"model.$": "$.model", "package.$": "$.package", "outcome": reason},
        "End": True,
    }


def _announce(message: str, next_state: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
            "TopicArn.$": "$.topic",
            "Subject": "Model version baseline not copied",
            "Message.$": message,
        },
        "ResultPath": None,
        "TimeoutSeconds": TASK_TIMEOUT_SECONDS,
        "Next": next_state,
    }


class VersionBaselines(PlatformComponent):
    """The environment's baseline-copy state machine, its role, and the role EventBridge starts it with."""

    state_machine: aws.sfn.StateMachine
    events_role: aws.iam.Role

    def __init__(
        self,
        name: str,
        args: VersionBaselinesArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:baselines:VersionBaselines", name, tags, opts)
        machine_arn = state_machine_arn(args.environment, args.account_id, args.region)

        self.role, _ = self.service_role(
            f"{name}-role",
            f"{name}-role-policy",
            role_name=physical_name(IAM_ROLE, "mlp", args.environment, "version-baselines"),
            description="Step Functions copies approved versions' baselines to their version folders",
            service="states.amazonaws.com",
            account_id=args.account_id,
            policy_name=physical_name(IAM_POLICY, "copy-version-baselines"),
            policy=pulumi.Output.all(args.kms_key_arn, *args.topic_arns).apply(
                lambda v: json.dumps(
                    copy_policy(args, kms_key_arn=str(v[0]), topic_arns=[str(t) for t in v[1:]]), sort_keys=True
                )
            ),
        )
        self.state_machine = aws.sfn.StateMachine(
            f"{name}-copy",
            name=state_machine_name(args.environment),
            role_arn=self.role.arn,
            type="STANDARD",
            definition=json.dumps(copy_definition(args.environment, args.bucket), sort_keys=True),
            encryption_configuration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kms_key_id": args.kms_key_arn},
            opts=self.child_opts(depends_on=[self.role]),
        )

        self.events_role, _ = self.service_role(
            f"{name}-events",
            f"{name}-events-policy",
            role_name=physical_name(IAM_ROLE, "mlp", args.environment, "start-version-baselines"),
            description="EventBridge starts the baseline copy when a registry decision is made",
            service="events.amazonaws.com",
            account_id=args.account_id,
            policy_name=physical_name(IAM_POLICY, "start-version-baselines"),
            policy=pulumi.Output.from_input(args.kms_key_arn).apply(
                lambda key: json.dumps(start_policy(machine_arn, str(key)), sort_keys=True)
            ),
        )
        self.machine_arn = machine_arn
        self.register_outputs({"stateMachineArn": self.state_machine.arn})

    def target_for(self, model: str, team_topic_arn: pulumi.Input[str]) -> BaselineCopyTarget:
        """The copy target of one model, whose failures are told on its team's topic."""
        return BaselineCopyTarget(
            state_machine_arn=self.machine_arn,
            role_arn=self.events_role.arn,
            input_template=pulumi.Output.from_input(team_topic_arn).apply(
                lambda topic: execution_input_template(model, str(topic))
            ),
        )


def copy_policy(args: VersionBaselinesArgs, kms_key_arn: str, topic_arns: Sequence[str]) -> dict[str, Any]:
    """Describe versions of this account's groups, read execution baselines, write version baselines,
    announce to the team topics, and use the environment key for all of it."""
    objects = f"arn:aws:s3:::{args.bucket}/{execution_baselines_prefix('*', '*')}{DATA_QUALITY}/"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # Every group of this account and region: one ARN per group would outgrow the role policy
                # size quota at a few hundred models; the action only reads a version's description.
                "Sid": "DescribeVersions",
                "Effect": "Allow",
                "Action": "sagemaker:DescribeModelPackage",
                "Resource": f"arn:aws:sagemaker:{args.region}:{args.account_id}:model-package/*",
            },
            {
                "Sid": "ReadExecutionBaselines",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [objects + f for f in BASELINE_FILES],
            },
            {
                "Sid": "WriteVersionBaselines",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": [
                    f"arn:aws:s3:::{args.bucket}/{version_baselines_prefix('*', '*')}{DATA_QUALITY}/{f}"
                    for f in BASELINE_FILES
                ],
            },
            {
                "Sid": "AnnounceToTeams",
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": sorted(topic_arns),
            },
            {
                # The objects, the topics and the state machine's own history are encrypted with this key.
                "Sid": "UseEnvironmentKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
            },
        ],
    }


def start_policy(machine_arn: str, kms_key_arn: str) -> dict[str, Any]:
    """Start executions of this one state machine (whose history is encrypted with the key)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "StartCopies", "Effect": "Allow", "Action": "states:StartExecution", "Resource": machine_arn},
            {
                "Sid": "EncryptExecutionInput",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": machine_arn}},
            },
        ],
    }
