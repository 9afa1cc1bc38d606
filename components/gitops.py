"""Approval to pull request: a model version approved in the registry becomes a `repository_dispatch`.

EventBridge matches "SageMaker Model Package State Change" events whose ModelApprovalStatus is Approved
(https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html, read
2026-11-25) and sends them through an API destination to GitHub's "create a repository dispatch event"
endpoint, POST /repos/{owner}/{repo}/dispatches with {"event_type", "client_payload"}
(https://docs.github.com/en/rest/repos/repos#create-a-repository-dispatch-event, read 2026-11-25).
The promote workflow (.github/workflows/promote.yml) listens for that event type and runs `mlp promote`.

The GitHub token is read from an existing Secrets Manager secret at deploy time only (never in a preview)
and handed to the EventBridge connection as a Pulumi secret; EventBridge itself keeps connection credentials in a secret
of its own in Secrets Manager (https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-connections.html,
read 2026-11-25). The token is never in an environment file or in stack config.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.naming import EVENTBRIDGE_RULE, IAM_POLICY, IAM_ROLE, physical_name
from components.registry import MODEL_PACKAGE_STATE_CHANGE
from components.tagging import CostTags

# The repository_dispatch event type the promote workflow listens for (`on.repository_dispatch.types`).
APPROVAL_EVENT_TYPE = "model-approved"
# GitHub REST API version header the dispatch is sent with (docs page above).
GITHUB_API_VERSION = "2022-11-28"


@dataclass(frozen=True)
class ApprovalDispatchArgs:
    """Inputs of `ApprovalDispatch`."""

    environment: str
    """The environment hosting the registry; used in names and sent as the promotion's source."""
    account_id: str
    """Account of the registry (scopes the EventBridge role's trust policy)."""
    repository: str
    """owner/name of the GitHub repository that receives the dispatch."""
    github_token_secret: str
    """Name or ARN of the Secrets Manager secret holding the GitHub token."""
    model_package_groups: Sequence[str]
    """Registry groups whose approvals open pull requests (the environment's models)."""
    rate_limit_per_second: int = 1
    """Most dispatches EventBridge sends per second."""
    github_api_url: str = "https://api.github.com"
    """GitHub REST API root (GitHub Enterprise Server uses https://HOST/api/v3)."""


def dispatch_input_template(source_environment: str) -> str:
    """The target's input template: the body GitHub expects, with the approved version in the payload.

    `<version>` is a number in the event, so it stays unquoted; the strings are quoted.
    """
    return (
        '{"event_type": "' + APPROVAL_EVENT_TYPE + '", "client_payload": {'
        '"model_package_group": "<group>", "version": <version>, "model_package_arn": "<arn>", '
        '"source_environment": "' + source_environment + '"}}'
    )


TOKEN_PROPERTY = "authParameters.apiKey.value"  # noqa: S105 - a property path, not a password
"""The connection property holding the token (engine property path, as `ignore_changes` takes it)."""


def unknown_secret() -> pulumi.Output[str]:
    """A secret whose value is not known in this run (what the engine shows as a computed value)."""

    async def value() -> str:
        return ""

    async def flag(answer: bool) -> bool:
        return answer

    return pulumi.Output(set(), value(), flag(False), flag(True))


DISPATCH_INPUT_PATHS = {
    "group": "$.detail.ModelPackageGroupName",
    "version": "$.detail.ModelPackageVersion",
    "arn": "$.detail.ModelPackageArn",
}


class ApprovalDispatch(PlatformComponent):
    """Rule, connection, API destination, target and role that turn registry approvals into dispatches."""

    def __init__(
        self,
        name: str,
        args: ApprovalDispatchArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:gitops:ApprovalDispatch", name, tags, opts)
        if not args.model_package_groups:
            raise ValueError("ApprovalDispatch needs at least one model package group to watch")

        # A preview never reads the token: previews run pull-request code with a role that may not read
        # secrets (docs/gitops.md, threat model). The value is unknown there, and the preview keeps the stored
        # one (ignore_changes only while previewing), so it shows no change it cannot know; `pulumi up` (deploy
        # role) reads the secret and updates the connection when the token was rotated.
        previewing = pulumi.runtime.is_dry_run()
        token = (
            unknown_secret()
            if previewing
            else aws.secretsmanager.get_secret_version_output(
                secret_id=args.github_token_secret, opts=pulumi.InvokeOutputOptions(parent=self)
            ).secret_string
        )
        self.connection = aws.cloudwatch.EventConnection(
            f"{name}-github",
            name=physical_name(EVENTBRIDGE_RULE, "mlp", args.environment, "github-dispatch"),
            description=f"GitHub API for repository_dispatch to {args.repository}",
            authorization_type="API_KEY",
            auth_parameters={
                "api_key": {
                    "key": "Authorization",
                    "value": pulumi.Output.concat(pulumi.Output.secret("Bearer "), token),
                },
                "invocation_http_parameters": {
                    "headers": [
                        {"key": "Accept", "value": "application/vnd.github+json", "is_value_secret": False},
                        {"key": "X-GitHub-Api-Version", "value": GITHUB_API_VERSION, "is_value_secret": False},
                    ]
                },
            },
            opts=self.child_opts(ignore_changes=[TOKEN_PROPERTY] if previewing else None),
        )
        self.destination = aws.cloudwatch.EventApiDestination(
            f"{name}-dispatches",
            name=physical_name(EVENTBRIDGE_RULE, "mlp", args.environment, "github-dispatches"),
            description=f"repository_dispatch of {args.repository}",
            connection_arn=self.connection.arn,
            http_method="POST",
            invocation_endpoint=f"{args.github_api_url.rstrip('/')}/repos/{args.repository}/dispatches",
            invocation_rate_limit_per_second=args.rate_limit_per_second,
            opts=self.child_opts(),
        )
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-approved",
            name=physical_name(EVENTBRIDGE_RULE, "mlp", args.environment, "model-approved"),
            description="A model version was approved in the registry: open its promotion pull request",
            event_pattern=json.dumps(
                {
                    "source": ["aws.sagemaker"],
                    "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
                    "detail": {
                        "ModelApprovalStatus": ["Approved"],
                        "ModelPackageGroupName": sorted(args.model_package_groups),
                    },
                },
                sort_keys=True,
            ),
            opts=self.child_opts(),
        )
        self.role, _ = self.service_role(
            f"{name}-events",
            f"{name}-events-invoke",
            role_name=physical_name(IAM_ROLE, "mlp", args.environment, "approval-dispatch"),
            description="EventBridge invokes the GitHub dispatch API destination",
            service="events.amazonaws.com",
            account_id=args.account_id,
            policy_name=physical_name(IAM_POLICY, "invoke-github-dispatches"),
            policy=self.destination.arn.apply(_invoke_policy),
        )
        self.target = aws.cloudwatch.EventTarget(
            f"{name}-approved-to-github",
            rule=self.rule.name,
            target_id="github-dispatch",
            arn=self.destination.arn,
            role_arn=self.role.arn,
            input_transformer={
                "input_paths": DISPATCH_INPUT_PATHS,
                "input_template": dispatch_input_template(args.environment),
            },
            opts=self.child_opts(),
        )
        self.register_outputs({"ruleArn": self.rule.arn, "apiDestinationArn": self.destination.arn})


def _invoke_policy(destination_arn: str) -> str:
    """events:InvokeApiDestination on this one destination, nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "events:InvokeApiDestination",
                    "Resource": destination_arn,
                }
            ],
        },
        sort_keys=True,
    )
