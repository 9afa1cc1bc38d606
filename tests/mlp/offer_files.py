"""Offer files in the AWS Price List CSV layout, for the price-list tests: five metadata rows, the header row,
then one row per price dimension (mlp/price_list.py says where the layout is documented)."""

from __future__ import annotations


def offer_file(header: str, *rows: str, offer_code: str = "AmazonSageMaker") -> list[str]:
    """The lines of an offer file (test data: its prices are the test's, not AWS's)."""
    lines = [
        '"FormatVersion","v1.0"',
        '"Disclaimer","test data"',
        '"Publication Date","2026-11-30T00:00:00Z"',
        '"Version","20261130000000"',
        f'"OfferCode","{offer_code}"',
        header,
        *rows,
    ]
    return [line + "\n" for line in lines]
