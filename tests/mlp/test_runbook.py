"""`mlp runbook`: committed runbooks are current, regenerate identically, and follow new models."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.loader import load_environment
from mlp.cli import main
from mlp.generated import stale_files, write_files
from mlp.plan import Plan, build_plan
from mlp.runbook import RUNBOOK_SUFFIX, render_runbooks, runbook_dir
from tests.conftest import ENVIRONMENTS, fixture_env, one_of, resources_of


def test_every_model_served_on_sagemaker_or_in_batch_gets_one_runbook(plans: dict[str, Plan]) -> None:
    for env in ENVIRONMENTS:
        wanted = render_runbooks(fixture_env(env), plans[env])
        served = [m for m in fixture_env(env).models if m.serving.platform in ("sagemaker", "batch")]
        assert sorted(wanted) == sorted(f"{m.name}.md" for m in served)


def test_rendering_is_deterministic(plans: dict[str, Plan]) -> None:
    env = fixture_env("prod")
    assert render_runbooks(env, plans["prod"]) == render_runbooks(env, json.loads(json.dumps(plans["prod"])))


def test_write_regenerates_identically_and_removes_runbooks_of_models_gone(
    plans: dict[str, Plan], tmp_path: Path
) -> None:
    wanted = render_runbooks(fixture_env("prod"), plans["prod"])
    directory = tmp_path / "prod"
    assert write_files(directory, wanted, RUNBOOK_SUFFIX) == sorted(wanted)
    first = {p.name: p.read_bytes() for p in directory.iterdir()}
    (directory / "retired-model.md").write_text("old\n")
    assert write_files(directory, wanted, RUNBOOK_SUFFIX) == ["retired-model.md"]
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == first
    assert write_files(directory, wanted, RUNBOOK_SUFFIX) == []


def test_check_fails_on_a_stale_runbook(env_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", "staging", "--root", str(env_root)]) == 0
    assert main(["runbook", "staging", "--check", "--root", str(env_root)]) == 0
    capsys.readouterr()
    stale = env_root / "docs" / "runbooks" / "staging" / "fraud-scoring.md"
    stale.write_text(stale.read_text().replace("Version **13**", "Version **12**"))
    assert main(["runbook", "staging", "--check", "--root", str(env_root)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "docs/runbooks/staging/fraud-scoring.md is out of date: run `uv run mlp runbook staging`"
    ]


def test_prod_fraud_runbook_says_what_the_plan_deploys(plans: dict[str, Plan]) -> None:
    text = render_runbooks(fixture_env("prod"), plans["prod"])["fraud-scoring.md"]
    for expected in (
        "- Owners: fraud-ml@payments.example.com, fraud-oncall@payments.example.com",
        "- On call: fraud-ml-pager@payments.example.com",
        "- Version **12** of model package group `fraud-scoring`",
        "- Shadow: version 13 receives 20% of requests",
        "A new version rolls out **canary**: 25% of the new fleet takes traffic first and bakes 15 min",
        "| `prod-fraud-scoring-p99-latency` | `AWS/SageMaker` ModelLatency | p99 | GreaterThan 150000 µs (150 ms) | "
        "3 min | `prod-fraud-page` |",
        "| `prod-fraud-scoring-cpu` | `/aws/sagemaker/Endpoints` CPUUtilization | Average | GreaterThan 85 | 5 min |",
        # The evidently engine (the example files'), without a pinned image yet.
        "Engine: **evidently**",
        "**Not running**: no drift job image is pinned",
        "`pipelines/fraud-scoring/baselines/v12/data-quality/reference.csv`",
        "/monitoring/fraud-scoring/v12/latest.json` names the newest run",
        "| `prod-fraud-scoring-quality-recall` | `MLPlatform/Monitoring` quality_recall | Maximum | LessThan 0.8",
        "#dashboards/dashboard/prod-fraud)",
        "aws cloudwatch set-alarm-state --region eu-west-1 --alarm-name prod-fraud-scoring-5xx-errors",
        "git revert <commit>",
    ):
        assert expected in text, expected
    # Every rollback alarm of the plan is in the runbook with its threshold.
    for alarm in resources_of(plans["prod"], "aws:cloudwatch/metricAlarm:MetricAlarm"):
        if alarm["name"].startswith("fraud-scoring-alarm-"):
            assert f"| `{alarm['inputs']['name']}` |" in text
            assert f" {alarm['inputs']['threshold']:g}" in text


def test_a_model_without_rollback_alarms_is_rolled_back_by_pull_request(plans: dict[str, Plan]) -> None:
    text = render_runbooks(fixture_env("dev"), plans["dev"])["transaction-anomaly.md"]
    assert "No rollback alarms" in text
    assert "SageMaker cannot be told to roll back" in text
    assert "Not monitored: the endpoint captures no data." in text
    assert "- Serverless: 2048 MB, up to 5 concurrent" in text


def test_a_model_added_to_an_environment_gets_a_dashboard_row_monitors_and_a_runbook(
    edit_env: Callable[..., Path],
) -> None:
    def add_model(data: Any) -> None:
        data["models"].append(
            {
                "name": "chargeback-risk",
                "team": "risk",
                "registry_group": "chargeback-risk",
                "version": 3,
                "serving": {
                    "instance_type": "ml.m5.large",
                    "instance_count": 2,
                    "rollout": {"strategy": "all-at-once"},
                    "slos": {"p99_latency_ms": 400, "max_5xx_errors_per_minute": 10},
                    "data_capture": {"sampling_percent": 5},
                },
            }
        )

    root = edit_env("prod", lambda data: None)
    assert main(["runbook", "prod", "--root", str(root)]) == 0  # the runbooks committed before the change
    edit_env("prod", add_model)
    plan = build_plan("prod", root)
    env = load_environment("prod", root)
    bodies = {
        d["inputs"]["dashboardName"]: json.loads(d["inputs"]["dashboardBody"])
        for d in resources_of(plan, "aws:cloudwatch/dashboard:Dashboard")
    }
    for dashboard in ("prod-ml-platform", "prod-risk"):
        titles = [w["properties"].get("title", "") for w in bodies[dashboard]["widgets"]]
        assert [t.split(": ", 1)[1] for t in titles if t.startswith("chargeback-risk: ")] == [
            "invocations",
            "model latency p50 / p99 (microseconds)",
            "4xx / 5xx errors",
            "instances (autoscaling 2-2)",
            "monitoring violations (daily)",
            "alarms",
        ]
    assert not any("chargeback-risk" in json.dumps(w) for w in bodies["prod-fraud"]["widgets"])
    # Captures data, so it is monitored by default (daily, evidently engine: no job until an image is pinned).
    monitor = one_of(plan, "mlplatform:evidently_monitoring:EvidentlyMonitor", "chargeback-risk-monitor")
    assert monitor["parent"] is not None
    assert any(w.startswith("chargeback-risk-monitor: no drift job image pinned") for w in plan["warnings"])
    latency = one_of(plan, "aws:cloudwatch/metricAlarm:MetricAlarm", "chargeback-risk-alarm-p99-latency")
    assert latency["inputs"]["alarmActions"] == ["arn:aws:sns:eu-west-1:630417952386:prod-risk-page"]
    runbooks = render_runbooks(env, plan)
    assert sorted(runbooks) == ["chargeback-risk.md", "fraud-scoring.md", "transaction-anomaly.md"]
    text = runbooks["chargeback-risk.md"]
    assert text.startswith("# Runbook: chargeback-risk in prod\n")
    assert "- Version **3** of model package group `chargeback-risk`" in text
    assert "| `prod-chargeback-risk-p99-latency` | `AWS/SageMaker` ModelLatency | p99 | GreaterThan 400000 µs" in text
    # The committed runbooks no longer match this environment: the check would fail until regenerated.
    assert stale_files(runbook_dir(root, "prod"), runbooks, RUNBOOK_SUFFIX) == ["chargeback-risk.md"]


def test_an_unknown_environment_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", "qa"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: environments/qa.yaml: unknown environment 'qa': there is no environments/qa.yaml"
    )
