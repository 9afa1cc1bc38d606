"""CloudWatch alarm and dashboard prices from the AWS Price List (the AmazonCloudWatch offer file), written by
`mlp prices refresh`, and the `mlp cost` lines that use them.

The excerpt (tests/fixtures/price_list/AmazonCloudWatch-eu-west-1-excerpt.csv) has the offer file's layout: five
metadata rows, the header row, one row per price dimension. Its usage types are the ones the CloudWatch user guide
names (mlp/price_list.py); its prices are made-up test values, not AWS's: a standard alarm metric is 0.25 past a
free first range, a dashboard 2.75 past a free first range. It also holds rows that must be ignored: the `Global-`
free-tier alarm row, high-resolution and composite alarms, the `-Basic` dashboard row, another region's alarm
row and custom metrics.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlp.cli import EXIT_INPUT, main
from mlp.plan import Plan
from mlp.price_list import CLOUDWATCH, offer_file_url, read_offer_file
from mlp.pricing import CLOUDWATCH_ALARM, CLOUDWATCH_DASHBOARD, HOSTING, load_prices
from tests.conftest import FIXTURE_ROOT
from tests.mlp.test_cost import FRAUD_TAGS, REGION, resource, write_prices

FIXTURES = Path(__file__).parents[1] / "fixtures" / "price_list"
EXCERPT = FIXTURES / "AmazonCloudWatch-eu-west-1-excerpt.csv"
SAGEMAKER_EXCERPT = FIXTURES / "AmazonSageMaker-eu-west-1-excerpt.csv"
URL = offer_file_url(REGION, CLOUDWATCH)
PUBLISHED = "2026-11-24T09:30:00Z"
ALARM_METRIC = 0.25
DASHBOARD = 2.75
"""The excerpt's paid-tier test prices (not AWS's)."""


def excerpt_lines(keep: str = "") -> list[str]:
    """The excerpt's lines; with `keep`, the metadata, the header and only the rows containing it."""
    lines = EXCERPT.read_text(encoding="utf-8").splitlines(keepends=True)
    return lines if not keep else lines[:6] + [line for line in lines[6:] if keep in line]


def test_the_excerpt_becomes_the_alarm_metric_and_dashboard_prices_with_source_and_date() -> None:
    offer = read_offer_file(excerpt_lines(), URL, REGION)

    assert offer.offer_code == "AmazonCloudWatch"
    assert offer.publication_date == PUBLISHED
    found = {(p.region, p.kind, p.item): p for p in offer.prices}
    # Only these two: not the free tier, the high-resolution, composite or -Basic rows, us-east-1 or metrics.
    assert set(found) == {(REGION, CLOUDWATCH_ALARM, "standard-resolution"), ("any", CLOUDWATCH_DASHBOARD, "dashboard")}
    alarm = found[(REGION, CLOUDWATCH_ALARM, "standard-resolution")]
    assert (alarm.usd_per_unit, alarm.unit) == (ALARM_METRIC, "alarm-metric-month")
    assert alarm.source == f"{URL} (AWS Price List, SKU CWALARMSTD00001)"
    assert alarm.published == PUBLISHED
    # Dashboards are billed per account: the row has no region code, so the price holds in every region.
    dashboard = found[("any", CLOUDWATCH_DASHBOARD, "dashboard")]
    assert (dashboard.usd_per_unit, dashboard.unit) == (DASHBOARD, "dashboard-month")
    assert dashboard.source == f"{URL} (AWS Price List, SKU CWDASHBOARD0006)"
    assert offer.skipped == ()
    assert URL == "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonCloudWatch/current/eu-west-1/index.csv"


def test_a_free_tier_range_alone_is_never_taken_as_the_price() -> None:
    # Only the zero-price first range of the standard alarm (and the Global- free-tier row) are left.
    lines = [line for line in excerpt_lines("AlarmMonitorUsage") if "0.2500000000" not in line]

    offer = read_offer_file(lines, URL, REGION)

    assert [p for p in offer.prices if p.region == REGION] == []
    assert offer.skipped == (
        f"{CLOUDWATCH_ALARM} standard-resolution in {REGION}: only free-tier (zero) prices; left unknown",
    )


def test_the_other_region_s_alarm_row_is_read_only_for_that_region() -> None:
    offer = read_offer_file(excerpt_lines(), offer_file_url("us-east-1", CLOUDWATCH), "us-east-1")

    prices = {(p.region, p.kind): p.usd_per_unit for p in offer.prices}
    assert prices == {("us-east-1", CLOUDWATCH_ALARM): 0.999, ("any", CLOUDWATCH_DASHBOARD): DASHBOARD}


def refreshed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    """A price file with only a KMS price, refreshed from both excerpts: the SageMaker one in the bare
    `--source FILE` form (as before CloudWatch was read), the CloudWatch one as `--source AmazonCloudWatch=FILE`."""
    prices = write_prices(tmp_path / "prices.json", [("any", "kms-key", "customer-managed-key", 1.0, "key-month")])
    code = main(
        [
            "prices",
            "refresh",
            "--region",
            REGION,
            "--source",
            str(SAGEMAKER_EXCERPT),
            "--source",
            f"{CLOUDWATCH}={EXCERPT}",
            "--prices",
            str(prices),
        ]
    )
    assert code == 0
    return prices, capsys.readouterr().out


def test_refresh_writes_both_files_prices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices, out = refreshed(tmp_path, capsys)

    book = load_prices(prices)
    alarm = book.lookup(REGION, CLOUDWATCH_ALARM, "standard-resolution")
    dashboard = book.lookup(REGION, CLOUDWATCH_DASHBOARD, "dashboard")  # stored for any region
    assert alarm is not None and alarm.usd_per_unit == ALARM_METRIC and alarm.published == PUBLISHED
    assert dashboard is not None and dashboard.usd_per_unit == DASHBOARD and dashboard.region == "any"
    hosting = book.lookup(REGION, HOSTING, "ml.m5.xlarge")
    assert hosting is not None and hosting.source.startswith(offer_file_url(REGION))  # the SageMaker file too
    assert book.lookup(REGION, "kms-key", "customer-managed-key") is not None  # kept
    assert f"{REGION}: 2 prices from {URL} (published {PUBLISHED}, read from {EXCERPT})" in out.splitlines()
    entry = next(e for e in json.loads(prices.read_text())["prices"] if e["kind"] == CLOUDWATCH_ALARM)
    assert entry["source"] == f"{URL} (AWS Price List, SKU CWALARMSTD00001)"


def test_refresh_refuses_an_unknown_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = write_prices(tmp_path / "prices.json", [])
    code = main(["prices", "refresh", "--region", REGION, "--source", f"AmazonEC2={EXCERPT}", "--prices", str(prices)])

    assert code == EXIT_INPUT
    err = capsys.readouterr().err
    assert "unknown service 'AmazonEC2'" in err and "AmazonSageMaker, AmazonCloudWatch" in err
    assert json.loads(prices.read_text())["prices"] == []


def alarm(name: str, **inputs: Any) -> dict[str, Any]:
    return resource("aws:cloudwatch/metricAlarm:MetricAlarm", name, {**inputs, "tags": FRAUD_TAGS})


def metric(name: str, period: int = 60) -> dict[str, Any]:
    return {"metricName": name, "namespace": "AWS/SageMaker", "period": period, "stat": "Sum"}


def monitoring_plan() -> Plan:
    """One alarm on one metric, a metric-math alarm over two metrics, an anomaly-detection alarm, a
    high-resolution alarm (10 s period) and a dashboard, as the pulumi-aws SDK plans them (engine inputs)."""
    common = {"comparisonOperator": "GreaterThanThreshold", "threshold": 1, "evaluationPeriods": 1}
    return {
        "project": "ml-platform",
        "stack": "dev",
        "resources": [
            resource("pulumi:providers:aws", "aws-dev", {"region": REGION}),
            alarm("dev-errors", metricName="Invocation5XXErrors", namespace="AWS/SageMaker", period=60, **common),
            alarm(
                "dev-error-rate",
                metricQueries=[
                    {"id": "errors", "metric": metric("Invocation5XXErrors")},
                    {"id": "calls", "metric": metric("Invocations")},
                    {"id": "rate", "expression": "errors / calls", "returnData": True},
                ],
                **common,
            ),
            alarm(
                "dev-latency-band",
                metricQueries=[
                    {"id": "latency", "metric": metric("ModelLatency")},
                    {"id": "band", "expression": "ANOMALY_DETECTION_BAND(latency, 2)", "returnData": True},
                ],
                thresholdMetricId="band",
                **{**common, "comparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"},
            ),
            alarm("dev-fast", metricName="Invocations", namespace="AWS/SageMaker", period=10, **common),
            resource(
                "aws:cloudwatch/dashboard:Dashboard",
                "dev-dashboards-fraud",
                {"dashboardName": "dev-fraud", "dashboardBody": "{}"},
            ),
        ],
    }


def cost(tmp_path: Path, prices: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(monitoring_plan()))
    args = ["cost", "dev", "--root", str(FIXTURE_ROOT), "--plan", str(plan_file), "--prices", str(prices), *extra]
    assert main(args) == 0
    return capsys.readouterr().out


def test_cost_prices_alarms_and_dashboards_from_the_refreshed_prices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices, _ = refreshed(tmp_path, capsys)

    data = json.loads(cost(tmp_path, prices, capsys, "--json"))

    items = {i["resource"]: i for i in data["items"]}
    assert items["dev-errors"]["monthly_usd"] == pytest.approx(ALARM_METRIC)
    assert items["dev-error-rate"]["monthly_usd"] == pytest.approx(2 * ALARM_METRIC)  # two queries have a metric
    assert items["dev-latency-band"]["monthly_usd"] == pytest.approx(3 * ALARM_METRIC)  # anomaly detection: x3
    assert items["dev-errors"]["prices"][0]["source"] == f"{URL} (AWS Price List, SKU CWALARMSTD00001)"
    dashboard = items["dev-dashboards-fraud"]
    assert dashboard["monthly_usd"] == pytest.approx(DASHBOARD)
    assert dashboard["team"] == "platform"  # a dashboard takes no tags: charged as shared, and says so
    assert "charged as a shared platform resource" in dashboard["description"]
    # A high-resolution alarm has its own price, which is not read: unknown, with the reason.
    fast = items["dev-fast"]
    assert fast["monthly_usd"] == "unknown"
    assert fast["notes"] == ["high-resolution alarm (period under 60 s): its price is not read by `mlp prices refresh`"]
    assert data["total"]["known_part_usd"] == pytest.approx(6 * ALARM_METRIC + DASHBOARD)
    assert data["total"]["unknown_resources"] == ["dev-fast"]
    assert any("free tier" in a and "not subtracted" in a for a in data["assumptions"])
    assert "aws:cloudwatch/metricAlarm:MetricAlarm" in data["estimated_types"]


def test_without_the_prices_the_gaps_name_them_and_the_refresh_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = write_prices(tmp_path / "prices.json", [])

    out = cost(tmp_path, prices, capsys)

    lines = out.splitlines()
    section = lines[lines.index("What would make it known:") + 1 :]
    assert section[:4] == [
        "  Prices missing from the price file:",
        f"    {CLOUDWATCH_ALARM} standard-resolution ({REGION}): 3 lines",
        f"    {CLOUDWATCH_DASHBOARD} dashboard ({REGION}): 1 line",
        f"  Fill them with: uv run mlp prices refresh --region {REGION}  "
        "(AWS Price List bulk files; the weekly prices.yml workflow)",
    ]
    assert f"! no price for {CLOUDWATCH_ALARM} standard-resolution in {REGION}" in out
