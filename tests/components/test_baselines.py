"""Approved versions' baselines reach the folder their monitors read: the plan's state machine, rule and
target, run end to end under moto (EventBridge matching and input transformer, Step Functions' ASL
interpreter, SageMaker's registry, S3, SNS)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components.artifacts import BASELINE_FILES, DATA_QUALITY
from components.baselines import ERROR_COPY_FAILED, ERROR_TRAINED_ELSEWHERE
from components.evidently_monitoring import reference_prefix
from components.jobs.metrics_contract import REFERENCE_FILE
from components.monitoring import baseline_uri
from mlp.plan import Plan
from tests.components.test_monitoring import env_key_arn
from tests.conftest import ENVIRONMENTS, fixture_env, one_of, resources_of

SFN = "aws:sfn/stateMachine:StateMachine"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
DQ = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
COMPONENT = "mlplatform:baselines:VersionBaselines"
EVENT = Path(__file__).parent.parent / "fixtures" / "eventbridge" / "sagemaker-model-package-state-change.json"

# The model followed end to end: trained and registered in dev, served and monitored in prod.
MODEL = "fraud-scoring"
EXECUTION_ID = "4r83jejmhorv"


def test_only_the_registry_environment_copies_baselines(plans: dict[str, Plan]) -> None:
    for env in ENVIRONMENTS:
        hosts = fixture_env(env).hosts_registry
        assert len(resources_of(plans[env], COMPONENT)) == (1 if hosts else 0), env
        assert len(resources_of(plans[env], SFN)) == (1 if hosts else 0), env


def test_state_machine_is_encrypted_with_the_environment_key_and_roles_are_least_privilege(
    plans: dict[str, Plan],
) -> None:
    dev = plans["dev"]
    machine = one_of(dev, SFN)
    key = env_key_arn(dev)
    dev_env = fixture_env("dev")
    machine_arn = f"arn:aws:states:{dev_env.region}:{dev_env.account_id}:stateMachine:{machine['inputs']['name']}"
    assert machine["inputs"]["encryptionConfiguration"] == {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": key}
    assert machine["inputs"]["type"] == "STANDARD"

    copy_policy = json.loads(one_of(dev, ROLE_POLICY, "dev-version-baselines-role-policy")["inputs"]["policy"])
    grants = {s["Sid"]: s for s in copy_policy["Statement"]}
    bucket = f"arn:aws:s3:::{_bucket(dev)}"
    assert grants["ReadExecutionBaselines"]["Action"] == "s3:GetObject"
    assert grants["ReadExecutionBaselines"]["Resource"] == [
        f"{bucket}/pipelines/*/baselines/*/data-quality/{f}" for f in BASELINE_FILES
    ]
    assert grants["WriteVersionBaselines"]["Action"] == "s3:PutObject"
    assert grants["WriteVersionBaselines"]["Resource"] == [
        f"{bucket}/pipelines/*/baselines/v*/data-quality/{f}" for f in BASELINE_FILES
    ]
    assert grants["DescribeVersions"] == {
        "Sid": "DescribeVersions",
        "Effect": "Allow",
        "Action": "sagemaker:DescribeModelPackage",
        "Resource": f"arn:aws:sagemaker:{dev_env.region}:{dev_env.account_id}:model-package/*",
    }
    teams = sorted({m.team for m in dev_env.models})
    assert grants["AnnounceToTeams"]["Resource"] == [
        f"arn:aws:sns:{dev_env.region}:{dev_env.account_id}:dev-{t}-{dev_env.alerting.drift}" for t in teams
    ]
    assert grants["UseEnvironmentKey"]["Resource"] == key
    assert all("*" not in a for s in copy_policy["Statement"] for a in _actions(s))

    start = json.loads(one_of(dev, ROLE_POLICY, "dev-version-baselines-events-policy")["inputs"]["policy"])
    assert [(s["Action"], s["Resource"]) for s in start["Statement"]] == [
        ("states:StartExecution", machine_arn),
        (["kms:Decrypt", "kms:GenerateDataKey"], key),
    ]
    assert start["Statement"][1]["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": machine_arn}
    }


def test_every_registry_decision_starts_the_copy_for_its_model(plans: dict[str, Plan]) -> None:
    dev = plans["dev"]
    env = fixture_env("dev")
    machine = one_of(dev, SFN)["inputs"]["name"]
    for model in env.models:
        target = one_of(dev, TARGET, f"dev-{model.name}-registry-decisions-baselines")["inputs"]
        assert target["rule"] == one_of(dev, RULE, f"dev-{model.name}-registry-decisions")["inputs"]["name"]
        assert target["arn"] == f"arn:aws:states:{env.region}:{env.account_id}:stateMachine:{machine}"
        rendered = json.loads(target["inputTransformer"]["inputTemplate"].replace("<package>", "ARN"))
        assert rendered == {
            "model": model.name,
            "topic": f"arn:aws:sns:{env.region}:{env.account_id}:dev-{model.team}-{env.alerting.drift}",
            "package": "ARN",
        }


# --- end to end under moto ------------------------------------------------------------------------


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _bucket(plan: Plan) -> str:
    return str(one_of(plan, "aws:s3/bucket:Bucket", f"{plan['stack']}-foundation-artifacts")["inputs"]["bucket"])


def _resolve(value: Any) -> Any:
    """A pipeline definition value as SageMaker evaluates it for execution EXECUTION_ID."""
    if isinstance(value, dict) and value.get("Get") == "Execution.PipelineExecutionId":
        return EXECUTION_ID
    if isinstance(value, dict) and "Std:Join" in value:
        join = value["Std:Join"]
        return join["On"].join(str(_resolve(v)) for v in join["Values"])
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    return value


def _steps(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in definition["Steps"]:
        yield step
        for branch in ("IfSteps", "ElseSteps"):
            yield from step.get("Arguments", {}).get(branch, [])


def _pipeline_outputs(plan: Plan) -> tuple[str, dict[str, str]]:
    """Where the baseline step of MODEL's pipeline writes, and the metadata its registration records."""
    definition = json.loads(one_of(plan, PIPELINE, f"dev-{MODEL}-training-pipeline")["inputs"]["pipelineDefinition"])
    steps = {s["Name"]: s for s in _steps(definition)}
    baseline = steps["DataQualityBaseline"]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
    register = next(s for name, s in steps.items() if name.startswith("RegisterModel"))
    metadata = _resolve(register["Arguments"]["CustomerMetadataProperties"])
    return str(_resolve(baseline["S3Uri"])), metadata


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class Registry:
    """dev's account under moto: the plan's bucket, group, rule, target and state machine."""

    def __init__(self, plans: dict[str, Plan]) -> None:
        dev_env = fixture_env("dev")
        self.env = dev_env
        self.region = dev_env.region
        self.plan = plans["dev"]
        self.model = next(m for m in dev_env.models if m.name == MODEL)
        self.s3 = boto3.client("s3", region_name=self.region)
        self.sagemaker = boto3.client("sagemaker", region_name=self.region)
        self.sfn = boto3.client("stepfunctions", region_name=self.region)
        self.sqs = boto3.client("sqs", region_name=self.region)
        self.sns = boto3.client("sns", region_name=self.region)
        self.events = boto3.client("events", region_name=self.region)
        self.bucket = _bucket(self.plan)
        self.s3.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
        self.sagemaker.create_model_package_group(ModelPackageGroupName=self.model.registry_group)

        # The team topic, heard through a queue.
        target = one_of(self.plan, TARGET, f"dev-{MODEL}-registry-decisions-baselines")["inputs"]
        topic_name = json.loads(target["inputTransformer"]["inputTemplate"].replace("<package>", ""))["topic"]
        topic = self.sns.create_topic(Name=topic_name.rsplit(":", 1)[1])["TopicArn"]
        assert topic == topic_name
        self.team_queue = self._queue("team")
        self.sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=self._queue_arn(self.team_queue),
            Attributes={"RawMessageDelivery": "true"},
        )

        # The decisions rule with the plan's pattern, and the plan's target transformer feeding a queue:
        # moto delivers to SQS (not to Step Functions), and applies the transformer as EventBridge does.
        rule = one_of(self.plan, RULE, f"dev-{MODEL}-registry-decisions")["inputs"]
        self.events.put_rule(Name=rule["name"], EventPattern=rule["eventPattern"])
        self.starts = self._queue("starts")
        transformer = target["inputTransformer"]
        self.events.put_targets(
            Rule=rule["name"],
            Targets=[
                {
                    "Id": target["targetId"],
                    "Arn": self._queue_arn(self.starts),
                    "InputTransformer": {
                        "InputPathsMap": transformer["inputPaths"],
                        "InputTemplate": transformer["inputTemplate"],
                    },
                }
            ],
        )
        machine = one_of(self.plan, SFN)["inputs"]
        role = boto3.client("iam", region_name=self.region).create_role(RoleName="copy", AssumeRolePolicyDocument="{}")
        self.machine = self.sfn.create_state_machine(
            name=machine["name"], definition=machine["definition"], roleArn=role["Role"]["Arn"]
        )["stateMachineArn"]

    def _queue(self, name: str) -> str:
        return str(self.sqs.create_queue(QueueName=name)["QueueUrl"])

    def _queue_arn(self, url: str) -> str:
        return str(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def pipeline_run(self, metadata: dict[str, str], versions: int, write_baseline: bool = True) -> str:
        """What a pipeline execution leaves: its baseline files and `versions` registered versions (the
        last one from this execution). Returns the last version's ARN."""
        baseline_uri, _ = _pipeline_outputs(self.plan)
        bucket, prefix = _split(baseline_uri)
        if write_baseline:
            for file in BASELINE_FILES:
                self.s3.put_object(Bucket=bucket, Key=f"{prefix}/{file}", Body=f"{file} of {EXECUTION_ID}".encode())
        arn = ""
        for _ in range(versions):
            arn = self.sagemaker.create_model_package(
                ModelPackageGroupName=self.model.registry_group,
                ModelApprovalStatus="PendingManualApproval",
                CustomerMetadataProperties=metadata,
                InferenceSpecification={
                    "Containers": [{"Image": "image"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )["ModelPackageArn"]
        return str(arn)

    def decide(self, arn: str, status: str) -> dict[str, Any]:
        """A person's decision: the version's status changes and EventBridge sees AWS's documented event."""
        # moto's update_model_package replaces the version's metadata with the request's (AWS adds to it),
        # so the request carries the metadata the version already has.
        metadata = self.sagemaker.describe_model_package(ModelPackageName=arn).get("CustomerMetadataProperties", {})
        self.sagemaker.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus=status, CustomerMetadataProperties=metadata
        )
        event = json.loads(EVENT.read_text())
        detail = copy.deepcopy(event["detail"])
        detail.update(
            ModelPackageGroupName=self.model.registry_group,
            ModelPackageArn=arn,
            ModelPackageVersion=int(arn.rsplit("/", 1)[1]),
            ModelApprovalStatus=status,
        )
        self.events.put_events(
            Entries=[{"Source": "aws.sagemaker", "DetailType": event["detail-type"], "Detail": json.dumps(detail)}]
        )
        messages = self.sqs.receive_message(QueueUrl=self.starts, MaxNumberOfMessages=10).get("Messages", [])
        assert len(messages) == 1, "the decisions rule should start exactly one copy"
        execution = self.sfn.start_execution(stateMachineArn=self.machine, input=messages[0]["Body"])["executionArn"]
        for _ in range(200):
            described = self.sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return dict(described)
            time.sleep(0.05)
        raise AssertionError("the copy did not finish")

    def team_messages(self) -> list[str]:
        got = self.sqs.receive_message(QueueUrl=self.team_queue, MaxNumberOfMessages=10).get("Messages", [])
        return [m["Body"] for m in got]

    def keys(self) -> set[str]:
        return {o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])}


@pytest.fixture
def registry(plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", fixture_env("dev").account_id)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield Registry(plans)


def test_an_approved_version_gets_the_baseline_its_monitors_read(registry: Registry, plans: dict[str, Plan]) -> None:
    """The pipeline's own registration metadata, approved as prod's served version: prod's data-quality
    job definition finds exactly the files the pipeline's baseline step wrote."""
    served = next(m for m in fixture_env("prod").models if m.name == MODEL).version
    _, metadata = _pipeline_outputs(registry.plan)
    assert metadata["execution"] == EXECUTION_ID and metadata["trained-in"] == "dev"
    arn = registry.pipeline_run(metadata, versions=served)

    result = registry.decide(arn, "Approved")

    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"]) == {
        "model": MODEL,
        "version": served,
        "execution": EXECUTION_ID,
        "outcome": "copied",
    }
    # Where each engine's monitor of the served version reads (the example files use evidently: its reference
    # data; the model-monitor engine: the Model Monitor baseline files).
    quality = baseline_uri(registry.bucket, MODEL, served, DATA_QUALITY)
    reference = f"s3://{registry.bucket}/{reference_prefix(MODEL, served)}{REFERENCE_FILE}"
    for file, uri in (
        ("statistics.json", f"{quality}/statistics.json"),
        ("constraints.json", f"{quality}/constraints.json"),
        (REFERENCE_FILE, reference),
    ):
        bucket, key = _split(uri)
        assert bucket == registry.bucket
        body = registry.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == f"{file} of {EXECUTION_ID}".encode()
    assert registry.team_messages() == []


def test_a_rejected_version_copies_nothing(registry: Registry) -> None:
    _, metadata = _pipeline_outputs(registry.plan)
    arn = registry.pipeline_run(metadata, versions=1)
    before = registry.keys()

    result = registry.decide(arn, "Rejected")

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["outcome"] == "not approved: nothing to copy"
    assert registry.keys() == before


def test_a_version_registered_without_a_pipeline_copies_nothing(registry: Registry) -> None:
    arn = registry.pipeline_run({"trained-in": "dev"}, versions=1, write_baseline=False)

    result = registry.decide(arn, "Approved")

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["outcome"] == "registered without a pipeline baseline: nothing to copy"
    assert registry.keys() == set()


def test_a_version_trained_elsewhere_tells_the_team_and_fails(registry: Registry) -> None:
    _, metadata = _pipeline_outputs(registry.plan)
    arn = registry.pipeline_run({**metadata, "trained-in": "prod"}, versions=3, write_baseline=False)

    result = registry.decide(arn, "Approved")

    assert result["status"] == "FAILED"
    assert result["error"] == ERROR_TRAINED_ELSEWHERE
    [message] = registry.team_messages()
    assert f"Version 3 of {MODEL} was trained in prod" in message
    assert f"pipelines/{MODEL}/baselines/v3/data-quality/" in message


def test_a_missing_baseline_tells_the_team_and_fails(registry: Registry) -> None:
    _, metadata = _pipeline_outputs(registry.plan)
    arn = registry.pipeline_run(metadata, versions=1, write_baseline=False)

    result = registry.decide(arn, "Approved")

    assert result["status"] == "FAILED"
    assert result["error"] == ERROR_COPY_FAILED
    [message] = registry.team_messages()
    assert f"The baseline of {MODEL} ({arn}) could not be copied" in message
    assert registry.keys() == set()
