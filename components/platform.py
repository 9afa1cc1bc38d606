"""The whole environment, built from its file: the one entry point of stacks/__main__.py."""

from __future__ import annotations

import pulumi

from components.alerting import TeamAlerts, team_alerts_args
from components.base import PlatformComponent
from components.config import LoadedEnvironment, Model, Team
from components.dashboards import Dashboards, DashboardsArgs
from components.foundation import EnvironmentFoundation, FoundationArgs, provider_for
from components.monitoring import ModelMonitor, model_monitor_args
from components.serving import ModelEndpoint, model_endpoint_args
from components.tagging import PLATFORM_TEAM, CostTags


def team_tags(env: LoadedEnvironment, team: Team, model: Model | None = None) -> CostTags:
    """Cost tags of a team's resources, or of one of its models."""
    return CostTags(
        environment=env.name,
        team=team.name,
        cost_center=team.cost_center,
        repository=env.repository,
        model=model.name if model else None,
    )


def platform_tags(env: LoadedEnvironment) -> CostTags:
    """Shared resources belong to the `platform` team, charged to the cost center of the first team
    unless the environment declares a `platform` team of its own."""
    owner = next((t for t in env.teams if t.name == PLATFORM_TEAM), env.teams[0])
    return CostTags(
        environment=env.name,
        team=PLATFORM_TEAM,
        cost_center=owner.cost_center,
        repository=env.repository,
    )


def foundation_args(env: LoadedEnvironment) -> FoundationArgs:
    return FoundationArgs(
        environment=env.name,
        account_id=env.account_id,
        region=env.region,
        protect_stateful=env.protect_stateful_resources,
    )


class MLPlatform(PlatformComponent):
    """Everything one environment deploys. Differences between environments are values, never branches."""

    def __init__(self, env: LoadedEnvironment, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:platform:MLPlatform", env.name, platform_tags(env), opts)
        self.env = env
        teams = {t.name: t for t in env.teams}
        self.foundation = EnvironmentFoundation(
            f"{env.name}-foundation", foundation_args(env), platform_tags(env), opts=self.child_opts()
        )

        # Environment-wide capabilities (budgets, anomaly monitors, ...).

        # Per team (namespaces, alert topics, ...).
        self.alerts: dict[str, TeamAlerts] = {}
        for team in env.teams:
            self.alerts[team.name] = TeamAlerts(
                f"{team.name}-alerts",
                team_alerts_args(env, team, self.foundation.key.arn),
                team_tags(env, team),
                opts=self.child_opts(),
            )

        # Per model (registry, training pipeline, endpoint, ...).
        self.endpoints: dict[str, ModelEndpoint] = {}
        self.monitors: dict[str, ModelMonitor] = {}
        for model in env.models:
            tags = team_tags(env, teams[model.team], model)
            alerts = self.alerts[model.team]
            if model.serving.platform == "sagemaker":
                endpoint = self.endpoints[model.name] = ModelEndpoint(
                    model.name,
                    model_endpoint_args(
                        env, model, self.foundation.key.arn, alarm_topic_arn=alerts.topic_arn(env.alerting.slo)
                    ),
                    tags,
                    opts=self.child_opts(),
                )
                monitor_args = (
                    model_monitor_args(
                        env,
                        model=model,
                        endpoint=endpoint.endpoint.name,
                        capture_bucket=endpoint.capture_bucket.bucket,
                        kms_key_arn=self.foundation.key.arn,
                        topic_arns={k: t.arn for k, t in alerts.topics.items()},
                    )
                    if endpoint.capture_bucket
                    else None
                )
                if monitor_args:
                    self.monitors[model.name] = ModelMonitor(
                        f"{model.name}-monitor", monitor_args, tags, opts=self.child_opts()
                    )

        # Dashboards last: generated from the models above.
        self.dashboards = Dashboards(
            f"{env.name}-dashboards", DashboardsArgs(env), platform_tags(env), opts=self.child_opts()
        )

        self.register_outputs({"kmsKeyArn": self.foundation.key.arn, "artifactBucket": self.foundation.bucket.bucket})


def build_platform(env: LoadedEnvironment) -> MLPlatform:
    """Create the environment's pinned provider and the platform that uses it."""
    provider = provider_for(foundation_args(env))
    platform = MLPlatform(env, opts=pulumi.ResourceOptions(providers=[provider]))
    pulumi.export("environment", env.name)
    pulumi.export("kmsKeyArn", platform.foundation.key.arn)
    pulumi.export("artifactBucket", platform.foundation.bucket.bucket)
    return platform
