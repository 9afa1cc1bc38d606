"""Feature Store (components/features.py) and batch inference (components/batch.py) in plans of small fixture
environments: the resources made and their inputs, the pipelines' definitions, validation errors with their
line, and what is sent to AWS checked against botocore's request shapes."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from components.config.sagemaker_api import _shapes
from components.data_root import repo_root
from mlp.plan import Plan, build_plan
from tests.components.test_pipelines import NO_NETWORK, build_in_a_bare_process
from tests.conftest import one_of, resources_of
from tests.mlp.test_plan_errors import plan_errors

ACCOUNT = "111122223333"
REGION = "eu-west-1"
KEY_PREFIX = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"
FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:fx-fraud-"


def fixture_env(**overrides: Any) -> dict[str, Any]:
    """A small environment: one team, one model served online and in batch, one feature group with ingestion
    and parity. `overrides` replace top-level keys."""
    env: dict[str, Any] = {
        "account_id": ACCOUNT,
        "region": REGION,
        "repository": "payments-co/ml-platform",
        "protect_stateful_resources": True,
        "finops": {"monthly_budget_usd": 500},
        "alerting": {
            "severities": [{"name": "notify", "pages": False}, {"name": "page", "pages": True}],
            "slo": "page",
            "drift": "notify",
            "model_quality": "notify",
        },
        "teams": [
            {
                "name": "fraud",
                "cost_center": "CC-4100",
                "owners": ["fraud@payments.example.com"],
                "monthly_budget_usd": 100,
            }
        ],
        "models": [
            {
                "name": "scorer",
                "team": "fraud",
                "registry_group": "scorer",
                "version": 7,
                "features": ["cards"],
                "serving": {
                    "instance_type": "ml.m5.large",
                    "batch": {
                        "schedule": "cron(0 2 * * ? *)",
                        "instance_type": "ml.m5.xlarge",
                        "instance_count": 2,
                        "max_payload_mb": 10,
                        "max_concurrent_transforms": 4,
                        "split_type": "Line",
                        "batch_strategy": "MultiRecord",
                    },
                },
            }
        ],
        "feature_groups": [
            {
                "name": "cards",
                "team": "fraud",
                "record_identifier": "card_token",
                "event_time": "event_time",
                "features": [
                    {"name": "card_token", "type": "String"},
                    {"name": "event_time", "type": "Fractional"},
                    {"name": "txn_count_1h", "type": "Integral"},
                    {"name": "amount_sum_24h", "type": "Fractional"},
                ],
                "online": {"ttl": {"value": 3, "unit": "Days"}},
                "offline": {"table_format": "Iceberg"},
                "ingestion": {"source_prefix": "raw/cards/", "schedule": "cron(0 4 * * ? *)"},
                "parity": {"sample_size": 300, "max_mismatch_percent": 2, "severity": "page"},
            }
        ],
    }
    env.update(overrides)
    return env


def write_env(root: Path, env: dict[str, Any], name: str = "fx") -> Path:
    """environments/<name>.yaml (and the dev stack's engine settings as <name>'s) under root."""
    (root / "environments").mkdir(parents=True, exist_ok=True)
    (root / "stacks").mkdir(exist_ok=True)
    shutil.copy(repo_root() / "stacks" / "Pulumi.dev.yaml", root / "stacks" / f"Pulumi.{name}.yaml")
    path = root / "environments" / f"{name}.yaml"
    with path.open("w") as f:
        YAML(typ="rt").dump(env, f)
    return path


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    root = tmp_path_factory.mktemp("features")
    write_env(root, fixture_env())
    return build_plan("fx", root)


def _by_name(plan: Plan, type_: str, suffix: str) -> dict[str, Any]:
    found = [r for r in resources_of(plan, type_) if r["name"].endswith(suffix)]
    assert len(found) == 1, [r["name"] for r in resources_of(plan, type_)]
    return found[0]


def _definition(plan: Plan, suffix: str) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(_by_name(plan, PIPELINE, suffix)["inputs"]["pipelineDefinition"])
    return definition


def _statements(plan: Plan, suffix: str) -> dict[str, dict[str, Any]]:
    document = json.loads(_by_name(plan, ROLE_POLICY, suffix)["inputs"]["policy"])
    return {s["Sid"]: s for s in document["Statement"]}


# --- the feature group ---------------------------------------------------------------------------------


def test_feature_group_is_encrypted_online_and_offline_with_the_environment_key(plan: Plan) -> None:
    group = one_of(plan, FEATURE_GROUP)
    i = group["inputs"]
    bucket = one_of(plan, "aws:s3/bucket:Bucket", "fx-foundation-artifacts")["inputs"]["bucket"]
    assert i["featureGroupName"] == "fx-cards"
    assert i["recordIdentifierFeatureName"] == "card_token"
    assert i["eventTimeFeatureName"] == "event_time"
    assert [(f["featureName"], f["featureType"]) for f in i["featureDefinitions"]] == [
        ("card_token", "String"),
        ("event_time", "Fractional"),
        ("txn_count_1h", "Integral"),
        ("amount_sum_24h", "Fractional"),
    ]
    online = i["onlineStoreConfig"]
    assert online["enableOnlineStore"] is True
    assert online["securityConfig"]["kmsKeyId"].startswith(KEY_PREFIX)
    assert online["ttlDuration"] == {"unit": "Days", "value": 3}
    offline = i["offlineStoreConfig"]
    assert offline["s3StorageConfig"] == {
        "s3Uri": f"s3://{bucket}/features/cards/offline/",
        "kmsKeyId": online["securityConfig"]["kmsKeyId"],
    }
    assert offline["dataCatalogConfig"] == {
        "catalog": "AwsDataCatalog",
        "database": "fx_features",
        "tableName": "fx_cards",
    }
    assert offline["disableGlueTableCreation"] is False
    assert offline["tableFormat"] == "Iceberg"
    assert i["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/fx-cards-feature-store"
    assert i["tags"]["team"] == "fraud" and i["tags"]["cost-center"] == "CC-4100"
    assert group["protect"] is True, "protect_stateful_resources: true protects the group"
    assert one_of(plan, "aws:glue/catalogDatabase:CatalogDatabase")["inputs"]["name"] == "fx_features"


def test_feature_group_is_unprotected_where_the_environment_says_so(tmp_path: Path) -> None:
    write_env(tmp_path, fixture_env(protect_stateful_resources=False))
    assert one_of(build_plan("fx", tmp_path), FEATURE_GROUP)["protect"] is False


def test_offline_store_role_writes_only_its_prefix_and_maintains_only_its_iceberg_table(plan: Plan) -> None:
    bucket = one_of(plan, "aws:s3/bucket:Bucket", "fx-foundation-artifacts")["inputs"]["bucket"]
    statements = _statements(plan, "fx-cards-features-store-policy")
    assert statements["WriteOfflineStore"]["Resource"] == [f"arn:aws:s3:::{bucket}/features/cards/offline/*"]
    assert statements["MaintainOfflineTable"]["Resource"][-1] == (
        f"arn:aws:glue:{REGION}:{ACCOUNT}:table/fx_features/fx_cards"
    )


def test_team_reader_and_writer_roles_reach_only_the_teams_groups(plan: Plan) -> None:
    group_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:feature-group/fx-cards"
    reader = _statements(plan, "fx-fraud-feature-access-reader-policy")
    writer = _statements(plan, "fx-fraud-feature-access-writer-policy")
    assert reader["ReadTeamRecords"]["Action"] == [
        "sagemaker:GetRecord",
        "sagemaker:BatchGetRecord",
        "sagemaker:DescribeFeatureGroup",
    ]
    assert reader["ReadTeamRecords"]["Resource"] == [group_arn]
    assert "sagemaker:PutRecord" not in json.dumps(reader)
    assert writer["WriteTeamRecords"]["Resource"] == [group_arn]
    assert "sagemaker:PutRecord" in writer["WriteTeamRecords"]["Action"]
    trust = json.loads(
        _by_name(plan, "aws:iam/role:Role", "fx-fraud-feature-access-reader")["inputs"]["assumeRolePolicy"]
    )
    assert {json.dumps(s["Principal"], sort_keys=True) for s in trust["Statement"]} == {
        '{"Service": "sagemaker.amazonaws.com"}',
        f'{{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}',
    }


def test_a_model_reading_features_may_read_their_offline_store_in_training(tmp_path: Path) -> None:
    env = fixture_env()
    env["models"][0]["training"] = {"metric": {"name": "auc", "minimum": 0.8}}
    write_env(tmp_path, env)
    plan = build_plan("fx", tmp_path)
    statements = _statements(plan, "fx-scorer-features-policy")
    assert statements["ReadOfflineStores"]["Resource"][0].endswith("/features/cards/offline/*")
    role = _by_name(plan, ROLE_POLICY, "fx-scorer-features-policy")["inputs"]["role"]
    assert role == "fx-scorer-training", "granted to the model's training pipeline role"


# --- ingestion and backfill ----------------------------------------------------------------------------


def test_ingestion_pipeline_runs_the_repository_script_with_a_date_range(plan: Plan) -> None:
    bucket = one_of(plan, "aws:s3/bucket:Bucket", "fx-foundation-artifacts")["inputs"]["bucket"]
    definition = _definition(plan, "fx-cards-features-ingestion-pipeline")
    assert {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]} == {
        "SourceData": f"s3://{bucket}/raw/cards/",
        "StartDate": "yesterday",
        "EndDate": "yesterday",
    }
    [step] = definition["Steps"]
    assert (step["Name"], step["Type"]) == ("IngestFeatures", "Processing")
    args = step["Arguments"]
    container = args["AppSpecification"]["ContainerArguments"]
    assert container[:6] == [
        "--feature-group",
        "fx-cards",
        "--region",
        REGION,
        "--features",
        "card_token,event_time,txn_count_1h,amount_sum_24h",
    ]
    assert container[6:] == [
        "--source-data",
        {"Get": "Parameters.SourceData"},
        "--start-date",
        {"Get": "Parameters.StartDate"},
        "--end-date",
        {"Get": "Parameters.EndDate"},
    ]
    [code] = args["ProcessingInputs"]
    assert code["S3Input"]["S3Uri"] == f"s3://{bucket}/code/platform/jobs/ingest_features.py"
    assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"].startswith(KEY_PREFIX)
    assert args["ProcessingOutputConfig"]["KmsKeyId"].startswith(KEY_PREFIX)
    script = one_of(plan, "aws:s3/bucketObjectv2:BucketObjectv2", "fx-features-ingest-features")["inputs"]
    assert script["key"] == "code/platform/jobs/ingest_features.py"
    assert script["content"] == (repo_root() / "components/jobs/ingest_features.py").read_text()
    assert script["kmsKeyId"].startswith(KEY_PREFIX)
    statements = _statements(plan, "fx-cards-features-ingestion-role-policy")
    assert statements["WriteRecords"] == {
        "Sid": "WriteRecords",
        "Effect": "Allow",
        "Action": ["sagemaker:PutRecord"],
        "Resource": [f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:feature-group/fx-cards"],
    }
    assert statements["ReadSource"]["Resource"] == [f"arn:aws:s3:::{bucket}/raw/cards/*"]


def test_feature_pipelines_are_scheduled_and_alarm_the_owning_team(plan: Plan) -> None:
    schedules = {r["inputs"]["name"]: r["inputs"] for r in resources_of(plan, SCHEDULE)}
    assert schedules["fx-cards-ingestion"]["scheduleExpression"] == "cron(0 4 * * ? *)"
    assert schedules["fx-cards-feature-parity"]["scheduleExpression"] == "cron(0 5 * * ? *)"
    assert schedules["fx-cards-ingestion"]["target"]["arn"].endswith(":pipeline/fx-cards-ingestion")
    alarms = {r["inputs"]["name"]: r["inputs"] for r in resources_of(plan, ALARM)}
    failed = alarms["fx-cards-ingestion-failed"]
    assert (failed["namespace"], failed["metricName"], failed["dimensions"]) == (
        "AWS/Sagemaker/ModelBuildingPipeline",
        "ExecutionFailed",
        {"PipelineName": "fx-cards-ingestion"},
    )
    assert failed["alarmActions"] == [TOPIC_ARN + "notify"], "failures at the drift severity"
    parity = alarms["fx-cards-feature-parity"]
    assert (parity["namespace"], parity["metricName"], parity["threshold"]) == (
        "MLPlatform/FeatureStore",
        "FeatureMismatchPercent",
        2,
    )
    assert parity["dimensions"] == {"FeatureGroup": "fx-cards"}
    assert parity["alarmActions"] == [TOPIC_ARN + "page"], "the parity section's own severity"


def test_parity_job_reads_both_stores_and_publishes_in_its_namespace_only(plan: Plan) -> None:
    definition = _definition(plan, "fx-cards-features-parity-pipeline")
    [step] = definition["Steps"]
    arguments = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    flags = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert (
        flags["--feature-types"]
        == "card_token:String,event_time:Fractional,txn_count_1h:Integral,amount_sum_24h:Fractional"
    )
    assert flags["--max-age-seconds"] == str(3 * 86400), "the online TTL bounds the sample"
    assert flags["--table"] == "fx_cards" and flags["--database"] == "fx_features"
    assert flags["--sample-size"] == {"Get": "Parameters.SampleSize"}
    assert definition["Parameters"] == [{"Name": "SampleSize", "Type": "String", "DefaultValue": "300"}]
    statements = _statements(plan, "fx-cards-features-parity-role-policy")
    assert statements["ReadOnlineStore"]["Action"] == ["sagemaker:BatchGetRecord", "sagemaker:GetRecord"]
    assert statements["PublishParityMetric"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "MLPlatform/FeatureStore"}
    }
    assert statements["QueryOfflineStore"]["Resource"] == [f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary"]


# --- batch inference -----------------------------------------------------------------------------------


def test_batch_transform_is_pinned_to_the_environment_files_version(plan: Plan) -> None:
    batch_model = _by_name(plan, "aws:sagemaker/model:Model", "fx-scorer-batch-model")
    assert batch_model["urn"] in _by_name(plan, PIPELINE, "fx-scorer-batch-pipeline")["dependencies"]
    model = batch_model["inputs"]
    assert (
        model["primaryContainer"]["modelPackageName"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/scorer/7"
    )
    assert model["name"].startswith("fx-scorer-batch-v7-")
    assert model["enableNetworkIsolation"] is True
    endpoint_model = _by_name(plan, "aws:sagemaker/model:Model", "scorer-model")["inputs"]
    assert endpoint_model["primaryContainer"] == model["primaryContainer"], "the endpoint serves the same version"
    definition = _definition(plan, "fx-scorer-batch-pipeline")
    [step] = definition["Steps"]
    assert (step["Name"], step["Type"]) == ("BatchTransform", "Transform")
    args = step["Arguments"]
    assert args["ModelName"] == model["name"]
    assert args["TransformResources"]["InstanceType"] == "ml.m5.xlarge"
    assert args["TransformResources"]["InstanceCount"] == 2
    assert args["TransformResources"]["VolumeKmsKeyId"].startswith(KEY_PREFIX)
    assert args["TransformOutput"]["KmsKeyId"].startswith(KEY_PREFIX)
    assert args["TransformOutput"]["AssembleWith"] == "Line"
    assert (args["MaxPayloadInMB"], args["MaxConcurrentTransforms"], args["BatchStrategy"]) == (10, 4, "MultiRecord")
    assert args["TransformInput"]["SplitType"] == "Line"
    assert args["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == {"Get": "Parameters.InputData"}
    alarms = {r["inputs"]["name"]: r["inputs"] for r in resources_of(plan, ALARM)}
    assert alarms["fx-scorer-batch-failed"]["alarmActions"] == [TOPIC_ARN + "page"], (
        "batch failures at the slo severity"
    )


def test_batch_only_model_gets_no_endpoint(tmp_path: Path) -> None:
    env = fixture_env(feature_groups=[])
    model = env["models"][0]
    model["features"] = []
    model["serving"] = {"platform": "batch", "batch": {"instance_type": "ml.m5.large"}}
    write_env(tmp_path, env)
    plan = build_plan("fx", tmp_path)
    assert resources_of(plan, "aws:sagemaker/endpoint:Endpoint") == []
    assert resources_of(plan, SCHEDULE) == [], "no schedule: batch on demand only"
    definition = _definition(plan, "fx-scorer-batch-pipeline")
    assert definition["Steps"][0]["Arguments"]["ModelName"].startswith("fx-scorer-batch-v7-")


def _batch_spec() -> Any:
    from components.job_definitions import BatchSpec

    return BatchSpec(
        pipeline_name="fx-scorer-batch",
        region=REGION,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/fx-scorer-batch",
        bucket="bucket",
        environment="fx",
        model_name="fx-scorer-batch-v7-abcdef12",
        input_uri="s3://bucket/in/",
        output_uri="s3://bucket/out/",
        kms_key_arn=KEY_PREFIX + "k",
        instance_type="ml.m5.large",
        instance_count=1,
        max_payload_mb=6,
        max_concurrent_transforms=None,
        split_type="Line",
        batch_strategy="MultiRecord",
        content_type="text/csv",
        accept="text/csv",
        assemble_with="Line",
    )


def test_batch_definition_is_deterministic() -> None:
    from components.job_definitions import build_job_definition

    spec = _batch_spec()
    first = build_job_definition(spec)
    build_job_definition.cache_clear()
    assert build_job_definition(spec) == first
    assert json.loads(first)["Steps"][0]["Arguments"]["ModelName"] == "fx-scorer-batch-v7-abcdef12"


NO_NETWORK_BUILD = NO_NETWORK + textwrap.dedent(
    """
    from components.job_definitions import BatchSpec, build_job_definition

    sys.stdout.write(build_job_definition(BatchSpec(**json.load(sys.stdin))))
    """
)


def test_batch_definition_builds_without_network_credentials_or_region() -> None:
    """A fresh process with sockets and botocore refusing to send and no AWS settings builds the same bytes."""
    from components.job_definitions import build_job_definition

    spec = _batch_spec()
    assert build_in_a_bare_process(NO_NETWORK_BUILD, spec, MLP_DEFINITION_CACHE="off") == build_job_definition(spec)


# --- validation ------------------------------------------------------------------------------------------


def _line_of(path: Path, needle: str) -> int:
    return next(i + 1 for i, line in enumerate(path.read_text().splitlines()) if needle in line)


def test_a_model_naming_an_unknown_feature_group_is_rejected_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = fixture_env()
    env["models"][0]["features"] = ["cards", "merchants"]
    path = write_env(tmp_path, env)
    [error] = plan_errors(tmp_path, "fx", capsys)
    line = _line_of(path, "- merchants")
    assert error == (
        f"error: environments/fx.yaml:{line}: models[0].features[1]: feature group 'merchants' does not exist; "
        "feature groups here: cards (declare it under feature_groups)"
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda e: e["feature_groups"][0]["features"][2].update(type="Integer"),
            "feature_groups[0].features[2].type",
            "'Integer' is not a FeatureType; allowed: Integral, Fractional, String; did you mean Integral?",
        ),
        (
            lambda e: e["feature_groups"][0]["features"][2].update(name="write_time"),
            "feature_groups[0].features[2].name",
            "'write_time' is reserved by Feature Store",
        ),
        (
            lambda e: e["feature_groups"][0]["features"][2].update(name="txn count"),
            "feature_groups[0].features[2].name",
            "does not match FeatureName",
        ),
        (
            lambda e: e["feature_groups"][0]["features"][1].update(type="Integral"),
            "feature_groups[0]",
            "event_time 'event_time' is Integral: an event time is String (ISO-8601) or Fractional",
        ),
        (
            lambda e: e["feature_groups"][0].update(team="payments"),
            "feature_groups[0].team",
            "team 'payments' does not exist; teams here: fraud",
        ),
        (
            lambda e: e["feature_groups"][0]["online"].update(ttl={"value": 3, "unit": "Months"}),
            "feature_groups[0].online.ttl.unit",
            "'Months' is not a TtlDurationUnit; allowed: Seconds, Minutes, Hours, Days, Weeks",
        ),
        (
            lambda e: e["models"][0]["serving"]["batch"].update(split_type="Lines"),
            "models[0].serving.batch.split_type",
            "'Lines' is not a SplitType; allowed: None, Line, RecordIO, TFRecord; did you mean Line",
        ),
        (
            lambda e: e["models"][0]["serving"]["batch"].update(max_payload_mb=101),
            "models[0].serving.batch.max_payload_mb",
            "less than or equal to 100",
        ),
        (
            lambda e: e["models"][0]["serving"]["batch"].update(max_payload_mb=30),
            "models[0].serving.batch",
            "max_concurrent_transforms 4 x max_payload_mb 30 is above 100 MB",
        ),
        (
            lambda e: e["models"][0]["serving"]["batch"].update(split_type="None"),
            "models[0].serving.batch",
            "batch_strategy MultiRecord needs records to batch",
        ),
        (
            lambda e: e["models"][0]["serving"]["batch"].update(instance_type="ml.m5.larg"),
            "models[0].serving.batch.instance_type",
            "ml.m5.larg is not a SageMaker transform instance type; e.g. ml.m5.large",
        ),
        (
            lambda e: e["models"][0]["serving"].update(platform="batch", batch=None),
            "models[0].serving.batch",
            "platform batch serves the model only in batch: add a batch section",
        ),
    ],
)
def test_bad_feature_and_batch_settings_are_refused_with_file_field_and_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    field: str,
    message: str,
) -> None:
    env = fixture_env()
    change(env)
    if env["models"][0]["serving"].get("batch", 1) is None:
        del env["models"][0]["serving"]["batch"]
    write_env(tmp_path, env)
    errors = plan_errors(tmp_path, "fx", capsys)
    assert any(
        re.match(rf"error: environments/fx\.yaml:\d+: {re.escape(field)}: .*{re.escape(message)}", e) for e in errors
    ), errors


# --- against botocore's request shapes -------------------------------------------------------------------


def _check(shape_name: str, value: Any, where: str) -> list[str]:
    """Problems of `value` against a botocore shape: enums, lengths, patterns (whole value, as the API matches
    them), ranges, required members."""
    shape = _shapes()[shape_name]
    problems: list[str] = []
    if isinstance(value, dict) and (set(value) == {"Get"} or "Std:Join" in value):
        return []  # a pipeline expression, resolved at run time
    kind = shape["type"]
    if kind == "structure":
        problems += [f"{where}.{m}: required" for m in shape.get("required", []) if m not in value]
        for member, item in value.items():
            if member not in shape["members"]:
                problems.append(f"{where}.{member}: not a member of {shape_name}")
            else:
                problems += _check(shape["members"][member]["shape"], item, f"{where}.{member}")
    elif kind == "list":
        problems += [p for i, item in enumerate(value) for p in _check(shape["member"]["shape"], item, f"{where}[{i}]")]
        if not shape.get("min", 0) <= len(value) <= shape.get("max", len(value)):
            problems.append(f"{where}: {len(value)} items outside {shape.get('min')}..{shape.get('max')}")
    elif kind == "string":
        if "enum" in shape and value not in shape["enum"]:
            problems.append(f"{where}: {value!r} not in {shape['enum']}")
        if not shape.get("min", 0) <= len(value) <= shape.get("max", len(value)):
            problems.append(f"{where}: length {len(value)} outside {shape.get('min')}..{shape.get('max')}")
        if "pattern" in shape and not re.fullmatch(_python_pattern(shape["pattern"]), value, re.DOTALL):
            problems.append(f"{where}: {value!r} does not match {shape['pattern']}")
    elif kind in ("integer", "long") and not shape.get("min", value) <= value <= shape.get("max", value):
        problems.append(f"{where}: {value} outside {shape.get('min')}..{shape.get('max')}")
    return problems


def _python_pattern(pattern: str) -> str:
    """botocore's patterns are Java's: a UTF-16 surrogate-pair range is Python's astral range."""
    return pattern.replace("\\uD800\\uDC00-\\uDBFF\\uDFFF", "\\U00010000-\\U0010FFFF")


def _pascal(value: Any) -> Any:
    """Engine (camelCase) inputs as the API's PascalCase members, as the provider sends them."""
    if isinstance(value, dict):
        return {k[0].upper() + k[1:]: _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return value


def test_feature_group_inputs_satisfy_create_feature_group(plan: Plan) -> None:
    inputs = dict(one_of(plan, FEATURE_GROUP)["inputs"])
    inputs.pop("tags")
    request = _pascal(inputs)
    ttl = request["OnlineStoreConfig"]["TtlDuration"]
    ttl["Value"] = int(ttl["Value"])
    # The provider's name for OnlineStoreConfig.SecurityConfig.KmsKeyId is kmsKeyId: the API's is KmsKeyId.
    assert _check("CreateFeatureGroupRequest", request, "CreateFeatureGroup") == []


def test_broken_feature_group_inputs_are_caught_by_the_shape_check(plan: Plan) -> None:
    inputs = dict(one_of(plan, FEATURE_GROUP)["inputs"])
    inputs.pop("tags")
    request = _pascal(inputs)
    request["FeatureGroupName"] = "-" + "x" * 70
    request["FeatureDefinitions"][0]["FeatureType"] = "Integer"
    problems = _check("CreateFeatureGroupRequest", request, "CreateFeatureGroup")
    assert any("FeatureGroupName: length 71" in p for p in problems)
    assert any("FeatureGroupName" in p and "does not match" in p for p in problems)
    assert any("FeatureType: 'Integer' not in" in p for p in problems)


def test_transform_step_satisfies_create_transform_job(plan: Plan) -> None:
    [step] = _definition(plan, "fx-scorer-batch-pipeline")["Steps"]
    request = {"TransformJobName": "fx-scorer-batch-run", **step["Arguments"]}
    assert _check("CreateTransformJobRequest", request, "CreateTransformJob") == []
    broken = json.loads(json.dumps(request))
    broken["BatchStrategy"] = "Mini"
    broken["TransformInput"]["SplitType"] = "Lines"
    assert _check("CreateTransformJobRequest", broken, "CreateTransformJob") == [
        "CreateTransformJob.BatchStrategy: 'Mini' not in ['MultiRecord', 'SingleRecord']",
        "CreateTransformJob.TransformInput.SplitType: 'Lines' not in ['None', 'Line', 'RecordIO', 'TFRecord']",
    ]


def test_feature_processing_steps_satisfy_create_processing_job(plan: Plan) -> None:
    for suffix in ("fx-cards-features-ingestion-pipeline", "fx-cards-features-parity-pipeline"):
        [step] = _definition(plan, suffix)["Steps"]
        request = {"ProcessingJobName": "fx-run", **step["Arguments"]}
        assert _check("CreateProcessingJobRequest", request, "CreateProcessingJob") == []


# --- dashboards and runbooks -----------------------------------------------------------------------------


def test_dashboards_show_parity_and_the_batch_and_feature_pipelines(plan: Plan) -> None:
    dashboards = {
        r["inputs"]["dashboardName"]: r["inputs"] for r in resources_of(plan, "aws:cloudwatch/dashboard:Dashboard")
    }
    for name in ("fx-ml-platform", "fx-fraud"):
        widgets = json.loads(dashboards[name]["dashboardBody"])["widgets"]
        by_title = {w["properties"].get("title"): w["properties"] for w in widgets if w["type"] == "metric"}
        parity = by_title["features cards: online/offline mismatch %"]
        assert parity["metrics"] == [["MLPlatform/FeatureStore", "FeatureMismatchPercent", "FeatureGroup", "fx-cards"]]
        assert parity["annotations"] == {"horizontal": [{"label": "alarm", "value": 2}]}
        runs = by_title["scorer: batch inference runs"]["metrics"]
        assert runs[1] == ["AWS/Sagemaker/ModelBuildingPipeline", "ExecutionFailed", "PipelineName", "fx-scorer-batch"]
        assert "features cards: ingestion runs" in by_title and "features cards: parity runs" in by_title


def test_runbook_shows_the_batch_pipeline_and_the_features_read(plan: Plan, tmp_path: Path) -> None:
    from components.loader import load_environment
    from mlp.runbook import render_runbooks

    write_env(tmp_path, fixture_env())
    env = load_environment("fx", tmp_path)
    book = render_runbooks(env, plan)["scorer.md"]
    assert "## Batch inference" in book
    assert "Pipeline `fx-scorer-batch`, runs `cron(0 2 * * ? *)` (UTC): a transform of version **7**" in book
    assert "2 x ml.m5.xlarge, split `Line`, `MultiRecord`, at most 10 MB per request" in book
    assert "`fx-scorer-batch-failed` on the team's `page` topic" in book
    assert "| `fx-cards` | fraud | 3 Days | `cron(0 4 * * ? *)` | `fx-cards-feature-parity` above 2.0% |" in book
    assert "--pipeline-name fx-cards-ingestion" in book and "Name=StartDate,Value=" in book
