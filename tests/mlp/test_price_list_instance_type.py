"""Offer-file rows that name the instance only in `instanceType`, with the component appended.

The rows below are test data in the offer file's layout (five metadata rows, the header row, one row per price
dimension), without an "Instance Name" column, so the reader falls back to "Instance Type". Their prices are
made up for the test; they are not AWS's.
"""

from __future__ import annotations

from mlp.price_list import offer_file_url, read_offer_file
from mlp.pricing import HOSTING, TRAINING
from tests.mlp.offer_files import offer_file

URL = offer_file_url("eu-west-1")
HEADER = (
    '"SKU","OfferTermCode","RateCode","TermType","PriceDescription","EffectiveDate","StartingRange","EndingRange",'
    '"Unit","PricePerUnit","Currency","Product Family","serviceCode","Location","Instance Type","Component",'
    '"usageType","Region Code"'
)


def _row(sku: str, instance_type: str, component: str, usd: str) -> str:
    return (
        f'"{sku}","JRTCKXETXF","{sku}.JRTCKXETXF.6YS6EN2CT7","OnDemand","test row","2026-11-01","0","Inf","Hrs",'
        f'"{usd}","USD","ML Instance","AmazonSageMaker","EU (Ireland)","{instance_type}","{component}",'
        f'"EU-Test:{instance_type}","eu-west-1"'
    )


def _file(*rows: str) -> list[str]:
    return offer_file(HEADER, *rows)


def test_the_component_suffix_of_instance_type_is_dropped_and_family_hyphens_are_kept() -> None:
    offer = read_offer_file(
        _file(
            _row("SKU1", "ml.m5.large-Hosting", "Hosting", "1.5"),
            _row("SKU2", "ml.m7i-flex.large-Hosting", "Hosting", "2.5"),
            _row("SKU3", "ml.p6-b200.48xlarge", "Training", "3.5"),
        ),
        URL,
        "eu-west-1",
    )

    found = {(p.kind, p.item): p.usd_per_unit for p in offer.prices}
    assert found == {
        (HOSTING, "ml.m5.large"): 1.5,
        (HOSTING, "ml.m7i-flex.large"): 2.5,
        (TRAINING, "ml.p6-b200.48xlarge"): 3.5,
    }
    assert all(p.published == "2026-11-30T00:00:00Z" for p in offer.prices)


def test_a_suffixed_and_a_bare_row_for_one_instance_with_different_prices_stay_unknown() -> None:
    offer = read_offer_file(
        _file(
            _row("SKU1", "ml.m5.large-Hosting", "Hosting", "1.5"),
            _row("SKU2", "ml.m5.large", "Hosting", "1.6"),
        ),
        URL,
        "eu-west-1",
    )

    assert offer.prices == ()
    assert offer.skipped == ("sagemaker-hosting ml.m5.large in eu-west-1: 2 different on-demand prices; left unknown",)
