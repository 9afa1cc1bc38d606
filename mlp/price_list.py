"""SageMaker prices from the AWS Price List bulk files: public, no credentials, one CSV per service and region.

A regional offer file lives at `https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<serviceCode>/current/
<region>/index.csv` (AWS Billing user guide, "Fetching price list files manually", read 2026-11-30). It opens
with five metadata rows — `"FormatVersion"`, `"Disclaimer"`, `"Publication Date"`, `"Version"`,
`"OfferCode"` — then the header row (`"SKU","OfferTermCode","RateCode","TermType","PriceDescription",
"EffectiveDate","StartingRange","EndingRange","Unit","PricePerUnit","Currency",...,"Product Family",
"serviceCode","Location",...`) and one row per price dimension. The SageMaker file is large, so it is read as
a stream, row by row, and only on-demand hourly "ML Instance" rows are kept.

Product attributes become columns whose spelling varies between services ("Instance Type", "usageType",
"Region Code"), so columns are matched by their letters only: "Instance Name", "instanceName" and
"instance_name" are the same column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from components.errors import InputError, Problem
from mlp.pricing import BATCH_TRANSFORM, HOSTING, PROCESSING, TRAINING, Price

PRICE_LIST_HOST = "https://pricing.us-east-1.amazonaws.com"
SAGEMAKER = "AmazonSageMaker"
METADATA_ROWS = 5

# The SageMaker product's component, and the usage-type part before the colon ("EU-Host:ml.m5.xlarge"),
# say what an instance hour pays for.
_COMPONENTS = {
    "hosting": HOSTING,
    "training": TRAINING,
    "processing": PROCESSING,
    "batchtransform": BATCH_TRANSFORM,
}
_USAGE_PREFIXES = {"host": HOSTING, "train": TRAINING}


def offer_file_url(region: str, service: str = SAGEMAKER) -> str:
    """The current regional CSV offer file of a service."""
    return f"{PRICE_LIST_HOST}/offers/v1.0/aws/{service}/current/{region}/index.csv"


@dataclass(frozen=True)
class OfferFile:
    """What one offer file says: its metadata and the on-demand instance-hour prices found in it."""

    url: str
    offer_code: str
    publication_date: str
    version: str
    prices: tuple[Price, ...]
    skipped: tuple[str, ...]
    """Instance types and kinds left out because the file gave more than one price for them."""


def _key(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


def read_offer_file(
    lines: Iterable[str], url: str, region: str | None = None, today: dt.date | None = None
) -> OfferFile:
    """Parse an offer file's rows (a text stream) into hourly on-demand SageMaker instance prices.

    `region` keeps only rows of that region code when the file carries a region column (a regional file
    carries only its own region). A price's source is the file's URL and SKU; `published` is the file's
    publication date.
    """
    reader = csv.reader(lines)
    metadata: dict[str, str] = {}
    for _ in range(METADATA_ROWS):
        row = next(reader, None)
        if row is None or len(row) < 2:
            raise InputError([Problem(url, "", "not an AWS Price List CSV file: it ends inside the metadata rows")])
        metadata[_key(row[0])] = row[1]
    if "publicationdate" not in metadata:
        raise InputError([Problem(url, "", 'not an AWS Price List CSV file: no "Publication Date" metadata row')])
    header = next(reader, None)
    if not header:
        raise InputError([Problem(url, "", "not an AWS Price List CSV file: no header row after the metadata")])
    columns = {_key(name): i for i, name in enumerate(header)}
    wanted = ("sku", "termtype", "unit", "priceperunit", "currency", "productfamily")
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InputError([Problem(url, "", f"the header has no column {', '.join(missing)}")])

    read_on = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    published = metadata["publicationdate"]
    offers: dict[tuple[str, str, str], set[tuple[float, str]]] = {}
    for row in reader:
        priced = _instance_hour({name: row[i].strip() for name, i in columns.items() if i < len(row)}, region)
        if priced is not None:
            where, kind, instance, usd, sku = priced
            offers.setdefault((where, kind, instance), set()).add((usd, sku))

    prices: list[Price] = []
    skipped: list[str] = []
    for (where, kind, instance), found in sorted(offers.items()):
        if len({usd for usd, _ in found}) != 1:
            skipped.append(f"{kind} {instance} in {where}: {len(found)} different on-demand prices; left unknown")
            continue
        usd, sku = sorted(found)[0]
        prices.append(
            Price(
                region=where,
                kind=kind,
                item=instance,
                usd_per_unit=usd,
                unit="instance-hour",
                source=f"{url} (AWS Price List, SKU {sku})",
                read_on=read_on,
                published=published,
            )
        )
    return OfferFile(
        url=url,
        offer_code=metadata.get("offercode", ""),
        publication_date=published,
        version=metadata.get("version", ""),
        prices=tuple(prices),
        skipped=tuple(skipped),
    )


def _instance_hour(cells: dict[str, str], region: str | None) -> tuple[str, str, str, float, str] | None:
    """(region, kind, instance type, USD, SKU) of an on-demand ML instance hour row; None for any other row."""
    if cells.get("termtype") != "OnDemand" or cells.get("productfamily") != "ML Instance":
        return None
    if cells.get("currency") != "USD" or cells.get("unit") not in ("Hrs", "Hr", "Hours"):
        return None
    row_region = cells.get("regioncode", "")
    if region and row_region and row_region != region:
        return None
    usage = cells.get("usagetype", "")
    instance = cells.get("instancename") or _instance_type(cells.get("instancetype", "")) or usage.partition(":")[2]
    kind = _COMPONENTS.get(_key(cells.get("component", ""))) or _USAGE_PREFIXES.get(
        _key(usage.partition(":")[0].rsplit("-", 1)[-1])
    )
    try:
        usd = float(cells.get("priceperunit", ""))
    except ValueError:
        return None
    if kind is None or not instance.startswith("ml.") or usd <= 0:
        return None
    return row_region or region or "", kind, instance, usd, cells.get("sku", "")


def _instance_type(value: str) -> str:
    """The instance type of an `instanceType` attribute, without the component some SageMaker rows append.

    Three unrelated public projects that read the AmazonSageMaker offer file (seen in a code search on 2026-11-30;
    the index did not name their repositories, so this is a hint, not a checked fact) match `instanceType` values
    such as "ml.m5.large-Hosting" and strip the suffix, and read the bare type from `instanceName`, which the reader
    prefers. Stripping is harmless when the suffix is absent. Hyphens inside the family
    ("ml.m7i-flex.large", "ml.p6-b200.48xlarge" in botocore's sagemaker model) are kept: only the part after the
    last dot, the size, loses what follows a hyphen.
    """
    family, dot, size = value.rpartition(".")
    return f"{family}{dot}{size.split('-', 1)[0]}" if dot else value


def open_offer_file(source: str) -> Iterator[str]:
    """The lines of an offer file from a URL (streamed) or a local path."""
    if re.match(r"^https?://", source):
        # Only AWS's public price list host: this command never fetches anything else.
        if not source.startswith(PRICE_LIST_HOST + "/"):
            raise InputError([Problem("command line", "--source", f"{source} is not on {PRICE_LIST_HOST}")])
        try:
            with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310 (https, fixed host)
                yield from io.TextIOWrapper(response, encoding="utf-8", newline="")
        except (urllib.error.URLError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InputError(
                [Problem(source, "--source", f"cannot download the offer file ({reason}); or pass --source FILE")]
            ) from None
        return
    path = Path(source)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            yield from handle
    except OSError as exc:
        raise InputError([Problem(source, "--source", f"cannot read the offer file: {exc.strerror}")]) from None
