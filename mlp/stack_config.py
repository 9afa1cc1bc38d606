"""Read `stacks/Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to a program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from components.errors import InputError, Problem
from components.loader import ENVIRONMENTS_DIR, known_environments, read_text

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
    doc = _read(path, shown)
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise InputError(
            [Problem(shown, "config", "must be a mapping of config keys to values", _line_of(doc, "config"))]
        )
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


def _read(path: Path, shown: str) -> Any:
    """The stack config's document; a YAML error is one line with the file and line, not the parser's dump."""
    try:
        doc = YAML(typ="rt").load(read_text(path, shown)) or {}
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        raise InputError([Problem(shown, "", f"YAML syntax error: {what}", mark.line + 1 if mark else None)]) from None
    except YAMLError as exc:
        raise InputError([Problem(shown, "", f"YAML syntax error: {str(exc).splitlines()[0]}")]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(shown, "", "the file must be a YAML mapping (config:, secretsprovider:, ...)", 1)])
    return doc


def _line_of(doc: Any, *keys: str) -> int | None:
    """1-based line of the deepest of `keys` (a path into the document) that the file has."""
    line: int | None = None
    node = doc
    for key in keys:
        if not isinstance(node, CommentedMap) or key not in node:
            break
        line = node.lc.key(key)[0] + 1
        node = node[key]
    return line


ENVIRONMENT_KEY = f"{PROJECT}:environment"


def environment_of(root: Path, stack: str, config: dict[str, str]) -> str:
    """The environment file the stack's program loads: the stack's name, unless stack config names another
    (`environment:`, as stacks/__main__.py reads it); refused here, at the stack config's line, when that
    file does not exist, so the program never starts on it."""
    name = config.get(ENVIRONMENT_KEY) or stack
    if name == stack or name in known_environments(root):
        return name
    path = stack_config_path(root, stack)
    shown = f"stacks/{path.name}"
    doc = _read(path, shown)
    key = next((k for k in (doc.get("config") or {}) if k in ("environment", ENVIRONMENT_KEY)), "environment")
    raise InputError(
        [
            Problem(
                shown,
                f"config.{key}",
                f"names environment {name!r}, but there is no {ENVIRONMENTS_DIR}/{name}.yaml; known environments: "
                + (", ".join(known_environments(root)) or "none"),
                _line_of(doc, "config", key),
            )
        ]
    )
