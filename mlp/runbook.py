"""Runbooks: one page per served model and environment, generated from the plan and the environment file.

`render_runbooks` is deterministic (no dates, sorted tables), so a committed runbook is stale exactly when
regenerating it gives different text; `mlp runbook ENV --check` and a test rely on that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.alerting import topic_name
from components.artifacts import version_baselines_prefix
from components.batch import batch_input_prefix, batch_output_prefix
from components.config import LoadedEnvironment, Model, Team
from components.config.serving import AllAtOnce, Canary, Linear, Rolling
from components.dashboards import ENVIRONMENT_SCOPE, dashboard_of
from components.evidently_monitoring import pipeline_name, reference_prefix, report_prefix
from components.features import feature_group_name, parity_alarm_name
from components.jobs.metrics_contract import (
    DRIFT_METRIC,
    LATEST_POINTER,
    MISSING_METRIC,
    QUALITY_METRIC_PREFIX,
    REFERENCE_FILE,
    ROWS_METRIC,
)
from components.jobs.metrics_contract import NAMESPACE as EVIDENTLY_NAMESPACE
from components.monitoring import REPORTS_PREFIX
from components.naming import SAGEMAKER_PIPELINE, physical_name
from components.scheduled_pipelines import failure_alarm_name
from components.serving import capture_bucket_name
from mlp.plan import Plan

RUNBOOKS_DIR = Path("docs") / "runbooks"
RUNBOOK_SUFFIX = ".md"
# Stopping a deployment: "If any of your alarms trip during the specified monitoring period, SageMaker
# initiates a complete rollback to the old endpoint"
# (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html, read 2026-11-25).
GUARDRAILS_ROLLBACK = "https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html"
SET_ALARM_STATE = "https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/set-alarm-state.html"

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
SCHEDULER = "aws:scheduler/schedule:Schedule"
EVIDENTLY_MONITOR = "mlplatform:evidently_monitoring:EvidentlyMonitor"


def runbook_dir(root: Path, env: str) -> Path:
    return root / RUNBOOKS_DIR / env


def _children(plan: Plan, component_type: str, name: str, type_: str) -> list[dict[str, Any]]:
    parents = {r["urn"] for r in plan["resources"] if r["type"] == component_type and r["name"] == name}
    return sorted(
        (r for r in plan["resources"] if r["type"] == type_ and r["parent"] in parents),
        key=lambda r: str(r["inputs"].get("name")),
    )


def _rollout(model: Model) -> str:
    serving = model.serving
    rollout = serving.rollout
    wait = f", then keeps the old fleet {serving.termination_wait_minutes} min before deleting it"
    if isinstance(rollout, Canary):
        text = (
            f"**canary**: {rollout.percent}% of the new fleet takes traffic first and bakes "
            f"{rollout.bake_minutes} min, then the rest shifts{wait}"
        )
    elif isinstance(rollout, Linear):
        text = f"**linear**: {rollout.step_percent}% more traffic every {rollout.interval_minutes} min{wait}"
    elif isinstance(rollout, Rolling):
        text = f"**rolling**: {rollout.batch_percent}% of instances per batch, {rollout.wait_minutes} min between"
    else:
        assert isinstance(rollout, AllAtOnce)
        text = f"**all-at-once**: all traffic shifts to the new fleet, which bakes {rollout.wait_minutes} min{wait}"
    if serving.deployment_timeout_minutes:
        text += f"; SageMaker stops a deployment after {serving.deployment_timeout_minutes} min"
    return text + "."


def _alarm_rows(alarms: list[dict[str, Any]]) -> list[str]:
    rows = ["| alarm | metric | statistic | condition | for | notifies |", "|---|---|---|---|---|---|"]
    for alarm in alarms:
        i = alarm["inputs"]
        stat = i.get("extendedStatistic") or i.get("statistic")
        minutes = int(i["evaluationPeriods"]) * int(i["period"]) // 60
        condition = f"{i['comparisonOperator'].removesuffix('Threshold')} {i['threshold']:g}"
        if i["metricName"] == "ModelLatency":  # published in microseconds
            condition += f" µs ({i['threshold'] / 1000:g} ms)"
        topics = ", ".join(f"`{a.rsplit(':', 1)[1]}`" for a in i.get("alarmActions", [])) or "nobody"
        metric = f"`{i['namespace']}` {i['metricName']}"
        rows.append(f"| `{i['name']}` | {metric} | {stat} | {condition} | {minutes} min | {topics} |")
    return rows


def _evidently_section(env: LoadedEnvironment, plan: Plan, model: Model) -> list[str]:
    """The evidently engine: the drift job's schedule, what it compares, its metrics and its latest report."""
    schedules = _children(plan, EVIDENTLY_MONITOR, f"{model.name}-monitor", SCHEDULER)
    bucket = capture_bucket_name(env.name, model.name, env.account_id, env.region)
    reports = f"s3://{bucket}/{report_prefix(model.name, model.version)}"
    out = ["Engine: **evidently** (the drift job, components/jobs/drift_job.py, in a SageMaker pipeline)."]
    if not schedules:
        out.append(
            "**Not running**: no drift job image is pinned (`monitoring_image_digest` in the environment file); "
            "run the monitoring-image workflow and pin the digest it prints."
        )
    else:
        schedule = schedules[0]["inputs"]
        out.append(
            f"Pipeline `{pipeline_name(env.name, model.name)}`, started by schedule `{schedule['name']}` "
            f"at `{schedule['scheduleExpression']}` (UTC)."
        )
    out += [
        "",
        f"- Reference data: version {model.version}'s `{reference_prefix(model.name, model.version)}{REFERENCE_FILE}` "
        "in the registry's artifact bucket, saved by its training run and copied there when the version was "
        f"approved (a copy that fails is announced on the team's `{env.alerting.drift}` topic).",
        f"- Latest report: `{reports}{LATEST_POINTER}` names the newest run; each run's folder holds "
        "`report.html`, `report.json` and `metrics.json`.",
        f"- Metrics: namespace `{EVIDENTLY_NAMESPACE}`, dimensions environment, model, version (and feature): "
        f"`{DRIFT_METRIC}` and `{MISSING_METRIC}` per feature, `{ROWS_METRIC}`, and `{QUALITY_METRIC_PREFIX}<metric>` "
        "with ground truth.",
        "",
    ]
    return out


def _monitors_section(env: LoadedEnvironment, plan: Plan, model: Model) -> list[str]:
    """The model's monitor on either engine: schedules, reference or baselines, reports, alarms."""
    evidently = f"{model.name}-monitor" in {r["name"] for r in plan["resources"] if r["type"] == EVIDENTLY_MONITOR}
    component = EVIDENTLY_MONITOR if evidently else "mlplatform:monitoring:ModelMonitor"
    monitor_alarms = _children(plan, component, f"{model.name}-monitor", ALARM)
    schedules = _children(plan, "mlplatform:monitoring:ModelMonitor", f"{model.name}-monitor", SCHEDULE)
    out: list[str] = []
    if evidently:
        out += _evidently_section(env, plan, model)
        out += [*_alarm_rows(monitor_alarms)] if monitor_alarms else ["No alarms on the drift job's metrics."]
    elif schedules:
        baseline = version_baselines_prefix(model.name, model.version)
        out += ["| schedule | type | cron (UTC) |", "|---|---|---|"]
        for schedule in schedules:
            config = schedule["inputs"]["monitoringScheduleConfig"]
            out.append(
                f"| `{schedule['inputs']['name']}` | {config['monitoringType']} | "
                f"`{config['scheduleConfig']['scheduleExpression']}` |"
            )
        out += [
            "",
            f"Baselines: version {model.version}'s, under `{baseline}` in the registry's artifact bucket, "
            "copied there from its training run when the version was approved (a copy that fails is announced "
            f"on the team's `{env.alerting.drift}` topic). "
            f"Reports: `{REPORTS_PREFIX}/` in the endpoint's capture bucket.",
            "",
        ]
        out += [*_alarm_rows(monitor_alarms)] if monitor_alarms else ["No alarms on the monitors' metrics."]
    else:
        out.append("Not monitored: the endpoint captures no data.")
    return out


def _header(env: LoadedEnvironment, model: Model, team: Team) -> list[str]:
    """Every runbook's first lines: its title, that it is generated, and who owns the model."""
    return [
        f"# Runbook: {model.name} in {env.name}",
        "",
        f"<!-- Generated by `mlp runbook {env.name}` from environments/{env.name}.yaml and its plan. "
        "Do not edit: change the environment file and regenerate. -->",
        "",
        "## Owners",
        "",
        f"- Team **{team.name}** (cost center {team.cost_center})",
        f"- Owners: {', '.join(team.owners)}",
    ]


def render_runbook(env: LoadedEnvironment, plan: Plan, model: Model) -> str:
    """The runbook of one model in one environment, as Markdown."""
    team = next(t for t in env.teams if t.name == model.team)
    serving = model.serving
    region = env.region
    [endpoint] = [r for r in plan["resources"] if r["type"] == ENDPOINT and r["name"] == f"{model.name}-endpoint"]
    endpoint_name = endpoint["inputs"]["name"]
    rollback = _children(plan, "mlplatform:serving:ModelEndpoint", model.name, ALARM)
    slo_severity = env.alerting.severity(env.alerting.slo)
    console = f"https://{region}.console.aws.amazon.com"
    out = [
        *_header(env, model, team),
        f"- On call: {', '.join(team.on_call) if team.on_call else 'none declared (paging alarms reach the owners)'}",
        "",
        "## What is served",
        "",
        f"- Endpoint `{endpoint_name}` ({region}, account {env.account_id})",
        f"- Version **{model.version}** of model package group `{model.registry_group}`: "
        f"`{env.registry.model_package_arn(model.registry_group, model.version)}`",
    ]
    if serving.serverless:
        out.append(
            f"- Serverless: {serving.serverless.memory_mb} MB, up to {serving.serverless.max_concurrency} concurrent"
        )
    else:
        scaling = serving.autoscaling
        size = f"{serving.instance_count} x {serving.instance_type}"
        if scaling:
            size += f", autoscaling {scaling.min_capacity}-{scaling.max_capacity}"
        out.append(f"- Instances: {size}")
    if serving.shadow:
        out.append(f"- Shadow: version {serving.shadow.version} receives {serving.shadow.mirror_percent}% of requests")
    out += ["", "## Rollout and rollback alarms", "", f"A new version rolls out {_rollout(model)}", ""]
    if rollback:
        out += [
            "SageMaker rolls a deployment back when one of these alarms is in ALARM while it runs; they also "
            f"notify the team's `{slo_severity.name}` topic"
            f"{' (pages the on-call)' if slo_severity.pages else ''}:",
            "",
            *_alarm_rows(rollback),
        ]
    else:
        out.append("No rollback alarms (the model declares no `slos`): a bad version is only rolled back by PR.")
    out += [
        "",
        "## Dashboards",
        "",
    ]
    for scope in (ENVIRONMENT_SCOPE, team.name):
        name = dashboard_of(env, scope, model)
        out.append(f"- [`{name}`]({console}/cloudwatch/home?region={region}#dashboards/dashboard/{name})")
    out += ["", "## Monitors", "", *_monitors_section(env, plan, model)]
    out += batch_section(env, model) + features_section(env, model)
    topics = ", ".join(f"`{topic_name(env.name, team.name, s.name)}`" for s in env.alerting.severities)
    out += [
        "",
        f"Alert topics of team {team.name}: {topics}.",
        "",
        "## Roll back by pull request",
        "",
        f"1. Find the change that set `version: {model.version}` for `{model.name}` in "
        f"`environments/{env.name}.yaml`: `git log -p -- environments/{env.name}.yaml`.",
        "2. Revert it on a branch (`git revert <commit>`), or set `version` back to the previous version by hand.",
        f"3. Open a pull request; its plan shows a new Model and EndpointConfiguration for `{model.name}` and an "
        f"in-place update of `{endpoint_name}`.",
        "4. Merge: the deployment rolls the previous version out the same way"
        + (", watched by the same alarms." if rollback else "."),
        "",
        "## Stop a rollout in progress",
        "",
    ]
    if rollback:
        out += [
            "Put one rollback alarm into ALARM; SageMaker then rolls the whole deployment back to the old fleet "
            f"({GUARDRAILS_ROLLBACK}):",
            "",
            "```sh",
            f"aws cloudwatch set-alarm-state --region {region} --alarm-name {rollback[0]['inputs']['name']} \\",
            '  --state-value ALARM --state-reason "manual stop of the rollout"',
            f"aws sagemaker describe-endpoint --region {region} --endpoint-name {endpoint_name} \\",
            "  --query '[EndpointStatus, LastDeploymentConfig]'",
            "```",
            "",
            f"The alarm returns to OK at its next evaluation ({SET_ALARM_STATE}). Then revert the version by pull "
            "request (above), so the next deployment does not roll the bad version out again.",
        ]
    else:
        out.append(
            "This endpoint has no rollback alarms, so SageMaker cannot be told to roll back: wait for the update "
            f"to finish (`aws sagemaker describe-endpoint --region {region} --endpoint-name {endpoint_name}`) and "
            "revert the version by pull request."
        )
    return "\n".join(out) + "\n"


def batch_section(env: LoadedEnvironment, model: Model) -> list[str]:
    """How the model is scored in batch, and how to run, stop and watch it."""
    batch = model.serving.batch
    if batch is None:
        return []
    pipeline = physical_name(SAGEMAKER_PIPELINE, env.name, model.name, "batch")
    severity = batch.severity or env.alerting.slo
    when = f"`{batch.schedule}` ({batch.schedule_timezone})" if batch.schedule else "on demand only"
    return [
        "",
        "## Batch inference",
        "",
        f"- Pipeline `{pipeline}`, runs {when}: a transform of version **{model.version}**"
        + (
            " (the endpoint's pinned version: promoting the version promotes both)"
            if model.serving.platform == "sagemaker"
            else ""
        ),
        f"- {batch.instance_count} x {batch.instance_type}, split `{batch.split_type}`, `{batch.batch_strategy}`, "
        f"at most {batch.max_payload_mb} MB per request",
        f"- Reads `{batch_input_prefix(model.name, batch)}`, writes `{batch_output_prefix(model.name, batch)}"
        "<execution id>/` in the artifact bucket (encrypted with the environment key)",
        f"- A failed run fires `{failure_alarm_name(env.name, model.name, 'batch')}` on the team's `{severity}` topic",
        "",
        "Run it now, or over another input prefix:",
        "",
        "```sh",
        f"aws sagemaker start-pipeline-execution --region {env.region} --pipeline-name {pipeline} \\",
        f"  --pipeline-parameters Name=InputData,Value=s3://<artifact bucket>/{batch_input_prefix(model.name, batch)}",
        f"aws sagemaker list-pipeline-executions --region {env.region} --pipeline-name {pipeline} --max-results 5",
        f"aws sagemaker stop-pipeline-execution --region {env.region} --pipeline-execution-arn <arn from the list>",
        "```",
    ]


def features_section(env: LoadedEnvironment, model: Model) -> list[str]:
    """The feature groups the model reads, their ingestion, parity alarm and backfill."""
    if not model.features:
        return []
    groups = {g.name: g for g in env.feature_groups}
    out = [
        "",
        "## Features",
        "",
        "| feature group | owner | online TTL | ingestion | parity alarm |",
        "|---|---|---|---|---|",
    ]
    for name in model.features:
        g = groups[name]
        ttl = (
            f"{g.online.ttl.value} {g.online.ttl.unit}"
            if g.online.ttl
            else ("none" if g.online.enabled else "no online store")
        )
        ingestion = (
            f"`{g.ingestion.schedule}`"
            if g.ingestion and g.ingestion.schedule
            else ("on demand" if g.ingestion else "none")
        )
        parity = (
            f"`{parity_alarm_name(env.name, g.name)}` above {g.parity.max_mismatch_percent}%" if g.parity else "none"
        )
        out.append(f"| `{feature_group_name(env.name, g.name)}` | {g.team} | {ttl} | {ingestion} | {parity} |")
    backfill = next((g for g in (groups[n] for n in model.features) if g.ingestion), None)
    if backfill:
        pipeline = physical_name(SAGEMAKER_PIPELINE, env.name, backfill.name, "ingestion")
        out += [
            "",
            "When the parity alarm fires, compare the run's report (`features/<group>/reports/feature-parity/`) with "
            "the ingestion runs; re-ingest the affected days with a backfill, e.g.:",
            "",
            "```sh",
            f"aws sagemaker start-pipeline-execution --region {env.region} --pipeline-name {pipeline} \\",
            "  --pipeline-parameters Name=StartDate,Value=2026-11-01 Name=EndDate,Value=2026-11-07",
            "```",
        ]
    return out


def render_batch_runbook(env: LoadedEnvironment, model: Model) -> str:
    """The runbook of a model served only in batch."""
    team = next(t for t in env.teams if t.name == model.team)
    out = [
        *_header(env, model, team),
        "",
        "## What is served",
        "",
        f"- Batch only (no endpoint): version **{model.version}** of model package group `{model.registry_group}`: "
        f"`{env.registry.model_package_arn(model.registry_group, model.version)}`",
        *batch_section(env, model),
        *features_section(env, model),
        "",
        "## Roll back by pull request",
        "",
        f"Set `version` of `{model.name}` in `environments/{env.name}.yaml` back to the previous version (or "
        "`git revert` the promotion) and merge: the next run transforms with that version.",
    ]
    return "\n".join(out) + "\n"


def render_runbooks(env: LoadedEnvironment, plan: Plan) -> dict[str, str]:
    """File name -> Markdown, for every model served on SageMaker (online, or only in batch)."""
    books = {
        f"{m.name}{RUNBOOK_SUFFIX}": render_runbook(env, plan, m)
        for m in env.models
        if m.serving.platform == "sagemaker"
    }
    books.update(
        {f"{m.name}{RUNBOOK_SUFFIX}": render_batch_runbook(env, m) for m in env.models if m.serving.platform == "batch"}
    )
    return books
