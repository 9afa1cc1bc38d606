"""The committed price data `mlp cost` reads, and its refresh from the AWS Price List API.

Every price carries its region, what it prices, the unit, where it was read and when. Lookups that find
nothing return None: the estimate shows "unknown", never zero.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from components.errors import InputError, Problem

PRICES_FILE = Path(__file__).parent / "data" / "prices.json"
ANY_REGION = "any"

HOSTING = "sagemaker-hosting"
"""SageMaker real-time inference instance, USD per instance-hour."""
TRAINING = "sagemaker-training"
"""SageMaker training instance, USD per instance-hour."""
PROCESSING = "sagemaker-processing"
"""SageMaker processing instance (processing steps, Model Monitor executions), USD per instance-hour."""
BATCH_TRANSFORM = "sagemaker-batch-transform"
"""SageMaker batch transform instance, USD per instance-hour."""
HOSTING_DATA = "sagemaker-hosting-data"
"""Data processed by a real-time endpoint, USD per GB (items "GB-in" and "GB-out")."""
SERVERLESS_COMPUTE = "sagemaker-serverless-compute"
"""SageMaker serverless inference compute, USD per second at a memory size (item: e.g. "2048MB")."""
SERVERLESS_DATA = "sagemaker-serverless-data"
"""SageMaker serverless inference data processed (in and out), USD per GB (item: "GB")."""
KMS_KEY = "kms-key"
"""A customer managed KMS key, USD per key-month."""
CLOUDWATCH_ALARM = "cloudwatch-alarm"
"""A standard-resolution CloudWatch metric alarm, USD per alarm metric per month (item "standard-resolution")."""
CLOUDWATCH_DASHBOARD = "cloudwatch-dashboard"
"""A CloudWatch dashboard, USD per dashboard-month (item "dashboard")."""
STEP_FUNCTIONS_TRANSITIONS = "stepfunctions-standard-transitions"
"""Step Functions standard-workflow state transitions, USD per 1,000 transitions (item: "1000-transitions")."""

# Usage-type prefixes of SageMaker products in the AWS Price List, e.g. "EU-Host:ml.m5.large" (the part
# before the colon ends with the component; the part after it is the instance type).
_USAGE_KINDS = {"Host": HOSTING, "Train": TRAINING}


@dataclass(frozen=True)
class Price:
    """One price: what, where, how much per unit, and its source."""

    region: str
    kind: str
    item: str
    usd_per_unit: float
    unit: str
    source: str
    read_on: str
    published: str = ""
    """When the source itself was published (a price list file's publicationDate, an invoice's month);
    empty when the source carries no date."""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.item} in {self.region}"


@dataclass(frozen=True)
class PriceBook:
    """The prices of one data file and the hours-per-month figure with its source."""

    path: Path
    hours_per_month: float
    hours_source: str
    prices: tuple[Price, ...]

    def lookup(self, region: str, kind: str, item: str) -> Price | None:
        """The price of `item` in `region` (or one that holds in every region); None when unknown."""
        for wanted in (region, ANY_REGION):
            for price in self.prices:
                if (price.region, price.kind, price.item) == (wanted, kind, item):
                    return price
        return None


def load_prices(path: Path | None = None) -> PriceBook:
    """Read a price data file; a malformed file is bad input (exit 2), with the entry that is wrong."""
    path = path or PRICES_FILE
    shown = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            [Problem(shown, "", "price file not found; pass --prices PATH to a JSON price file")]
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError([Problem(shown, "", f"invalid JSON: {exc.msg}", exc.lineno)]) from None
    try:
        hours = data["hours_per_month"]
        prices = tuple(Price(**entry) for entry in data["prices"])
        book = PriceBook(path, float(hours["value"]), str(hours["source"]), prices)
    except (KeyError, TypeError) as exc:
        raise InputError(
            [
                Problem(
                    shown,
                    "prices",
                    f"malformed price file ({exc}): it needs hours_per_month {{value, source, read_on}} and "
                    "prices [{region, kind, item, usd_per_unit, unit, source, read_on}]",
                )
            ]
        ) from None
    for i, price in enumerate(book.prices):
        if not price.source or not price.read_on:
            raise InputError([Problem(shown, f"prices[{i}]", "every price needs its source and the date it was read")])
    return book


def save_prices(book: PriceBook, extra: Iterable[Price]) -> PriceBook:
    """Write the book with `extra` added (replacing entries for the same region, kind and item)."""
    extra = list(extra)
    replaced = {(p.region, p.kind, p.item) for p in extra}
    kept = [p for p in book.prices if (p.region, p.kind, p.item) not in replaced]
    prices = sorted([*kept, *extra], key=lambda p: (p.kind, p.region, p.item))
    data = json.loads(book.path.read_text(encoding="utf-8"))
    # An empty `published` (a source without a date) is left out, as in the committed file.
    data["prices"] = [{k: v for k, v in asdict(p).items() if v != "" or k != "published"} for p in prices]
    book.path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return PriceBook(book.path, book.hours_per_month, book.hours_source, tuple(prices))


def fetch_sagemaker_prices(
    client: Any, region: str, instance_types: Iterable[str], today: dt.date | None = None
) -> tuple[list[Price], list[str]]:
    """On-demand hosting and training prices of instance types in a region, from pricing:GetProducts.

    `client` is a boto3 `pricing` client. Returns the prices found and a note for each instance type and
    kind that had no single unambiguous hourly USD price (those stay unknown).
    """
    read_on = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    found: list[Price] = []
    notes: list[str] = []
    for instance in sorted(set(instance_types)):
        candidates: dict[str, set[tuple[float, str]]] = {HOSTING: set(), TRAINING: set()}
        for product in _products(client, region, instance):
            kind, sku, usd = _on_demand_hourly(product, instance)
            if kind:
                candidates[kind].add((usd, sku))
        for kind, offers in candidates.items():
            prices = {usd for usd, _ in offers}
            if len(prices) != 1:
                what = "no" if not prices else f"{len(prices)} different"
                notes.append(f"{kind} {instance} in {region}: {what} on-demand hourly prices found; left unknown")
                continue
            [(usd, sku)] = sorted(offers)[:1]
            found.append(
                Price(
                    region=region,
                    kind=kind,
                    item=instance,
                    usd_per_unit=usd,
                    unit="instance-hour",
                    source=f"AWS Price List API: pricing:GetProducts ServiceCode=AmazonSageMaker, SKU {sku}",
                    read_on=read_on,
                )
            )
    return found, notes


def _products(client: Any, region: str, instance: str) -> Iterable[dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "ServiceCode": "AmazonSageMaker",
        "FormatVersion": "aws_v1",
        "Filters": [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
            {"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance},
        ],
    }
    while True:
        page = client.get_products(**kwargs)
        for entry in page.get("PriceList", []):
            yield json.loads(entry) if isinstance(entry, str) else entry
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


def _on_demand_hourly(product: dict[str, Any], instance: str) -> tuple[str | None, str, float]:
    """(kind, sku, USD per hour) of an on-demand SageMaker instance product, or (None, ...) otherwise."""
    attributes = product.get("product", {}).get("attributes", {})
    sku = str(product.get("product", {}).get("sku", ""))
    prefix, _, item = str(attributes.get("usagetype", "")).partition(":")
    kind = _USAGE_KINDS.get(prefix.rsplit("-", 1)[-1])
    if kind is None or item != instance:
        return None, sku, 0.0
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if dimension.get("unit") == "Hrs" and usd is not None and float(usd) > 0:
                return kind, sku, float(usd)
    return None, sku, 0.0
