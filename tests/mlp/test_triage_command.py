"""`mlp triage ENV ALARM_NAME` on a fixture environment: the note from moto, the one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from mlp.cli import main

ACCOUNT = "529306841275"
ENVIRONMENT = """\
account_id: "529306841275"
region: eu-west-1
repository: payments-co/ml-platform
finops: {monthly_budget_usd: 100}
alerting:
  severities: [{name: notify, pages: false}]
  slo: notify
  drift: notify
  model_quality: notify
teams:
  - {name: fraud, cost_center: CC-4100, owners: [fraud@payments.example.com], monthly_budget_usd: 50}
models:
  - name: scorer
    team: fraud
    registry_group: scorer
    version: 3
    serving: {instance_type: ml.m5.large, slos: {p99_latency_ms: 200, max_5xx_errors_per_minute: 5}}
triage:
  personal_fields: [cardholder_name]
"""
RUNBOOK = (
    "# scorer\n\n## Roll back by pull request\n\n1. Revert `version: 3` in environments/tiny.yaml.\n\n"
    "## Stop a rollout in progress\n\nNothing to stop.\n"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "tiny.yaml").write_text(ENVIRONMENT)
    (tmp_path / "docs" / "runbooks" / "tiny").mkdir(parents=True)
    (tmp_path / "docs" / "runbooks" / "tiny" / "scorer.md").write_text(RUNBOOK)
    return tmp_path


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_without_credentials_one_line_and_exit_2(
    root: Path, no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["triage", "tiny", "tiny-scorer-p99-latency", "--root", str(root)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(
        "error: no AWS credentials found (Unable to locate credentials); "
        "environments/tiny.yaml deploys into account 529306841275, region eu-west-1"
    )
    assert "Traceback" not in err


def test_credentials_of_another_account_are_refused(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():  # moto's default account, 123456789012
        assert main(["triage", "tiny", "tiny-scorer-p99-latency", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: the AWS credentials are for account 123456789012; environments/tiny.yaml deploys into account "
        "529306841275, region eu-west-1: use a role of that account\n"
    )


def test_an_unknown_alarm_is_bad_input(root: Path, account: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triage", "tiny", "nope", "--root", str(root)]) == 2
    assert (
        capsys.readouterr().err
        == "error: ALARM_NAME: no alarm named 'nope' in account 529306841275, region eu-west-1\n"
    )


def test_prints_the_note_and_posts_nothing(root: Path, account: None, capsys: pytest.CaptureFixture[str]) -> None:
    cw = boto3.client("cloudwatch", region_name="eu-west-1")
    cw.put_metric_alarm(
        AlarmName="tiny-scorer-p99-latency",
        Namespace="AWS/SageMaker",
        MetricName="ModelLatency",
        Dimensions=[{"Name": "EndpointName", "Value": "tiny-scorer"}, {"Name": "VariantName", "Value": "primary"}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=200_000.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    reason = 'sample {"cardholder_name": "Jane Doe", "card": "4111111111111111"}'
    cw.set_alarm_state(AlarmName="tiny-scorer-p99-latency", StateValue="ALARM", StateReason=reason)
    sm = boto3.client("sagemaker", region_name="eu-west-1")
    sm.create_model(ModelName="m", ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r", PrimaryContainer={"Image": "i"})
    sm.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {"VariantName": "primary", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
    )
    sm.create_endpoint(EndpointName="tiny-scorer", EndpointConfigName="c")
    sns = boto3.client("sns", region_name="eu-west-1")
    sns.create_topic(Name="tiny-fraud-notify")

    assert main(["triage", "tiny", "tiny-scorer-p99-latency", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## [triage tiny] tiny-scorer-p99-latency ALARM scorer v3\n")
    assert "- Endpoint InService: no rollout in progress; configuration `c`" in out
    assert "Runbook: https://github.com/payments-co/ml-platform/blob/main/docs/runbooks/tiny/scorer.md" in out
    assert "1. Revert `version: 3` in environments/tiny.yaml." in out
    assert "Jane Doe" not in out and "4111111111111111" not in out and "[REDACTED-CARD]" in out
    # moto implements no alarm history and no percentile statistics: the note says what it could not read.
    assert "could not read alarm history" in out
    # Read-only: nothing was published.
    backend = __import__("moto.sns.models", fromlist=["sns_backends"]).sns_backends[ACCOUNT]["eu-west-1"]
    assert all(not t.sent_notifications for t in backend.topics.values())
