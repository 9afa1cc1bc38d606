"""`mlp schema`: write environments/schema.json from the pydantic models (the one schema)."""

from __future__ import annotations

import argparse
import json
import sys

from components.config import Environment
from components.data_root import repo_root
from components.loader import ENVIRONMENTS_DIR

SCHEMA_FILE = "schema.json"


def render_schema() -> str:
    schema = Environment.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ml-platform environment"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("schema", help="regenerate environments/schema.json from the pydantic models")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed schema is out of date")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = repo_root() / ENVIRONMENTS_DIR / SCHEMA_FILE
    wanted = render_schema()
    if args.check:
        if not path.is_file() or path.read_text(encoding="utf-8") != wanted:
            print(f"{ENVIRONMENTS_DIR}/{SCHEMA_FILE} is out of date: run `uv run mlp schema`", file=sys.stderr)
            return 1
        return 0
    path.write_text(wanted, encoding="utf-8")
    print(f"wrote {ENVIRONMENTS_DIR}/{SCHEMA_FILE}")
    return 0
