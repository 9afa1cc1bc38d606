"""`mlp cost`: estimates from plan documents, unknown prices, deltas between git revisions, actual spend
from Cost Explorer (moto) and the price refresh from the Price List API (botocore Stubber)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber
from moto import mock_aws

from components.data_root import repo_root
from mlp.cli import EXIT_INPUT, main
from mlp.commands.cost import instance_types_of, refresh_prices
from mlp.cost_delta import render_delta_markdown, render_delta_text
from mlp.cost_estimate import Assumptions, ServerlessTraffic, estimate
from mlp.cost_schedules import runs_per_month
from mlp.plan import Plan
from mlp.pricing import load_prices
from tests.mlp.fixture_environments import ENVIRONMENT, write_environment

ACCOUNT = "418295730164"
REGION = "eu-west-1"
FRAUD_TAGS = {
    "environment": "dev",
    "team": "fraud",
    "cost-center": "CC-4100",
    "managed-by": "pulumi/ml-platform",
    "repository": "payments-co/ml-platform",
    "model": "fraud-scoring",
}
RISK_TAGS = {**FRAUD_TAGS, "team": "risk", "cost-center": "CC-4200", "model": "transaction-anomaly"}
PLATFORM_TAGS = {k: v for k, v in {**FRAUD_TAGS, "team": "platform"}.items() if k != "model"}

# Fixture prices (not real ones): round numbers so the hand computation below is exact.
FIXTURE_PRICES = [
    ("eu-west-1", "sagemaker-hosting", "ml.m5.large", 0.1, "instance-hour"),
    ("eu-west-1", "sagemaker-training", "ml.m5.xlarge", 0.25, "instance-hour"),
    ("eu-west-1", "sagemaker-serverless-compute", "2048MB", 0.00004, "second"),
    ("any", "kms-key", "customer-managed-key", 1.0, "key-month"),
]


def write_prices(path: Path, entries: list[tuple[str, str, str, float, str]] = FIXTURE_PRICES) -> Path:
    data = {
        "hours_per_month": {"value": 730, "source": "fixture", "read_on": "2026-11-25"},
        "prices": [
            {
                "region": r,
                "kind": k,
                "item": i,
                "usd_per_unit": usd,
                "unit": unit,
                "source": "test fixture",
                "read_on": "2026-11-25",
            }
            for r, k, i, usd, unit in entries
        ],
    }
    path.write_text(json.dumps(data))
    return path


def resource(type_: str, name: str, inputs: dict[str, Any], deps: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:dev::ml-platform::{type_}::{name}",
        "type": type_,
        "name": name,
        "parent": None,
        "custom": True,
        "protect": False,
        "dependencies": list(deps),
        "inputs": inputs,
    }


def fixture_plan(fraud_instances: int = 2) -> Plan:
    """A small environment in the shapes the serving and pipeline components produce."""
    provider = resource("pulumi:providers:aws", "aws-dev", {"region": REGION, "allowedAccountIds": f'["{ACCOUNT}"]'})
    fraud_config = resource(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "fraud-scoring-config",
        {
            "name": "dev-fraud-scoring-v14",
            "productionVariants": [
                {
                    "variantName": "AllTraffic",
                    "modelName": "dev-fraud-scoring-v14",
                    "instanceType": "ml.m5.large",
                    "initialInstanceCount": fraud_instances,
                }
            ],
            "shadowProductionVariants": [
                {"variantName": "Shadow", "modelName": "dev-fraud-scoring-v15", "instanceType": "ml.c5.2xlarge"}
            ],
            "tags": FRAUD_TAGS,
        },
    )
    fraud_endpoint = resource(
        "aws:sagemaker/endpoint:Endpoint",
        "fraud-scoring-endpoint",
        {
            "name": "dev-fraud-scoring",
            "endpointConfigName": "dev-fraud-scoring-v14",
            "deploymentConfig": {
                "blueGreenUpdatePolicy": {
                    "maximumExecutionTimeoutInSeconds": 3600,
                    "trafficRoutingConfiguration": {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 0},
                }
            },
            "tags": FRAUD_TAGS,
        },
        deps=(fraud_config["urn"],),
    )
    scaling = resource(
        "aws:appautoscaling/target:Target",
        "fraud-scoring-scaling",
        {
            "serviceNamespace": "sagemaker",
            "resourceId": "endpoint/dev-fraud-scoring/variant/AllTraffic",
            "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "minCapacity": fraud_instances,
            "maxCapacity": fraud_instances * 2,
        },
    )
    risk_config = resource(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "transaction-anomaly-config",
        {
            "name": "dev-transaction-anomaly-v6",
            "productionVariants": [
                {
                    "variantName": "AllTraffic",
                    "modelName": "dev-transaction-anomaly-v6",
                    "serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5},
                }
            ],
            "tags": RISK_TAGS,
        },
    )
    risk_endpoint = resource(
        "aws:sagemaker/endpoint:Endpoint",
        "transaction-anomaly-endpoint",
        {"name": "dev-transaction-anomaly", "endpointConfigName": "dev-transaction-anomaly-v6", "tags": RISK_TAGS},
        deps=(risk_config["urn"],),
    )
    unused_config = resource(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "fraud-scoring-config-old",
        {
            "name": "dev-fraud-scoring-v13",
            "productionVariants": [{"variantName": "AllTraffic", "instanceType": "ml.m5.large"}],
            "tags": FRAUD_TAGS,
        },
    )
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"}],
        "Steps": [
            {"Name": "Prepare", "Type": "Processing", "Arguments": {}},
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "ResourceConfig": {
                        "InstanceType": {"Get": "Parameters.TrainingInstanceType"},
                        "InstanceCount": 2,
                        "VolumeSizeInGB": 30,
                    },
                    "StoppingCondition": {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 10800},
                    "EnableManagedSpotTraining": True,
                },
            },
        ],
    }
    pipeline = resource(
        "aws:sagemaker/pipeline:Pipeline",
        "fraud-scoring-training",
        {
            "pipelineName": "dev-fraud-scoring-training",
            "pipelineDefinition": json.dumps(definition),
            "tags": FRAUD_TAGS,
        },
    )
    schedule = resource(
        "aws:scheduler/schedule:Schedule",
        "fraud-scoring-training-schedule",
        {
            "scheduleExpression": "cron(0 2 1,15 * ? *)",
            "target": {"arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/dev-fraud-scoring-training"},
        },
    )
    key = resource("aws:kms/key:Key", "dev-foundation-key", {"enableKeyRotation": True, "tags": PLATFORM_TAGS})
    resources = [
        provider,
        fraud_config,
        fraud_endpoint,
        scaling,
        risk_config,
        risk_endpoint,
        unused_config,
        pipeline,
        schedule,
        key,
    ]
    return {"project": "ml-platform", "stack": "dev", "resources": resources}


ASSUMPTIONS = Assumptions(
    spot_savings_percent=50,
    serverless={"transaction-anomaly": ServerlessTraffic(monthly_requests=1_000_000, mean_duration_ms=100)},
)


def test_estimate_matches_the_hand_computation(tmp_path: Path) -> None:
    est = estimate(fixture_plan(), load_prices(write_prices(tmp_path / "prices.json")), ASSUMPTIONS)
    costs = {(i.resource, i.category): (i.low, i.high) for i in est.items}

    # 2..4 (autoscaling) x ml.m5.large at 0.1/h x 730 h
    assert costs["fraud-scoring-config", "endpoint"] == pytest.approx((146.0, 292.0))
    # shadow variant on ml.c5.2xlarge: no price in the file
    assert costs["fraud-scoring-config", "shadow"] == (None, None)
    # 1,000,000 requests x 0.1 s = 100,000 s x 0.00004
    assert costs["transaction-anomaly-config", "serverless"] == pytest.approx((4.0, 4.0))
    # 2 runs (1st and 15th) x 2 instances x 2 h (MaxRuntime) x 0.25 x (1 - 50% spot)
    assert costs["fraud-scoring-training", "training"] == pytest.approx((1.0, 1.0))
    assert costs["dev-foundation-key", "fixed"] == (1.0, 1.0)
    # The configuration no endpoint uses is not billed.
    assert not any(r == "fraud-scoring-config-old" for r, _ in costs)

    teams = est.by("team")
    assert teams["risk"].low == pytest.approx(4.0)
    assert teams["risk"].complete
    assert teams["fraud"].unknown == ("fraud-scoring-config",)
    assert (teams["fraud"].low, teams["fraud"].high) == pytest.approx((147.0, 293.0))
    assert set(est.by("cost_center")) == {"CC-4100", "CC-4200"}
    assert set(est.by("model")) == {"fraud-scoring", "transaction-anomaly", "(shared)"}
    # The blue/green double fleet is noted, not counted: 4 x 0.1/h at most, for at most 1 h.
    [rollout] = est.rollouts
    assert "up to 0.40 USD per hour" in rollout
    assert "at most 0.40 USD per rollout" in rollout


def test_cli_json_groups_by_team_and_shows_unknown_never_zero(
    tmp_path: Path, edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def assumptions(data: Any) -> None:
        data["finops"]["spot_savings_assumption_percent"] = 50
        data["finops"]["serverless_usage"] = [
            {"model": "transaction-anomaly", "monthly_requests": 1000000, "mean_duration_ms": 100}
        ]

    root = edit_env("dev", assumptions)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(fixture_plan()))
    prices = write_prices(tmp_path / "prices.json")

    code = main(["cost", "dev", "--root", str(root), "--plan", str(plan_file), "--prices", str(prices), "--json"])
    out = json.loads(capsys.readouterr().out)

    assert code == 0
    assert out["by_team"]["risk"]["monthly_usd"] == 4.0
    assert out["by_team"]["fraud"]["monthly_usd"] == "unknown"
    assert out["by_team"]["fraud"]["known_part_usd"] == 147.0
    assert out["by_team"]["fraud"]["unknown_resources"] == ["fraud-scoring-config"]
    assert out["total"]["monthly_usd"] == "unknown"
    shadow = next(i for i in out["items"] if i["category"] == "shadow")
    assert shadow["monthly_usd"] == "unknown"
    assert shadow["notes"] == ["no price for sagemaker-hosting ml.c5.2xlarge in eu-west-1"]
    training = next(i for i in out["items"] if i["category"] == "training")
    assert training["monthly_usd"] == 1.0
    assert training["prices"][0]["source"] == "test fixture"
    assert any("50% less than on-demand" in a for a in out["assumptions"])


def test_text_output_prints_unknown_and_the_notes(tmp_path: Path) -> None:
    from mlp.cost_render import render_text

    est = estimate(fixture_plan(), load_prices(write_prices(tmp_path / "p.json")), Assumptions())
    text = render_text(est)
    assert "no expected traffic for model transaction-anomaly: add it to finops.serverless_usage" in text
    assert "146.00..292.00" in text
    assert "Total: unknown (" in text
    assert "0.00" not in text.split("Total:")[1].split("\n")[0].split("(")[0]


def test_missing_inputs_are_unknown_not_zero(tmp_path: Path) -> None:
    plan = fixture_plan()
    for r in plan["resources"]:
        if r["type"] == "aws:scheduler/schedule:Schedule":
            r["inputs"]["scheduleExpression"] = "at(2026-12-01T00:00:00)"
    est = estimate(plan, load_prices(write_prices(tmp_path / "p.json")), ASSUMPTIONS)
    [training] = [i for i in est.items if i.category == "training"]
    assert (training.low, training.high) == (None, None)
    assert "runs per month unknown" in training.notes[0]


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 day)", 730 / 24),
        ("rate(12 hours)", 730 / 12),
        ("cron(0 2 * * ? *)", 730 / 24),
        ("cron(0 2 1,15 * ? *)", 2),
        ("cron(30 6 ? * MON-FRI *)", 5 * 730 / 24 / 7),
        ("cron(0 2 L * ? *)", None),
        ("at(2026-12-01T00:00:00)", None),
    ],
)
def test_runs_per_month_of_schedule_expressions(expression: str, runs: float | None) -> None:
    result = runs_per_month(expression, 730)
    assert result == (pytest.approx(runs) if runs is not None else None)


def test_real_environments_estimate_without_inventing_prices(plans: dict[str, Plan]) -> None:
    """The committed price file prices what it has a source for; everything else stays unknown."""
    prices = load_prices()
    assert all(p.source.startswith(("https://", "AWS Price List API")) and p.read_on for p in prices.prices)
    for plan in plans.values():
        est = estimate(plan, prices)
        keys = [i for i in est.items if i.category == "fixed"]
        assert [(i.low, i.prices[0].source.split()[0]) for i in keys] == [(1.0, "https://aws.amazon.com/kms/pricing/")]


def test_delta_markdown_and_text(tmp_path: Path) -> None:
    prices = load_prices(write_prices(tmp_path / "p.json"))
    before = estimate(fixture_plan(2), prices, ASSUMPTIONS)
    after = estimate(fixture_plan(3), prices, ASSUMPTIONS)

    text = render_delta_text(before, after, "main")
    assert "fraud" in text and "+73.00..+146.00" in text
    md = render_delta_markdown(before, after, "main").splitlines()
    assert md[2] == "| Team | Model | Before (USD/month) | After (USD/month) | Change |"
    assert md[3] == "|---|---|---:|---:|---:|"
    fraud = next(line for line in md if line.startswith("| fraud | fraud-scoring |"))
    assert fraud.endswith("| +73.00..+146.00 |")
    risk = next(line for line in md if line.startswith("| risk | transaction-anomaly |"))
    assert risk == "| risk | transaction-anomaly | 4.00 | 4.00 | +0.00 |"


# --- against a git revision --------------------------------------------------------------------------

FIXTURE_PROGRAM = """
# Test fixture: an endpoint of its own team and model, whose instance count comes from fixture-serving.json.
import json as _json
from pathlib import Path as _Path

import pulumi_aws as _aws

_spec = _json.loads((_Path(__file__).parent / "fixture-serving.json").read_text())
_tags = {"team": "fixture-team", "cost-center": "CC-9999", "model": "fixture-model"}
_config = _aws.sagemaker.EndpointConfiguration(
    "fixture-config",
    name="fixture-config",
    production_variants=[{"variant_name": "AllTraffic", "model_name": "m", "instance_type": "ml.m5.large",
                          "initial_instance_count": _spec["instances"]}],
    tags=_tags,
)
_aws.sagemaker.Endpoint("fixture-endpoint", name="fixture-endpoint", endpoint_config_name=_config.name, tags=_tags)
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def make_repo(cache: Path) -> Callable[[Path], Path]:
    """Makes a git repository holding a copy of this project's code and two small environments (dev and staging:
    one team, one endpoint, no pipeline), plus a fixture endpoint in its stack program. The `plan` subprocesses
    of `--against` then plan in a few seconds, and never import the SDK (no pipeline, and the definition cache
    on, in an empty directory, as outside the tests)."""
    return _make_repo


def _make_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for part in ("components", "mlp", "stacks"):
        shutil.copytree(repo_root() / part, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
    write_environment(repo, "dev")
    write_environment(repo, "staging", ENVIRONMENT.replace('account_id: "111111111111"', 'account_id: "222222222222"'))
    shutil.copy(repo_root() / "Pulumi.yaml", repo / "Pulumi.yaml")
    program = repo / "stacks" / "__main__.py"
    program.write_text(program.read_text() + FIXTURE_PROGRAM)
    (repo / "stacks" / "fixture-serving.json").write_text('{"instances": 2}')
    git(repo, "init", "-q", "-b", "main")
    return repo


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)


def test_against_a_revision_reports_exactly_one_instance_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_repo: Callable[[Path], Path]
) -> None:
    repo = make_repo(tmp_path)
    commit_all(repo, "two instances")
    (repo / "stacks" / "fixture-serving.json").write_text('{"instances": 3}')  # the change under review
    prices = write_prices(tmp_path / "prices.json")

    # Run from a subdirectory: the work tree's root is found by git.
    code = main(
        ["cost", "dev", "--against", "main", "--repo", str(repo / "stacks"), "--prices", str(prices), "--markdown"]
    )
    out = capsys.readouterr().out

    assert code == 0, out
    one_instance_month = 0.1 * 730
    assert f"| fixture-team | fixture-model | 146.00 | 219.00 | +{one_instance_month:.2f} |" in out
    # Whatever else the platform deploys is unchanged, so the whole change is that one instance-month.
    [total] = [line for line in out.splitlines() if line.startswith("| **Total** |")]
    assert total.endswith(f"| **+{one_instance_month:.2f}** |")
    # The temporary worktree is gone.
    listed = subprocess.run(["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True, check=True)
    assert len(listed.stdout.strip().splitlines()) == 1


def test_an_environment_new_in_the_working_tree_costs_everything_it_deploys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_repo: Callable[[Path], Path]
) -> None:
    repo = make_repo(tmp_path)
    staging = [repo / "environments" / "staging.yaml", repo / "stacks" / "Pulumi.staging.yaml"]
    kept = [(path, path.read_text()) for path in staging]
    for path in staging:
        path.unlink()
    commit_all(repo, "no staging yet")
    for path, text in kept:
        path.write_text(text)
    prices = write_prices(tmp_path / "prices.json")

    args = ["cost", "staging", "--against", "main", "--repo", str(repo), "--prices", str(prices), "--markdown"]
    code = main(args)
    out = capsys.readouterr().out

    assert code == 0, out
    # Before: nothing at all. After: the fixture endpoint (2 x 73.00) and the KMS key (1.00), among the rest.
    assert "| fixture-team | fixture-model | 0.00 | 146.00 | +146.00 |" in out
    assert "| platform | (shared) | 0.00 |" in out
    [total] = [line for line in out.splitlines() if line.startswith("| **Total** |")]
    assert total.startswith("| **Total** | | 0.00 |")


def test_against_an_unknown_revision_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    code = main(["cost", "dev", "--against", "no-such-ref", "--repo", str(repo)])
    assert code == EXIT_INPUT
    assert "'no-such-ref' is not a commit in this repository" in capsys.readouterr().err


# --- actual spend --------------------------------------------------------------------------------------


@mock_aws
def test_actual_spend_by_team_from_cost_explorer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeded = {
        "results": [
            {
                "ResultsByTime": [
                    {
                        "TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"},
                        "Total": {},
                        "Groups": [
                            {"Keys": ["team$fraud"], "Metrics": {"UnblendedCost": {"Amount": "181.25", "Unit": "USD"}}},
                            {"Keys": ["team$risk"], "Metrics": {"UnblendedCost": {"Amount": "3.5", "Unit": "USD"}}},
                            {"Keys": ["team$"], "Metrics": {"UnblendedCost": {"Amount": "12", "Unit": "USD"}}},
                        ],
                        "Estimated": False,
                    }
                ]
            }
        ]
    }
    # moto's API for seeding get_cost_and_usage results (intercepted in-process by mock_aws, no network).
    resp = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results", data=json.dumps(seeded), timeout=5
    )
    assert resp.status_code == 201
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(fixture_plan()))
    prices = write_prices(tmp_path / "p.json")

    args = ["cost", "dev", "--plan", str(plan_file), "--prices", str(prices), "--actual", "--month", "2026-10"]
    code = main([*args, "--json"])
    out = json.loads(capsys.readouterr().out)

    assert code == 0
    assert out["period"] == {"start": "2026-10-01", "end": "2026-11-01"}
    teams = {row["team"]: row for row in out["teams"]}
    assert teams["fraud"] == {"team": "fraud", "actual_usd": 181.25, "estimated_usd": "unknown"}
    assert teams["risk"]["actual_usd"] == 3.5
    assert teams["(untagged)"]["actual_usd"] == 12.0
    assert teams["platform"] == {"team": "platform", "actual_usd": 0.0, "estimated_usd": 1.0}


@pytest.mark.parametrize("month", ["2026-13", "October", "2026-1"])
def test_actual_needs_a_valid_month(month: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(fixture_plan()))
    code = main(["cost", "dev", "--plan", str(plan_file), "--actual", "--month", month])
    assert code == EXIT_INPUT
    assert f"--month: {month!r} is not a month: write YYYY-MM" in capsys.readouterr().err


# --- price refresh ---------------------------------------------------------------------------------------


def product(usagetype: str, instance: str, usd: str, sku: str) -> str:
    return json.dumps(
        {
            "product": {"sku": sku, "attributes": {"usagetype": usagetype, "instanceName": instance}},
            "terms": {
                "OnDemand": {
                    f"{sku}.T": {"priceDimensions": {f"{sku}.T.R": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}
                }
            },
        }
    )


def test_refresh_prices_reads_the_price_list_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = fixture_plan()
    assert instance_types_of(plan) == {"ml.m5.large", "ml.c5.2xlarge", "ml.m5.xlarge"}
    path = tmp_path / "prices.json"
    shutil.copy(repo_root() / "mlp" / "data" / "prices.json", path)
    client = boto3.client("pricing", region_name="us-east-1")
    stubber = Stubber(client)
    pages = {
        "ml.c5.2xlarge": [],
        "ml.m5.large": [
            product("EU-Host:ml.m5.large", "ml.m5.large", "0.1280000000", "SKUHOST"),
            product("EU-Train:ml.m5.large", "ml.m5.large", "0.1280000000", "SKUTRAIN"),
            product("EU-Notebk:ml.m5.large", "ml.m5.large", "0.1280000000", "SKUNB"),
        ],
        "ml.m5.xlarge": [product("EU-Train:ml.m5.xlarge", "ml.m5.xlarge", "0.2560000000", "SKUX")],
    }
    for instance, price_list in sorted(pages.items()):
        stubber.add_response(
            "get_products",
            {"PriceList": price_list, "FormatVersion": "aws_v1"},
            {
                "ServiceCode": "AmazonSageMaker",
                "FormatVersion": "aws_v1",
                "Filters": [
                    {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
                    {"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance},
                ],
            },
        )
    with stubber:
        assert refresh_prices(plan, load_prices(path), client=client) == 0
    stubber.assert_no_pending_responses()

    book = load_prices(path)
    host = book.lookup("eu-west-1", "sagemaker-hosting", "ml.m5.large")
    assert host is not None and host.usd_per_unit == 0.128
    assert "SKU SKUHOST" in host.source and host.read_on
    assert book.lookup("eu-west-1", "sagemaker-training", "ml.m5.xlarge") is not None
    # No hosting product for ml.m5.xlarge came back: whatever the file held for it is left as it was.
    hosted = book.lookup("eu-west-1", "sagemaker-hosting", "ml.m5.xlarge")
    assert hosted is None or "GetProducts" not in hosted.source
    assert book.lookup("eu-west-1", "sagemaker-hosting", "ml.c5.2xlarge") is None
    assert book.lookup("eu-west-1", "kms-key", "customer-managed-key") is not None, "existing prices are kept"
    out = capsys.readouterr().out
    assert "sagemaker-hosting ml.c5.2xlarge in eu-west-1: no on-demand hourly prices found; left unknown" in out


def test_bad_command_lines_and_price_files_are_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(fixture_plan()))
    assert main(["cost", "dev", "--plan", str(plan_file), "--markdown"]) == EXIT_INPUT
    assert "--markdown and --repo need --against GIT_REF" in capsys.readouterr().err

    broken = tmp_path / "prices.json"
    broken.write_text(json.dumps({"hours_per_month": {"value": 730, "source": "x"}, "prices": [{"region": "x"}]}))
    assert main(["cost", "dev", "--plan", str(plan_file), "--prices", str(broken)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "malformed price file" in err and "Traceback" not in err

    unsourced = write_prices(tmp_path / "unsourced.json")
    data = json.loads(unsourced.read_text())
    data["prices"][0]["source"] = ""
    unsourced.write_text(json.dumps(data))
    assert main(["cost", "dev", "--plan", str(plan_file), "--prices", str(unsourced)]) == EXIT_INPUT
    assert "prices[0]: every price needs its source and the date it was read" in capsys.readouterr().err
