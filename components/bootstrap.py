"""The one-time setup of an account, as code: what the platform's stacks need before their first run.

`AccountBootstrap` creates the Pulumi state bucket and the state KMS key (the stacks' `secretsprovider`), the
GitHub OIDC provider, and the two roles the workflows assume: `preview` (pull-request and pre-deploy previews:
read the state, decrypt it, lock the stack; nothing else) and `deploy` (`pulumi up`: the actions the
platform's resource types need, scoped to this account and region). Each role trusts exactly the GitHub
OIDC subjects of components/bootstrap_names.py. It runs as its own project (bootstrap/), planned offline by
`mlp bootstrap plan ENV` and checked by the same policy pack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.bootstrap_names import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    ROLE_NAMES,
    SESSION_SECONDS,
    STATE_KEY_ALIAS,
    Role,
    oidc_subjects,
    state_bucket,
)
from components.iam import account_administers_key_statement
from components.storage import PrivateBucket, PrivateBucketArgs
from components.tagging import CostTags

# Per service: the IAM actions `pulumi up` needs for the resource types the platform creates (create, read,
# update, delete and tag; the providers read each resource back after writing it). Keys are the services of
# the resource type tokens (`aws:<module>/...`); a test checks that every AWS type in a plan has its module
# here, and every action against botocore's service model (operation names; S3's IAM names differ).
DEPLOY_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    # module: (IAM service prefix, actions)
    "kms": (
        "kms",
        (
            "DescribeKey", "GetKeyPolicy", "PutKeyPolicy", "GetKeyRotationStatus", "EnableKeyRotation",
            "ListResourceTags", "TagResource", "UntagResource", "ScheduleKeyDeletion", "UpdateKeyDescription",
            "CreateAlias", "DeleteAlias", "UpdateAlias", "ListAliases",
        ),
    ),
    "sagemaker": (
        "sagemaker",
        (
            "CreateModel", "DescribeModel", "DeleteModel",
            "CreateEndpointConfig", "DescribeEndpointConfig", "DeleteEndpointConfig",
            "CreateEndpoint", "DescribeEndpoint", "UpdateEndpoint", "DeleteEndpoint",
            "CreateModelPackageGroup", "DescribeModelPackageGroup", "DeleteModelPackageGroup",
            "PutModelPackageGroupPolicy", "GetModelPackageGroupPolicy", "DeleteModelPackageGroupPolicy",
            "CreatePipeline", "DescribePipeline", "UpdatePipeline", "DeletePipeline",
            "CreateDataQualityJobDefinition", "DescribeDataQualityJobDefinition", "DeleteDataQualityJobDefinition",
            "CreateModelQualityJobDefinition", "DescribeModelQualityJobDefinition",
            "DeleteModelQualityJobDefinition",
            "CreateMonitoringSchedule", "DescribeMonitoringSchedule", "UpdateMonitoringSchedule",
            "DeleteMonitoringSchedule",
            "CreateFeatureGroup", "DescribeFeatureGroup", "UpdateFeatureGroup", "DeleteFeatureGroup",
            # The MLflow tracking server where the registries live (components/mlflow.py).
            "CreateMlflowTrackingServer", "DescribeMlflowTrackingServer", "UpdateMlflowTrackingServer",
            "DeleteMlflowTrackingServer",
            "AddTags", "ListTags", "DeleteTags",
        ),
    ),
    # The drift job's image repository (components/monitoring_image.py): immutable tags, scan on push, a
    # lifecycle policy and tags.
    "ecr": (
        "ecr",
        (
            "CreateRepository", "DescribeRepositories", "DeleteRepository", "PutImageTagMutability",
            "PutImageScanningConfiguration", "PutLifecyclePolicy", "GetLifecyclePolicy", "DeleteLifecyclePolicy",
            "GetRepositoryPolicy", "SetRepositoryPolicy", "DeleteRepositoryPolicy", "TagResource", "UntagResource",
            "ListTagsForResource",
        ),
    ),
    # The RAM share of the MLflow tracking server with the serving accounts (components/mlflow.py): the share,
    # its resource and principal associations, its tags.
    "ram": (
        "ram",
        (
            "CreateResourceShare", "GetResourceShares", "UpdateResourceShare", "DeleteResourceShare",
            "AssociateResourceShare", "DisassociateResourceShare", "GetResourceShareAssociations",
            "ListResourceSharePermissions", "TagResource", "UntagResource",
        ),
    ),
    "iam": (
        "iam",
        (
            "CreateRole", "GetRole", "UpdateRole", "DeleteRole", "UpdateAssumeRolePolicy", "TagRole", "UntagRole",
            "ListRolePolicies", "ListAttachedRolePolicies", "ListInstanceProfilesForRole",
            "PutRolePolicy",
            # Application Auto Scaling creates its SageMaker service-linked role on first use, as the caller.
            "CreateServiceLinkedRole", "GetRolePolicy", "DeleteRolePolicy", "PassRole",
        ),
    ),
    "cloudwatch": (
        "cloudwatch",
        (
            "PutMetricAlarm", "DescribeAlarms", "DeleteAlarms", "ListTagsForResource", "TagResource",
            "UntagResource", "PutDashboard", "GetDashboard", "DeleteDashboards",
        ),
    ),
    "events": (
        "events",
        (
            "PutRule", "DescribeRule", "DeleteRule", "PutTargets", "ListTargetsByRule", "RemoveTargets",
            "CreateConnection", "DescribeConnection", "UpdateConnection", "DeleteConnection",
            "CreateApiDestination", "DescribeApiDestination", "UpdateApiDestination", "DeleteApiDestination",
            "TagResource", "UntagResource", "ListTagsForResource",
        ),
    ),
    "sns": (
        "sns",
        (
            "CreateTopic", "DeleteTopic", "GetTopicAttributes", "SetTopicAttributes", "Subscribe", "Unsubscribe",
            "GetSubscriptionAttributes", "SetSubscriptionAttributes", "TagResource", "UntagResource",
            "ListTagsForResource",
        ),
    ),
    "s3": (
        "s3",
        (
            "CreateBucket", "DeleteBucket", "ListBucket", "GetBucketTagging", "PutBucketTagging",
            "GetBucketLocation", "GetBucketVersioning", "PutBucketVersioning", "GetEncryptionConfiguration",
            "PutEncryptionConfiguration", "GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock",
            "GetBucketOwnershipControls", "PutBucketOwnershipControls", "GetBucketPolicy", "PutBucketPolicy",
            "DeleteBucketPolicy", "GetLifecycleConfiguration", "PutLifecycleConfiguration", "GetBucketAcl",
            "GetBucketCORS", "GetBucketWebsite", "GetBucketLogging", "GetAccelerateConfiguration",
            "GetBucketRequestPayment", "GetReplicationConfiguration", "GetBucketObjectLockConfiguration",
        ),
    ),
    "sfn": (
        "states",
        (
            "CreateStateMachine", "DescribeStateMachine", "UpdateStateMachine", "DeleteStateMachine",
            "TagResource", "UntagResource", "ListTagsForResource",
        ),
    ),
    "scheduler": ("scheduler", ("CreateSchedule", "GetSchedule", "UpdateSchedule", "DeleteSchedule")),
    "appautoscaling": (
        "application-autoscaling",
        (
            "RegisterScalableTarget", "DescribeScalableTargets", "DeregisterScalableTarget", "PutScalingPolicy",
            "DescribeScalingPolicies", "DeleteScalingPolicy", "PutScheduledAction", "DescribeScheduledActions",
            "DeleteScheduledAction", "TagResource", "UntagResource", "ListTagsForResource",
        ),
    ),
    "budgets": (
        "budgets",
        ("ModifyBudget", "ViewBudget", "TagResource", "UntagResource", "ListTagsForResource"),
    ),
    "costexplorer": (
        "ce",
        (
            "CreateAnomalyMonitor", "GetAnomalyMonitors", "UpdateAnomalyMonitor", "DeleteAnomalyMonitor",
            "CreateAnomalySubscription", "GetAnomalySubscriptions", "UpdateAnomalySubscription",
            "DeleteAnomalySubscription", "TagResource", "UntagResource", "ListTagsForResource",
        ),
    ),
    # Alert triage (components/triage.py): the guardrail, Bedrock's invocation logging, the function, its
    # log group and its rate-limit table.
    "bedrock": (
        "bedrock",
        (
            "CreateGuardrail", "GetGuardrail", "UpdateGuardrail", "DeleteGuardrail", "CreateGuardrailVersion",
            "ListGuardrails", "TagResource", "UntagResource", "ListTagsForResource",
        ),
    ),
    "bedrockmodel": (
        "bedrock",
        (
            "PutModelInvocationLoggingConfiguration", "GetModelInvocationLoggingConfiguration",
            "DeleteModelInvocationLoggingConfiguration",
        ),
    ),
    "lambda": (
        "lambda",
        (
            "CreateFunction", "GetFunction", "GetFunctionConfiguration", "UpdateFunctionCode",
            "UpdateFunctionConfiguration", "DeleteFunction", "ListVersionsByFunction", "GetFunctionCodeSigningConfig",
            "AddPermission", "RemovePermission", "GetPolicy", "TagResource", "UntagResource", "ListTags",
        ),
    ),
    "logs": (
        "logs",
        (
            "CreateLogGroup", "DescribeLogGroups", "DeleteLogGroup", "PutRetentionPolicy", "DeleteRetentionPolicy",
            "AssociateKmsKey", "DisassociateKmsKey", "TagResource", "UntagResource", "ListTagsForResource",
        ),
    ),
    "dynamodb": (
        "dynamodb",
        (
            "CreateTable", "DescribeTable", "UpdateTable", "DeleteTable", "DescribeTimeToLive", "UpdateTimeToLive",
            "DescribeContinuousBackups", "UpdateContinuousBackups", "TagResource", "UntagResource",
            "ListTagsOfResource",
        ),
    ),
    # Feature groups' offline stores (components/features.py): the Glue database their tables live in.
    "glue": (
        "glue",
        (
            "CreateDatabase", "GetDatabase", "UpdateDatabase", "DeleteDatabase", "TagResource", "UntagResource",
            "GetTags",
        ),
    ),
    # aws:cloudcontrol/resource:Resource (model-quality job definitions): Cloud Control's IAM prefix is
    # cloudformation; it then calls the SageMaker actions above with the caller's credentials.
    "cloudcontrol": (
        "cloudformation",
        ("CreateResource", "GetResource", "UpdateResource", "DeleteResource", "GetResourceRequestStatus"),
    ),
}  # fmt: skip


# Modules whose resource is a setting of the account and region, not an object with an ARN: Bedrock's model
# invocation logging (`PUT /logging/modelinvocations`, no resource in the request: botocore bedrock
# service-2.json, read 2026-11-30), so IAM can only authorise it on "*" (policies/rules/iam.py).
ACCOUNT_SETTINGS = frozenset({"bedrockmodel"})


def deploy_resources(iam_prefix: str, account_id: str, region: str, environment: str) -> list[str]:
    """What the deploy role may act on, per service: this account and region, never `*` for a write."""
    if iam_prefix == "s3":
        return [f"arn:aws:s3:::mlp-{environment}-*"]
    if iam_prefix == "iam":
        return [f"arn:aws:iam::{account_id}:role/*"]
    if iam_prefix in ("budgets", "ce"):
        return [f"arn:aws:{iam_prefix}::{account_id}:*"]
    if iam_prefix == "cloudwatch":  # dashboards are global resources
        return [f"arn:aws:cloudwatch:{region}:{account_id}:*", f"arn:aws:cloudwatch::{account_id}:dashboard/*"]
    return [f"arn:aws:{iam_prefix}:{region}:{account_id}:*"]


def _state_statements(bucket: str, key_arn: str, role: Role, region: str) -> list[dict[str, Any]]:
    """State access: the preview role reads the state and writes only the DIY backend's lock files (a
    preview takes the stack's lock); the deploy role writes the state too. Both decrypt the stack's data
    key; only the deploy role encrypts (a new data key is never made in CI: the stack files carry it)."""
    objects = f"arn:aws:s3:::{bucket}/.pulumi/*"
    writes = f"arn:aws:s3:::{bucket}/.pulumi/locks/*" if role == "preview" else objects
    statements: list[dict[str, Any]] = [
        {"Sid": "ListState", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects},
        {"Sid": "WriteState", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": writes},
        {
            "Sid": "StateKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"] if role == "preview" else ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": key_arn,
        },
    ]
    if role == "preview":
        # Writing the lock file to the SSE-KMS bucket makes S3 ask for a data key with the caller's rights; only
        # through S3, so the role cannot make data keys for anything else.
        statements.append(
            {
                "Sid": "LockObjectsEncryption",
                "Effect": "Allow",
                "Action": "kms:GenerateDataKey",
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            }
        )
    return statements


def role_policy(
    role: Role,
    *,
    bucket: str,
    key_arn: str,
    account_id: str,
    region: str,
    environment: str,
    cluster_name: str | None,
    dispatch_secret: str | None,
) -> str:
    """The role's one inline policy (JSON)."""
    statements = _state_statements(bucket, key_arn, role, region)
    if cluster_name:
        # `aws eks update-kubeconfig` (mlp ci kubeconfig) describes the cluster; objects in it are authorised
        # by the cluster's access entries, not IAM (docs/kubernetes.md).
        statements.append(
            {
                "Sid": "Kubeconfig",
                "Effect": "Allow",
                "Action": "eks:DescribeCluster",
                "Resource": f"arn:aws:eks:{region}:{account_id}:cluster/{cluster_name}",
            }
        )
    if role == "deploy":
        for module, (prefix, actions) in sorted(DEPLOY_ACTIONS.items()):
            statements.append(
                {
                    "Sid": f"Platform{module.capitalize()}",
                    "Effect": "Allow",
                    "Action": [f"{prefix}:{a}" for a in actions],
                    "Resource": ["*"]
                    if module in ACCOUNT_SETTINGS
                    else deploy_resources(prefix, account_id, region, environment),
                }
            )
        # CreateKey names no key, so AWS authorises it on "*" only (see policies/rules/iam.py).
        statements.append({"Sid": "CreateKeys", "Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"})
        if dispatch_secret:
            # The dispatch token is read during `pulumi up` only (components/gitops.py), never by a preview.
            secret = dispatch_secret if dispatch_secret.startswith("arn:") else f"{dispatch_secret}-??????"
            resource = (
                secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{region}:{account_id}:secret:{secret}"
            )
            statements.append(
                {
                    "Sid": "DispatchToken",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": resource,
                }
            )
        # No privilege escalation: the deploy role never changes the workflow roles or the OIDC provider.
        statements.append(
            {
                "Sid": "NeverTheWorkflowRoles",
                "Effect": "Deny",
                "Action": "iam:*",
                "Resource": [f"arn:aws:iam::{account_id}:role/{name}" for name in sorted(ROLE_NAMES.values())]
                + [f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}"],
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def github_trust_policy(provider_arn: str, subjects: Sequence[str]) -> str:
    """Only GitHub's OIDC tokens for this audience and exactly these subjects may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                            f"{GITHUB_OIDC_HOST}:sub": list(subjects),
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class AccountBootstrapArgs:
    """Inputs of `AccountBootstrap`."""

    environment: str
    """The stack (environment) whose account this sets up; in the roles' trusted subjects."""
    account_id: str
    region: str
    repository: str
    """owner/name of the GitHub repository whose workflows assume the roles."""
    cluster_name: str | None = None
    """EKS cluster the stack deploys to (the roles may describe it to write a kubeconfig)."""
    dispatch_secret: str | None = None
    """Secrets Manager secret of the approval dispatch token (the deploy role may read it)."""
    protect: bool = True
    """Protect the state bucket and key (losing them loses every stack's state)."""


ROLE_ORDER: tuple[Role, ...] = ("preview", "deploy")


class AccountBootstrap(PlatformComponent):
    """State bucket, state key, GitHub OIDC provider, preview and deploy roles of one account."""

    def __init__(
        self, name: str, args: AccountBootstrapArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:bootstrap:AccountBootstrap", name, tags, opts)
        account_root = f"arn:aws:iam::{args.account_id}:root"
        self.key = aws.kms.Key(
            f"{name}-state-key",
            description="ml-platform Pulumi state and secrets",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            # AWS's default key policy: the account administers the key through IAM (the roles' policies).
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [account_administers_key_statement(account_root)],
                }
            ),
            opts=self.child_opts(protect=args.protect, retain_on_delete=args.protect),
        )
        self.alias = aws.kms.Alias(
            f"{name}-state-key-alias", name=STATE_KEY_ALIAS, target_key_id=self.key.key_id, opts=self.child_opts()
        )
        bucket = state_bucket(args.account_id)
        self.state = PrivateBucket(
            f"{name}-state",
            PrivateBucketArgs(bucket_name=bucket, kms_key_arn=self.key.arn, protect=args.protect, versioned=True),
            self.tags,
            opts=self.child_opts(),
        )
        # No thumbprint: IAM validates GitHub's certificate through its own trusted CAs
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html, read 2026-11-30).
        self.oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-github-oidc",
            url=f"https://{GITHUB_OIDC_HOST}",
            client_id_lists=[GITHUB_OIDC_AUDIENCE],
            opts=self.child_opts(),
        )
        self.roles: dict[str, aws.iam.Role] = {}
        for role in ROLE_ORDER:
            trust = self.oidc.arn.apply(_trust_for(args, role))
            policy = self.key.arn.apply(_policy_for(args, role, bucket))
            self.roles[role] = aws.iam.Role(
                f"{name}-{role}",
                name=ROLE_NAMES[role],
                description=f"GitHub Actions {role} of stack {args.environment} ({args.repository})",
                max_session_duration=SESSION_SECONDS,
                assume_role_policy=trust,
                inline_policies=[aws.iam.RoleInlinePolicyArgs(name=f"{role}-stack-{args.environment}", policy=policy)],
                opts=self.child_opts(),
            )
        self.register_outputs(
            {
                "stateBucket": self.state.bucket.bucket,
                "stateKeyArn": self.key.arn,
                "previewRoleArn": self.roles["preview"].arn,
                "deployRoleArn": self.roles["deploy"].arn,
            }
        )


def _trust_for(args: AccountBootstrapArgs, role: Role) -> Callable[[str], str]:
    return lambda provider_arn: github_trust_policy(
        provider_arn, oidc_subjects(args.repository, args.environment, role)
    )


def _policy_for(args: AccountBootstrapArgs, role: Role, bucket: str) -> Callable[[str], str]:
    return lambda key_arn: role_policy(
        role,
        bucket=bucket,
        key_arn=key_arn,
        account_id=args.account_id,
        region=args.region,
        environment=args.environment,
        cluster_name=args.cluster_name,
        dispatch_secret=args.dispatch_secret,
    )
