"""The whole environment, built from its file: the one entry point of stacks/__main__.py."""

from __future__ import annotations

import pulumi

from components.alerting import TeamAlerts
from components.base import PlatformComponent
from components.baselines import VersionBaselines, VersionBaselinesArgs
from components.batch import BatchInference
from components.composition import (
    alert_triage_args,
    batch_inference_args,
    dashboards_args,
    evidently_monitor_args,
    finops_args,
    foundation_args,
    model_endpoint_args,
    model_monitor_args,
    model_registry_args,
    platform_tags,
    team_alerts_args,
    team_feature_group_args,
    team_tags,
    training_pipeline_args,
)
from components.config import LoadedEnvironment, Model, Team
from components.config.observability import EVIDENTLY, effective_monitoring
from components.dashboards import Dashboards
from components.data_root import data_root
from components.evidently_monitoring import EvidentlyMonitor
from components.features import (
    FeatureCatalog,
    FeatureCatalogArgs,
    ModelFeatureAccess,
    TeamFeatureAccess,
    TeamFeatureAccessArgs,
    TeamFeatureGroup,
)
from components.finops import CostGuardrails
from components.foundation import EnvironmentFoundation, artifact_bucket_name, provider_for
from components.gitops import ApprovalDispatch, ApprovalDispatchArgs
from components.kserve import KServeModel, KServeModelArgs
from components.kubernetes import TeamNamespace, TeamNamespaceArgs, kubernetes_provider_for
from components.mlflow import ExperimentTracking, ExperimentTrackingArgs
from components.monitoring import ModelMonitor
from components.monitoring_image import MonitoringImage, MonitoringImageArgs
from components.pipelines import TrainingPipeline
from components.registry import ModelRegistry
from components.serving import ModelEndpoint
from components.tagging import CostTags
from components.triage import AlertTriage


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
        self.finops = CostGuardrails(
            f"{env.name}-finops",
            finops_args(env, self.foundation.key.arn),
            platform_tags(env),
            opts=self.child_opts(),
        )

        self.approval_dispatch: ApprovalDispatch | None = None
        dispatch = env.gitops.approval_dispatch
        if dispatch is not None and env.hosts_registry and env.models:
            self.approval_dispatch = ApprovalDispatch(
                f"{env.name}-approval-dispatch",
                ApprovalDispatchArgs(
                    environment=env.name,
                    account_id=env.account_id,
                    repository=env.repository,
                    github_token_secret=dispatch.github_token_secret,
                    model_package_groups=sorted({m.registry_group for m in env.models}),
                    rate_limit_per_second=dispatch.rate_limit_per_second,
                ),
                platform_tags(env),
                opts=self.child_opts(),
            )

        # Per team (namespaces, alert topics, ...).
        self.alerts: dict[str, TeamAlerts] = {}
        for team in env.teams:
            self.alerts[team.name] = TeamAlerts(
                f"{team.name}-alerts",
                team_alerts_args(env, team, self.foundation.key.arn),
                team_tags(env, team),
                opts=self.child_opts(),
            )
        self.namespaces: dict[str, TeamNamespace] = {}
        for team in env.teams:
            if env.kubernetes is not None and team.namespace is not None:
                self.namespaces[team.name] = TeamNamespace(
                    f"{env.name}-{team.name}-namespace",
                    TeamNamespaceArgs(
                        environment=env.name,
                        team=team.name,
                        account_id=env.account_id,
                        region=env.region,
                        cluster=env.kubernetes,
                        sizing=team.namespace,
                        artifact_bucket_arn=self.foundation.bucket.arn,
                        kms_key_arn=self.foundation.key.arn,
                    ),
                    team_tags(env, team),
                    opts=self.child_opts(),
                )

        # Approved versions' baselines move to where their monitors read them (where registries live).
        self.version_baselines: VersionBaselines | None = None
        if env.hosts_registry and env.models:
            self.version_baselines = VersionBaselines(
                f"{env.name}-version-baselines",
                VersionBaselinesArgs(
                    environment=env.name,
                    account_id=env.account_id,
                    region=env.region,
                    bucket=artifact_bucket_name(env.name, env.account_id, env.region),
                    kms_key_arn=self.foundation.key.arn,
                    topic_arns=[
                        self.alerts[t].topic_arn(env.alerting.drift) for t in sorted({m.team for m in env.models})
                    ],
                ),
                platform_tags(env),
                opts=self.child_opts(),
            )

        # Experiment tracking where the registries live; the drift job's image repository.
        self.experiment_tracking, self.monitoring_image = self._tracking_and_image(env)

        # Per model (registry, training pipeline, endpoint, ...).
        self.registries: dict[str, ModelRegistry] = {}
        self.pipelines: dict[str, TrainingPipeline] = {}
        self.endpoints: dict[str, ModelEndpoint] = {}
        self.monitors: dict[str, ModelMonitor | EvidentlyMonitor] = {}
        for model in env.models:
            tags = team_tags(env, teams[model.team], model)
            alerts = self.alerts[model.team]
            registry: ModelRegistry | None = None
            if env.hosts_registry:
                registry = ModelRegistry(
                    f"{env.name}-{model.name}-registry",
                    model_registry_args(
                        env,
                        model,
                        self.foundation.key.arn,
                        # A version without its baseline has no drift monitoring: heard at drift severity.
                        baselines=(
                            self.version_baselines.target_for(model.name, alerts.topic_arn(env.alerting.drift))
                            if self.version_baselines
                            else None
                        ),
                    ),
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
            if model.serving.platform == "sagemaker":
                endpoint = self.endpoints[model.name] = ModelEndpoint(
                    model.name,
                    model_endpoint_args(
                        env, model, self.foundation.key.arn, alarm_topic_arn=alerts.topic_arn(env.alerting.slo)
                    ),
                    tags,
                    opts=self.child_opts(),
                )
                monitor = self._monitor(env, model, endpoint, alerts, tags)
                if monitor is not None:
                    self.monitors[model.name] = monitor

            if model.serving.platform == "kubernetes" and model.serving.kserve is not None:
                namespace = self.namespaces[model.team]  # the loader checked the team has one
                KServeModel(
                    f"{env.name}-{model.name}-kserve",
                    KServeModelArgs(
                        model=model.name,
                        team=model.team,
                        version=model.version,
                        namespace=namespace.namespace_name,
                        service_account=namespace.service_account_name,
                        artifact_bucket=self.foundation.bucket.bucket,
                        settings=model.serving.kserve,
                        rollout=model.serving.rollout,
                    ),
                    tags,
                    opts=self.child_opts(),
                )

        # Alert triage: subscribed to every team's alarm topics (docs/triage.md).
        self.triage: AlertTriage | None = None
        if env.triage is not None and env.triage.enabled:
            self.triage = AlertTriage(
                f"{env.name}-triage",
                alert_triage_args(
                    env,
                    root=data_root(),
                    kms_key_arn=self.foundation.key.arn,
                    alarm_topic_arns=[t.arn for a in self.alerts.values() for t in a.topics.values()],
                    report_buckets={
                        m: e.capture_bucket.bucket for m, e in self.endpoints.items() if e.capture_bucket is not None
                    },
                    deploy_commit=pulumi.Config().get("deployCommit"),
                ),
                platform_tags(env),
                opts=self.child_opts(),
            )

        self._features_and_batch(env, teams)

        # Dashboards last: generated from the models above.
        self.dashboards = Dashboards(
            f"{env.name}-dashboards", dashboards_args(env), platform_tags(env), opts=self.child_opts()
        )

        self.register_outputs({"kmsKeyArn": self.foundation.key.arn, "artifactBucket": self.foundation.bucket.bucket})

    def _features_and_batch(self, env: LoadedEnvironment, teams: dict[str, Team]) -> None:
        """Feature groups with their pipelines and the teams' feature roles; batch inference per model."""
        bucket, key = self.foundation.bucket, self.foundation.key
        self.feature_groups: dict[str, TeamFeatureGroup] = {}
        if env.feature_groups:
            catalog = FeatureCatalog(
                f"{env.name}-features",
                FeatureCatalogArgs(env.name, bucket_name=bucket.bucket, kms_key_arn=key.arn),
                platform_tags(env),
                opts=self.child_opts(),
            )
            for group in env.feature_groups:
                alerts = self.alerts[group.team]
                parity_severity = (group.parity.severity if group.parity else None) or env.alerting.drift
                self.feature_groups[group.name] = TeamFeatureGroup(
                    f"{env.name}-{group.name}-features",
                    team_feature_group_args(
                        env,
                        group,
                        bucket_name=bucket.bucket,
                        bucket_arn=bucket.arn,
                        kms_key_arn=key.arn,
                        database=catalog.database.name,
                        failure_topic_arn=alerts.topic_arn(env.alerting.drift),
                        parity_topic_arn=alerts.topic_arn(parity_severity) if group.parity else None,
                        depends_on=(catalog,),
                    ),
                    team_tags(env, teams[group.team]),
                    opts=self.child_opts(),
                )
            for team in env.teams:
                mine = [g for g in env.feature_groups if g.team == team.name]
                if mine:
                    TeamFeatureAccess(
                        f"{env.name}-{team.name}-feature-access",
                        TeamFeatureAccessArgs(
                            environment=env.name,
                            account_id=env.account_id,
                            region=env.region,
                            team=team.name,
                            groups=tuple(g.name for g in mine),
                            offline_groups=tuple(g.name for g in mine if g.offline.enabled),
                            bucket_arn=bucket.arn,
                            kms_key_arn=key.arn,
                        ),
                        team_tags(env, team),
                        opts=self.child_opts(),
                    )
        offline = {g.name for g in env.feature_groups if g.offline.enabled}
        for model in env.models:
            reads = tuple(g for g in model.features if g in offline)
            if reads and model.name in self.pipelines:
                ModelFeatureAccess(
                    f"{env.name}-{model.name}-features",
                    environment=env.name,
                    model=model.name,
                    groups=reads,
                    training_role=self.pipelines[model.name].role,
                    bucket_arn=bucket.arn,
                    tags=team_tags(env, teams[model.team], model),
                    opts=self.child_opts(),
                )
        self.batches: dict[str, BatchInference] = {}
        for model in env.models:
            batch = model.serving.batch
            if batch is None:
                continue
            severity = batch.severity or env.alerting.slo
            self.batches[model.name] = BatchInference(
                f"{env.name}-{model.name}-batch",
                batch_inference_args(
                    env,
                    model,
                    batch,
                    bucket_name=bucket.bucket,
                    bucket_arn=bucket.arn,
                    kms_key_arn=key.arn,
                    alarm_topic_arn=self.alerts[model.team].topic_arn(severity),
                ),
                team_tags(env, teams[model.team], model),
                opts=self.child_opts(),
            )

    def _tracking_and_image(self, env: LoadedEnvironment) -> tuple[ExperimentTracking | None, MonitoringImage | None]:
        """The MLflow tracking server (where the registries live) and the drift job's image repository (where a
        model is monitored by the evidently engine)."""
        tracking = None
        if env.hosts_registry and env.experiment_tracking.enabled:
            tracking = ExperimentTracking(
                f"{env.name}-experiment-tracking",
                ExperimentTrackingArgs(
                    environment=env.name,
                    account_id=env.account_id,
                    bucket_name=self.foundation.bucket.bucket,
                    kms_key_arn=self.foundation.key.arn,
                    size=env.experiment_tracking.size,
                    weekly_maintenance_window_start=env.experiment_tracking.weekly_maintenance_window_start,
                    # The same accounts the model package groups' policy admits (ModelRegistryArgs).
                    consumer_account_ids=tuple(env.registry_consumer_account_ids),
                    share_outside_organization=env.experiment_tracking.share_outside_organization,
                ),
                platform_tags(env),
                opts=self.child_opts(),
            )
        image = None
        if any((m := effective_monitoring(model)) and m.engine == EVIDENTLY for model in env.models):
            image = MonitoringImage(
                f"{env.name}-monitoring-image",
                MonitoringImageArgs(env.name, self.foundation.key.arn, env.protect_stateful_resources),
                platform_tags(env),
                opts=self.child_opts(),
            )
        return tracking, image

    def _monitor(
        self, env: LoadedEnvironment, model: Model, endpoint: ModelEndpoint, alerts: TeamAlerts, tags: CostTags
    ) -> ModelMonitor | EvidentlyMonitor | None:
        """The endpoint's monitor, on the engine the environment file chooses; None when nothing is captured."""
        monitoring = effective_monitoring(model)
        if monitoring is None or endpoint.capture_bucket is None:
            return None
        topics: dict[str, pulumi.Input[str]] = {k: t.arn for k, t in alerts.topics.items()}
        if monitoring.engine == EVIDENTLY:
            return EvidentlyMonitor(
                f"{model.name}-monitor",
                evidently_monitor_args(
                    env,
                    model=model,
                    monitoring=monitoring,
                    endpoint=endpoint.endpoint.name,
                    capture_bucket=endpoint.capture_bucket.bucket,
                    kms_key_arn=self.foundation.key.arn,
                    topic_arns=topics,
                ),
                tags,
                opts=self.child_opts(),
            )
        monitor_args = model_monitor_args(
            env,
            model=model,
            endpoint=endpoint.endpoint.name,
            capture_bucket=endpoint.capture_bucket.bucket,
            kms_key_arn=self.foundation.key.arn,
            topic_arns=topics,
        )
        if monitor_args is None:
            return None
        return ModelMonitor(f"{model.name}-monitor", monitor_args, tags, opts=self.child_opts())


def build_platform(env: LoadedEnvironment) -> MLPlatform:
    """Create the environment's pinned provider and the platform that uses it."""
    providers: list[pulumi.ProviderResource] = [provider_for(foundation_args(env))]
    if env.kubernetes is not None:
        providers.append(kubernetes_provider_for(env.name, env.account_id, env.region, env.kubernetes))
    platform = MLPlatform(env, opts=pulumi.ResourceOptions(providers=providers))
    pulumi.export("environment", env.name)
    pulumi.export("kmsKeyArn", platform.foundation.key.arn)
    pulumi.export("artifactBucket", platform.foundation.bucket.bucket)
    return platform
