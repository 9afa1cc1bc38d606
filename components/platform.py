"""The whole environment, built from its file: the one entry point of stacks/__main__.py."""

from __future__ import annotations

import pulumi

from components.base import PlatformComponent
from components.config import LoadedEnvironment, Model, Team
from components.foundation import EnvironmentFoundation, FoundationArgs, provider_for
from components.pipelines import TrainingPipeline, training_pipeline_args
from components.registry import ModelRegistry, model_registry_args
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
        for team in env.teams:
            _ = team_tags(env, team)

        # Per model (registry, training pipeline, endpoint, ...).
        self.registries: dict[str, ModelRegistry] = {}
        self.pipelines: dict[str, TrainingPipeline] = {}
        for model in env.models:
            tags = team_tags(env, teams[model.team], model)
            registry: ModelRegistry | None = None
            if env.hosts_registry:
                registry = ModelRegistry(
                    f"{env.name}-{model.name}-registry",
                    model_registry_args(env, model, self.foundation.key.arn),
                    tags,
                    opts=self.child_opts(),
                )
                self.registries[model.name] = registry
            if model.training is not None:
                self.pipelines[model.name] = TrainingPipeline(
                    f"{env.name}-{model.name}-training",
                    training_pipeline_args(
                        env,
                        model,
                        model.training,
                        bucket_name=self.foundation.bucket.bucket,
                        bucket_arn=self.foundation.bucket.arn,
                        kms_key_arn=self.foundation.key.arn,
                    ),
                    tags,
                    opts=self.child_opts(depends_on=[registry] if registry else None),
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
