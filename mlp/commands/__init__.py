"""One module per `mlp` subcommand; each exposes `register(subparsers)`."""

from __future__ import annotations

import argparse
from pathlib import Path

ENVIRONMENT_FILES = "environments/ and stacks/Pulumi.<env>.yaml"


def add_root_option(parser: argparse.ArgumentParser, holds: str = ENVIRONMENT_FILES) -> None:
    """`--root`: where the command reads the repository's files from (tests and benchmarks use copies)."""
    parser.add_argument("--root", type=Path, default=None, help=f"directory holding {holds} (default: this repository)")
