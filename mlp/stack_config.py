"""Read `stacks/Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to a program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from components.errors import InputError, Problem

PROJECT = "ml-platform"
SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 - a display placeholder, not a password


def stack_config_path(root: Path, stack: str) -> Path:
    return root / "stacks" / f"Pulumi.{stack}.yaml"


def load_stack_config(root: Path, stack: str) -> tuple[dict[str, str], set[str]]:
    """Config as the engine passes it: fully qualified keys, string values, and the secret keys.

    Keys without a namespace belong to the project; structured values are JSON-encoded; secure values
    cannot be decrypted offline and are passed as a placeholder, marked secret.
    """
    path = stack_config_path(root, stack)
    shown = f"stacks/{path.name}"
    if not path.is_file():
        return {}, set()
    try:
        doc = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except YAMLError as exc:
        raise InputError([Problem(shown, "", f"YAML syntax error: {exc}")]) from None
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise InputError([Problem(shown, "config", "must be a mapping of config keys to values")])
    config: dict[str, str] = {}
    secrets: set[str] = set()
    for key, value in raw.items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = SECRET_PLACEHOLDER
            secrets.add(full)
        else:
            config[full] = value if isinstance(value, str) else json.dumps(_plain(value))
    return config, secrets


def _plain(value: Any) -> Any:
    return value
