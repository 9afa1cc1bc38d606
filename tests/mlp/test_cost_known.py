"""`mlp cost`'s "What would make it known": the distinct missing prices with the command that fills them, and
the missing environment-file assumptions with the lines they would complete; and
finops.expected_runs_per_month, the runs per month of a pipeline no readable schedule starts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlp.cli import EXIT_INPUT, main
from mlp.plan import Plan
from tests.conftest import FIXTURE_ROOT
from tests.mlp.fixture_environments import line_of
from tests.mlp.test_cost import FRAUD_TAGS, REGION, resource, write_prices
from tests.mlp.test_cost_complete import fixture_plan as complete_plan

Edit = Callable[[str, Callable[[Any], None]], Path]

TRAINING_PRICE = 0.25  # the test's own price for a training instance-hour of ml.m5.xlarge
PRICES = [
    (REGION, "sagemaker-hosting", "ml.m5.xlarge", 0.2, "instance-hour"),
    (REGION, "sagemaker-training", "ml.m5.xlarge", TRAINING_PRICE, "instance-hour"),
    ("any", "kms-key", "customer-managed-key", 1.0, "key-month"),
]
TRAINING_COMPONENT = "mlplatform:platform:MLPlatform$mlplatform:pipelines:TrainingPipeline"


def training_pipeline(name: str) -> dict[str, Any]:
    """A training pipeline as the TrainingPipeline component plans it (its URN names the component): one
    Training step of 2 x ml.m5.xlarge for at most 2 hours, on demand."""
    definition = {
        "Version": "2020-12-01",
        "Steps": [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 30},
                    "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
                },
            }
        ],
    }
    pipeline = resource(
        "aws:sagemaker/pipeline:Pipeline",
        name,
        {"pipelineName": name, "pipelineDefinition": json.dumps(definition), "tags": FRAUD_TAGS},
    )
    pipeline["urn"] = f"urn:pulumi:dev::ml-platform::{TRAINING_COMPONENT}$aws:sagemaker/pipeline:Pipeline::{name}"
    return pipeline


def training_plan() -> Plan:
    """An unscheduled training pipeline next to one a schedule starts twice a month."""
    schedule = resource(
        "aws:scheduler/schedule:Schedule",
        "scheduled-training-schedule",
        {
            "scheduleExpression": "cron(0 2 1,15 * ? *)",
            "target": {"arn": f"arn:aws:sagemaker:{REGION}:111111111111:pipeline/dev-scheduled-training"},
        },
    )
    return {
        "project": "ml-platform",
        "stack": "dev",
        "resources": [
            resource("pulumi:providers:aws", "aws-dev", {"region": REGION}),
            training_pipeline("dev-manual-training"),
            training_pipeline("dev-scheduled-training"),
            schedule,
        ],
    }


def cost(root: Path, plan: Plan, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    prices = write_prices(tmp_path / "prices.json", PRICES)
    args = ["cost", "dev", "--root", str(root), "--plan", str(plan_file), "--prices", str(prices), *extra]
    assert main(args) == 0
    return capsys.readouterr().out


def section(out: str) -> list[str]:
    """The lines of "What would make it known" (the last section)."""
    lines = out.splitlines()
    return lines[lines.index("What would make it known:") + 1 :]


def runs_per_month(runs: object) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        data["finops"]["expected_runs_per_month"] = {"training": runs}

    return edit


def test_a_missing_instance_price_is_listed_once_with_the_command_that_fills_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The plan's monitoring schedule runs ml.m5.xlarge processing jobs, a price PRICES lacks; the rest is priced.
    out = cost(FIXTURE_ROOT, complete_plan(), tmp_path, capsys)

    assert section(out) == [
        "  Prices missing from the price file:",
        f"    sagemaker-processing ml.m5.xlarge ({REGION}): 1 line",
        f"  Fill them with: uv run mlp prices refresh --region {REGION}  "
        "(AWS Price List bulk files; the weekly prices.yml workflow)",
    ]
    # The line keeps its own note.
    assert f"! no price for sagemaker-processing ml.m5.xlarge in {REGION}" in out

    known = json.loads(cost(FIXTURE_ROOT, complete_plan(), tmp_path, capsys, "--json"))["to_make_known"]
    assert known == {
        "prices": [
            {
                "kind": "sagemaker-processing",
                "item": "ml.m5.xlarge",
                "region": REGION,
                "lines": 1,
                "resources": ["fraud-scoring-dq-schedule"],
                "filled_by_refresh": True,
            }
        ],
        "refresh_command": f"uv run mlp prices refresh --region {REGION}",
        "assumptions": [],
        "other": [],
    }


def test_a_known_total_has_no_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = complete_plan()
    plan["resources"] = [r for r in plan["resources"] if "monitoring" not in r["type"].lower()]
    out = cost(FIXTURE_ROOT, plan, tmp_path, capsys)
    assert "Total: 293.00" in out  # 2 x 730 h x 0.2 + the key's 1.00
    assert "What would make it known" not in out


def test_expected_runs_price_an_unscheduled_training_pipeline(
    edit_env: Edit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = edit_env("dev", runs_per_month(4))
    data = json.loads(cost(root, training_plan(), tmp_path, capsys, "--json"))

    items = {i["resource"]: i for i in data["items"]}
    manual, scheduled = items["dev-manual-training"], items["dev-scheduled-training"]
    # 4 runs x 2 instances x 2 h (MaxRuntimeInSeconds 7200) at the test's price.
    assert manual["monthly_usd"] == pytest.approx(4 * 2 * 2 * TRAINING_PRICE)
    assert manual["description"] == (
        "training step Train: 2 x ml.m5.xlarge x 4 runs/month assumed (finops.expected_runs_per_month.training) "
        "x up to 2 h"
    )
    assert manual["notes"] == []
    # A pipeline its schedule starts keeps the schedule's count (twice a month), not the assumption.
    assert scheduled["monthly_usd"] == pytest.approx(2 * 2 * 2 * TRAINING_PRICE)
    assert "assumed" not in scheduled["description"]
    assert (
        "Each training pipeline that no schedule starts is assumed to run 4 times a month "
        "(finops.expected_runs_per_month.training)." in data["assumptions"]
    )
    assert data["total"]["monthly_usd"] == pytest.approx(6 * 2 * 2 * TRAINING_PRICE)
    assert data["to_make_known"] == {"prices": [], "refresh_command": None, "assumptions": [], "other": []}

    text = cost(root, training_plan(), tmp_path, capsys)
    assert "  - Each training pipeline that no schedule starts is assumed to run 4 times a month" in text


def test_without_expected_runs_the_field_is_named_as_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = cost(FIXTURE_ROOT, training_plan(), tmp_path, capsys)

    assert section(out) == [
        "  Assumptions missing from environments/dev.yaml (each completes its lines, with their prices):",
        "    finops.expected_runs_per_month.training: 1 line of dev-manual-training",
    ]
    assert (
        "! runs per month unknown: no schedule with a readable expression targets the pipeline and no "
        "finops.expected_runs_per_month.training"
    ) in out


def test_a_pipeline_of_no_known_kind_is_listed_under_other_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = training_plan()
    orphan = resource("aws:sagemaker/pipeline:Pipeline", "dev-orphan", training_pipeline("x")["inputs"])
    plan["resources"] = [plan["resources"][0], orphan]
    out = cost(FIXTURE_ROOT, plan, tmp_path, capsys)

    assert section(out) == [
        "  Unknown for other reasons (the ! notes above):",
        "    dev-orphan: runs per month unknown: no schedule with a readable expression targets the pipeline",
    ]


def test_the_planned_training_pipelines_take_the_expected_runs(
    edit_env: Edit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real components' URNs: every training pipeline of the fixture environment is found by its kind.
    root = edit_env("dev", runs_per_month(3))
    assert main(["cost", "dev", "--root", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)

    training = [i for i in data["items"] if i["resource"].endswith("-training-pipeline")]
    assert training
    for item in training:
        assert "x 3 runs/month assumed (finops.expected_runs_per_month.training)" in item["description"]
        assert not any(n.startswith("runs per month unknown") for n in item["notes"])
    fields = [a["field"] for a in data["to_make_known"]["assumptions"]]
    assert "finops.expected_runs_per_month.training" not in fields


@pytest.mark.parametrize(
    ("value", "message"),
    [(0, "must be greater than 0 (got 0)"), ("weekly", "must be a number, e.g. 0.85 (got 'weekly')")],
)
def test_a_bad_expected_runs_value_is_refused_with_file_field_and_line(
    edit_env: Edit, capsys: pytest.CaptureFixture[str], value: object, message: str
) -> None:
    root = edit_env("dev", runs_per_month(value))
    line = line_of(root, "expected_runs_per_month:") + 1  # its `training:` line

    assert main(["cost", "dev", "--root", str(root), "--plan", "/dev/null"]) == EXIT_INPUT
    [error] = capsys.readouterr().err.strip().splitlines()
    assert error == f"error: environments/dev.yaml:{line}: finops.expected_runs_per_month.training: {message}"
