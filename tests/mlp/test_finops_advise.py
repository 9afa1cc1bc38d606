"""`mlp finops advise`: proposals from CloudWatch series the test writes (moto), and the pull request on a
local GitHub API server."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlp.cli import main
from mlp.finops_advise import advise
from mlp.finops_proposals import smaller, vcpus
from mlp.pricing import load_prices
from tests.local_server import serving

NOW = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
HOSTING = {"ml.m5.xlarge": 0.25, "ml.m5.large": 0.125}
"""Test prices per instance-hour (not AWS's)."""

TEAM = """\
account_id: "111122223333"
region: eu-west-1
repository: payments-co/ml-platform
protect_stateful_resources: false

finops:
  monthly_budget_usd: 3000
  platform_cost_center: CC-4000

teams:
  - name: fraud
    cost_center: CC-4100
    owners: [fraud-ml@payments.example.com]
    monthly_budget_usd: 1500
"""
"""The advisor tests' environment up to its models: one team in one account, a budget, a platform payer."""

ENV = (
    "# yaml-language-server: $schema=schema.json\n"
    + TEAM
    + """
models:
  - name: idle-model
    team: fraud
    registry_group: idle-model
    version: 1
    serving:
      instance_type: ml.m5.xlarge
      instance_count: 2
  # Over-provisioned: a smaller size keeps the p99 target's headroom.
  - name: roomy-model
    team: fraud
    registry_group: roomy-model
    version: 3
    serving:
      instance_type: ml.m5.xlarge
      instance_count: 2
      slos:
        p99_latency_ms: 300
        max_5xx_errors_per_minute: 5
  - name: busy-model
    team: fraud
    registry_group: busy-model
    version: 7
    serving:
      instance_type: ml.m5.xlarge
      instance_count: 1
"""
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def committed_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    """A git repository on main holding `files` (path: text) in one commit."""
    root = tmp_path / "repo"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "test")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "fixture")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return committed_repo(tmp_path, {"environments/dev.yaml": ENV})


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    path = tmp_path / "prices.json"
    entries = [
        {
            "region": "eu-west-1",
            "kind": "sagemaker-hosting",
            "item": item,
            "usd_per_unit": usd,
            "unit": "instance-hour",
            "source": "test",
            "read_on": "2026-11-30",
        }
        for item, usd in HOSTING.items()
    ]
    path.write_text(json.dumps({"hours_per_month": {"value": 730, "source": "test"}, "prices": entries}))
    return path


def series(client: Any, endpoint: str, namespace: str, metric: str, values: list[float]) -> None:
    """One value per hour, the newest an hour ago."""
    client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "EndpointName", "Value": endpoint},
                    {"Name": "VariantName", "Value": "primary"},
                ],
                "Timestamp": NOW - dt.timedelta(hours=i + 1),
                "Value": value,
            }
            for i, value in enumerate(values)
        ],
    )


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("cloudwatch", region_name="eu-west-1")
        # idle: utilization reported, no invocation at all
        series(client, "dev-idle-model", "/aws/sagemaker/Endpoints", "CPUUtilization", [3.0] * 24)
        series(client, "dev-idle-model", "/aws/sagemaker/Endpoints", "MemoryUtilization", [10.0] * 24)
        # roomy: steady traffic; CPU peak 60% of 400% (15% of 4 vCPUs), memory 25%, latency peak 80 ms
        series(client, "dev-roomy-model", "AWS/SageMaker", "Invocations", [1200.0] * 24)
        series(client, "dev-roomy-model", "AWS/SageMaker", "ModelLatency", [40_000.0] * 23 + [80_000.0])
        series(client, "dev-roomy-model", "/aws/sagemaker/Endpoints", "CPUUtilization", [30.0] * 23 + [60.0])
        series(client, "dev-roomy-model", "/aws/sagemaker/Endpoints", "MemoryUtilization", [25.0] * 24)
        # busy: CPU peak 300% of 400% (75%)
        series(client, "dev-busy-model", "AWS/SageMaker", "Invocations", [90_000.0] * 24)
        series(client, "dev-busy-model", "/aws/sagemaker/Endpoints", "CPUUtilization", [200.0] * 23 + [300.0])
        series(client, "dev-busy-model", "/aws/sagemaker/Endpoints", "MemoryUtilization", [55.0] * 24)
        yield client


def test_idle_is_decommissioned_roomy_shrinks_and_busy_is_left_alone(repo: Path, prices: Path, cloudwatch: Any) -> None:
    report = advise("dev", 7, load_prices(prices), root=repo, cloudwatch=cloudwatch, now=NOW)
    by_model = {p.model: p for p in report.proposals}

    assert set(by_model) == {"idle-model", "roomy-model"}
    idle = by_model["idle-model"]
    assert idle.kind == "decommission"
    assert idle.monthly_saving_usd == pytest.approx(2 * 0.25 * 730)
    assert "0 over the last 7 days" in idle.evidence[0]
    assert idle.change is None, "removing a model is a person's decision"

    roomy = by_model["roomy-model"]
    assert roomy.kind == "smaller-instance"
    assert roomy.monthly_saving_usd == pytest.approx(2 * (0.25 - 0.125) * 730)
    assert roomy.change is not None and (roomy.change.old, roomy.change.new) == ("ml.m5.xlarge", "ml.m5.large")
    assert "CPU peak 15.0% of 4 vCPUs" in " | ".join(roomy.evidence)
    assert "latency peak 80 ms against a p99 target of 300 ms" in roomy.evidence

    [busy] = [u for u in report.untouched if u.startswith("dev-busy-model")]
    assert "busy" in busy and "CPU peak 75.0%" in busy


def test_latency_without_headroom_keeps_the_size(repo: Path, prices: Path, cloudwatch: Any) -> None:
    series(cloudwatch, "dev-roomy-model", "AWS/SageMaker", "ModelLatency", [200_000.0])
    report = advise("dev", 7, load_prices(prices), root=repo, cloudwatch=cloudwatch, now=NOW)
    assert "roomy-model" not in {p.model for p in report.proposals}
    [roomy] = [u for u in report.untouched if u.startswith("dev-roomy-model")]
    assert "latency peak 200 ms leaves no headroom under the 300 ms p99 target" in roomy


def test_sizes_step_down_within_the_family() -> None:
    assert (vcpus("ml.m5.4xlarge"), smaller("ml.m5.4xlarge")) == (16, "ml.m5.2xlarge")
    assert smaller("ml.c5.xlarge") == "ml.c5.large"
    assert smaller("ml.m5.large") is None, "nothing smaller with 1 vCPU"
    assert smaller("ml.g4dn.xlarge") is None, "GPU instances keep their GPU when smaller"


class GitHubRecorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []  # noqa: RUF012 - shared by the server's handler instances

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        GitHubRecorder.requests.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
        payload = json.dumps({"number": 7, "html_url": "https://github.com/payments-co/ml-platform/pull/7"})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    GitHubRecorder.requests = []
    with serving(HTTPServer(("127.0.0.1", 0), GitHubRecorder)) as server:
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_test_token")
        monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_port}")
        yield GitHubRecorder.requests


def test_pr_changes_one_value_and_opens_one_pull_request(  # noqa: PLR0917 - pytest fixtures
    repo: Path,
    prices: Path,
    cloudwatch: Any,
    github: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("boto3.client", lambda *_a, **_k: cloudwatch)
    code = main(["finops", "advise", "dev", "--days", "7", "--pr", "--root", str(repo), "--prices", str(prices)])
    out = capsys.readouterr().out

    assert code == 0, out
    assert "opened https://github.com/payments-co/ml-platform/pull/7" in out
    # Exactly one line of the environment file changed, comments and layout kept.
    diff = git(repo, "diff", "main", "HEAD", "--unified=0", "--", "environments/dev.yaml")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-      instance_type: ml.m5.xlarge", "+      instance_type: ml.m5.large"]
    after = (repo / "environments" / "dev.yaml").read_text()
    assert "# Over-provisioned: a smaller size keeps the p99 target's headroom." in after
    assert after.index("instance_type: ml.m5.large") > after.index("name: roomy-model")
    [request] = github
    assert request["path"] == "/repos/payments-co/ml-platform/pulls"
    body = request["body"]
    assert body["head"].startswith("finops/dev-") and body["base"] == "main"
    assert "| serve roomy-model on ml.m5.large instead of ml.m5.xlarge | 182.50 |" in body["body"]
    assert "| decommission dev-idle-model: no invocations in 7 days | 365.00 | no: a person decides |" in body["body"]


def test_days_out_of_range_is_bad_input(repo: Path) -> None:
    assert main(["finops", "advise", "dev", "--days", "0", "--root", str(repo)]) == 2


def test_outside_production_quiet_hours_propose_a_window_and_serverless(
    repo: Path, prices: Path, cloudwatch: Any
) -> None:
    # dev becomes a stage below staging: proposals for quiet endpoints outside production appear.
    staging = ENV.replace('account_id: "111122223333"', 'account_id: "444455556666"\npromoted_from: dev')
    (repo / "environments" / "staging.yaml").write_text(staging)

    report = advise("dev", 7, load_prices(prices), root=repo, cloudwatch=cloudwatch, now=NOW)
    kinds = {(p.model, p.kind): p for p in report.proposals}

    # roomy: traffic in 24 of 168 hours, 2 instances all month: one of them idles 144/168 of the month.
    window = kinds["roomy-model", "scale-down-window"]
    assert window.monthly_saving_usd == pytest.approx(0.25 * 730 * 144 / 168)
    assert "144 of 168 hours in 7 days had no invocation" in window.evidence
    assert window.change is None
    serverless = kinds["roomy-model", "serverless"]
    assert serverless.monthly_saving_usd is None, "no serverless price: unknown, never a guess"
    assert serverless.evidence[0] == "4,114 invocations a day on average (below 10,000)"
    # busy: 308,571 a day, one instance: neither
    assert not {k for m, k in kinds if m == "busy-model"}
    # In production (the same file without a stage above it) none of these is proposed.
    (repo / "environments" / "staging.yaml").unlink()
    production = advise("dev", 7, load_prices(prices), root=repo, cloudwatch=cloudwatch, now=NOW)
    assert {p.kind for p in production.proposals} == {"decommission", "smaller-instance"}


def test_the_smallest_size_sheds_an_instance_instead(repo: Path, prices: Path, cloudwatch: Any) -> None:
    text = (repo / "environments" / "dev.yaml").read_text()
    roomy = text.index("name: roomy-model")
    text = text[:roomy] + text[roomy:].replace(
        "instance_type: ml.m5.xlarge\n      instance_count: 2", "instance_type: ml.m5.large\n      instance_count: 3", 1
    )
    (repo / "environments" / "dev.yaml").write_text(text)

    report = advise("dev", 7, load_prices(prices), root=repo, cloudwatch=cloudwatch, now=NOW)

    [fewer] = [p for p in report.proposals if p.model == "roomy-model"]
    assert fewer.kind == "fewer-instances"
    # CPU peak 60% of 2 vCPUs = 30% per instance; over 2 instances instead of 3: 45%.
    assert "CPU peak spread over 2 instances: 45.0%" in fewer.evidence
    assert fewer.monthly_saving_usd == pytest.approx(0.125 * 730)
    assert fewer.change is not None and (fewer.change.field, fewer.change.old, fewer.change.new) == (
        "instance_count",
        3,
        2,
    )


def test_training_runs_are_reported_with_spot_interruptions_and_cost(repo: Path, prices: Path) -> None:
    from botocore.stub import ANY, Stubber

    text = (
        (repo / "environments" / "dev.yaml")
        .read_text()
        .replace(
            "      instance_count: 1\n",
            "      instance_count: 1\n"
            "    training:\n"
            "      metric: {name: auc, minimum: 0.8}\n"
            "      max_runtime_minutes: 120\n",
            1,
        )
    )
    text = text.replace(
        "  platform_cost_center: CC-4000\n", "  platform_cost_center: CC-4000\n  spot_savings_assumption_percent: 50\n"
    )
    (repo / "environments" / "dev.yaml").write_text(text)
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1")
    stub = Stubber(sagemaker)
    executions = [
        f"arn:aws:sagemaker:eu-west-1:111122223333:pipeline/dev-busy-model-training/execution/e{i}" for i in (1, 2)
    ]
    stub.add_response(
        "list_pipeline_executions",
        {"PipelineExecutionSummaries": [{"PipelineExecutionArn": arn} for arn in executions]},
        {"PipelineName": "dev-busy-model-training", "CreatedAfter": ANY},
    )
    for i, (seconds, billable, interrupted) in enumerate(((1800, 600, 0), (3600, 1200, 2)), start=1):
        job_arn = f"arn:aws:sagemaker:eu-west-1:111122223333:training-job/pipelines-e{i}-train"
        stub.add_response(
            "list_pipeline_execution_steps",
            {"PipelineExecutionSteps": [{"StepName": "Train", "Metadata": {"TrainingJob": {"Arn": job_arn}}}]},
            {"PipelineExecutionArn": executions[i - 1]},
        )
        start = NOW - dt.timedelta(days=i)
        stub.add_response(
            "describe_training_job",
            {
                "TrainingJobName": f"pipelines-e{i}-train",
                "TrainingJobArn": job_arn,
                "AlgorithmSpecification": {"TrainingInputMode": "File"},
                "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
                "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
                "CreationTime": start,
                "TrainingJobStatus": "Completed",
                "SecondaryStatus": "Completed",
                "ModelArtifacts": {"S3ModelArtifacts": "s3://bucket/model.tar.gz"},
                "TrainingTimeInSeconds": seconds,
                "BillableTimeInSeconds": billable,
                "EnableManagedSpotTraining": True,
                "SecondaryStatusTransitions": [{"Status": "Interrupted", "StartTime": start}] * interrupted,
            },
            {"TrainingJobName": f"pipelines-e{i}-train"},
        )
    training_price = {
        "region": "eu-west-1",
        "kind": "sagemaker-training",
        "item": "ml.m5.xlarge",
        "usd_per_unit": 0.3,
        "unit": "instance-hour",
        "source": "test",
        "read_on": "2026-11-30",
    }
    data = json.loads(prices.read_text())
    data["prices"].append(training_price)
    prices.write_text(json.dumps(data))

    with mock_aws(), stub:
        cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
        report = advise("dev", 7, load_prices(prices), root=repo, cloudwatch=cloudwatch, sagemaker=sagemaker, now=NOW)
    stub.assert_no_pending_responses()

    [line] = report.training
    assert line.startswith(
        "dev-busy-model-training: 2 training run(s) in 7 days; longest 60 min of max_runtime_minutes 120"
    )
    # 1,800 billable of 5,400 s: spot saved 67%, against the 50% the estimate assumes.
    assert "spot: 2 interruption(s), saving measured 67% (assumed 50%)" in line
    # 0.5 billable hours x 0.3 USD in 7 days, scaled to a month of 730/24 days.
    assert f"about {0.5 * 0.3 * 730 / 24 / 7:,.2f} USD/month" in line


def test_an_endpoint_without_any_metric_is_not_decommissioned(repo: Path, prices: Path) -> None:
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
        report = advise("dev", 90, load_prices(prices), root=repo, cloudwatch=cloudwatch, now=NOW)
    assert report.proposals == ()
    assert "dev-idle-model: no metrics at all in 90 days (not deployed yet?); left alone" in report.untouched
