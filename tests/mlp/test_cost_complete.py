"""The complete estimate: every resource type has a cost line or is listed under "not estimated" with its
reason; monitoring schedules and processing steps are priced from the environment file's expected runtimes;
shared resources name the cost center that pays for them (in `mlp cost` and `mlp tags`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.config.finops import FinOps, shared_cost_center
from mlp.cli import main
from mlp.cost_catalog import ESTIMATED, NO_PRICE_SOURCE, coverage, type_of
from mlp.cost_estimate import Assumptions, estimate
from mlp.cost_render import render_text
from mlp.plan import Plan
from mlp.pricing import load_prices
from tests.mlp.test_cost import resource as res

HOSTING_XL = 0.2
PROCESSING_XL = 0.3


def tags(team: str = "fraud", cost_center: str = "CC-4100", **extra: str) -> dict[str, str]:
    return {
        "environment": "dev",
        "team": team,
        "cost-center": cost_center,
        "managed-by": "pulumi/ml-platform",
        "repository": "payments-co/ml-platform",
        **extra,
    }


def fixture_plan() -> Plan:
    model = tags(model="fraud-scoring")
    config = res(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "fraud-scoring-config",
        {
            "name": "dev-fraud-scoring-config",
            "productionVariants": [
                {"variantName": "primary", "instanceType": "ml.m5.xlarge", "initialInstanceCount": 2}
            ],
            "tags": model,
        },
    )
    job = res(
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "fraud-scoring-dq",
        {
            "name": "dev-fraud-scoring-dq",
            "jobResources": {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.xlarge"}},
            "stoppingCondition": {"maxRuntimeInSeconds": 3600},
            "tags": model,
        },
    )
    resources = [
        res("pulumi:providers:aws", "aws", {"region": "eu-west-1"}),
        config,
        res(
            "aws:sagemaker/endpoint:Endpoint",
            "fraud-scoring-endpoint",
            {"name": "dev-fraud-scoring", "endpointConfigName": "dev-fraud-scoring-config", "tags": model},
            (config["urn"],),
        ),
        job,
        res(
            "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
            "fraud-scoring-dq-schedule",
            {
                "monitoringScheduleConfig": {
                    "monitoringJobDefinitionName": "dev-fraud-scoring-dq",
                    "monitoringType": "DataQuality",
                    "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"},
                },
                "tags": model,
            },
        ),
        res("aws:kms/key:Key", "dev-key", {"tags": tags("platform", "CC-4000")}),
        res("aws:cloudwatch/compositeAlarm:CompositeAlarm", "fraud-scoring-p99", {"tags": model}),
        res("aws:iam/role:Role", "fraud-scoring-role", {"tags": model}),
        # Types other components are adding: none is in the catalog, so each must show as not estimated.
        res("aws:appmesh/mesh:Mesh", "fraud-scoring-features", {"tags": model}),
        res("aws:ecr/repository:Repository", "fraud-scoring-images", {"tags": model}),
        res("aws:sagemaker/featureGroup:FeatureGroup", "fraud-scoring-fg", {"tags": model}),
        res("aws:glue/catalogTable:CatalogTable", "fraud-scoring-table", {}),
        res("aws:bedrock/guardrail:Guardrail", "fraud-scoring-guardrail", {"tags": model}),
        res(
            "aws:cloudcontrol/resource:Resource",
            "dev-mlflow",
            {"typeName": "AWS::SageMaker::MlflowTrackingServer", "desiredState": "{}"},
        ),
    ]
    return {"project": "ml-platform", "stack": "dev", "resources": resources}


def write_prices(path: Path) -> Path:
    entries = [
        ("sagemaker-hosting", "ml.m5.xlarge", HOSTING_XL, "instance-hour"),
        ("sagemaker-processing", "ml.m5.xlarge", PROCESSING_XL, "instance-hour"),
        ("kms-key", "customer-managed-key", 1.0, "key-month"),
    ]
    data = {
        "hours_per_month": {"value": 730, "source": "test", "read_on": "2026-11-30"},
        "prices": [
            {
                "region": "eu-west-1",
                "kind": k,
                "item": i,
                "usd_per_unit": u,
                "unit": unit,
                "source": "test",
                "read_on": "2026-11-30",
            }
            for k, i, u, unit in entries
        ],
    }
    path.write_text(json.dumps(data))
    return path


def test_every_type_has_a_line_or_is_listed_with_its_reason(tmp_path: Path) -> None:
    est = estimate(fixture_plan(), load_prices(write_prices(tmp_path / "p.json")), Assumptions())

    listed = {n.type: n for n in est.not_estimated}
    for new_type in (
        "aws:appmesh/mesh:Mesh",
        "aws:ecr/repository:Repository",
        "aws:glue/catalogTable:CatalogTable",
        "AWS::SageMaker::MlflowTrackingServer",
    ):
        assert listed[new_type].status == NO_PRICE_SOURCE, new_type
        assert listed[new_type].count == 1
    # Types the catalog knows as billed per use say what the use is.
    for usage_type in ("aws:sagemaker/featureGroup:FeatureGroup", "aws:bedrock/guardrail:Guardrail"):
        assert listed[usage_type].status == "usage-based" and listed[usage_type].reason, usage_type
    assert listed["aws:iam/role:Role"].status == "no bill line of its own"
    assert listed["aws:cloudwatch/compositeAlarm:CompositeAlarm"].status == NO_PRICE_SOURCE
    custom = {type_of(r) for r in fixture_plan()["resources"] if not r["type"].startswith("pulumi:providers:")}
    assert set(est.estimated_types) | set(listed) == custom
    assert not set(est.estimated_types) & set(listed)


def test_the_known_total_is_the_hand_computation(tmp_path: Path) -> None:
    est = estimate(fixture_plan(), load_prices(write_prices(tmp_path / "p.json")), Assumptions())
    costs = {i.category: i.low for i in est.items}

    endpoint = 2 * HOSTING_XL * 730
    # Hourly monitoring: 730 executions x 1 instance x up to 1 h (MaxRuntimeInSeconds) x the processing price.
    monitoring = 730 * 1 * 1 * PROCESSING_XL
    assert costs["endpoint"] == pytest.approx(endpoint)
    assert costs["monitoring"] == pytest.approx(monitoring)
    total = est.total()
    assert total.complete
    assert total.low == pytest.approx(endpoint + monitoring + 1.0)
    text = render_text(est)
    assert "Not estimated (not in the total), by type:" in text
    assert "    aws:appmesh/mesh:Mesh x1: no price source for this resource type yet" in text


def test_expected_monitoring_runtime_replaces_the_upper_bound(tmp_path: Path) -> None:
    assumptions = Assumptions(expected_minutes={"monitoring": 6})
    est = estimate(fixture_plan(), load_prices(write_prices(tmp_path / "p.json")), assumptions)
    [monitoring] = [i for i in est.items if i.category == "monitoring"]
    assert monitoring.low == pytest.approx(730 * 0.1 * PROCESSING_XL)
    assert "x 6 min expected" in monitoring.description
    assert "Each monitoring job is assumed to run 6 minutes (finops.expected_runtime_minutes)." in est.assumptions


def test_an_unpriced_instance_is_unknown_never_zero(tmp_path: Path) -> None:
    plan = fixture_plan()
    plan["resources"][1]["inputs"]["productionVariants"][0]["instanceType"] = "ml.c5.9xlarge"
    est = estimate(plan, load_prices(write_prices(tmp_path / "p.json")), Assumptions())
    assert not est.total().complete
    assert est.total().unknown == ("fraud-scoring-config",)


def test_catalog_marks_cloud_control_resources_by_their_cloudformation_type() -> None:
    mq = {
        "type": "aws:cloudcontrol/resource:Resource",
        "inputs": {"typeName": "AWS::SageMaker::ModelQualityJobDefinition"},
    }
    assert coverage(type_of(mq)).status == ESTIMATED
    assert coverage("kubernetes:core/v1:Namespace").status == "billed with the cluster"


def test_the_example_environments_are_complete(example_plans: dict[str, Plan]) -> None:
    """Whatever the example files hold: every type is priced or listed, and a line is known exactly when the
    committed prices cover it."""
    prices = load_prices()
    for env, plan in example_plans.items():
        est = estimate(plan, prices, Assumptions(expected_minutes={"training": 60, "processing": 20, "monitoring": 15}))
        custom = {type_of(r) for r in plan["resources"] if r.get("custom") and not r["type"].startswith("pulumi:")}
        listed = {n.type for n in est.not_estimated}
        assert set(est.estimated_types) | listed == custom, env
        for item in est.items:
            assert item.known == (not item.notes), (env, item.resource, item.notes)


Edit = Callable[[str, Callable[[Any], None]], Path]


def test_cost_and_tags_name_who_pays_for_shared_resources(
    edit_env: Edit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = edit_env("dev", lambda data: data["finops"].__setitem__("platform_cost_center", "CC-9900"))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(fixture_plan()))
    prices = write_prices(tmp_path / "p.json")

    assert main(["cost", "dev", "--root", str(root), "--plan", str(plan), "--prices", str(prices)]) == 0
    out = capsys.readouterr().out
    assert "Shared resources (team platform) are charged to cost center CC-9900 (finops.platform_cost_center)." in out
    # The plan's shared key still carries CC-4000: the difference is said, not hidden.
    assert "Shared resources in this plan carry cost center CC-4000 (their cost-center tags)." in out

    main(["tags", "dev", "--root", str(root), "--plan", str(plan)])
    out = capsys.readouterr().out
    assert "Shared resources (team platform) are charged to cost center CC-9900 (finops.platform_cost_center); " in out
    assert "but their tags say CC-4000." in out


def test_without_a_platform_cost_center_the_fallback_is_said() -> None:
    class Team:
        def __init__(self, name: str, cost_center: str) -> None:
            self.name, self.cost_center = name, cost_center

    finops = FinOps.model_validate({"monthly_budget_usd": 100})
    center, source = shared_cost_center(finops, [Team("fraud", "CC-4100"), Team("risk", "CC-4200")])
    assert center == "CC-4100"
    assert source.startswith("not set: the first team's (fraud) cost center is used")
    named = FinOps.model_validate({"monthly_budget_usd": 100, "platform_cost_center": "CC-4000"})
    assert shared_cost_center(named, [Team("fraud", "CC-4100")]) == ("CC-4000", "finops.platform_cost_center")


def test_endpoint_data_comes_from_the_expected_traffic(tmp_path: Path) -> None:
    from mlp.cost_estimate import EndpointTraffic

    prices_file = write_prices(tmp_path / "p.json")
    data = json.loads(prices_file.read_text())
    for item in ("GB-in", "GB-out"):
        data["prices"].append(
            {
                "region": "eu-west-1",
                "kind": "sagemaker-hosting-data",
                "item": item,
                "usd_per_unit": 0.02,
                "unit": "GB",
                "source": "test",
                "read_on": "2026-11-30",
            }
        )
    prices_file.write_text(json.dumps(data))
    traffic = {"fraud-scoring": EndpointTraffic(monthly_requests=1024 * 1024, mean_request_kb=4, mean_response_kb=1)}

    est = estimate(fixture_plan(), load_prices(prices_file), Assumptions(endpoint_traffic=traffic))

    [line] = [i for i in est.items if i.category == "data"]
    # 1,048,576 requests x 4 KB = 4 GB in, x 1 KB = 1 GB out, at 0.02 per GB
    assert line.low == pytest.approx(5 * 0.02)
    assert "= 4.00 GB in, 1.00 GB out (finops.endpoint_traffic)" in line.description


def test_traffic_for_a_model_that_does_not_exist_is_refused(edit_env: Edit, capsys: pytest.CaptureFixture[str]) -> None:
    def traffic(data: Any) -> None:
        data["finops"]["endpoint_traffic"] = [
            {"model": "no-such-model", "monthly_requests": 10, "mean_request_kb": 1, "mean_response_kb": 1}
        ]

    root = edit_env("dev", traffic)
    assert main(["cost", "dev", "--root", str(root), "--plan", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "environments/dev.yaml" in err
    assert "finops.endpoint_traffic[0].model: model 'no-such-model' does not exist; models here: " in err


def test_a_change_that_adds_an_unpriced_type_says_so_in_the_pull_request(tmp_path: Path) -> None:
    from mlp.cost_delta import render_delta_markdown

    prices = load_prices(write_prices(tmp_path / "p.json"))
    before_plan = fixture_plan()
    before_plan["resources"] = [r for r in before_plan["resources"] if r["type"] != "aws:appmesh/mesh:Mesh"]
    before = estimate(before_plan, prices, Assumptions())
    after = estimate(fixture_plan(), prices, Assumptions())

    out = render_delta_markdown(before, after, "main")

    assert "Not estimated, changed by this change (not in the totals):" in out
    assert "- `aws:appmesh/mesh:Mesh: 0 -> 1 (no price source: no price source for this resource type yet)`" in out
    assert "**+0.00**" in out, "the priced lines did not change"


def test_a_batch_transform_step_is_priced_per_run_at_its_expected_runtime(tmp_path: Path) -> None:
    model = tags(model="fraud-scoring")
    definition = {
        "Steps": [
            {
                "Name": "BatchTransform",
                "Type": "Transform",
                "Arguments": {"TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2}},
            }
        ]
    }
    pipeline = res(
        "aws:sagemaker/pipeline:Pipeline",
        "dev-fraud-scoring-batch-pipeline",
        {"pipelineName": "dev-fraud-scoring-batch", "pipelineDefinition": json.dumps(definition), "tags": model},
    )
    schedule = res(
        "aws:scheduler/schedule:Schedule",
        "dev-fraud-scoring-batch-schedule",
        {"scheduleExpression": "cron(0 2 * * ? *)", "target": {"arn": "x"}, "tags": model},
        (pipeline["urn"],),
    )
    provider = res("pulumi:providers:aws", "aws", {"region": "eu-west-1"})
    plan: Plan = {"project": "ml-platform", "stack": "dev", "resources": [provider, pipeline, schedule]}
    price_file = write_prices(tmp_path / "p.json")
    data = json.loads(price_file.read_text())
    data["prices"].append({**data["prices"][0], "kind": "sagemaker-batch-transform", "usd_per_unit": 0.5})
    price_file.write_text(json.dumps(data))

    unknown = estimate(plan, load_prices(price_file), Assumptions())
    (item,) = unknown.items
    assert not item.known and any("finops.expected_runtime_minutes.batch" in n for n in item.notes)

    est = estimate(plan, load_prices(price_file), Assumptions(expected_minutes={"batch": 30}))
    (item,) = est.items
    runs = 365 / 12  # a daily schedule, 730 h / 24 h
    assert item.low == pytest.approx(runs * 2 * 0.5 * 0.5)
    assert "batch step BatchTransform: 2 x ml.m5.xlarge" in item.description
