"""ModelRegistry: a model's package group, who else may use it, and who hears about approvals.

Created only in the environment that hosts the registry (`env.hosts_registry`); the other environments
serve, and their pipelines register, across accounts through the group's resource policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.baselines import EXECUTION_INPUT_PATHS, BaselineCopyTarget
from components.naming import EVENTBRIDGE_RULE, SNS_TOPIC, physical_name
from components.tagging import CostTags

MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
# The decisions a person makes on a version; the pipeline's own "PendingManualApproval" is not news.
DECISIONS = ("Approved", "Rejected")

# What a consumer account may do with the group's versions. Describing and listing them is what the
# model registry's cross-account guide grants
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-ram-discover.html and
# https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-ram.html, read 2026-11-25): creating a
# SageMaker model from a version in another account needs DescribeModelPackage on it. CreateModelPackage
# lets a consumer's training pipeline register new versions here (prod retrains on a schedule); every
# registered version still needs a person's approval in this account before it can be promoted.
CONSUMER_READ_ACTIONS = (
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DescribeModelPackage",
    "sagemaker:ListModelPackages",
)
CONSUMER_REGISTER_ACTIONS = ("sagemaker:CreateModelPackage",)


@dataclass(frozen=True)
class ModelRegistryArgs:
    """Inputs of `ModelRegistry`."""

    environment: str
    """Environment (= stack) that hosts the registry; part of physical names."""
    group_name: str
    """Model package group name (`registry_group` in the env file)."""
    region: str
    """Region of the registry."""
    account_id: str
    """Account of the registry."""
    consumer_account_ids: tuple[str, ...]
    """Accounts allowed to use the group across accounts: exactly the environments whose
    `registry_environment` names this one. Empty: no resource policy."""
    kms_key_arn: pulumi.Input[str]
    """Key that encrypts the notification topic."""
    description: str = ""
    """Group description."""
    baselines: BaselineCopyTarget | None = None
    """Where decisions start the copy of an approved version's baseline (components/baselines.py);
    None: nothing copies baselines (an environment without the copier)."""


class ModelRegistry(PlatformComponent):
    """A model package group (always protected: it is the audit trail of every trained version), its
    cross-account resource policy and an encrypted topic announcing approvals and rejections."""

    group: aws.sagemaker.ModelPackageGroup
    topic: aws.sns.Topic
    rule: aws.cloudwatch.EventRule

    def __init__(
        self,
        name: str,
        args: ModelRegistryArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:registry:ModelRegistry", name, tags, opts)
        group_arn = f"arn:aws:sagemaker:{args.region}:{args.account_id}:model-package-group/{args.group_name}"

        # protect=True in every environment, dev included: deleting a group deletes the record of which
        # version was trained from what, evaluated how, and approved by whom.
        self.group = aws.sagemaker.ModelPackageGroup(
            f"{name}-group",
            model_package_group_name=args.group_name,
            model_package_group_description=args.description or f"Versions of {args.group_name}",
            opts=self.child_opts(protect=True),
        )
        self.policy: aws.sagemaker.ModelPackageGroupPolicy | None = None
        if args.consumer_account_ids:
            self.policy = aws.sagemaker.ModelPackageGroupPolicy(
                f"{name}-policy",
                model_package_group_name=self.group.model_package_group_name,
                resource_policy=json.dumps(
                    group_policy(args.region, args.account_id, args.group_name, args.consumer_account_ids),
                    sort_keys=True,
                ),
                opts=self.child_opts(),
            )

        self.topic = aws.sns.Topic(
            f"{name}-decisions",
            name=physical_name(SNS_TOPIC, args.environment, args.group_name, "decisions"),
            kms_master_key_id=args.kms_key_arn,
            opts=self.child_opts(),
        )
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-decisions",
            name=physical_name(EVENTBRIDGE_RULE, args.environment, args.group_name, "decisions"),
            description=f"Approvals and rejections of {args.group_name} versions",
            event_pattern=json.dumps(decision_pattern(args.group_name), sort_keys=True),
            opts=self.child_opts(),
        )
        aws.sns.TopicPolicy(
            f"{name}-decisions-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, self.rule.arn).apply(
                lambda v: json.dumps(topic_policy(str(v[0]), str(v[1])), sort_keys=True)
            ),
            opts=self.child_opts(),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-decisions-target",
            rule=self.rule.name,
            arn=self.topic.arn,
            target_id="decisions-topic",
            opts=self.child_opts(),
        )

        if args.baselines is not None:
            aws.cloudwatch.EventTarget(
                f"{name}-decisions-baselines",
                rule=self.rule.name,
                arn=args.baselines.state_machine_arn,
                role_arn=args.baselines.role_arn,
                target_id="version-baselines",
                input_transformer={
                    "input_paths": EXECUTION_INPUT_PATHS,
                    "input_template": args.baselines.input_template,
                },
                opts=self.child_opts(),
            )

        self.group_arn = group_arn
        self.register_outputs(
            {
                "modelPackageGroupArn": self.group.arn,
                "modelPackageGroupName": self.group.model_package_group_name,
                "topicArn": self.topic.arn,
            }
        )


def group_policy(region: str, account_id: str, group: str, consumers: tuple[str, ...]) -> dict[str, Any]:
    """Resource policy naming exactly the consumer accounts: read the group and its versions, and
    register new versions (always pending approval) from their pipelines."""
    principals = sorted(f"arn:aws:iam::{a}:root" for a in consumers)
    group_arn = f"arn:aws:sagemaker:{region}:{account_id}:model-package-group/{group}"
    versions = f"arn:aws:sagemaker:{region}:{account_id}:model-package/{group}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConsumersReadVersions",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": list(CONSUMER_READ_ACTIONS),
                "Resource": [group_arn, versions],
            },
            {
                "Sid": "ConsumersRegisterVersions",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": list(CONSUMER_REGISTER_ACTIONS),
                "Resource": [group_arn, versions],
            },
        ],
    }


def decision_pattern(group: str) -> dict[str, Any]:
    """EventBridge pattern: a version of this group was approved or rejected."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
        "detail": {"ModelPackageGroupName": [group], "ModelApprovalStatus": list(DECISIONS)},
    }


def topic_policy(topic_arn: str, rule_arn: str) -> dict[str, Any]:
    """Only this rule may publish to the topic (EventBridge, on behalf of the rule's ARN)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventBridgeRulePublishes",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
