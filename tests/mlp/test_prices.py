"""The AWS Price List offer-file reader and `mlp prices refresh`, on a committed excerpt.

The excerpt has the offer file's exact layout (five metadata rows, the header row, one row per price
dimension) and the common columns of real offer files (SKU ... Currency, "Product Family", "serviceCode",
"Location", "usageType", "operation", "Region Code"); its prices are test data shaped like the real rows, not
a copy of AWS's file. The SageMaker product attributes `component` and `instanceName` are columns "Component"
and "Instance Name" here; the reader matches columns by their letters, so "instanceName" reads the same.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from components.errors import InputError
from mlp.cli import main
from mlp.price_list import offer_file_url, read_offer_file
from mlp.pricing import HOSTING, PROCESSING, TRAINING, load_prices

EXCERPT = Path(__file__).parents[1] / "fixtures" / "price_list" / "AmazonSageMaker-eu-west-1-excerpt.csv"
URL = offer_file_url("eu-west-1")


def read_excerpt() -> list[str]:
    return EXCERPT.read_text(encoding="utf-8").splitlines(keepends=True)


def test_the_excerpt_becomes_on_demand_instance_hour_prices_with_the_file_url_and_publication_date() -> None:
    offer = read_offer_file(read_excerpt(), URL, "eu-west-1")

    assert offer.offer_code == "AmazonSageMaker"
    assert offer.publication_date == "2026-11-20T18:12:04Z"
    found = {(p.kind, p.item): p for p in offer.prices if p.unit == "instance-hour"}  # serverless: its own tests
    # Hosting, training and processing hours; the reserved rate, the storage row and the notebook are left out.
    assert set(found) == {
        (HOSTING, "ml.m5.xlarge"),
        (TRAINING, "ml.m5.xlarge"),
        (PROCESSING, "ml.m5.xlarge"),
        (HOSTING, "ml.g4dn.xlarge"),
    }
    hosting = found[(HOSTING, "ml.m5.xlarge")]
    assert hosting.usd_per_unit == 0.257
    assert hosting.region == "eu-west-1"
    assert hosting.unit == "instance-hour"
    assert hosting.source == f"{URL} (AWS Price List, SKU AAAHOSTM5XL0001)"
    assert hosting.published == "2026-11-20T18:12:04Z"
    assert URL == "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonSageMaker/current/eu-west-1/index.csv"


def test_two_different_prices_for_one_instance_stay_unknown() -> None:
    offer = read_offer_file(read_excerpt(), URL, "eu-west-1")

    assert not [p for p in offer.prices if p.item == "ml.c5.2xlarge"]
    assert offer.skipped == (
        "sagemaker-hosting ml.c5.2xlarge in eu-west-1: 2 different on-demand prices; left unknown",
    )


def test_rows_of_another_region_are_ignored() -> None:
    assert read_offer_file(read_excerpt(), URL, "us-east-1").prices == ()


def test_a_file_without_the_metadata_rows_is_refused() -> None:
    rows = read_excerpt()[5:]  # starts at the header row
    with pytest.raises(InputError, match=r"Publication Date|metadata"):
        read_offer_file(rows, URL, "eu-west-1")


def test_refresh_writes_the_prices_and_keeps_the_others(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "prices.json"
    shutil.copy(Path(__file__).parents[2] / "mlp" / "data" / "prices.json", prices)
    before = {(p.kind, p.region, p.item) for p in load_prices(prices).prices}

    code = main(["prices", "refresh", "--region", "eu-west-1", "--source", str(EXCERPT), "--prices", str(prices)])

    assert code == 0
    assert "eu-west-1: 6 prices from " + URL in capsys.readouterr().out  # 4 instance-hour, 2 serverless
    book = load_prices(prices)
    processing = book.lookup("eu-west-1", PROCESSING, "ml.m5.xlarge")
    assert (
        processing is not None and processing.source.startswith(URL) and processing.published.startswith("2026-11-20")
    )
    assert before <= {(p.kind, p.region, p.item) for p in book.prices}  # nothing else was dropped
    assert book.lookup("eu-west-1", "kms-key", "customer-managed-key") is not None
    assert json.loads(prices.read_text())["hours_per_month"]["value"] == 730


def test_refresh_from_another_host_is_refused(tmp_path: Path) -> None:
    code = main(["prices", "refresh", "--region", "eu-west-1", "--source", "https://example.com/index.csv"])
    assert code == 2


def test_the_committed_prices_each_name_a_source_and_the_invoice_month() -> None:
    book = load_prices()
    hosting = book.lookup("eu-west-1", HOSTING, "ml.m5.xlarge")
    assert hosting is not None and hosting.usd_per_unit == 0.257
    assert "Sample_Costs.md" in hosting.source and hosting.published == "2023-12"
    assert all(p.source and p.read_on for p in book.prices)
