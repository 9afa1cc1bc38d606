"""Model Monitor: job definitions, schedules, baselines of the served version, role and alarms, per environment."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from components.config import LoadedEnvironment, Model
from components.config.observability import effective_monitoring
from components.data_root import repo_root
from components.foundation import artifact_bucket_name
from mlp.cli import EXIT_INPUT, main
from mlp.plan import Plan, build_plan
from tests.conftest import ENVIRONMENTS, FIXTURE_ROOT, fixture_env, one_of, resources_of

DQ = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
CLOUDCONTROL = "aws:cloudcontrol/resource:Resource"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
MONITOR = "mlplatform:monitoring:ModelMonitor"

CASES = [(env, m.name) for env in ENVIRONMENTS for m in fixture_env(env).models]

# The cron forms Model Monitor accepts for hourly and daily runs
# (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html).
ALLOWED_CRON = re.compile(r"^cron\(0 (\*|([01]?\d|2[0-3])) \? \* \* \*\)$")


def on_model_monitor(data: Any) -> None:
    """Put every model that captures data on the model-monitor engine (the example files use evidently)."""
    for model in data.get("models", []):
        if model.get("serving", {}).get("data_capture"):
            model.setdefault("monitoring", {})["engine"] = "model-monitor"


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    """Model Monitor is this file's subject: the fixture environments with their monitored models moved to the
    model-monitor engine (the evidently engine is tested in test_evidently_monitoring.py)."""
    root = tmp_path_factory.mktemp("model-monitor")
    shutil.copytree(FIXTURE_ROOT / "environments", root / "environments")
    shutil.copytree(repo_root() / "stacks", root / "stacks", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    yaml = YAML(typ="rt")
    for env in ENVIRONMENTS:
        path = root / "environments" / f"{env}.yaml"
        data = yaml.load(path.read_text())
        on_model_monitor(data)
        with path.open("w") as f:
            yaml.dump(data, f)
    return {env: build_plan(env, root) for env in ENVIRONMENTS}


def spec(env: str, model: str) -> tuple[LoadedEnvironment, Model]:
    loaded = fixture_env(env)
    return loaded, next(m for m in loaded.models if m.name == model)


def env_key_arn(plan: Plan) -> str:
    encryption = one_of(plan, ENCRYPTION, f"{plan['stack']}-foundation-artifacts-encryption")
    return str(encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"])


def monitor_children(plan: Plan, model: str, type_: str) -> list[dict[str, Any]]:
    component = [r for r in resources_of(plan, MONITOR) if r["name"] == f"{model}-monitor"]
    urns = {c["urn"] for c in component}
    return [r for r in resources_of(plan, type_) if r["parent"] in urns]


def baseline(env: LoadedEnvironment, m: Model, version: int, kind: str) -> str:
    registry = env.registry
    bucket = artifact_bucket_name(registry.environment, registry.account_id, registry.region)
    return f"s3://{bucket}/pipelines/{m.name}/baselines/v{version}/{kind}"


def test_every_capturing_endpoint_is_monitored_and_no_other(plans: dict[str, Plan]) -> None:
    for env in ENVIRONMENTS:
        loaded = fixture_env(env)
        monitored = sorted(r["name"] for r in resources_of(plans[env], MONITOR))
        assert monitored == sorted(f"{m.name}-monitor" for m in loaded.models if m.serving.data_capture)
    # dev captures nothing (cheap); staging and prod monitor both models.
    assert resources_of(plans["dev"], MONITOR) == []
    assert len(resources_of(plans["prod"], MONITOR)) == len(resources_of(plans["staging"], MONITOR)) == 2


@pytest.mark.parametrize(("env", "model"), CASES)
def test_data_quality_job_uses_the_served_versions_baseline_encrypted_and_isolated(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    loaded, m = spec(env, model)
    plan = plans[env]
    jobs = monitor_children(plan, model, DQ)
    monitoring = effective_monitoring(m)
    if monitoring is None:
        assert jobs == []
        return
    [job] = jobs
    inputs = job["inputs"]
    prefix = baseline(loaded, m, m.version, "data-quality")
    assert inputs["dataQualityBaselineConfig"] == {
        "constraintsResource": {"s3Uri": f"{prefix}/constraints.json"},
        "statisticsResource": {"s3Uri": f"{prefix}/statistics.json"},
    }
    assert inputs["name"].startswith(f"{env}-{model}-dq-v{m.version}-")
    assert inputs["dataQualityJobInput"]["endpointInput"]["endpointName"] == f"{env}-{model}"
    key = env_key_arn(plan)
    assert inputs["dataQualityJobOutputConfig"]["kmsKeyId"] == key
    cluster = inputs["jobResources"]["clusterConfig"]
    assert cluster["volumeKmsKeyId"] == key
    assert (cluster["instanceType"], cluster["volumeSizeInGb"], cluster["instanceCount"]) == (
        monitoring.instance_type,
        monitoring.volume_gb,
        1,
    )
    capture = one_of(plan, "aws:s3/bucket:Bucket", f"{model}-capture")["inputs"]["bucket"]
    output = inputs["dataQualityJobOutputConfig"]["monitoringOutputs"]["s3Output"]
    assert output["s3Uri"] == f"s3://{capture}/monitoring/data-quality"
    network = inputs["networkConfig"]
    assert network["enableNetworkIsolation"] is True
    assert network["enableInterContainerTrafficEncryption"] is True
    assert loaded.network is not None  # staging and prod, where capture happens, have a VPC
    assert network["vpcConfig"] == {
        "subnets": loaded.network.subnet_ids,
        "securityGroupIds": loaded.network.security_group_ids,
    }
    assert inputs["stoppingCondition"] == {"maxRuntimeInSeconds": monitoring.max_runtime_minutes * 60}
    app = inputs["dataQualityAppSpecification"]
    assert (
        app["imageUri"] == f"468650794304.dkr.ecr.{loaded.region}.amazonaws.com/sagemaker-model-monitor-analyzer:latest"
    )
    assert app["environment"] == {"publish_cloudwatch_metrics": "Enabled"}
    role = one_of(plan, "aws:iam/role:Role", f"{model}-monitor-role")["inputs"]["name"]
    assert inputs["roleArn"] == f"arn:aws:iam::{loaded.account_id}:role/{role}"


@pytest.mark.parametrize(("env", "model"), CASES)
def test_schedules_run_hourly_or_daily_as_the_environment_file_says(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    _, m = spec(env, model)
    monitoring = effective_monitoring(m)
    schedules = {s["inputs"]["name"]: s["inputs"] for s in monitor_children(plans[env], model, SCHEDULE)}
    if monitoring is None:
        assert schedules == {}
        return
    kinds = ["data-quality"] + (["model-quality"] if monitoring.ground_truth else [])
    assert sorted(schedules) == sorted(f"{env}-{model}-{k}" for k in kinds)
    expected = (
        "cron(0 * ? * * *)" if monitoring.schedule == "hourly" else f"cron(0 {monitoring.daily_hour_utc} ? * * *)"
    )
    [job] = monitor_children(plans[env], model, DQ)
    data = schedules[f"{env}-{model}-data-quality"]["monitoringScheduleConfig"]
    assert data == {
        "monitoringType": "DataQuality",
        "monitoringJobDefinitionName": job["inputs"]["name"],
        "scheduleConfig": {"scheduleExpression": expected},
    }
    for schedule in schedules.values():
        assert ALLOWED_CRON.match(schedule["monitoringScheduleConfig"]["scheduleConfig"]["scheduleExpression"])


def test_prod_fraud_is_hourly_and_anomaly_daily_at_four() -> None:
    _, fraud = spec("prod", "fraud-scoring")
    _, anomaly = spec("prod", "transaction-anomaly")
    assert fraud.monitoring is not None and fraud.monitoring.expression == "cron(0 * ? * * *)"
    assert anomaly.monitoring is not None and anomaly.monitoring.expression == "cron(0 4 ? * * *)"
    # Staging's anomaly model declares no monitoring: it gets the default, a daily data-quality monitor.
    _, staging_anomaly = spec("staging", "transaction-anomaly")
    assert staging_anomaly.monitoring is None
    assert effective_monitoring(staging_anomaly) is not None


def test_model_quality_where_ground_truth_is_named(plans: dict[str, Plan]) -> None:
    loaded, m = spec("prod", "fraud-scoring")
    assert m.monitoring is not None and m.monitoring.ground_truth is not None
    truth = m.monitoring.ground_truth
    plan = plans["prod"]
    [resource] = monitor_children(plan, "fraud-scoring", CLOUDCONTROL)
    assert resource["inputs"]["typeName"] == "AWS::SageMaker::ModelQualityJobDefinition"
    state = json.loads(resource["inputs"]["desiredState"])
    assert state["ModelQualityAppSpecification"]["ProblemType"] == truth.problem_type == "BinaryClassification"
    assert state["ModelQualityJobInput"]["GroundTruthS3Input"] == {"S3Uri": truth.s3_uri}
    endpoint = state["ModelQualityJobInput"]["EndpointInput"]
    assert endpoint["EndpointName"] == "prod-fraud-scoring"
    assert (endpoint["ProbabilityAttribute"], endpoint["ProbabilityThresholdAttribute"]) == ("score", 0.5)
    # Labels land 720 h late: each hourly run analyses the hour that ended 720 h ago.
    assert (endpoint["StartTimeOffset"], endpoint["EndTimeOffset"]) == ("-PT721H", "-PT720H")
    # An hourly model-quality run may last at most 1800 s (AWS's model-quality schedule page).
    assert state["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    # No pipeline computes a model-quality baseline: the job runs without one (its metrics feed the alarms).
    assert "ModelQualityBaselineConfig" not in state
    key = env_key_arn(plan)
    assert state["ModelQualityJobOutputConfig"]["KmsKeyId"] == key
    assert state["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    assert state["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert state["NetworkConfig"]["VpcConfig"]["Subnets"] == loaded.network.subnet_ids if loaded.network else False
    # Cloud Control takes no `tags` input: the cost tags are in the desired state.
    assert {t["Key"]: t["Value"] for t in state["Tags"]}["team"] == "fraud"
    schedule = one_of(plan, SCHEDULE, "fraud-scoring-monitor-model-quality-schedule")["inputs"]
    assert schedule["monitoringScheduleConfig"]["monitoringType"] == "ModelQuality"
    assert schedule["monitoringScheduleConfig"]["monitoringJobDefinitionName"] == state["JobDefinitionName"]
    # No ground truth elsewhere: no model-quality job.
    assert monitor_children(plan, "transaction-anomaly", CLOUDCONTROL) == []
    assert resources_of(plans["staging"], CLOUDCONTROL) == []


def test_a_version_bump_moves_the_monitors_to_the_new_versions_baseline(
    plans: dict[str, Plan], edit_env: Callable[..., Path]
) -> None:
    def bump(data: Any) -> None:
        fraud = data["models"][0]
        fraud["version"] = 13
        fraud["serving"]["shadow"]["version"] = 14
        on_model_monitor(data)

    after = build_plan("prod", edit_env("prod", bump))
    loaded, m = spec("prod", "fraud-scoring")
    before_job, after_job = (monitor_children(p, "fraud-scoring", DQ)[0]["inputs"] for p in (plans["prod"], after))
    assert before_job["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"] == (
        baseline(loaded, m, 12, "data-quality") + "/statistics.json"
    )
    assert after_job["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"] == (
        baseline(loaded, m, 13, "data-quality") + "/statistics.json"
    )
    assert after_job["name"].startswith("prod-fraud-scoring-dq-v13-") and after_job["name"] != before_job["name"]
    schedule = one_of(after, SCHEDULE, "fraud-scoring-monitor-data-quality-schedule")["inputs"]
    assert schedule["name"] == "prod-fraud-scoring-data-quality", "the schedule keeps its name"
    assert schedule["monitoringScheduleConfig"]["monitoringJobDefinitionName"] == after_job["name"]
    [quality] = monitor_children(after, "fraud-scoring", CLOUDCONTROL)
    state = json.loads(quality["inputs"]["desiredState"])
    assert state["JobDefinitionName"].startswith("prod-fraud-scoring-mq-v13-")
    policy = json.loads(
        one_of(after, "aws:iam/rolePolicy:RolePolicy", "fraud-scoring-monitor-role-policy")["inputs"]["policy"]
    )
    [read] = [s for s in policy["Statement"] if s["Sid"] == "ReadServedVersionBaseline"]
    bucket = artifact_bucket_name(loaded.registry.environment, loaded.registry.account_id, loaded.registry.region)
    assert read["Resource"] == [f"arn:aws:s3:::{bucket}/pipelines/fraud-scoring/baselines/v13/*"]


@pytest.mark.parametrize(("env", "model"), [c for c in CASES if effective_monitoring(spec(*c)[1]) is not None])
def test_monitor_role_is_least_privilege(plans: dict[str, Plan], env: str, model: str) -> None:
    loaded, m = spec(env, model)
    plan = plans[env]
    trust = json.loads(one_of(plan, "aws:iam/role:Role", f"{model}-monitor-role")["inputs"]["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": loaded.account_id}}
    policy = json.loads(
        one_of(plan, "aws:iam/rolePolicy:RolePolicy", f"{model}-monitor-role-policy")["inputs"]["policy"]
    )
    statements = {s["Sid"]: s for s in policy["Statement"]}
    for statement in statements.values():
        assert all("*" not in action for action in statement["Action"]), statement
        if statement["Resource"] != "*":
            assert all(
                not r.endswith(":*") or r.endswith("log-group:/aws/sagemaker/ProcessingJobs:*")
                for r in statement["Resource"]
            )
    on_star = {sid for sid, s in statements.items() if s["Resource"] == "*"}
    assert on_star == {"ActionsWithoutResourceTypes", "PublishMonitorMetrics"}
    assert statements["PublishMonitorMetrics"]["Condition"] == {
        "StringEquals": {
            "cloudwatch:namespace": ["aws/sagemaker/Endpoints/data-metrics", "aws/sagemaker/Endpoints/model-metrics"]
        }
    }
    capture = one_of(plan, "aws:s3/bucket:Bucket", f"{model}-capture")["inputs"]["bucket"]
    assert statements["ReadOwnCapture"]["Resource"] == [f"arn:aws:s3:::{capture}/capture/*"]
    assert statements["WriteOwnReports"]["Resource"] == [f"arn:aws:s3:::{capture}/monitoring/*"]
    assert statements["WriteOwnReports"]["Action"] == ["s3:PutObject"]
    registry = loaded.registry
    bucket = artifact_bucket_name(registry.environment, registry.account_id, registry.region)
    assert statements["ReadServedVersionBaseline"]["Resource"] == [
        f"arn:aws:s3:::{bucket}/pipelines/{m.name}/baselines/v{m.version}/*"
    ]
    assert statements["UseEnvironmentKey"]["Resource"] == [env_key_arn(plan)]
    assert statements["DescribeOwnEndpoint"]["Resource"] == [
        f"arn:aws:sagemaker:{loaded.region}:{loaded.account_id}:endpoint/{env}-{model}"
    ]
    truth = m.monitoring.ground_truth if m.monitoring else None
    if truth:
        assert statements["ReadGroundTruth"]["Resource"] == [
            "arn:aws:s3:::payments-co-fraud-labels-630417952386/chargebacks/*"
        ]
    else:
        assert "ReadGroundTruth" not in statements


@pytest.mark.parametrize(("env", "model"), CASES)
def test_drift_and_quality_alarms_with_thresholds_and_routed_topics(
    plans: dict[str, Plan], env: str, model: str
) -> None:
    loaded, m = spec(env, model)
    monitoring = effective_monitoring(m)
    alarms = {a["inputs"]["name"]: a["inputs"] for a in monitor_children(plans[env], model, ALARM)}
    if monitoring is None:
        assert alarms == {}
        return
    topic = f"arn:aws:sns:{loaded.region}:{loaded.account_id}:{env}-{m.team}-"
    expected = len(monitoring.drift_alarms) + (len(monitoring.ground_truth.alarms) if monitoring.ground_truth else 0)
    assert len(alarms) == expected
    for drift in monitoring.drift_alarms:
        alarm = alarms[f"{env}-{model}-drift-{drift.feature}"]
        assert (alarm["namespace"], alarm["metricName"]) == (
            "aws/sagemaker/Endpoints/data-metrics",
            f"feature_baseline_drift_{drift.feature}",
        )
        assert alarm["dimensions"] == {
            "Endpoint": f"{env}-{model}",
            "MonitoringSchedule": f"{env}-{model}-data-quality",
        }
        assert (alarm["threshold"], alarm["comparisonOperator"]) == (drift.threshold, "GreaterThanThreshold")
        assert alarm["period"] == monitoring.period_seconds
        assert alarm["alarmActions"] == alarm["okActions"] == [topic + (drift.severity or loaded.alerting.drift)]
    for quality in monitoring.ground_truth.alarms if monitoring.ground_truth else []:
        alarm = alarms[f"{env}-{model}-quality-{quality.metric}"]
        assert (alarm["namespace"], alarm["metricName"]) == ("aws/sagemaker/Endpoints/model-metrics", quality.metric)
        assert alarm["dimensions"]["MonitoringSchedule"] == f"{env}-{model}-model-quality"
        assert (alarm["threshold"], alarm["comparisonOperator"]) == (quality.threshold, quality.comparison)
        assert alarm["alarmActions"] == [topic + (quality.severity or loaded.alerting.model_quality)]


def test_prod_fraud_card_country_drift_pages_and_the_rest_notifies(plans: dict[str, Plan]) -> None:
    actions = {
        a["inputs"]["name"]: a["inputs"]["alarmActions"][0].rsplit(":", 1)[1]
        for a in monitor_children(plans["prod"], "fraud-scoring", ALARM)
    }
    assert actions == {
        "prod-fraud-scoring-drift-amount": "prod-fraud-notify",
        "prod-fraud-scoring-drift-merchant_category": "prod-fraud-notify",
        "prod-fraud-scoring-drift-card_country": "prod-fraud-page",
        "prod-fraud-scoring-quality-recall": "prod-fraud-page",
        "prod-fraud-scoring-quality-precision": "prod-fraud-notify",
    }


# --- bad input: exit 2, file:line: field: message with the fix ----------------------------------------------


def only_error(root: Path, env: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["plan", env, "--root", str(root)])
    captured = capsys.readouterr()
    assert code == EXIT_INPUT, captured.err
    assert "Traceback" not in captured.err
    [error] = captured.err.strip().splitlines()
    return error


def line_of(root: Path, env: str, text: str) -> int:
    lines = (root / "environments" / f"{env}.yaml").read_text().splitlines()
    return next(i + 1 for i, line in enumerate(lines) if text in line)


def test_monitoring_without_data_capture_is_refused(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def no_capture(data: Any) -> None:
        del data["models"][0]["serving"]["data_capture"]

    root = edit_env("prod", no_capture)
    error = only_error(root, "prod", capsys)
    line = line_of(root, "prod", "monitoring:")
    assert error == (
        f"error: environments/prod.yaml:{line}: models[0].monitoring: monitoring reads the endpoint's captured "
        "requests and this model captures none; add serving.data_capture or remove monitoring"
    )


def test_unknown_severity_of_a_drift_alarm_is_refused(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def typo(data: Any) -> None:
        data["models"][0]["monitoring"]["drift_alarms"][2]["severity"] = "urgent"

    root = edit_env("prod", typo)
    error = only_error(root, "prod", capsys)
    line = line_of(root, "prod", "feature: card_country")
    assert error == (
        f"error: environments/prod.yaml:{line}: models[0].monitoring.drift_alarms[2].severity: severity 'urgent' "
        "is not defined; alerting.severities here: page, notify"
    )


def test_a_quality_metric_of_another_problem_type_is_refused(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def rmse(data: Any) -> None:
        data["models"][0]["monitoring"]["ground_truth"]["alarms"][0]["metric"] = "rmse"

    root = edit_env("prod", rmse)
    error = only_error(root, "prod", capsys)
    line = line_of(root, "prod", "ground_truth:")
    assert error.startswith(f"error: environments/prod.yaml:{line}: models[0].monitoring.ground_truth: ")
    assert "metric 'rmse' is not computed for BinaryClassification; use one of accuracy, recall" in error


def test_a_schedule_model_monitor_does_not_run_is_refused(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def weekly(data: Any) -> None:
        data["models"][0]["monitoring"]["schedule"] = "weekly"

    root = edit_env("prod", weekly)
    error = only_error(root, "prod", capsys)
    line = line_of(root, "prod", "schedule: weekly")
    assert error.startswith(f"error: environments/prod.yaml:{line}: models[0].monitoring.schedule: ")
    assert "'hourly' or 'daily'" in error and "'weekly'" in error


def test_an_unknown_monitoring_instance_type_gets_suggestions(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def typo(data: Any) -> None:
        data["models"][0]["monitoring"]["instance_type"] = "ml.m5.xlarg"

    root = edit_env("staging", typo)
    error = only_error(root, "staging", capsys)
    line = line_of(root, "staging", "instance_type: ml.m5.xlarg")
    assert error.startswith(
        f"error: environments/staging.yaml:{line}: models[0].monitoring.instance_type: 'ml.m5.xlarg' is not a "
        "SageMaker processing instance type (botocore's ProcessingInstanceType); did you mean "
    )
    assert "ml.m5.xlarge" in error


def test_baselines_live_where_other_accounts_may_read_them() -> None:
    """The monitors' baseline prefix is inside the artifact layout the registry bucket shares."""
    from components.artifacts import baselines_prefix, version_baselines_prefix

    assert version_baselines_prefix("fraud-scoring", 12).startswith(baselines_prefix("fraud-scoring"))
