"""SageMaker and CloudWatch prices from the AWS Price List bulk files: public, no credentials, one CSV per service
and region.

A regional offer file lives at `https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<serviceCode>/current/
<region>/index.csv` (AWS Billing user guide, "Fetching price list files manually", read 2026-11-30). It opens
with five metadata rows — `"FormatVersion"`, `"Disclaimer"`, `"Publication Date"`, `"Version"`,
`"OfferCode"` — then the header row (`"SKU","OfferTermCode","RateCode","TermType","PriceDescription",
"EffectiveDate","StartingRange","EndingRange","Unit","PricePerUnit","Currency",...,"Product Family",
"serviceCode","Location",...`) and one row per price dimension. The SageMaker file is large, so it is read as
a stream, row by row, and only these rows are kept: on-demand hourly "ML Instance" rows, the on-demand per-second
"ML Serverless" compute rows (one per memory size, below), and, from the AmazonCloudWatch file, the monthly
standard-resolution alarm-metric and dashboard rows (below). Every file is read by the same reader.

Serverless Inference compute ("ML Serverless" rows, read 2026-11-30). The file prices it per second of
processing at a memory size, one usage type per size, `<region prefix>-ServerlessInf:Mem-<N>GB`, N the memory
in GB: infracost (github.com/infracost/infracost, internal/resources/aws, its SageMaker endpoint configuration
resource) looks it up with product family "ML Serverless" and usage type `/ServerlessInf:Mem-<N>GB$/`, N =
MemorySizeInMB / 1024; a public tool that streams the SageMaker price list describes "EU-ServerlessInf:Mem-4GB"
as "a per-second price for one of the six memory sizes a serverless endpoint can be configured with"; a public
note quotes the Price List API for "USE1-ServerlessInf:Mem-3GB" as a price "per processing second". The issue's
"per GB-second" is that price divided by N. A usage type carries tiered rows: infracost takes the row starting
at 150,000 seconds (price filter StartUsageAmount "150000"), i.e. the first range, 0 to 150,000 seconds, is read
as the free-tier allowance (no AWS page we could read confirms the figure), not the price. So a zero-price row is
never taken, and of the priced rows the one whose StartingRange is highest (the price every second past the
allowance pays) is; two different prices there leave the size unknown, as two prices for an instance do. The
price is stored per memory size in MB, the item `mlp.cost_estimate` looks up from the endpoint configuration's
`serverlessConfig.memorySizeInMb` (the environment file's `serving.serverless.memory_mb`): "Mem-2GB" is item
"2048MB".

Provisioned concurrency (`ProvisionedConcurrency:Mem-<N>GB`, `ProvisionedConcurrency:Usage-<N>GB` in the same
product family, per infracost) is left out: no component here configures it. Serverless data processed is left
out as well: infracost prices it from the same rows as a real-time endpoint's (group "Hosting:IN"/"Hosting:OUT",
operation "Invoke-Endpoint", usage type containing "Data-Bytes-In"/"Data-Bytes-Out"), which says nothing
serverless-specific about them and nothing about their tiers; no first-hand source was found, so
`sagemaker-serverless-data` stays unknown (docs/finops.md).

CloudWatch alarms and dashboards (the AmazonCloudWatch offer file, same layout and URL scheme; read 2026-11-30).
The AWS CloudWatch user guide, "Analyzing, optimizing, and reducing CloudWatch costs"
(docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_billing.html), names the usage types:
`<Region>-CW:<Feature>`, e.g. "EU-CW:GMD-Metrics"; a standard-resolution metric alarm is `AlarmMonitorUsage`, a
high-resolution one `HighResAlarmMonitorUsage`, a composite alarm `CompositeAlarmMonitorUsage`, a Metrics
Insights alarm `MetricInsightAlarmUsage`; a dashboard with 50 or fewer metrics `DashboardsUsageHour-Basic`, with
more `DashboardsUsageHour`; and "some CloudWatch features such as logs and alarms also use the `Global` Region to
identify the Free Tier usage". infracost (github.com/infracost/infracost, internal/resources/aws/
cloudwatch_metric_alarm.go and cloudwatch_dashboard.go) looks an alarm up in product family "Alarm" with attribute
`alarmType` matching "Standard" (or "High Resolution" when the period is under 60 s), one per metric the alarm
watches (a metric-math alarm: one per query with a metric; an anomaly-detection alarm: three), and a dashboard in
product family "Dashboard" with usage type "DashboardsUsageHour", one per month. So two kinds of rows are kept
here: on-demand "Alarm" rows whose usage type ends in `CW:AlarmMonitorUsage` (and whose `alarmType`, when the file
has the column, is "Standard"), and on-demand "Dashboard" rows whose usage type is `DashboardsUsageHour` with or
without a region prefix. The `-Basic` dashboard row is not read: how many metrics a dashboard shows cannot be read
from a plan (a SEARCH expression returns however many metrics match), so every dashboard is priced from the same
row infracost prices it from. A `Global-` usage type (the free tier) is never read, and of a usage type's rows the
paid tier is taken as for serverless compute: zero-price rows (the per-account free tier: 10 alarm metrics and 3
dashboards, aws.amazon.com/cloudwatch/pricing, read 2026-11-30) never, else the row with the highest StartingRange.
A dashboard row without a region code (dashboards are billed per account, not per region) is stored for every
region (`any`).

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
from mlp.pricing import (
    ANY_REGION,
    BATCH_TRANSFORM,
    CLOUDWATCH_ALARM,
    CLOUDWATCH_DASHBOARD,
    HOSTING,
    PROCESSING,
    SERVERLESS_COMPUTE,
    TRAINING,
    Price,
)

PRICE_LIST_HOST = "https://pricing.us-east-1.amazonaws.com"
SAGEMAKER = "AmazonSageMaker"
CLOUDWATCH = "AmazonCloudWatch"
SERVICES = (SAGEMAKER, CLOUDWATCH)
"""The offer files `mlp prices refresh` reads, by service code."""
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
REFRESHED_KINDS = frozenset({*_COMPONENTS.values(), SERVERLESS_COMPUTE, CLOUDWATCH_ALARM, CLOUDWATCH_DASHBOARD})
"""The price kinds `mlp prices refresh` writes (any other kind needs an entry with a source of its own)."""
SERVERLESS_FAMILY = "ML Serverless"
# On-demand serverless compute at one memory size, e.g. "EU-ServerlessInf:Mem-2GB" (sources in the module
# docstring). Anchored at the end, as infracost's filter is, so no longer usage type that merely contains it matches.
_SERVERLESS_USAGE = re.compile(r"(?:^|-)ServerlessInf:Mem-(\d+)GB$")
# A standard-resolution alarm metric and a dashboard (sources in the module docstring): any region prefix
# ("EU-", "USE1-", "APS1-") or none; anchored at the end, so "CW:HighResAlarmMonitorUsage" and
# "DashboardsUsageHour-Basic" do not match.
_ALARM_USAGE = re.compile(r"^(?:[A-Za-z0-9]+-)?CW:AlarmMonitorUsage$")
_DASHBOARD_USAGE = re.compile(r"^(?:[A-Za-z0-9]+-)?DashboardsUsageHour$")
_FREE_TIER_PREFIX = "Global-"
# What one unit of each tiered kind is.
_TIERED_UNITS = {
    SERVERLESS_COMPUTE: "second",
    CLOUDWATCH_ALARM: "alarm-metric-month",
    CLOUDWATCH_DASHBOARD: "dashboard-month",
}
# Units a per-second row is seen with: "Second(s)"-like spellings, compared by their letters ("seconds").
_SECOND_UNITS = {"second", "seconds", "secs"}


def offer_file_url(region: str, service: str = SAGEMAKER) -> str:
    """The current regional CSV offer file of a service."""
    return f"{PRICE_LIST_HOST}/offers/v1.0/aws/{service}/current/{region}/index.csv"


@dataclass(frozen=True)
class OfferFile:
    """What one offer file says: its metadata and the on-demand prices read from it (SageMaker instance hours and
    serverless compute seconds, CloudWatch alarm-metric and dashboard months)."""

    url: str
    offer_code: str
    publication_date: str
    version: str
    prices: tuple[Price, ...]
    skipped: tuple[str, ...]
    """Prices left out because the file gave more than one, or only free-tier (zero) ones."""


def _key(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


def read_offer_file(
    lines: Iterable[str], url: str, region: str | None = None, today: dt.date | None = None
) -> OfferFile:
    """Parse an offer file's rows (a text stream) into hourly on-demand SageMaker instance prices, per-second
    on-demand serverless compute prices (the paid tier of each memory size), and the monthly on-demand prices of a
    standard-resolution CloudWatch alarm metric and of a dashboard (their paid tier).

    `region` keeps only rows of that region code when the file carries a region column (a regional file
    carries only its own region). A price's source is the file's URL and SKU; `published` is the file's
    publication date.
    """
    reader = csv.reader(lines)
    metadata, columns = _metadata_and_columns(reader, url)
    read_on = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    published = metadata["publicationdate"]
    offers: dict[tuple[str, str, str], set[tuple[float, str]]] = {}
    tiers: dict[tuple[str, str, str], list[tuple[float, float, str]]] = {}
    for row in reader:
        cells = {name: row[i].strip() for name, i in columns.items() if i < len(row)}
        priced = _instance_hour(cells, region)
        if priced is not None:
            where, kind, instance, usd, sku = priced
            offers.setdefault((where, kind, instance), set()).add((usd, sku))
        tier = _serverless_second(cells, region) or _cloudwatch_month(cells, region)
        if tier is not None:
            where, kind, item, start, usd, sku = tier
            tiers.setdefault((where, kind, item), []).append((start, usd, sku))
    prices: list[Price] = []
    skipped: list[str] = []
    for (where, kind, item), rows in sorted(tiers.items()):
        paid = _paid_tier(rows)
        if paid:
            offers[(where, kind, item)] = paid
        else:
            skipped.append(f"{kind} {item} in {where}: only free-tier (zero) prices; left unknown")
    for (where, kind, item), found in sorted(offers.items()):
        if len({usd for usd, _ in found}) != 1:
            skipped.append(f"{kind} {item} in {where}: {len(found)} different on-demand prices; left unknown")
            continue
        usd, sku = sorted(found)[0]
        prices.append(
            Price(
                region=where,
                kind=kind,
                item=item,
                usd_per_unit=usd,
                unit=_TIERED_UNITS.get(kind, "instance-hour"),
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


def _metadata_and_columns(reader: Iterator[list[str]], url: str) -> tuple[dict[str, str], dict[str, int]]:
    """The metadata rows (by their letters) and the header's column positions; bad input when either is missing."""
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
    return metadata, columns


@dataclass(frozen=True)
class _Row:
    """What every kept row has: an on-demand USD price of the region asked for (or of no region)."""

    region: str
    """The row's region code; empty when the file has no region column."""
    usd: float
    start: float
    """StartingRange: where the row's tier begins (0 for an untiered row)."""
    sku: str
    usage: str


def _on_demand(cells: dict[str, str], region: str | None, family: str) -> _Row | None:
    """The row, when it is an on-demand USD price of product family `family` for `region` with readable numbers."""
    if cells.get("termtype") != "OnDemand" or cells.get("currency") != "USD" or cells.get("productfamily") != family:
        return None
    row_region = cells.get("regioncode", "")
    if region and row_region and row_region != region:
        return None
    try:
        usd = float(cells.get("priceperunit", ""))
        start = float(cells.get("startingrange") or 0)
    except ValueError:
        return None
    return _Row(row_region, usd, start, cells.get("sku", ""), cells.get("usagetype", ""))


def _instance_hour(cells: dict[str, str], region: str | None) -> tuple[str, str, str, float, str] | None:
    """(region, kind, instance type, USD, SKU) of an on-demand ML instance hour row; None for any other row."""
    row = _on_demand(cells, region, "ML Instance")
    if row is None or cells.get("unit") not in ("Hrs", "Hr", "Hours"):
        return None
    instance = cells.get("instancename") or _instance_type(cells.get("instancetype", "")) or row.usage.partition(":")[2]
    kind = _COMPONENTS.get(_key(cells.get("component", ""))) or _USAGE_PREFIXES.get(
        _key(row.usage.partition(":")[0].rsplit("-", 1)[-1])
    )
    if kind is None or not instance.startswith("ml.") or row.usd <= 0:
        return None
    return row.region or region or "", kind, instance, row.usd, row.sku


def _serverless_second(cells: dict[str, str], region: str | None) -> tuple[str, str, str, float, float, str] | None:
    """(region, kind, memory item such as "2048MB", StartingRange, USD, SKU) of an on-demand serverless compute row;
    None for any other row (provisioned concurrency, other units, other families)."""
    row = _on_demand(cells, region, SERVERLESS_FAMILY)
    if row is None or _key(cells.get("unit", "")) not in _SECOND_UNITS:
        return None
    match = _SERVERLESS_USAGE.search(row.usage)
    if match is None or int(match.group(1)) < 1:
        return None
    memory = f"{int(match.group(1)) * 1024}MB"
    return row.region or region or "", SERVERLESS_COMPUTE, memory, row.start, row.usd, row.sku


def _cloudwatch_month(cells: dict[str, str], region: str | None) -> tuple[str, str, str, float, float, str] | None:
    """(region, kind, item, StartingRange, USD, SKU) of an on-demand standard-resolution alarm-metric row or
    dashboard row (module docstring); None for any other row, the free-tier (`Global-`) rows among them."""
    family = cells.get("productfamily", "")
    row = _on_demand(cells, region, family) if family in ("Alarm", "Dashboard") else None
    if row is None or row.usage.startswith(_FREE_TIER_PREFIX):
        return None
    if family == "Alarm" and _ALARM_USAGE.match(row.usage) and _key(cells.get("alarmtype", "standard")) == "standard":
        kind, item, where = CLOUDWATCH_ALARM, "standard-resolution", row.region or region or ""
    elif family == "Dashboard" and _DASHBOARD_USAGE.match(row.usage):
        kind, item, where = CLOUDWATCH_DASHBOARD, "dashboard", row.region or ANY_REGION
    else:
        return None
    return where, kind, item, row.start, row.usd, row.sku


def _paid_tier(rows: list[tuple[float, float, str]]) -> set[tuple[float, str]]:
    """The (USD, SKU) of the paid tier of one usage type's rows (StartingRange, USD, SKU): zero-price rows (the
    free-tier allowance) are never taken; of the priced rows, those with the highest StartingRange are. More than
    one price among them is reported by the caller as ambiguous; an empty set when nothing is priced."""
    priced = [(start, usd, sku) for start, usd, sku in rows if usd > 0]
    if not priced:
        return set()
    top = max(start for start, _, _ in priced)
    return {(usd, sku) for start, usd, sku in priced if start == top}


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
