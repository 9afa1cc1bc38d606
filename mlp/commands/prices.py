"""`mlp prices refresh`: update the committed SageMaker and CloudWatch prices from the AWS Price List bulk files."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from components.data_root import repo_root
from components.errors import InputError, Problem
from components.loader import load_environment
from mlp.price_list import SAGEMAKER, SERVICES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "prices",
        help="refresh the committed prices from the AWS Price List bulk files (public, no credentials)",
        description="Manage mlp/data/prices.json, the prices `mlp cost` and `mlp finops advise` read.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    refresh = actions.add_parser(
        "refresh",
        help="stream the SageMaker and CloudWatch offer files of each region and write their prices",
        description=(
            "Stream AmazonSageMaker's regional CSV offer file (/offers/v1.0/aws/AmazonSageMaker/current/<region>/"
            "index.csv) and write every on-demand hosting, training, processing and batch-transform instance-hour "
            "price, and the per-second serverless inference compute price of each memory size; then AmazonCloudWatch's "
            "file, for the monthly price of a standard-resolution alarm metric and of a dashboard (always the paid "
            "tier, never the free-tier allowance), each with the file's URL and publication date. "
            "Review and commit the result."
        ),
    )
    refresh.add_argument(
        "--region",
        action="append",
        default=None,
        help="region to refresh (repeatable; default: the regions of environments/*.yaml)",
    )
    refresh.add_argument(
        "--source",
        action="append",
        default=None,
        metavar="[SERVICE=]FILE",
        help="read this offer file (a path or a pricing.us-east-1.amazonaws.com URL) instead of the region's "
        f"current file of SERVICE ({', '.join(SERVICES)}; default {SAGEMAKER}); repeatable, one per service; "
        "only the services given are read; needs exactly one --region",
    )
    refresh.add_argument("--prices", type=Path, default=None, help="price file (default: mlp/data/prices.json)")
    refresh.add_argument("--root", type=Path, default=None, help="repository holding environments/ (default: this one)")
    refresh.set_defaults(func=run_refresh)


def environment_regions(root: Path | None) -> list[str]:
    regions = set()
    for path in sorted((root or repo_root()).joinpath("environments").glob("*.yaml")):
        regions.add(load_environment(path.stem, root).region)
    return sorted(regions)


def sources_by_service(given: list[str] | None) -> dict[str, str | None]:
    """The offer file to read per service: each `--source [SERVICE=]FILE`, or (without any) every service's
    current file (None). A bare FILE is the SageMaker file, as before there was a second service."""
    if not given:
        return dict.fromkeys(SERVICES)
    chosen: dict[str, str | None] = {}
    for value in given:
        name, equals, path = value.partition("=")
        service, source = (name, path) if equals and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) else (SAGEMAKER, value)
        if service not in SERVICES:
            allowed = ", ".join(SERVICES)
            raise InputError([Problem("command line", "--source", f"{value}: unknown service {service!r}: {allowed}")])
        if service in chosen:
            raise InputError([Problem("command line", "--source", f"two offer files for {service}: give one")])
        chosen[service] = source
    return chosen


def run_refresh(args: argparse.Namespace) -> int:
    from mlp.price_list import offer_file_url, open_offer_file, read_offer_file
    from mlp.pricing import load_prices, save_prices

    regions = args.region or environment_regions(args.root)
    if args.source and len(regions) != 1:
        raise InputError([Problem("command line", "--source", "--source reads one region's file: give one --region")])
    services = sources_by_service(args.source)
    book = load_prices(args.prices)
    total = 0
    for region in regions:
        for service, given in services.items():
            url = offer_file_url(region, service)
            source = given or url
            offer = read_offer_file(open_offer_file(source), url, region)
            # A local copy is attributed to the URL it is a copy of, with its own publication date.
            book = save_prices(book, offer.prices)
            total += len(offer.prices)
            sys.stdout.write(
                f"{region}: {len(offer.prices)} prices from {url} (published {offer.publication_date}"
                f"{', read from ' + source if source != url else ''})\n"
            )
            for note in offer.skipped:
                sys.stdout.write(f"! {note}\n")
    sys.stdout.write(f"wrote {total} prices to {book.path}\n")
    return 0
