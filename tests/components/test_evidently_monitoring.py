"""The plan of each monitoring engine on fixture environments: schedule, job, roles, alarms, image, tracking."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.jobs.metrics_contract import DRIFT_METRIC, NAMESPACE, QUALITY_METRIC_PREFIX
from mlp.plan import Plan, build_plan
from tests.conftest import EditFn, one_of, resources_of

DIGEST = "sha256:" + "ab" * 32
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
REPOSITORY = "aws:ecr/repository:Repository"
DQ = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
TRACKING = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
TOPIC = "aws:sns/topic:Topic"

REGISTRY_ACCOUNT = "111111111111"
SERVING_ACCOUNT = "222222222222"


def fixture_environments(engine: str, digest: str | None = DIGEST) -> Callable[[dict[str, Any]], None]:
    """A two-account setup: a registry environment and a serving one whose model captures data, hourly,
    with two drift alarms and chargeback ground truth, on the given engine."""

    def change(data: dict[str, Any]) -> None:
        data["account_id"] = SERVING_ACCOUNT
        if digest:
            data["monitoring_image_digest"] = digest
        model = data["models"][0]
        model["serving"]["data_capture"] = {"sampling_percent": 10, "retention_days": 40}
        model["monitoring"] = {
            "engine": engine,
            "schedule": "hourly",
            "instance_type": "ml.m5.large",
            "drift_alarms": [
                {"feature": "amount", "threshold": 0.2},
                {"feature": "card_country", "threshold": 0.1, "severity": "page"},
            ],
            "ground_truth": {
                "s3_uri": f"s3://labels-{SERVING_ACCOUNT}/chargebacks/",
                "problem_type": "BinaryClassification",
                "probability_attribute": "score",
                "probability_threshold": 0.5,
                "labels_delay_hours": 720,
                "alarms": [{"metric": "recall", "threshold": 0.8}],
            },
        }
        data["models"] = [model]
        data["alerting"] = {
            "severities": [{"name": "page", "pages": True}, {"name": "notify", "pages": False}],
            "slo": "page",
            "drift": "notify",
            "model_quality": "page",
        }

    return change


def plan_with(edit_env: Callable[[str, EditFn], Path], engine: str, digest: str | None = DIGEST) -> Plan:
    edit_env("dev", lambda d: d.__setitem__("account_id", REGISTRY_ACCOUNT))
    root = edit_env("prod", fixture_environments(engine, digest))
    return build_plan("prod", root)


def children(plan: Plan, type_: str, component: str) -> list[dict[str, Any]]:
    parents = {r["urn"] for r in plan["resources"] if r["name"] == component}
    return [r for r in resources_of(plan, type_) if r["parent"] in parents]


def policy_of(plan: Plan, name: str) -> dict[str, dict[str, Any]]:
    document = json.loads(one_of(plan, ROLE_POLICY, name)["inputs"]["policy"])
    return {s["Sid"]: s for s in document["Statement"]}


def topic_arn(plan: Plan, team: str, severity: str) -> str:
    topic = one_of(plan, TOPIC, f"{team}-alerts-{severity}")
    return f"arn:aws:sns:eu-west-1:{SERVING_ACCOUNT}:{topic['inputs']['name']}"


@pytest.fixture
def evidently(edit_env: Callable[[str, EditFn], Path]) -> Plan:
    return plan_with(edit_env, "evidently")


def test_evidently_runs_the_pinned_image_hourly_on_the_served_versions_reference(evidently: Plan) -> None:
    model = "fraud-scoring"
    pipeline = one_of(evidently, PIPELINE, f"{model}-monitor-pipeline")
    definition = json.loads(pipeline["inputs"]["pipelineDefinition"])
    (step,) = definition["Steps"]
    args = step["Arguments"]
    assert step["Type"] == "Processing"
    assert args["AppSpecification"]["ImageUri"] == (
        f"{SERVING_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mlp-prod-drift-job@{DIGEST}"
    )
    argv = args["AppSpecification"]["ContainerArguments"]
    options = dict(zip(argv[::2], argv[1::2], strict=True))
    assert options["--window-hours"] == "1"
    assert options["--labels-delay-hours"] == "720"
    assert options["--prediction-attribute"] == "score"
    assert options["--version"] == "12"
    assert options["--reference-uri"] == (
        f"s3://mlp-dev-artifacts-{REGISTRY_ACCOUNT}-eu-west-1/pipelines/{model}/baselines/v12/data-quality/"
    )
    assert options["--capture-uri"].endswith(f"/capture/prod-{model}")
    assert options["--report-uri"].endswith(f"/monitoring/{model}/v12/")
    cluster = args["ProcessingResources"]["ClusterConfig"]
    assert cluster["InstanceType"] == "ml.m5.large"
    assert cluster["VolumeKmsKeyId"].startswith(f"arn:aws:kms:eu-west-1:{SERVING_ACCOUNT}:key/")
    assert args["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    assert args["NetworkConfig"]["VpcConfig"]["Subnets"]  # prod's private subnets
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}

    schedule = one_of(evidently, SCHEDULE, f"{model}-monitor-schedule")
    assert schedule["inputs"]["scheduleExpression"] == "cron(0 * ? * * *)"
    assert schedule["inputs"]["target"] == {
        "arn": f"arn:aws:sagemaker:eu-west-1:{SERVING_ACCOUNT}:pipeline/prod-{model}-monitoring",
        "roleArn": f"arn:aws:iam::{SERVING_ACCOUNT}:role/prod-{model}-monitor-schedule",
    }
    scheduler = policy_of(evidently, f"{model}-monitor-scheduler-policy")
    assert scheduler["StartThisPipeline"]["Action"] == ["sagemaker:StartPipelineExecution"]
    # No Model Monitor resources on this engine.
    assert resources_of(evidently, DQ) == resources_of(evidently, MONITORING_SCHEDULE) == []


def test_evidently_role_reads_only_its_data_and_decrypts_the_registry_key_cross_account(evidently: Plan) -> None:
    model = "fraud-scoring"
    statements = policy_of(evidently, f"{model}-monitor-role-policy")
    reference = statements["ReadServedVersionReference"]["Resource"]
    assert reference == [
        f"arn:aws:s3:::mlp-dev-artifacts-{REGISTRY_ACCOUNT}-eu-west-1/pipelines/{model}/baselines/v12/data-quality/reference.csv"
    ]
    decrypt = statements["DecryptRegistryArtifactsThroughS3"]
    assert decrypt["Action"] == ["kms:Decrypt"]
    assert decrypt["Resource"] == [f"arn:aws:kms:eu-west-1:{REGISTRY_ACCOUNT}:key/*"]
    assert decrypt["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"] == ["alias/ml-platform-dev"]
    assert statements["PublishDriftMetrics"]["Resource"] == "*"
    assert statements["PublishDriftMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": NAMESPACE}}
    assert statements["PassOwnRoleToTheJob"]["Resource"] == [
        f"arn:aws:iam::{SERVING_ACCOUNT}:role/prod-{model}-monitor"
    ]
    assert statements["ReadGroundTruth"]["Resource"] == [f"arn:aws:s3:::labels-{SERVING_ACCOUNT}/chargebacks/*"]
    assert statements["WriteOwnReports"]["Resource"][0].endswith(f"/monitoring/{model}/v12/*")
    # Staging and prod log to no tracking server (it lives in the registry's account).
    assert "LogRunsToMlflow" not in statements


def test_evidently_alarms_watch_the_jobs_metrics_with_their_dimensions_and_route_to_team_topics(
    evidently: Plan,
) -> None:
    alarms = {a["name"]: a["inputs"] for a in children(evidently, ALARM, "fraud-scoring-monitor")}
    assert sorted(alarms) == [
        "fraud-scoring-monitor-alarm-drift-amount",
        "fraud-scoring-monitor-alarm-drift-card_country",
        "fraud-scoring-monitor-alarm-quality-recall",
        "fraud-scoring-monitor-alarm-silent",
    ]
    # A job that publishes nothing for two runs alarms (missing data breaches here, and only here).
    silent = alarms["fraud-scoring-monitor-alarm-silent"]
    assert (silent["metricName"], silent["statistic"], silent["treatMissingData"]) == (
        "captured_rows",
        "SampleCount",
        "breaching",
    )
    assert silent["evaluationPeriods"] == 2
    assert silent["alarmActions"] == [topic_arn(evidently, "fraud", "notify")]
    drift = alarms["fraud-scoring-monitor-alarm-drift-card_country"]
    assert drift["namespace"] == NAMESPACE
    assert drift["metricName"] == DRIFT_METRIC
    assert drift["dimensions"] == {
        "environment": "prod",
        "model": "fraud-scoring",
        "version": "12",
        "feature": "card_country",
    }
    assert drift["threshold"] == 0.1
    assert drift["period"] == 3600
    assert drift["alarmActions"] == [topic_arn(evidently, "fraud", "page")]
    amount = alarms["fraud-scoring-monitor-alarm-drift-amount"]
    assert amount["alarmActions"] == [topic_arn(evidently, "fraud", "notify")]  # alerting.drift
    recall = alarms["fraud-scoring-monitor-alarm-quality-recall"]
    assert recall["metricName"] == QUALITY_METRIC_PREFIX + "recall"
    assert recall["comparisonOperator"] == "LessThanThreshold"
    assert "feature" not in recall["dimensions"]
    assert recall["alarmActions"] == [topic_arn(evidently, "fraud", "page")]


def test_the_drift_job_repository_is_immutable_scanned_encrypted_and_tagged(evidently: Plan) -> None:
    repository = one_of(evidently, REPOSITORY)["inputs"]
    assert repository["name"] == "mlp-prod-drift-job"
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    (encryption,) = repository["encryptionConfigurations"]
    assert encryption["encryptionType"] == "KMS"
    assert encryption["kmsKey"].startswith(f"arn:aws:kms:eu-west-1:{SERVING_ACCOUNT}:key/")
    assert repository["tags"]["team"] == "platform"
    assert repository["tags"]["environment"] == "prod"


def test_without_a_pinned_image_the_plan_says_so_and_plans_no_job(edit_env: Callable[[str, EditFn], Path]) -> None:
    plan = plan_with(edit_env, "evidently", digest=None)
    assert [r for r in resources_of(plan, PIPELINE) if "monitor" in r["name"]] == []
    assert [s for s in resources_of(plan, SCHEDULE) if "monitor" in s["name"]] == []
    assert len(children(plan, ALARM, "fraud-scoring-monitor")) == 3
    assert any(
        w.startswith("fraud-scoring-monitor: no drift job image pinned") and "mlp-prod-drift-job" in w
        for w in plan["warnings"]
    )


def test_model_monitor_engine_keeps_model_monitor_with_the_cross_account_decrypt(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    plan = plan_with(edit_env, "model-monitor")
    model = "fraud-scoring"
    definition = one_of(plan, DQ)["inputs"]
    assert definition["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"] == (
        f"s3://mlp-dev-artifacts-{REGISTRY_ACCOUNT}-eu-west-1/pipelines/{model}/baselines/v12/data-quality/statistics.json"
    )
    schedules = {s["inputs"]["name"]: s["inputs"] for s in resources_of(plan, MONITORING_SCHEDULE)}
    assert sorted(schedules) == [f"prod-{model}-data-quality", f"prod-{model}-model-quality"]
    assert schedules[f"prod-{model}-data-quality"]["monitoringScheduleConfig"]["scheduleConfig"] == {
        "scheduleExpression": "cron(0 * ? * * *)"
    }
    statements = policy_of(plan, f"{model}-monitor-role-policy")
    # The defect this fixes: the role read dev's baseline but could not decrypt it.
    assert statements["DecryptRegistryArtifactsThroughS3"]["Resource"] == [
        f"arn:aws:kms:eu-west-1:{REGISTRY_ACCOUNT}:key/*"
    ]
    alarms = {a["name"]: a["inputs"] for a in children(plan, ALARM, f"{model}-monitor")}
    assert alarms[f"{model}-monitor-alarm-drift-amount"]["namespace"] == "aws/sagemaker/Endpoints/data-metrics"
    assert [r for r in resources_of(plan, PIPELINE) if "monitor" in r["name"]] == []
    assert resources_of(plan, REPOSITORY) == []  # no model on the evidently engine


def test_the_registry_environment_gets_a_tagged_mlflow_tracking_server_on_its_bucket(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    root = edit_env("dev", lambda d: d.__setitem__("account_id", REGISTRY_ACCOUNT))
    plan = build_plan("dev", root)
    server = one_of(plan, TRACKING)["inputs"]
    assert server["trackingServerName"] == "dev-mlflow"
    assert server["artifactStoreUri"] == f"s3://mlp-dev-artifacts-{REGISTRY_ACCOUNT}-eu-west-1/mlflow/"
    assert server["trackingServerSize"] == "Small"
    assert server["automaticModelRegistration"] is False
    assert server["tags"]["environment"] == "dev"
    statements = policy_of(plan, "dev-experiment-tracking-role-policy")
    assert statements["ReadWriteArtifactStore"]["Resource"] == [
        f"arn:aws:s3:::mlp-dev-artifacts-{REGISTRY_ACCOUNT}-eu-west-1/mlflow/*"
    ]
    # Serving-only environments have none.
    edit_env("prod", fixture_environments("evidently"))
    assert resources_of(build_plan("prod", root), TRACKING) == []


def test_the_monitoring_pipeline_passes_the_pack_and_keeps_each_runs_summary_encrypted(evidently: Plan) -> None:
    from components.config import Policies
    from mlp.policy import check_resources
    from policies.config import pack_config
    from policies.registry import RULES

    config = pack_config(Policies(enforcement="mandatory"))
    found = [
        v
        for v in check_resources("prod", evidently["resources"], config)
        if v.resource.startswith("fraud-scoring-monitor") and v.rule != "instance-type-allowlist"
    ]
    assert found == [], [v.line() for v in found]
    assert {r.name for r in RULES} >= {"pipeline-encrypted", "training-in-vpc", "kms-decrypt-for-bucket-readers"}
    definition = json.loads(
        one_of(evidently, PIPELINE, "fraud-scoring-monitor-pipeline")["inputs"]["pipelineDefinition"]
    )
    output = definition["Steps"][0]["Arguments"]["ProcessingOutputConfig"]
    assert output["KmsKeyId"].startswith(f"arn:aws:kms:eu-west-1:{SERVING_ACCOUNT}:key/")
    [summary] = output["Outputs"]
    assert summary["S3Output"]["S3Uri"]["Std:Join"]["Values"][1] == {"Get": "Execution.PipelineExecutionId"}


def test_training_pipelines_log_to_the_tracking_server_where_the_registries_live(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    root = edit_env("dev", lambda d: d.__setitem__("account_id", REGISTRY_ACCOUNT))
    dev = build_plan("dev", root)
    server = f"arn:aws:sagemaker:eu-west-1:{REGISTRY_ACCOUNT}:mlflow-tracking-server/dev-mlflow"
    # Training pipelines log; batch and feature pipelines have nothing to track.
    training = [p for p in resources_of(dev, PIPELINE) if p["name"].endswith("-training-pipeline")]
    assert training
    for pipeline in training:
        definition = json.loads(pipeline["inputs"]["pipelineDefinition"])
        assert definition["MlflowConfig"]["MlflowResourceArn"] == server
        name = pipeline["name"].removesuffix("-pipeline")
        statements = policy_of(dev, f"{name}-role-policy")
        assert statements["LogRunsToMlflow"]["Resource"] == [server]
