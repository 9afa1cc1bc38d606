"""Serverless inference compute prices from the AWS Price List offer file, and what uses them: `mlp cost` and
the advisor's serverless proposal.

The committed excerpt (tests/fixtures/price_list) carries "ML Serverless" rows in the offer file's layout: both
tiers of two memory sizes (a zero-price first range, 0 to 150,000 seconds, and the paid range from 150,000), a
provisioned-concurrency row and a row with an hourly unit, both to be ignored. The inline rows below are in the
same layout. All their prices are made up for the tests; they are not AWS's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlp.cli import main
from mlp.finops_advise import SERVERLESS_PROPOSED_MEMORY_MB, advise
from mlp.price_list import offer_file_url, read_offer_file
from mlp.pricing import SERVERLESS_COMPUTE, load_prices
from tests.mlp.offer_files import offer_file
from tests.mlp.test_cost import write_prices
from tests.mlp.test_finops_advise import NOW, TEAM, series
from tests.mlp.test_prices import EXCERPT, read_excerpt

URL = offer_file_url("eu-west-1")
PAID_2GB = 0.00004
PAID_4GB = 0.00008


def _serverless(offer_prices: Any) -> dict[str, Any]:
    return {p.item: p for p in offer_prices if p.kind == SERVERLESS_COMPUTE}


def test_the_excerpt_gives_the_paid_tier_of_each_memory_size_with_the_file_url_sku_and_date() -> None:
    offer = read_offer_file(read_excerpt(), URL, "eu-west-1")

    found = _serverless(offer.prices)
    # 2 and 4 GB; the provisioned-concurrency row and the 6 GB row priced per hour are not serverless compute.
    assert set(found) == {"2048MB", "4096MB"}
    two = found["2048MB"]
    assert two.usd_per_unit == PAID_2GB  # the range from 150,000 seconds, not the free first range
    assert found["4096MB"].usd_per_unit == PAID_4GB
    assert two.unit == "second"
    assert two.region == "eu-west-1"
    assert two.source == f"{URL} (AWS Price List, SKU AAASRVLS2GB0009)"
    assert two.published == "2026-11-20T18:12:04Z"
    assert not [note for note in offer.skipped if SERVERLESS_COMPUTE in note]


HEADER = (
    '"SKU","OfferTermCode","RateCode","TermType","PriceDescription","EffectiveDate","StartingRange","EndingRange",'
    '"Unit","PricePerUnit","Currency","Product Family","serviceCode","Location","usageType","Region Code"'
)


def _row(
    sku: str, start: str, end: str, usd: str, usage: str = "EU-ServerlessInf:Mem-1GB", *, unit: str = "Second"
) -> str:
    return (
        f'"{sku}","JRTCKXETXF","{sku}.JRTCKXETXF.{start}","OnDemand","test row","2026-11-01","{start}","{end}",'
        f'"{unit}","{usd}","USD","ML Serverless","AmazonSageMaker","EU (Ireland)","{usage}","eu-west-1"'
    )


def _file(*rows: str) -> list[str]:
    return offer_file(HEADER, *rows)


def test_the_free_tier_is_never_the_price_whatever_the_row_order() -> None:
    # The paid row first, then the zero-price first range: the order of rows does not matter.
    offer = read_offer_file(
        _file(_row("S1", "150000", "Inf", "0.00002"), _row("S1", "0", "150000", "0.0000000000")), URL, "eu-west-1"
    )
    assert [(p.item, p.usd_per_unit) for p in offer.prices] == [("1024MB", 0.00002)]


def test_a_size_with_only_a_free_range_or_two_paid_prices_stays_unknown() -> None:
    offer = read_offer_file(
        _file(
            _row("S1", "0", "150000", "0"),
            _row("S2", "150000", "Inf", "0.00002", "EU-ServerlessInf:Mem-3GB"),
            _row("S3", "150000", "Inf", "0.00003", "EU-ServerlessInf:Mem-3GB"),
        ),
        URL,
        "eu-west-1",
    )
    assert offer.prices == ()
    assert offer.skipped == (
        f"{SERVERLESS_COMPUTE} 1024MB in eu-west-1: only free-tier (zero) prices; left unknown",
        f"{SERVERLESS_COMPUTE} 3072MB in eu-west-1: 2 different on-demand prices; left unknown",
    )


def test_a_single_priced_row_is_taken_and_other_usage_types_and_units_are_not() -> None:
    offer = read_offer_file(
        _file(
            _row("S1", "0", "Inf", "0.00005", "EU-ServerlessInf:Mem-5GB"),
            _row("S2", "0", "Inf", "0.00001", "EU-ProvisionedConcurrency:Usage-5GB"),
            _row("S3", "0", "Inf", "0.00001", "EU-ServerlessInf:Mem-5GB-Other"),
            _row("S4", "0", "Inf", "0.9", "EU-ServerlessInf:Mem-6GB", unit="Hrs"),
            _row("S5", "0", "Inf", "0.00006", "EU-ServerlessInf:Mem-6GB", unit="Seconds"),
        ),
        URL,
        "eu-west-1",
    )
    assert {(p.item, p.usd_per_unit) for p in offer.prices} == {("5120MB", 0.00005), ("6144MB", 0.00006)}


def refreshed_prices(tmp_path: Path) -> Path:
    """A price file with no serverless price, refreshed from the committed excerpt by `mlp prices refresh`."""
    prices = write_prices(tmp_path / "prices.json", [])
    code = main(["prices", "refresh", "--region", "eu-west-1", "--source", str(EXCERPT), "--prices", str(prices)])
    assert code == 0
    return prices


def test_refresh_writes_the_serverless_prices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = refreshed_prices(tmp_path)

    assert "eu-west-1: 6 prices from " + URL in capsys.readouterr().out
    written = {(p["kind"], p["item"]): p for p in json.loads(prices.read_text())["prices"]}
    entry = written[(SERVERLESS_COMPUTE, "2048MB")]
    assert entry["usd_per_unit"] == PAID_2GB
    assert entry["unit"] == "second"
    assert entry["source"] == f"{URL} (AWS Price List, SKU AAASRVLS2GB0009)"
    assert entry["published"] == "2026-11-20T18:12:04Z"
    book = load_prices(prices)
    four = book.lookup("eu-west-1", SERVERLESS_COMPUTE, "4096MB")
    assert four is not None and four.usd_per_unit == PAID_4GB


def test_cost_prices_a_serverless_endpoint_from_the_refreshed_price(
    tmp_path: Path, edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    prices = refreshed_prices(tmp_path)

    def serverless(data: Any) -> None:
        [model] = [m for m in data["models"] if m["name"] == "transaction-anomaly"]
        model["serving"]["serverless"]["memory_mb"] = 4096
        data["finops"]["serverless_usage"] = [
            {"model": "transaction-anomaly", "monthly_requests": 200000, "mean_duration_ms": 250}
        ]

    root = edit_env("dev", serverless)
    capsys.readouterr()

    code = main(["cost", "dev", "--root", str(root), "--prices", str(prices), "--json"])

    assert code == 0
    items = json.loads(capsys.readouterr().out)["items"]
    [line] = [i for i in items if i["category"] == "serverless"]
    # 200,000 requests x 0.25 s = 50,000 s at the 4 GB paid price (no payload: no data line needed).
    assert line["monthly_usd"] == pytest.approx(50_000 * PAID_4GB)
    assert line["prices"][0]["source"] == f"{URL} (AWS Price List, SKU AAASRVLS4GB0010)"
    assert "4096 MB" in line["description"]


# --- the advisor's serverless proposal ------------------------------------------------------------------------

QUIET_ENV = (
    TEAM
    + """
models:
  - name: quiet-model
    team: fraud
    registry_group: quiet-model
    version: 1
    serving:
      instance_type: ml.m5.xlarge
      instance_count: 1
"""
)
HOSTING_XL = 0.25
"""Test price per instance-hour (not AWS's)."""


@pytest.fixture
def quiet_root(tmp_path: Path) -> Path:
    """dev, a stage below staging (so outside production), with one endpoint on one ml.m5.xlarge."""
    root = tmp_path / "repo"
    (root / "environments").mkdir(parents=True)
    (root / "environments" / "dev.yaml").write_text(QUIET_ENV)
    staging = QUIET_ENV.replace('account_id: "111122223333"', 'account_id: "444455556666"\npromoted_from: dev')
    (root / "environments" / "staging.yaml").write_text(staging)
    return root


def advisor_prices(tmp_path: Path, serverless: dict[str, float]) -> Any:
    entries = [("eu-west-1", "sagemaker-hosting", "ml.m5.xlarge", HOSTING_XL, "instance-hour")]
    entries += [("eu-west-1", SERVERLESS_COMPUTE, item, usd, "second") for item, usd in serverless.items()]
    return load_prices(write_prices(tmp_path / "advisor-prices.json", entries))


@pytest.fixture
def quiet_cloudwatch() -> Iterator[Any]:
    """100 invocations an hour in 24 of the last 168 hours. ModelLatency (microseconds in CloudWatch), as
    SageMaker publishes it, one sample per invocation: 100 samples an hour of mean 200 ms, one hour peaking at
    500 ms. The advisor must price the mean (0.2 s), not the peak."""
    with mock_aws():
        client = boto3.client("cloudwatch", region_name="eu-west-1")
        series(client, "dev-quiet-model", "AWS/SageMaker", "Invocations", [100.0] * 24)
        client.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": "ModelLatency",
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": "dev-quiet-model"},
                        {"Name": "VariantName", "Value": "primary"},
                    ],
                    "Timestamp": NOW - dt.timedelta(hours=hour + 1),
                    "StatisticValues": {
                        "SampleCount": 100,
                        "Sum": 100 * 200_000.0,
                        "Minimum": 150_000.0 if hour else 100_000.0,
                        "Maximum": 500_000.0 if hour == 0 else 250_000.0,
                    },
                }
                for hour in range(24)
            ],
        )
        yield client


def _serverless_proposals(report: Any) -> list[Any]:
    return [p for p in report.proposals if p.kind == "serverless"]


def test_the_serverless_saving_is_the_instance_cost_less_the_priced_serverless_compute(
    tmp_path: Path, quiet_root: Path, quiet_cloudwatch: Any
) -> None:
    price = 0.0001  # USD per second at the proposed memory size: a test value
    prices = advisor_prices(tmp_path, {f"{SERVERLESS_PROPOSED_MEMORY_MB}MB": price})

    report = advise("dev", 7, prices, root=quiet_root, cloudwatch=quiet_cloudwatch, now=NOW)

    [proposal] = _serverless_proposals(report)
    monthly_invocations = 2400 / 7 * 730 / 24
    serverless = monthly_invocations * 0.2 * price
    assert proposal.monthly_saving_usd == pytest.approx(HOSTING_XL * 730 - serverless)
    assert proposal.summary == f"serve quiet-model serverless ({SERVERLESS_PROPOSED_MEMORY_MB} MB)"
    assert proposal.evidence[0] == "343 invocations a day on average (below 10,000)"
    assert (
        f"serverless at {SERVERLESS_PROPOSED_MEMORY_MB} MB: 10,429 invocations a month x 0.2 s "
        "(the ModelLatency mean; cold starts not counted)" in proposal.evidence[1]
    )
    assert f"= {serverless:,.2f} USD/month, against the instances' 182.50 USD/month" in proposal.evidence[1]


def test_serverless_is_not_proposed_when_the_prices_say_it_costs_more(
    tmp_path: Path, quiet_root: Path, quiet_cloudwatch: Any
) -> None:
    # 10,429 invocations x 0.2 s (the mean) x 0.1 USD/s = 208.57 USD a month, more than the instance's 182.50.
    prices = advisor_prices(tmp_path, {f"{SERVERLESS_PROPOSED_MEMORY_MB}MB": 0.1})

    report = advise("dev", 7, prices, root=quiet_root, cloudwatch=quiet_cloudwatch, now=NOW)

    assert not _serverless_proposals(report)
    [note] = [u for u in report.untouched if "serverless" in u]
    assert note.startswith("dev-quiet-model: kept on instances: serverless would cost more")
    assert "= 208.57 USD/month" in note


def test_without_the_price_of_the_proposed_memory_size_the_saving_stays_unknown(
    tmp_path: Path, quiet_root: Path, quiet_cloudwatch: Any
) -> None:
    prices = advisor_prices(tmp_path, {"2048MB": 0.0001})  # another memory size only

    report = advise("dev", 7, prices, root=quiet_root, cloudwatch=quiet_cloudwatch, now=NOW)

    [proposal] = _serverless_proposals(report)
    assert proposal.monthly_saving_usd is None
    assert proposal.evidence[1] == (
        "saves at most the instances' 182.50 USD/month; no serverless price in the price file, so the saving is unknown"
    )
