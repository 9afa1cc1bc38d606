"""The composition layer: the one place that maps an environment file (`LoadedEnvironment`) to the typed args
of each component. Components take only their own args, so a platform engineer can build any of them, alone
or with others, without an environment file (docs/examples/compose_two_components.py); `components/platform.py`
decides which components an environment gets and wires their outputs together, with the args made here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi

from components.alerting import TeamAlertsArgs, topic_name
from components.artifacts import model_artifacts_prefix
from components.baselines import BaselineCopyTarget
from components.batch import BatchInferenceArgs
from components.config import LoadedEnvironment, Model, Team, Training
from components.config.batch import Batch
from components.config.features import FeatureGroup
from components.config.finops import shared_cost_center
from components.config.observability import MODEL_MONITOR, Monitoring, effective_monitoring
from components.config.triage import Triage
from components.dashboards import DashboardsArgs
from components.evidently_monitoring import EvidentlyMonitorArgs, function_log_group
from components.features import TeamFeatureGroupArgs
from components.finops import KEY_SERVICE_PRINCIPALS, FinOpsArgs, TeamBudget
from components.foundation import FoundationArgs, artifact_bucket_name, key_alias_name
from components.mlflow import tracking_server_arn
from components.monitoring import ModelMonitorArgs
from components.pipelines import TrainingPipelineArgs
from components.registry import ModelRegistryArgs
from components.sdk_images import builtin_image_uri
from components.serving import ModelEndpointArgs, RegistryKey, capture_bucket_name, endpoint_name
from components.tagging import PLATFORM_TEAM, CostTags
from components.triage import TriageArgs, budget_table_name, log_group_name, runbook_sections


def registry_key(env: LoadedEnvironment) -> RegistryKey | None:
    """The registry environment's key when its artifacts are in another account (the endpoint, batch model and
    monitors read them through it); None in the registry's own account."""
    registry = env.registry
    if registry.account_id == env.account_id:
        return None
    return RegistryKey(registry.account_id, registry.region, key_alias_name(registry.environment))


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
    """Shared resources belong to the `platform` team, charged to `finops.platform_cost_center` (else a
    `platform` team's cost center, else the first team's: `mlp cost` and `mlp tags` say which)."""
    cost_center, _source = shared_cost_center(env.finops, env.teams)
    return CostTags(
        environment=env.name,
        team=PLATFORM_TEAM,
        cost_center=cost_center,
        repository=env.repository,
    )


def foundation_args(env: LoadedEnvironment) -> FoundationArgs:
    return FoundationArgs(
        environment=env.name,
        account_id=env.account_id,
        region=env.region,
        protect_stateful=env.protect_stateful_resources,
        # EventBridge publishes registry decisions to a topic encrypted with this key where registries live
        # (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, read 2026-11-25).
        key_service_principals=KEY_SERVICE_PRINCIPALS + (("events.amazonaws.com",) if env.hosts_registry else ()),
        model_reader_account_ids=tuple(env.registry_consumer_account_ids),
        extra_key_statements=triage_key_statements(env) + monitoring_key_statements(env),
    )


def finops_args(env: LoadedEnvironment, kms_key_arn: pulumi.Input[str]) -> FinOpsArgs:
    """Budgets for the environment and each team, alerting at the environment file's thresholds."""
    owners = sorted({email for team in env.teams for email in team.owners})
    return FinOpsArgs(
        environment=env.name,
        account_id=env.account_id,
        kms_key_arn=kms_key_arn,
        monthly_budget_usd=env.finops.monthly_budget_usd,
        forecasted_alert_percent=env.finops.forecasted_alert_percent,
        actual_alert_percent=env.finops.actual_alert_percent,
        environment_recipients=tuple(env.finops.alert_emails or owners),
        teams=tuple(TeamBudget(t.name, t.monthly_budget_usd, tuple(t.owners)) for t in env.teams),
        anomaly_threshold_usd=env.finops.anomaly_threshold_usd,
        activate_cost_allocation_tags=env.finops.payer_account,
        shared_cost_center_note=_shared_note(env),
    )


def _shared_note(env: LoadedEnvironment) -> str:
    cost_center, source = shared_cost_center(env.finops, env.teams)
    return "" if env.finops.platform_cost_center else f"charged to cost center {cost_center} ({source})"


def team_alerts_args(env: LoadedEnvironment, team: Team, kms_key_arn: pulumi.Input[str]) -> TeamAlertsArgs:
    return TeamAlertsArgs(
        environment=env.name,
        team=team.name,
        owners=tuple(team.owners),
        on_call=tuple(team.on_call),
        severities=tuple(env.alerting.severities),
        kms_key_arn=kms_key_arn,
    )


def model_registry_args(
    env: LoadedEnvironment,
    model: Model,
    kms_key_arn: pulumi.Input[str],
    baselines: BaselineCopyTarget | None = None,
) -> ModelRegistryArgs:
    """Registry of one model in the environment that hosts the registry."""
    return ModelRegistryArgs(
        environment=env.name,
        group_name=model.registry_group,
        region=env.region,
        account_id=env.account_id,
        consumer_account_ids=tuple(env.registry_consumer_account_ids),
        kms_key_arn=kms_key_arn,
        description=f"{model.name} ({model.team}): every trained version, pending approval until a person decides",
        baselines=baselines,
    )


def training_pipeline_args(
    env: LoadedEnvironment,
    model: Model,
    training: Training,
    *,
    bucket_name: pulumi.Input[str],
    bucket_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
) -> TrainingPipelineArgs:
    """The pipeline of one model from its env-file settings; images default to AWS's built-in ones."""
    group_arn = env.registry.model_package_group_arn(model.registry_group)
    network = env.network
    return TrainingPipelineArgs(
        environment=env.name,
        model=model.name,
        account_id=env.account_id,
        region=env.region,
        bucket_name=bucket_name,
        bucket_arn=bucket_arn,
        kms_key_arn=kms_key_arn,
        model_package_group_arn=group_arn,
        # Same account: the group's name; another account's registry: its ARN (CreateModelPackage takes both).
        model_package_group=model.registry_group if env.hosts_registry else group_arn,
        training_image=training.image or builtin_image_uri("xgboost", training.xgboost_version, env.region),
        processing_image=training.processing_image
        or builtin_image_uri("sklearn", training.sklearn_version, env.region),
        code_prefix=training.code_prefix or f"code/{model.name}/",
        input_prefix=training.input_prefix or f"datasets/{model.name}/",
        training_instance_type=training.instance_type,
        training_instance_count=training.instance_count,
        processing_instance_type=training.processing_instance_type,
        volume_size_gb=training.volume_size_gb,
        spot=training.spot,
        max_runtime_seconds=training.max_runtime_minutes * 60,
        max_wait_seconds=training.max_wait_minutes * 60,
        network_isolation=training.network_isolation,
        subnet_ids=tuple(network.subnet_ids) if network else (),
        security_group_ids=tuple(network.security_group_ids) if network else (),
        vpc_id=network.vpc_id if network else None,
        hyperparameters=tuple(sorted(training.hyperparameters.items())),
        metric_name=training.metric.name,
        metric_minimum=training.metric.minimum,
        schedule=training.schedule,
        schedule_timezone=training.schedule_timezone,
        mlflow_tracking_arn=tracking_server_arn(env.region, env.account_id, env.name)
        if env.hosts_registry and env.experiment_tracking.enabled
        else None,
    )


def model_endpoint_args(
    env: LoadedEnvironment,
    model: Model,
    kms_key_arn: pulumi.Input[str],
    alarm_topic_arn: pulumi.Input[str] | None = None,
) -> ModelEndpointArgs:
    """The arguments of a model's endpoint, from its environment file entry."""
    registry = env.registry
    shadow = model.serving.shadow
    repository = model.serving.image_repository or model.registry_group
    return ModelEndpointArgs(
        environment=env.name,
        model=model.name,
        version=model.version,
        serving=model.serving,
        model_package_arn=registry.model_package_arn(model.registry_group, model.version),
        shadow_model_package_arn=registry.model_package_arn(model.registry_group, shadow.version) if shadow else None,
        account_id=env.account_id,
        region=env.region,
        artifact_bucket=artifact_bucket_name(registry.environment, registry.account_id, registry.region),
        registry_key=registry_key(env),
        artifact_prefix=model_artifacts_prefix(model.name),
        image_repository_arn=f"arn:aws:ecr:{registry.region}:{registry.account_id}:repository/{repository}",
        kms_key_arn=kms_key_arn,
        network=env.network,
        protect_stateful=env.protect_stateful_resources,
        alarm_topic_arn=alarm_topic_arn,
    )


def batch_inference_args(
    env: LoadedEnvironment,
    model: Model,
    batch: Batch,
    *,
    bucket_name: pulumi.Input[str],
    bucket_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    alarm_topic_arn: pulumi.Input[str],
) -> BatchInferenceArgs:
    # The endpoint's own derivation of package, artifacts, image and registry key: one source of truth.
    serving = model_endpoint_args(env, model, kms_key_arn)
    return BatchInferenceArgs(
        environment=env.name,
        model=model.name,
        version=model.version,
        batch=batch,
        account_id=env.account_id,
        region=env.region,
        model_package_arn=serving.model_package_arn,
        artifact_bucket=serving.artifact_bucket,
        artifact_prefix=serving.artifact_prefix,
        image_repository_arn=serving.image_repository_arn,
        registry_key=serving.registry_key,
        bucket_name=bucket_name,
        bucket_arn=bucket_arn,
        kms_key_arn=kms_key_arn,
        network=env.network,
        alarm_topic_arn=alarm_topic_arn,
    )


def model_monitor_args(
    env: LoadedEnvironment,
    *,
    model: Model,
    endpoint: pulumi.Input[str],
    capture_bucket: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    topic_arns: dict[str, pulumi.Input[str]],
) -> ModelMonitorArgs | None:
    """The monitor of a model's endpoint, or None when the endpoint captures no data."""
    monitoring = effective_monitoring(model)
    if monitoring is None or monitoring.engine != MODEL_MONITOR:
        return None
    registry = env.registry
    return ModelMonitorArgs(
        environment=env.name,
        model=model.name,
        registry_group=model.registry_group,
        version=model.version,
        monitoring=monitoring,
        account_id=env.account_id,
        region=env.region,
        baseline_bucket=artifact_bucket_name(registry.environment, registry.account_id, registry.region),
        endpoint_name=endpoint,
        capture_bucket=capture_bucket,
        kms_key_arn=kms_key_arn,
        network=env.network,
        topic_arns=topic_arns,
        drift_severity=env.alerting.drift,
        quality_severity=env.alerting.model_quality,
        registry_key=registry_key(env),
    )


def monitoring_key_statements(env: LoadedEnvironment) -> tuple[dict[str, object], ...]:
    """The environment key lets CloudWatch Logs encrypt the monitoring functions' log groups
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html, read 2026-11-30); only
    where a drift job image is pinned, the only case with functions."""
    if env.monitoring_image_digest is None:
        return ()
    groups = f"arn:aws:logs:{env.region}:{env.account_id}:log-group:{function_log_group(env.name)}-*-monitor-*"
    return (
        {
            "Sid": "CloudWatchLogsEncryptMonitoringLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{env.region}.amazonaws.com"},
            "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}},
        },
    )


def evidently_monitor_args(
    env: LoadedEnvironment,
    *,
    model: Model,
    monitoring: Monitoring,
    endpoint: pulumi.Input[str],
    capture_bucket: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    topic_arns: dict[str, pulumi.Input[str]],
) -> EvidentlyMonitorArgs:
    registry = env.registry
    return EvidentlyMonitorArgs(
        environment=env.name,
        model=model.name,
        version=model.version,
        monitoring=monitoring,
        account_id=env.account_id,
        region=env.region,
        reference_bucket=artifact_bucket_name(registry.environment, registry.account_id, registry.region),
        registry_key=registry_key(env),
        capture_bucket=capture_bucket,
        endpoint_name=endpoint,
        kms_key_arn=kms_key_arn,
        network=env.network,
        topic_arns=topic_arns,
        drift_severity=env.alerting.drift,
        quality_severity=env.alerting.model_quality,
        image_digest=env.monitoring_image_digest,
        mlflow_tracking_arn=registry_tracking_server_arn(env),
    )


def team_feature_group_args(
    env: LoadedEnvironment,
    group: FeatureGroup,
    *,
    bucket_name: pulumi.Input[str],
    bucket_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    database: pulumi.Input[str],
    failure_topic_arn: pulumi.Input[str],
    parity_topic_arn: pulumi.Input[str] | None,
    depends_on: tuple[pulumi.Resource, ...] = (),
) -> TeamFeatureGroupArgs:
    return TeamFeatureGroupArgs(
        environment=env.name,
        account_id=env.account_id,
        region=env.region,
        group=group,
        bucket_name=bucket_name,
        bucket_arn=bucket_arn,
        kms_key_arn=kms_key_arn,
        database=database,
        network=env.network,
        protect_stateful=env.protect_stateful_resources,
        failure_topic_arn=failure_topic_arn,
        parity_topic_arn=parity_topic_arn,
        depends_on=depends_on,
    )


def _rollout_text(model: Model) -> str:
    rollout = model.serving.rollout.model_dump(exclude_none=True)
    strategy = str(rollout.pop("strategy"))
    return strategy + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(rollout.items())) + ")" if rollout else "")


def triage_config(env: LoadedEnvironment, root: Path, settings: Triage | None = None) -> dict[str, Any]:
    """The function's config.json: everything it needs that the environment file decides (deterministic).
    `settings` defaults to the environment's `triage` section (`mlp triage` passes defaults when it has none)."""
    settings = settings or env.triage
    assert settings is not None
    models = []
    for model in env.models:
        if model.serving.platform != "sagemaker":
            continue  # KServe models have no SageMaker endpoint or CloudWatch metrics to read
        runbook = f"docs/runbooks/{env.name}/{model.name}.md"
        rollback, stop = runbook_sections(root / runbook, env.name)
        models.append(
            {
                "model": model.name,
                "team": model.team,
                "version": model.version,
                "registry_group": model.registry_group,
                "endpoint": endpoint_name(env.name, model.name),
                "rollout": _rollout_text(model),
                "runbook_url": f"https://github.com/{env.repository}/blob/main/{runbook}",
                "runbook_rollback": rollback,
                "runbook_stop_rollout": stop,
                "report_bucket": (
                    capture_bucket_name(env.name, model.name, env.account_id, env.region)
                    if model.serving.data_capture
                    else None
                ),
            }
        )
    llm = settings.llm
    github = settings.github
    return {
        "environment": env.name,
        "region": env.region,
        "account_id": env.account_id,
        "lookback_minutes": settings.lookback_minutes,
        "personal_fields": list(settings.personal_fields),
        "models": models,
        "notify_topics": {
            t.name: f"arn:aws:sns:{env.region}:{env.account_id}:"
            + topic_name(env.name, t.name, settings.notify_severity)
            for t in env.teams
        },
        "llm": (
            {
                "model_id": llm.model_id,
                "max_output_tokens": llm.max_output_tokens,
                "max_prompt_chars": llm.max_prompt_chars,
                "max_calls_per_hour": llm.max_calls_per_hour,
                "budget_table": budget_table_name(env.name),
            }
            if llm
            else None
        ),
        "github": (
            {
                "repository": github.repository,
                "token_secret": github.token_secret,
                "api_url": github.api_url,
                "labels": list(github.labels),
            }
            if github
            else None
        ),
    }


def triage_key_statements(env: LoadedEnvironment) -> tuple[dict[str, object], ...]:
    """Statements the environment key needs for triage: CloudWatch Logs encrypts the function's log group
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html, read 2026-11-30),
    and Bedrock writes invocation logs into the key-encrypted audit bucket
    (https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html, read 2026-11-30)."""
    if env.triage is None or not env.triage.enabled:
        return ()
    statements: list[dict[str, object]] = [
        {
            "Sid": "CloudWatchLogsEncryptTriageLogGroup",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{env.region}.amazonaws.com"},
            "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:aws:logs:{env.region}:{env.account_id}:log-group:{log_group_name(env.name)}"
                    )
                }
            },
        }
    ]
    if env.triage.llm is not None:
        statements.append(
            {
                "Sid": "BedrockWritesInvocationLogs",
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": "kms:GenerateDataKey",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": env.account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{env.region}:{env.account_id}:*"},
                },
            }
        )
    return tuple(statements)


def alert_triage_args(
    env: LoadedEnvironment,
    *,
    root: Path,
    kms_key_arn: pulumi.Input[str],
    alarm_topic_arns: Sequence[pulumi.Input[str]],
    report_buckets: Mapping[str, pulumi.Input[str]],
    deploy_commit: str | None,
) -> TriageArgs:
    assert env.triage is not None
    return TriageArgs(
        environment=env.name,
        account_id=env.account_id,
        region=env.region,
        settings=env.triage,
        config=triage_config(env, root),
        kms_key_arn=kms_key_arn,
        alarm_topic_arns=tuple(alarm_topic_arns),
        report_buckets=dict(report_buckets),
        protect_stateful=env.protect_stateful_resources,
        deploy_commit=deploy_commit,
    )


def registry_tracking_server_arn(env: LoadedEnvironment) -> str | None:
    """The tracking server this environment logs to: the one of the environment hosting its registry (its own,
    or shared with its account through RAM), derived offline from that environment's file like the registry's
    ARN; None when that environment runs no tracking server."""
    registry = env.registry
    if not registry.experiment_tracking:
        return None
    return tracking_server_arn(registry.region, registry.account_id, registry.environment)


def uploads_artifacts(env: LoadedEnvironment) -> bool:
    """Whether a job of this environment may upload run artifacts: the MLflow client writes them straight to
    the artifact store, the registry environment's bucket, which admits no writes from other accounts; there a
    job logs its metrics and the S3 URI of its report (kept in its own bucket) instead."""
    return env.registry.experiment_tracking and env.registry.account_id == env.account_id


def dashboards_args(env: LoadedEnvironment) -> DashboardsArgs:
    """The dashboards show the whole environment: its name, account, region, teams, models and feature groups
    (`DashboardSubject`, which a `LoadedEnvironment` satisfies)."""
    return DashboardsArgs(env)
