"""The evidently engine's pipeline in three steps, so that the drift job is network-isolated: the plan
(steps, isolation, inputs and outputs, the functions and their least-privilege roles) on a fixture
environment, and the select and publish functions and the isolated job run end to end on moto."""

from __future__ import annotations

import ast
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws

from components.evidently_monitoring import CONTRACT_FILES, FUNCTION_MODULES, FUNCTION_SOURCE, PUBLISH, SELECT
from components.functions.monitoring import mlflow_run, publish_run, select_window
from components.jobs import drift_job
from components.jobs.metrics_contract import (
    CAPTURE_INPUT,
    GROUND_TRUTH_INPUT,
    LABELLED_INPUT,
    METRICS_JSON,
    NAMESPACE,
    QUALITY_METRIC_PREFIX,
    REFERENCE_FILE,
    REFERENCE_INPUT,
    REPORT_HTML,
    WINDOW_FILE,
)
from mlp.plan import Plan, build_plan
from tests.components.jobs.test_drift_job import (  # noqa: F401 - data is a fixture
    NOW,
    assert_fraud_scoring_v12_metrics,
    capture_line,
    data,
    write_hour,
)
from tests.components.test_evidently_monitoring import SERVING_ACCOUNT, fixture_environments, plan_with, policy_of
from tests.components.test_triage_plan import AUTHORISED_AS, SERVICES
from tests.conftest import FIXTURE_ROOT, EditFn, one_of, resources_of

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
FUNCTION = "aws:lambda/function:Function"
MODEL = "fraud-scoring"
REGION = "eu-west-1"
# Actions a function needs that are no call in its code, each with why.
IMPLIED = {
    SELECT: {
        "kms:GenerateDataKey": "PutObject into the bucket encrypted by default with the environment key",
        "logs:CreateLogStream": "the Lambda runtime writes the function's output to its log group",
        "logs:PutLogEvents": "the Lambda runtime writes the function's output to its log group",
    },
    PUBLISH: {
        "kms:Decrypt": "GetObject of the key-encrypted metrics.json",
        "kms:GenerateDataKey": "PutObject of latest.json into the key-encrypted bucket",
        "logs:CreateLogStream": "the Lambda runtime writes the function's output to its log group",
        "logs:PutLogEvents": "the Lambda runtime writes the function's output to its log group",
    },
}


def code_actions(module: str) -> set[str]:
    """IAM actions of every call on a client (a variable named after its service) in one function's module,
    as tests/components/test_triage_plan.py derives the triage function's."""
    found: set[str] = set()
    session = botocore.session.get_session()
    for node in ast.walk(ast.parse((FUNCTION_SOURCE / module).read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id in SERVICES:
            service, prefix = SERVICES[owner.id]
            client = session.create_client(
                service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
            )
            operation = client.meta.method_to_api_mapping.get(node.func.attr)
            assert operation, f"{module}:{node.lineno}: {owner.id}.{node.func.attr} is no {service} API call"
            action = f"{prefix}:{operation}"
            found.add(AUTHORISED_AS.get(action, action))
    return found


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """prod as a serving account with the fraud model monitored hourly with ground truth, image pinned."""
    from components.data_root import repo_root

    # As tests/conftest.py's env_root does (the fixture environments, not the examples), once for this
    # module: the plan takes seconds.
    root = tmp_path_factory.mktemp("env") / "repo"
    shutil.copytree(FIXTURE_ROOT / "environments", root / "environments")
    (root / "stacks").mkdir()
    for config in (repo_root() / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(config, root / "stacks" / config.name)
    return plan_with(_editor(root), "evidently")


def _editor(root: Path) -> Callable[[str, EditFn], Path]:
    from ruamel.yaml import YAML

    def edit(env: str, change: EditFn) -> Path:
        path = root / "environments" / f"{env}.yaml"
        yaml = YAML(typ="rt")
        content = yaml.load(path.read_text())
        change(content)
        with path.open("w") as f:
            yaml.dump(content, f)
        return root

    return edit


def steps_of(plan: Plan) -> dict[str, dict[str, Any]]:
    definition = json.loads(one_of(plan, PIPELINE, f"{MODEL}-monitor-pipeline")["inputs"]["pipelineDefinition"])
    return {s["Name"]: s for s in definition["Steps"]}


def statements_of(document: dict[str, dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for s in document.values():
        actions |= {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
    return actions


def test_the_pipeline_selects_analyses_in_isolation_and_publishes(plan: Plan) -> None:
    steps = steps_of(plan)
    assert [s["Type"] for s in steps.values()] == ["Lambda", "Processing", "Lambda"]
    select, analyse, publish = steps["SelectWindow"], steps["Analyse"], steps["Publish"]
    functions = {f["inputs"]["name"]: f["inputs"] for f in resources_of(plan, FUNCTION)}
    arn = f"arn:aws:lambda:{REGION}:{SERVING_ACCOUNT}:function:"
    assert select["FunctionArn"] == arn + f"prod-{MODEL}-monitor-select"
    assert publish["FunctionArn"] == arn + f"prod-{MODEL}-monitor-publish"
    assert {f"prod-{MODEL}-monitor-select", f"prod-{MODEL}-monitor-publish"} <= set(functions)
    assert publish["DependsOn"] == ["Analyse"]

    args = analyse["Arguments"]
    assert args["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert args["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    # Every input is an S3 input mounted under /opt/ml/processing/input: the select step's manifests and the labels.
    inputs = {i["InputName"]: i for i in args["ProcessingInputs"]}
    assert set(inputs) == {CAPTURE_INPUT, REFERENCE_INPUT, LABELLED_INPUT, GROUND_TRUTH_INPUT}
    assert all(set(i) == {"InputName", "S3Input"} for i in inputs.values())
    assert {n: i["S3Input"]["S3DataType"] for n, i in inputs.items()} == {
        CAPTURE_INPUT: "ManifestFile",
        REFERENCE_INPUT: "ManifestFile",
        LABELLED_INPUT: "ManifestFile",
        GROUND_TRUTH_INPUT: "S3Prefix",
    }
    assert inputs[CAPTURE_INPUT]["S3Input"]["S3Uri"] == {
        "Get": "Steps.SelectWindow.OutputParameters['capture_manifest']"
    }
    assert {o["OutputName"] for o in select["OutputParameters"]} == {
        "capture_manifest",
        "reference_manifest",
        "labelled_capture_manifest",
    }
    assert all(i["S3Input"]["LocalPath"].startswith("/opt/ml/processing/input/") for i in inputs.values())
    # Every output an S3 output under the run's folder, encrypted with the environment key, as is the volume.
    output = args["ProcessingOutputConfig"]
    [report] = output["Outputs"]
    assert set(report) == {"OutputName", "S3Output"}
    run = report["S3Output"]["S3Uri"]["Std:Join"]["Values"]
    assert run[0].endswith(f"/monitoring/{MODEL}/v12") and run[1] == {"Get": "Execution.PipelineExecutionId"}
    assert publish["Arguments"]["run_uri"] == report["S3Output"]["S3Uri"]
    key = args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"]
    assert key.startswith(f"arn:aws:kms:{REGION}:{SERVING_ACCOUNT}:key/") and output["KmsKeyId"] == key


@pytest.mark.parametrize("step", [SELECT, PUBLISH])
def test_each_function_role_allows_exactly_what_its_code_calls(plan: Plan, step: str) -> None:
    statements = policy_of(plan, f"{MODEL}-monitor-{step}-role-policy")
    # The publish step's MLflow REST client (mlflow_run.py): tests/components/test_monitoring_mlflow_publish.py
    # derives its actions from its code and from what a server receives.
    mlflow = set(mlflow_run.ACTIONS) if step == PUBLISH else set()
    assert statements_of(statements) == code_actions(FUNCTION_MODULES[step]) | set(IMPLIED[step]) | mlflow
    capture = f"arn:aws:s3:::mlp-prod-{MODEL}-capture-{SERVING_ACCOUNT}-{REGION}"
    reports = f"{capture}/monitoring/{MODEL}/v12/"
    unscoped = [s["Action"] for s in statements.values() if "*" in (s["Resource"], *s["Resource"])]
    if step == SELECT:
        assert code_actions(FUNCTION_MODULES[step]) == {"s3:ListBucket", "s3:PutObject"}
        assert statements["ListOwnCaptures"]["Resource"] == [capture]
        assert statements["ListOwnCaptures"]["Condition"] == {"StringLike": {"s3:prefix": [f"capture/prod-{MODEL}/*"]}}
        assert statements["WriteRunManifests"]["Resource"] == [f"{reports}*/manifests/*"]
        assert unscoped == []
    else:
        assert code_actions(FUNCTION_MODULES[step]) == {"s3:GetObject", "s3:PutObject", "cloudwatch:PutMetricData"}
        assert statements["ReadRunMetrics"]["Resource"] == [f"{reports}*/{METRICS_JSON}"]
        assert statements["PointLatestAtTheRun"]["Resource"] == [f"{reports}latest.json"]
        # PutMetricData has no resource types: only our namespace.
        assert unscoped == [["cloudwatch:PutMetricData"]]
        assert statements["PublishDriftMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": NAMESPACE}}
    logs = statements["WriteOwnLogs"]["Resource"]
    assert logs == [f"arn:aws:logs:{REGION}:{SERVING_ACCOUNT}:log-group:/aws/lambda/prod-{MODEL}-monitor-{step}:*"]


def test_the_job_role_lost_listing_metrics_and_mlflow_and_invokes_only_its_two_functions(plan: Plan) -> None:
    statements = policy_of(plan, f"{MODEL}-monitor-role-policy")
    actions = statements_of(statements)
    assert not {a for a in actions if a.startswith(("cloudwatch:", "sagemaker-mlflow:"))}
    # Listing only the ground truth (an S3Prefix input); the captures come as manifests.
    listed = [s["Resource"] for s in statements.values() if "s3:ListBucket" in s["Action"]]
    assert listed == [[f"arn:aws:s3:::labels-{SERVING_ACCOUNT}"]]
    arn = f"arn:aws:lambda:{REGION}:{SERVING_ACCOUNT}:function:prod-{MODEL}-monitor-"
    assert statements["InvokeOwnStepFunctions"]["Resource"] == [arn + "select", arn + "publish"]


def test_the_functions_are_packaged_from_the_repository_encrypted_and_tagged(plan: Plan) -> None:
    key = one_of(plan, "aws:kms/key:Key")
    for step, handler in ((SELECT, "select_window"), (PUBLISH, "publish_run")):
        fn = one_of(plan, FUNCTION, f"{MODEL}-monitor-{step}-function")["inputs"]
        assert fn["handler"] == f"monitoring.{handler}.lambda_handler"
        assert fn["kmsKeyArn"].startswith(f"arn:aws:kms:{REGION}:{SERVING_ACCOUNT}:key/")
        assert set(fn["code"]["archive"]) == {f"monitoring/{p.name}" for p in FUNCTION_SOURCE.glob("*.py")} | {
            f"components/{name}" for name in CONTRACT_FILES
        }
        assert fn["tags"]["environment"] == "prod"
        logs = one_of(plan, "aws:cloudwatch/logGroup:LogGroup", f"{MODEL}-monitor-{step}-logs")["inputs"]
        assert logs["kmsKeyId"] == fn["kmsKeyArn"] and logs["name"] == fn["loggingConfig"]["logGroup"]
        assert logs["tags"]["environment"] == "prod"
    sids = {s["Sid"]: s for s in json.loads(key["inputs"]["policy"])["Statement"]}
    groups = sids["CloudWatchLogsEncryptMonitoringLogGroups"]["Condition"]["ArnLike"][
        "kms:EncryptionContext:aws:logs:arn"
    ]
    assert groups == f"arn:aws:logs:{REGION}:{SERVING_ACCOUNT}:log-group:/aws/lambda/prod-*-monitor-*"


def test_the_functions_import_only_boto3_and_the_metrics_contract() -> None:
    import sys

    imported: set[str] = set()
    for path in FUNCTION_SOURCE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module)
    outside = {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names}
    # botocore comes with boto3 in the runtime: the MLflow client (mlflow_run.py) signs with it.
    botocore = {"botocore.auth", "botocore.awsrequest", "botocore.session"}
    assert outside == {"boto3", "components.jobs.metrics_contract"} | botocore


# --- the steps run end to end on moto ------------------------------------------------------------------

BUCKET = "capture-bucket"
REGISTRY = "registry-bucket"
REPORTS = f"s3://{BUCKET}/monitoring/{MODEL}/v12"
LABELLED_HOUR = datetime(2026, 11, 30, 12, tzinfo=UTC) - timedelta(hours=720)


def _mount(s3: Any, manifest_uri: str, local: Path) -> None:
    """What SageMaker does with a ManifestFile input: every key the manifest names, under the input's folder."""
    bucket, _, key = manifest_uri.removeprefix("s3://").partition("/")
    prefix, *keys = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    source_bucket, _, base = prefix["prefix"].removeprefix("s3://").partition("/")
    for relative in keys:
        target = local / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=source_bucket, Key=base + relative)["Body"].read())


def _upload(s3: Any, data: Path) -> None:  # noqa: F811 - the fixture's folder
    for bucket in (BUCKET, REGISTRY):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for path in (data / "capture").rglob("*.jsonl"):
        s3.put_object(Bucket=BUCKET, Key=str(path.relative_to(data)), Body=path.read_bytes())
    reference_key = f"pipelines/{MODEL}/baselines/v12/data-quality/{REFERENCE_FILE}"
    s3.put_object(Bucket=REGISTRY, Key=reference_key, Body=(data / "reference" / REFERENCE_FILE).read_bytes())
    # A second variant's capture in the window, and one in the next hour (after the window): only the first counts.
    for hour, name in (
        (datetime(2026, 11, 30, 12, tzinfo=UTC), "in"),
        (datetime(2026, 11, 30, 13, tzinfo=UTC), "late"),
    ):
        line = capture_line(f"shadow-{name}", [100, 50, "DE"], 0.1, hour)
        key = f"capture/prod-{MODEL}/Shadow/{hour.strftime('%Y/%m/%d/%H')}/{name}.jsonl"
        s3.put_object(Bucket=BUCKET, Key=key, Body=line.encode())


def _select_event(labels: bool) -> dict[str, str]:
    event = {
        "capture_bucket": BUCKET,
        "capture_prefix": f"capture/prod-{MODEL}/",
        "window_hours": "1",
        "manifest_uri": f"{REPORTS}/exec-1/manifests",
        "reference_uri": f"s3://{REGISTRY}/pipelines/{MODEL}/baselines/v12/data-quality/",
    }
    return event | ({"labels_delay_hours": "720"} if labels else {})


@mock_aws
def test_the_select_step_writes_manifests_of_exactly_the_windows_objects(data: Path) -> None:  # noqa: F811
    s3 = boto3.client("s3", region_name=REGION)
    _upload(s3, data)
    write_hour(data, LABELLED_HOUR, [capture_line("tx-0", [100, 50, "DE"], 0.9, LABELLED_HOUR)])
    labelled = data / "capture" / f"prod-{MODEL}" / "AllTraffic" / LABELLED_HOUR.strftime("%Y/%m/%d/%H")
    s3.put_object(
        Bucket=BUCKET,
        Key=f"capture/prod-{MODEL}/AllTraffic/{LABELLED_HOUR.strftime('%Y/%m/%d/%H')}/a1b2-capture.jsonl",
        Body=(labelled / "a1b2-capture.jsonl").read_bytes(),
    )

    outputs = select_window.select(s3, _select_event(labels=True), NOW)

    folder = f"monitoring/{MODEL}/v12/exec-1/manifests/"
    assert outputs == {
        "capture_manifest": f"s3://{BUCKET}/{folder}capture.manifest",
        "labelled_capture_manifest": f"s3://{BUCKET}/{folder}labelled-capture.manifest",
        "reference_manifest": f"s3://{BUCKET}/{folder}reference.manifest",
    }

    def manifest(name: str) -> list[Any]:
        return list(json.loads(s3.get_object(Bucket=BUCKET, Key=folder + name)["Body"].read()))

    # The window of a run at 13:05 is the hour 12:00-13:00, of both variants; 11:00 and 13:00 are not in it.
    assert manifest("capture.manifest") == [
        {"prefix": f"s3://{BUCKET}/"},
        f"capture/prod-{MODEL}/AllTraffic/2026/11/30/12/a1b2-capture.jsonl",
        f"capture/prod-{MODEL}/Shadow/2026/11/30/12/in.jsonl",
        folder + WINDOW_FILE,
    ]
    assert manifest("labelled-capture.manifest") == [
        {"prefix": f"s3://{BUCKET}/"},
        f"capture/prod-{MODEL}/AllTraffic/{LABELLED_HOUR.strftime('%Y/%m/%d/%H')}/a1b2-capture.jsonl",
        folder + WINDOW_FILE,
    ]
    assert manifest("reference.manifest") == [
        {"prefix": f"s3://{REGISTRY}/pipelines/{MODEL}/baselines/v12/data-quality/"},
        REFERENCE_FILE,
    ]
    window = json.loads(s3.get_object(Bucket=BUCKET, Key=folder + WINDOW_FILE)["Body"].read())
    assert window == {"now": NOW.isoformat(), "hours": ["2026-11-30T12:00:00+00:00"]}


@mock_aws
def test_a_window_without_traffic_still_gets_a_manifest_the_job_can_mount(data: Path) -> None:  # noqa: F811
    s3 = boto3.client("s3", region_name=REGION)
    _upload(s3, data)
    outputs = select_window.select(s3, _select_event(labels=False), NOW + timedelta(days=3))
    assert "labelled_capture_manifest" not in outputs
    key = outputs["capture_manifest"].removeprefix(f"s3://{BUCKET}/")
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert body[1:] == [f"monitoring/{MODEL}/v12/exec-1/manifests/{WINDOW_FILE}"]


@mock_aws
def test_select_then_isolated_job_then_publish_gives_the_same_numbers_and_metrics(data: Path, tmp_path: Path) -> None:  # noqa: F811
    s3 = boto3.client("s3", region_name=REGION)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    _upload(s3, data)
    # The Shadow variant's capture in the window would add a row: leave the numbers to the fixture's 400 rows.
    s3.delete_object(Bucket=BUCKET, Key=f"capture/prod-{MODEL}/Shadow/2026/11/30/12/in.jsonl")
    outputs = select_window.select(s3, _select_event(labels=False), NOW)

    # The analyse step: SageMaker mounts the manifests' objects; the job has no network (no client is passed).
    inputs, output = tmp_path / "input", tmp_path / "output"
    _mount(s3, outputs["capture_manifest"], inputs / CAPTURE_INPUT)
    _mount(s3, outputs["reference_manifest"], inputs / REFERENCE_INPUT)
    result = drift_job.run_isolated(drift_job.IsolatedArgs(input_dir=str(inputs), output_dir=str(output)))
    assert result.rows == 400
    assert result.drift["amount"] == pytest.approx(2.0, abs=0.25)
    assert result.drift["merchant_category"] < 0.1 and result.drift["card_country"] < 0.1
    assert result.missing == {"amount": 0, "merchant_category": 30, "card_country": 0}
    assert "<html" in (output / REPORT_HTML).read_text().lower()

    # SageMaker uploads the output folder to the run's prefix; the publish step reads it.
    run = f"{REPORTS}/exec-1"
    for path in output.iterdir():
        s3.put_object(Bucket=BUCKET, Key=f"monitoring/{MODEL}/v12/exec-1/{path.name}", Body=path.read_bytes())
    event = {
        "run_uri": run,
        "latest_uri": f"{REPORTS}/latest.json",
        "environment": "prod",
        "model": MODEL,
        "version": "12",
    }
    publish_run.publish(s3, cloudwatch, event)

    latest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"monitoring/{MODEL}/v12/latest.json")["Body"].read())
    assert latest == {"run": run}
    assert_fraud_scoring_v12_metrics(cloudwatch)


@mock_aws
def test_the_isolated_job_joins_the_labelled_window_and_publish_sends_recall(data: Path, tmp_path: Path) -> None:  # noqa: F811
    """The ground-truth case of tests/components/jobs/test_drift_job.py through the three steps: same recall."""
    s3 = boto3.client("s3", region_name=REGION)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    _upload(s3, data)
    scores = [0.9, 0.8, 0.7, 0.2, 0.1, 0.95, 0.3, 0.6, 0.05, 0.4]
    labels = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0]
    lines = [capture_line(f"tx-{i}", [100, 50, "DE"], s, LABELLED_HOUR) for i, s in enumerate(scores)]
    key = f"capture/prod-{MODEL}/AllTraffic/{LABELLED_HOUR.strftime('%Y/%m/%d/%H')}/late.jsonl"
    s3.put_object(Bucket=BUCKET, Key=key, Body="\n".join(lines).encode())
    outputs = select_window.select(s3, _select_event(labels=True), NOW)

    inputs, output = tmp_path / "input", tmp_path / "output"
    _mount(s3, outputs["capture_manifest"], inputs / CAPTURE_INPUT)
    _mount(s3, outputs["labelled_capture_manifest"], inputs / LABELLED_INPUT)
    _mount(s3, outputs["reference_manifest"], inputs / REFERENCE_INPUT)
    truth = inputs / GROUND_TRUTH_INPUT
    truth.mkdir(parents=True)
    rows = [
        {"groundTruthData": {"data": str(label), "encoding": "CSV"}, "eventMetadata": {"eventId": f"tx-{i}"}}
        for i, label in enumerate(labels)
    ]
    (truth / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    result = drift_job.run_isolated(drift_job.IsolatedArgs(input_dir=str(inputs), output_dir=str(output)))
    assert result.labelled == 10
    assert result.quality["recall"] == pytest.approx(3 / 5)
    assert result.quality["auc"] == pytest.approx(16 / 25)

    s3.put_object(
        Bucket=BUCKET, Key=f"monitoring/{MODEL}/v12/exec-2/{METRICS_JSON}", Body=(output / METRICS_JSON).read_bytes()
    )
    event = {
        "run_uri": f"{REPORTS}/exec-2/",
        "latest_uri": f"{REPORTS}/latest.json",
        "environment": "prod",
        "model": MODEL,
        "version": "12",
    }
    publish_run.publish(s3, cloudwatch, event)
    stats = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=QUALITY_METRIC_PREFIX + "recall",
        Dimensions=[
            {"Name": "environment", "Value": "prod"},
            {"Name": "model", "Value": MODEL},
            {"Name": "version", "Value": "12"},
        ],
        StartTime=NOW - timedelta(hours=1),
        EndTime=NOW + timedelta(hours=1),
        Period=3600,
        Statistics=["Maximum"],
    )
    assert [p["Maximum"] for p in stats["Datapoints"]] == [pytest.approx(0.6)]


def test_the_monitoring_definition_is_rendered_and_then_read_like_the_others(
    edit_env: Callable[[str, EditFn], Path], cache: Path
) -> None:
    """`mlp pipelines` writes environments/pipelines/<env>/<model>-monitoring.json once an image is pinned; a
    plan then serves the definition from that file (no SDK build) until its spec changes."""
    from components.rendered_pipelines import outdated, rendered_dir
    from mlp.pipelines import wanted_renderings

    edit_env("dev", lambda d: d.__setitem__("account_id", "111111111111"))
    root = edit_env("prod", fixture_environments("evidently"))
    wanted = wanted_renderings("prod", root)
    name = f"{MODEL}-monitoring.json"
    document = json.loads(wanted[name])
    assert [s["Name"] for s in document["definition"]["Steps"]] == ["SelectWindow", "Analyse", "Publish"]
    assert document["built_from"]["spec"]["model"] == MODEL
    directory = rendered_dir(root, "prod")
    assert directory / name in outdated(directory)  # not committed yet: the plan built it
    for file, text in wanted.items():
        (directory / file).write_text(text, encoding="utf-8")
    plan = build_plan("prod", root)
    assert outdated(directory) == []
    committed = json.dumps(document["definition"], sort_keys=True, separators=(",", ":"))
    assert one_of(plan, PIPELINE, f"{MODEL}-monitor-pipeline")["inputs"]["pipelineDefinition"] == committed
