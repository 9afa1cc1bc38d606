"""`mlp finops advise` on training pipelines: proposals from training jobs and CloudWatch series the test writes
into moto, and the environment-file change `--pr` commits.

moto models pipelines, their executions and training jobs, but not what a finished job reports about its time:
DescribeTrainingJob answers without TrainingTimeInSeconds and BillableTimeInSeconds and with one "Starting"
transition. The test writes those fields (and the job's start and end) on moto's stored job, the narrowest
place. moto does not implement ListPipelineExecutionSteps at all; the test answers that one call from a
botocore `before-call` hook, with the training job its moto execution ran.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from components.loader import load_environment
from mlp.cli import main
from mlp.finops_advise import AdviceRefusedError, Report, advise, apply_changes
from mlp.pricing import load_prices
from tests.mlp.test_finops_advise import TEAM, committed_repo

REGION = "eu-west-1"
NOW = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
DAYS = 7
PER_MONTH = 730 / 24 / DAYS
"""A week of runs scaled to a month of 730 hours."""
TRAINING_PRICES = {"ml.m5.2xlarge": 0.5, "ml.m5.xlarge": 0.25}
"""Test prices per instance-hour (not AWS's)."""

ENV = (
    TEAM
    + """
models:
  - name: steady
    team: fraud
    registry_group: steady
    version: 1
    serving:
      instance_type: ml.m5.large
    # On demand on purpose while the squad iterates.
    training:
      metric: {name: auc, minimum: 0.8}
      instance_type: ml.m5.xlarge
      spot: false
      max_runtime_minutes: 300
  - name: interrupted
    team: fraud
    registry_group: interrupted
    version: 1
    serving:
      instance_type: ml.m5.large
    training:
      # Spot, the default: the file does not say so.
      metric: {name: auc, minimum: 0.8}
      instance_type: ml.m5.xlarge

  # Sized for a data set that never came.
  - name: roomy
    team: fraud
    registry_group: roomy
    version: 1
    serving:
      instance_type: ml.m5.large
    training:
      metric: {name: auc, minimum: 0.8}
      instance_type: ml.m5.2xlarge  # sized for a data set that never came
      max_runtime_minutes: 120
  - name: busy
    team: fraud
    registry_group: busy
    version: 1
    serving:
      instance_type: ml.m5.large
    training:
      metric: {name: auc, minimum: 0.8}
      instance_type: ml.m5.xlarge
"""
)


@dataclass(frozen=True)
class Run:
    """One training job as the test wants DescribeTrainingJob and CloudWatch to report it."""

    seconds: int
    billable: int
    interruptions: int = 0
    cpu: float = 0.0
    """CPUUtilization peak (summed over cores)."""
    memory: float = 0.0


# What each pipeline ran in the window, per model (the instance type is the file's).
RUNS = {
    # On-demand: four hour-long runs; busy instances, so only spot is proposed.
    "steady": (False, "ml.m5.xlarge", [Run(3600, 3600, cpu=300, memory=60)] * 4),
    # Spot: one calm run billed a third, two interrupted thrice and billed more than an on-demand hour each.
    "interrupted": (
        True,
        "ml.m5.xlarge",
        [Run(3600, 1200, cpu=300, memory=60)] + [Run(6000, 5400, interruptions=3, cpu=300, memory=60)] * 2,
    ),
    # Spot that pays, and an 8-vCPU instance whose peak is 160% (20%) of CPU and 30% of memory.
    "roomy": (True, "ml.m5.2xlarge", [Run(1800, 900, cpu=160, memory=30)] * 3),
    # Spot that pays, and a CPU peak of 320% of 4 vCPUs (80%).
    "busy": (True, "ml.m5.xlarge", [Run(3600, 1800, cpu=320, memory=50)] * 3),
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """dev, below a staging that is promoted from it: dev is outside production."""
    staging = ENV.replace('account_id: "111122223333"', 'account_id: "444455556666"\npromoted_from: dev')
    return committed_repo(tmp_path, {"environments/dev.yaml": ENV, "environments/staging.yaml": staging})


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    path = tmp_path / "prices.json"
    entries = [
        {
            "region": REGION,
            "kind": "sagemaker-training",
            "item": item,
            "usd_per_unit": usd,
            "unit": "instance-hour",
            "source": "test",
            "read_on": "2026-11-30",
        }
        for item, usd in TRAINING_PRICES.items()
    ]
    path.write_text(json.dumps({"hours_per_month": {"value": 730, "source": "test"}, "prices": entries}))
    return path


@dataclass
class Aws:
    sagemaker: Any
    cloudwatch: Any


def seed(sagemaker: Any, cloudwatch: Any, env: str, runs: dict[str, tuple[bool, str, list[Run]]]) -> None:
    """A moto pipeline per model with one execution per run, each with its training job and CloudWatch peaks."""
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    role = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/training"
    steps: dict[str, str] = {}
    for model, (spot, instance, jobs) in runs.items():
        pipeline = f"{env}-{model}-training"
        sagemaker.create_pipeline(PipelineName=pipeline, PipelineDefinition='{"Steps": []}', RoleArn=role)
        for i, run in enumerate(jobs, start=1):
            execution = sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
            name = f"pipelines-{model}-{i}-train"
            arn = sagemaker.create_training_job(
                TrainingJobName=name,
                AlgorithmSpecification={"TrainingImage": "xgboost:1.7-1", "TrainingInputMode": "File"},
                RoleArn=role,
                OutputDataConfig={"S3OutputPath": "s3://artifacts/models"},
                ResourceConfig={"InstanceType": instance, "InstanceCount": 1, "VolumeSizeInGB": 30},
                StoppingCondition={"MaxRuntimeInSeconds": 18000},
                EnableManagedSpotTraining=spot,
            )["TrainingJobArn"]
            steps[execution] = arn
            started = NOW - dt.timedelta(days=i, hours=3)
            # What moto does not model (see the module docstring), on the job it stores: DescribeTrainingJob
            # answers with the job's attributes in CamelCase.
            vars(backend.training_jobs[name]).update(
                training_time_in_seconds=run.seconds,
                billable_time_in_seconds=run.billable,
                training_start_time=started,
                training_end_time=started + dt.timedelta(seconds=run.seconds),
                secondary_status_transitions=[
                    {"Status": "Interrupted", "StartTime": started, "StatusMessage": "spot capacity reclaimed"}
                ]
                * run.interruptions,
            )
            for metric, value in (("CPUUtilization", run.cpu), ("MemoryUtilization", run.memory)):
                cloudwatch.put_metric_data(
                    Namespace="/aws/sagemaker/TrainingJobs",
                    MetricData=[
                        {
                            "MetricName": metric,
                            "Dimensions": [{"Name": "Host", "Value": f"{name}/algo-1"}],
                            "Timestamp": started + dt.timedelta(minutes=m),
                            "Value": value * share,
                        }
                        for m, share in ((5, 0.5), (25, 1.0))
                    ],
                )

    def execution_steps(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        arn = json.loads(params["body"])["PipelineExecutionArn"]
        listed = {"PipelineExecutionSteps": [{"StepName": "Train", "Metadata": {"TrainingJob": {"Arn": steps[arn]}}}]}
        return AWSResponse("https://sagemaker", 200, {}, None), listed

    sagemaker.meta.events.register("before-call.sagemaker.ListPipelineExecutionSteps", execution_steps)


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        clients = Aws(boto3.client("sagemaker", region_name=REGION), boto3.client("cloudwatch", region_name=REGION))
        seed(clients.sagemaker, clients.cloudwatch, "dev", RUNS)
        yield clients


def run_advice(repo: Path, prices: Path, aws: Aws) -> Report:
    return advise(
        "dev", DAYS, load_prices(prices), root=repo, cloudwatch=aws.cloudwatch, sagemaker=aws.sagemaker, now=NOW
    )


def measured_spot_ratio() -> float:
    spot = [r for spot, _, runs in RUNS.values() if spot for r in runs]
    return 1 - sum(r.billable for r in spot) / sum(r.seconds for r in spot)


def test_on_demand_steady_runs_are_proposed_for_spot_with_the_measured_saving(
    repo: Path, prices: Path, aws: Aws
) -> None:
    report = run_advice(repo, prices, aws)
    [spot] = [p for p in report.proposals if p.model == "steady"]

    assert (spot.kind, spot.endpoint) == ("spot-training", "dev-steady-training")
    # 4 on-demand hours a week on ml.m5.xlarge, scaled to a month, x the ratio the other pipelines' spot
    # runs measured (1 - billable / training time), not the assumption.
    ratio = measured_spot_ratio()
    assert spot.monthly_saving_usd == pytest.approx(4 * PER_MONTH * 0.25 * ratio)
    evidence = " | ".join(spot.evidence)
    assert "4 run(s) in 7 days, 4.00 billed instance-hours (BillableTimeInSeconds)" in evidence
    assert f"spot saving ratio {ratio:.0%}: measured over the environment's spot runs" in evidence
    # Spot needs max_wait_minutes >= max_runtime_minutes (300); the file leaves it at its default 240.
    assert spot.change is not None
    assert (spot.change.path, spot.change.old, spot.change.new) == ("models[steady].training.spot", False, True)
    [wait] = spot.also
    assert (wait.path, wait.old, wait.new, wait.added) == ("models[steady].training.max_wait_minutes", 240, 600, True)


def test_without_measured_spot_runs_the_saving_uses_the_stated_assumption(repo: Path, prices: Path, aws: Aws) -> None:
    only_steady = ENV[: ENV.index("  - name: interrupted")].replace(
        "  platform_cost_center: CC-4000\n", "  platform_cost_center: CC-4000\n  spot_savings_assumption_percent: 60\n"
    )
    (repo / "environments" / "dev.yaml").write_text(only_steady)

    report = run_advice(repo, prices, aws)

    [spot] = report.proposals
    assert spot.monthly_saving_usd == pytest.approx(4 * PER_MONTH * 0.25 * 0.60)
    assert any("finops.spot_savings_assumption_percent, the environment's own assumption" in e for e in spot.evidence)


def test_production_keeps_on_demand_when_no_pipeline_there_trains_on_spot(repo: Path, prices: Path, aws: Aws) -> None:
    (repo / "environments" / "staging.yaml").unlink()  # dev is now the top of the promotion chain
    only_steady = ENV[: ENV.index("  - name: interrupted")]
    (repo / "environments" / "dev.yaml").write_text(only_steady)

    report = run_advice(repo, prices, aws)

    assert report.proposals == ()
    [line] = report.training
    assert "left alone: on-demand kept: a production environment none of whose pipelines trains on spot" in line
    # The same production environment with pipelines that already train on spot has accepted spot's waits.
    (repo / "environments" / "dev.yaml").write_text(ENV)
    report = run_advice(repo, prices, aws)
    assert "spot-training" in {p.kind for p in report.proposals if p.model == "steady"}


def test_spot_with_heavy_interruptions_is_proposed_back_to_on_demand(repo: Path, prices: Path, aws: Aws) -> None:
    report = run_advice(repo, prices, aws)
    [back] = [p for p in report.proposals if p.model == "interrupted"]

    assert back.kind == "on-demand-training"
    # Billed: 1,200 + 2 x 5,400 s = 3.33 h; on-demand: 3 runs x the calm run's 3,600 s = 3 h.
    extra_hours = (1200 + 2 * 5400 - 3 * 3600) / 3600
    assert back.monthly_saving_usd == pytest.approx(extra_hours * PER_MONTH * 0.25)
    assert "6 interruption(s) in 3 runs (SecondaryStatusTransitions Interrupted)" in back.evidence
    assert any("from the median training time of the 1 run(s) without an interruption" in e for e in back.evidence)
    # The file leaves spot to its default (true): the change adds the key.
    assert back.change is not None and back.also == ()
    assert (back.change.path, back.change.old, back.change.new, back.change.added) == (
        "models[interrupted].training.spot",
        True,
        False,
        True,
    )


def test_low_utilization_is_proposed_a_smaller_instance_priced_from_the_price_book(
    repo: Path, prices: Path, aws: Aws
) -> None:
    report = run_advice(repo, prices, aws)
    [smaller] = [p for p in report.proposals if p.model == "roomy"]

    assert smaller.kind == "smaller-training-instance"
    # 3 x 900 billable s a week, scaled to a month, x (0.50 - 0.25) USD/h; the duration is assumed unchanged.
    assert smaller.monthly_saving_usd == pytest.approx(3 * 900 / 3600 * PER_MONTH * (0.5 - 0.25))
    evidence = " | ".join(smaller.evidence)
    assert "CPU peak 20.0% of 8 vCPUs and memory peak 30.0% over 3 runs" in evidence
    assert "assuming a run takes as long on the smaller size" in evidence
    assert smaller.change is not None
    assert (smaller.change.old, smaller.change.new, smaller.change.added) == ("ml.m5.2xlarge", "ml.m5.xlarge", False)
    [line] = [t for t in report.training if t.startswith("dev-roomy-training")]
    assert "proposed: smaller-training-instance" in line
    assert "spot kept: 0.75 billed instance-hours against 1.50 on-demand (0 interruption(s) in 3 runs)" in line


def test_smaller_instance_saving_is_unknown_without_the_smaller_size_price(repo: Path, prices: Path, aws: Aws) -> None:
    data = json.loads(prices.read_text())
    data["prices"] = [p for p in data["prices"] if p["item"] != "ml.m5.xlarge"]
    prices.write_text(json.dumps(data))

    report = run_advice(repo, prices, aws)

    [smaller] = [p for p in report.proposals if p.model == "roomy"]
    assert smaller.monthly_saving_usd is None
    assert "saving unknown: no training price for ml.m5.xlarge in eu-west-1" in smaller.evidence


def test_a_busy_spot_pipeline_that_pays_is_left_alone(repo: Path, prices: Path, aws: Aws) -> None:
    report = run_advice(repo, prices, aws)

    assert "busy" not in {p.model for p in report.proposals}
    [line] = [t for t in report.training if t.startswith("dev-busy-training")]
    assert line.startswith("dev-busy-training: 3 training run(s) in 7 days; longest 60 min of max_runtime_minutes")
    assert "left alone: spot kept: 1.50 billed instance-hours against 3.00 on-demand" in line
    assert "size kept: busy (CPU peak 80.0% of 4 vCPUs and memory peak 50.0% over 3 runs" in line


def test_pr_changes_exactly_the_proposed_values_and_the_file_still_loads(
    repo: Path, prices: Path, aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("boto3.client", lambda service, **_: getattr(aws, service))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)  # no GitHub: the gh command is printed instead

    code = main(["finops", "advise", "dev", "--days", "7", "--pr", "--root", str(repo), "--prices", str(prices)])
    out = capsys.readouterr().out

    assert code == 0, out
    assert "gh pr create --base main --head finops/dev-" in out
    diff = git(repo, "diff", "main", "HEAD", "--unified=0", "--", "environments/dev.yaml")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == [
        "-      spot: false",
        "+      spot: true",
        "+      max_wait_minutes: 600",
        "+      spot: false",
        "-      instance_type: ml.m5.2xlarge  # sized for a data set that never came",
        # ruamel keeps the comment in its column
        "+      instance_type: ml.m5.xlarge   # sized for a data set that never came",
    ]
    after = (repo / "environments" / "dev.yaml").read_text()
    # A key the file left to its default goes where no comment ends up above the wrong key: at the end of
    # the block, or above the last key when the next model's comment follows it.
    assert "      max_runtime_minutes: 300\n      max_wait_minutes: 600\n  - name: interrupted\n" in after
    assert (
        "      # Spot, the default: the file does not say so.\n      metric: {name: auc, minimum: 0.8}\n"
        "      spot: false\n      instance_type: ml.m5.xlarge\n\n  # Sized for a data set that never came.\n"
    ) in after
    # The changed file is still a valid environment, with the values the proposals set.
    env = load_environment("dev", repo)
    training = {m.name: m.training for m in env.models}
    assert training["steady"] is not None and training["steady"].spot
    assert training["steady"].max_wait_minutes == 600
    assert training["interrupted"] is not None and not training["interrupted"].spot
    assert training["roomy"] is not None and training["roomy"].instance_type == "ml.m5.xlarge"


def test_apply_changes_refuses_a_value_that_changed_since(repo: Path, prices: Path, aws: Aws) -> None:
    report = run_advice(repo, prices, aws)
    [spot] = [p for p in report.proposals if p.model == "interrupted"]
    path = repo / "environments" / "dev.yaml"
    comment = "      # Spot, the default"
    path.write_text(path.read_text().replace(comment, "      spot: true\n" + comment))

    with pytest.raises(AdviceRefusedError, match=r"models\[interrupted\]\.training\.spot is set in the file now"):
        apply_changes(path, list(spot.changes))
