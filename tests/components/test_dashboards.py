"""Dashboards: valid CloudWatch dashboard bodies, per environment and per team, a widget per model and metric."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pulumi
import pytest

from components.composition import model_endpoint_args, platform_tags, team_tags
from components.config.observability import effective_monitoring
from components.dashboards import METRIC_WIDGETS, Dashboards, DashboardsArgs, dashboard_body
from components.loader import load_environment
from components.serving import ModelEndpoint
from mlp.plan import Plan
from tests.conftest import ENVIRONMENTS, ComponentPlanner, fixture_env, resources_of

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

# What we emit, written from "Dashboard Body Structure and Syntax"
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
# a `widgets` array of 0..500 objects; each has a `type`, a position `x` (0-23) and `y` (>= 0), a `width`
# (1-24) and `height` (1-1000) in grid units, and `properties`; a metric widget names its `metrics` (each an
# array of namespace, metric name and dimension name/value pairs with an optional rendering-properties
# object last, or a math `expression`) and its `region`; a text widget has `markdown`; an alarm widget
# lists `alarms` by ARN.
METRIC_ROW = {
    "type": "array",
    "minItems": 1,
    "anyOf": [
        {"prefixItems": [{"type": "object", "required": ["expression"]}], "maxItems": 1},
        {
            "prefixItems": [{"type": "string"}, {"type": "string"}],
            "items": {"anyOf": [{"type": "string"}, {"type": "object"}]},
            "minItems": 2,
        },
    ],
}
WIDGET = {
    "type": "object",
    "required": ["type", "x", "y", "width", "height", "properties"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["metric", "text", "log", "alarm", "explorer"]},
        "x": {"type": "integer", "minimum": 0, "maximum": 23},
        "y": {"type": "integer", "minimum": 0},
        "width": {"type": "integer", "minimum": 1, "maximum": 24},
        "height": {"type": "integer", "minimum": 1, "maximum": 1000},
        "properties": {"type": "object"},
    },
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "metric"}}},
            "then": {
                "properties": {
                    "properties": {
                        "required": ["metrics", "region", "title"],
                        "properties": {
                            "metrics": {"type": "array", "minItems": 1, "items": METRIC_ROW},
                            "region": {"type": "string", "pattern": "^[a-z]{2}(-gov)?-[a-z]+-\\d$"},
                            "view": {"enum": ["timeSeries", "singleValue", "gauge", "bar", "pie", "table"]},
                            "period": {"type": "integer", "minimum": 1},
                            "stat": {"type": "string"},
                        },
                    }
                }
            },
        },
        {
            "if": {"properties": {"type": {"const": "text"}}},
            "then": {"properties": {"properties": {"required": ["markdown"]}}},
        },
        {
            "if": {"properties": {"type": {"const": "alarm"}}},
            "then": {
                "properties": {
                    "properties": {
                        "required": ["alarms"],
                        "properties": {
                            "alarms": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 100,
                                "items": {"type": "string", "pattern": "^arn:aws:cloudwatch:"},
                            }
                        },
                    }
                }
            },
        },
    ],
}
BODY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["widgets"],
    "properties": {
        "start": {"type": "string"},
        "periodOverride": {"enum": ["auto", "inherit"]},
        "widgets": {"type": "array", "maxItems": 500, "items": WIDGET},
    },
}


def bodies(plan: Plan) -> dict[str, dict[str, Any]]:
    return {
        d["inputs"]["dashboardName"]: json.loads(d["inputs"]["dashboardBody"]) for d in resources_of(plan, DASHBOARD)
    }


def titled(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["properties"]["title"]: w for w in body["widgets"] if "title" in w["properties"]}


def texts(body: dict[str, Any]) -> list[str]:
    return [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"]


def test_the_schema_rejects_what_the_documentation_forbids() -> None:
    validator = jsonschema.Draft202012Validator(BODY_SCHEMA)
    good = {"type": "text", "x": 0, "y": 0, "width": 6, "height": 6, "properties": {"markdown": "hi"}}
    assert validator.is_valid({"widgets": [good]})
    assert not validator.is_valid({"widgets": [{**good, "width": 25}]})
    assert not validator.is_valid({"widgets": [{**good, "type": "graph"}]})
    assert not validator.is_valid({"widgets": [{**good, "properties": {}}]})
    metric = {**good, "type": "metric", "properties": {"metrics": [["AWS/SageMaker"]], "region": "eu-west-1"}}
    assert not validator.is_valid({"widgets": [metric]})
    assert not validator.is_valid({})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_dashboard_per_environment_and_per_team_all_valid(plans: dict[str, Plan], env: str) -> None:
    loaded = fixture_env(env)
    found = bodies(plans[env])
    assert sorted(found) == sorted([f"{env}-ml-platform"] + [f"{env}-{t.name}" for t in loaded.teams])
    validator = jsonschema.Draft202012Validator(BODY_SCHEMA)
    for name, body in found.items():
        errors = [e.message for e in validator.iter_errors(body)]
        assert errors == [], name
        # Widgets stay on the 24-column grid and never overlap.
        cells: set[tuple[int, int]] = set()
        for w in body["widgets"]:
            assert w["x"] + w["width"] <= 24
            mine = {(x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])}
            assert not cells & mine, f"{name}: widgets overlap"
            cells |= mine


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_widget_per_model_and_metric_on_the_environment_and_team_dashboards(plans: dict[str, Plan], env: str) -> None:
    loaded = fixture_env(env)
    found = bodies(plans[env])
    everything = titled(found[f"{env}-ml-platform"])
    for team in loaded.teams:
        own = titled(found[f"{env}-{team.name}"])
        for model in loaded.models:
            if model.serving.platform != "sagemaker":
                # Served on Kubernetes: a header and a text widget pointing at the cluster's dashboards.
                assert any(t.startswith(f"## {model.name}\n") for t in texts(found[f"{env}-ml-platform"]))
                continue
            endpoint = f"{env}-{model.name}"
            prefixes = {key: f"{model.name}: {start}" for key, start in METRIC_WIDGETS.items()}
            in_env = {k: [t for t in everything if t.startswith(p)] for k, p in prefixes.items()}
            in_team = {k: [t for t in own if t.startswith(p)] for k, p in prefixes.items()}
            serverless = model.serving.serverless is not None
            monitored = effective_monitoring(model) is not None
            for key, titles in in_env.items():
                # Serverless has no instances and unmonitored models no violations: a text widget says so.
                as_text = (key == "instances" and serverless) or (key == "violations" and not monitored)
                if as_text:
                    assert titles == []
                    assert any(t.startswith(f"### {prefixes[key]}") for t in texts(found[f"{env}-ml-platform"]))
                    continue
                [title] = titles
                widget = everything[title]
                assert widget["type"] == "metric"
                assert widget["properties"]["region"] == loaded.region
                rows = json.dumps(widget["properties"]["metrics"])
                assert endpoint in rows, f"{title} does not show {endpoint}"
                assert (in_team[key] == titles) is (model.team == team.name)


def test_metrics_are_the_sagemaker_and_model_monitor_ones(plans: dict[str, Plan]) -> None:
    widgets = titled(bodies(plans["prod"])["prod-fraud"])
    dims = ["EndpointName", "prod-fraud-scoring", "VariantName", "primary"]
    assert widgets["fraud-scoring: invocations"]["properties"]["metrics"] == [["AWS/SageMaker", "Invocations", *dims]]
    latency = widgets["fraud-scoring: model latency p50 / p99 (microseconds)"]["properties"]
    assert [row[-1]["stat"] for row in latency["metrics"]] == ["p50", "p99"]
    assert latency["annotations"]["horizontal"] == [{"label": "p99 SLO", "value": 150_000}]
    errors = widgets["fraud-scoring: 4xx / 5xx errors"]["properties"]["metrics"]
    assert [row[1] for row in errors] == ["Invocation4XXErrors", "Invocation5XXErrors"]
    instances = widgets["fraud-scoring: instances (autoscaling 4-12)"]["properties"]
    assert instances["metrics"][0] == [{"expression": "m1 / m2", "label": "instances serving", "id": "e1"}]
    assert [row[1] for row in instances["metrics"][1:]] == ["Invocations", "InvocationsPerInstance"]
    violations = widgets["fraud-scoring: monitoring violations (hourly)"]["properties"]
    # The evidently engine's metrics (the example files' engine): every feature's drift and missing values.
    search = violations["metrics"][0][0]["expression"]
    assert search.startswith("SEARCH('{MLPlatform/Monitoring,environment,model,version,feature}")
    assert 'environment="prod" model="fraud-scoring" version="12"' in search
    assert violations["period"] == 3600
    assert [row[1] for row in violations["metrics"][2:]] == ["quality_recall", "quality_precision"]
    alarms = widgets["fraud-scoring: alarms"]["properties"]["alarms"]
    assert "arn:aws:cloudwatch:eu-west-1:630417952386:alarm:prod-fraud-scoring-p99-latency" in alarms
    assert "arn:aws:cloudwatch:eu-west-1:630417952386:alarm:prod-fraud-scoring-drift-card_country" in alarms


def test_budget_status_of_each_team_is_shown(plans: dict[str, Plan]) -> None:
    found = bodies(plans["prod"])
    env_texts = texts(found["prod-ml-platform"])
    assert any(t.startswith("### Budget: fraud\n**USD 22,000 per month** in prod") for t in env_texts)
    assert any(t.startswith("### Budget: risk\n**USD 12,000 per month** in prod") for t in env_texts)
    risk = texts(found["prod-risk"])
    assert any("Budget: risk" in t for t in risk) and not any("Budget: fraud" in t for t in risk)
    assert all("AWS Budgets console" in t for t in env_texts if t.startswith("### Budget"))


def test_the_body_is_a_pure_function_of_the_environment() -> None:
    env = fixture_env("prod")
    first = dashboard_body(env, env.teams, env.models)
    assert json.dumps(first, sort_keys=True) == json.dumps(dashboard_body(env, env.teams, env.models), sort_keys=True)
    # No model (and no feature group), no rows: only the budget widgets.
    bare = env.model_copy(update={"feature_groups": []})
    assert [w["type"] for w in dashboard_body(bare, env.teams, [])["widgets"]] == ["text", "text"]


def test_an_environment_beyond_one_dashboard_is_split_into_pages(
    edit_env: Any, plan_component: ComponentPlanner
) -> None:
    """CloudWatch takes at most 500 widgets per dashboard: 90 more models split the environment's dashboard
    into pages that each fit, show every model once, and say which page they are; runbooks link the page
    that shows their model."""
    from components.dashboards import MAX_WIDGETS
    from mlp.runbook import render_runbook

    def grow(data: Any) -> None:
        template = next(m for m in data["models"] if m["name"] == "fraud-scoring")
        for i in range(90):
            extra = json.loads(json.dumps(template))
            extra.pop("training", None)
            extra["name"] = extra["registry_group"] = f"fraud-extra-{i:02d}"
            data["models"].append(extra)

    root = edit_env("dev", grow)
    env = load_environment("dev", root)
    first, last = env.models[0], env.models[-1]
    teams = {t.name: t for t in env.teams}

    def build(opts: pulumi.ResourceOptions) -> None:
        """The dashboards, and the endpoints of the two models whose runbooks are read: the other 90
        endpoints are not the point (and take seconds to plan)."""
        key = "arn:aws:kms:eu-west-1:418295730164:key/fixture"
        for model in (first, last):
            tags = team_tags(env, teams[model.team], model)
            ModelEndpoint(model.name, model_endpoint_args(env, model, key), tags, opts=opts)
        Dashboards("dev-dashboards", DashboardsArgs(env), platform_tags(env), opts=opts)

    plan = plan_component(build, stack="dev", account_id=env.account_id, region=env.region)
    found = bodies(plan)
    pages = ["dev-ml-platform", "dev-ml-platform-2"]
    assert [n for n in found if n.startswith("dev-ml-platform")] == pages
    assert [n for n in found if n.startswith("dev-fraud")] == ["dev-fraud", "dev-fraud-2"]
    for name, body in found.items():
        assert len(body["widgets"]) <= MAX_WIDGETS, name
        jsonschema.validate(body, BODY_SCHEMA)
    headers = [t.split("\n")[0] for p in pages for t in texts(found[p]) if t.startswith("## ")]
    assert sorted(headers) == sorted(f"## {m.name}" for m in env.models)
    assert texts(found["dev-ml-platform-2"])[0] == "Page 2 of 2; the others: dev-ml-platform"
    runbook = render_runbook(env, plan, last)
    assert "#dashboards/dashboard/dev-ml-platform-2)" in runbook
    assert "#dashboards/dashboard/dev-fraud-2)" in runbook
    assert "#dashboards/dashboard/dev-ml-platform)" in render_runbook(env, plan, first)
