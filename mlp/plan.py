"""The plan document: what an environment would deploy, as data every offline tool reads.

`build_plan` runs the stack program under the mocks; `plan_json` is the contract in DESIGN.md;
`render_tree` is the view for people, shaped like `pulumi preview`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

from components.loader import load_environment, repo_root
from mlp.runtime import PROJECT, Registration, run_function, run_program
from mlp.stack_config import load_stack_config

KNOWN_AFTER_APPLY = "(known after apply)"

Plan = dict[str, Any]


def build_plan(stack: str, root: Path | None = None) -> Plan:
    """Validate the environment, run stacks/__main__.py under the mocks and return the plan document.

    `root` holds environments/ and stacks/Pulumi.<stack>.yaml (the repository unless a test or
    benchmark plans fixture environments); the program is always this repository's stacks/.

    Raises components.errors.InputError for bad input, before anything runs.
    """
    root = root or repo_root()
    load_environment(stack, root)  # fail fast with file/line errors; the program loads it again
    config, secret_keys = load_stack_config(root, stack)
    warnings: list[str] = []
    registrations = run_program(repo_root() / "stacks", root, stack, config, secret_keys, warnings=warnings)
    return plan_document(stack, registrations, warnings)


def plan_function(program: Callable[[], object], stack: str, config: dict[str, str] | None = None) -> Plan:
    """The plan document of any function that declares resources, run as stack `stack` under the same mocks
    and recording monitor as `build_plan` (tests plan one component this way, without an environment file)."""
    warnings: list[str] = []
    return plan_document(stack, run_function(program, stack, config, warnings=warnings), warnings)


def plan_document(stack: str, registrations: list[Registration], warnings: list[str] | None = None) -> Plan:
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "custom": r.custom,
            "protect": r.protect,
            "dependencies": r.dependencies,
            "inputs": _plain(r.inputs),
        }
        for r in sorted(registrations, key=lambda r: r.urn)
    ]
    # Warnings (components/warnings.py): valid settings that are probably unintended, in program order.
    return {"project": PROJECT, "stack": stack, "resources": resources, "warnings": list(warnings or [])}


def plan_json(plan: Plan) -> str:
    """The plan as canonical JSON: sorted keys, fixed indentation, so equal plans are equal bytes."""
    return json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _plain(value: Any) -> Any:
    """Inputs as JSON values; a value the engine would only know after deployment is marked so."""
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return KNOWN_AFTER_APPLY if value == rpc.UNKNOWN else value
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return _asset(value)
    urn = getattr(value, "urn", None)
    return f"(resource {type(value).__name__})" if urn is not None else KNOWN_AFTER_APPLY


def render_tree(plan: Plan) -> str:
    """Component -> children tree with type and logical name, then a count by type."""
    resources = plan["resources"]
    children: dict[str | None, list[dict[str, Any]]] = {}
    urns = {r["urn"] for r in resources}
    for r in resources:
        parent = r["parent"] if r["parent"] in urns else None
        children.setdefault(parent, []).append(r)
    for group in children.values():
        group.sort(key=lambda r: (r["custom"], r["type"], r["name"]))

    rows: list[tuple[str, str]] = [("pulumi:pulumi:Stack", f"{plan['project']}-{plan['stack']}")]

    def walk(parent: str | None, prefix: str) -> None:
        group = children.get(parent, [])
        for i, r in enumerate(group):
            last = i == len(group) - 1
            flag = "  [protected]" if r["protect"] else ""
            rows.append((prefix + ("└─ " if last else "├─ ") + r["type"], r["name"] + flag))
            walk(r["urn"], prefix + ("   " if last else "│  "))

    walk(None, "")
    width = max(len(t) for t, _ in rows) + 2
    lines = [f"Plan for stack {plan['stack']} (project {plan['project']}): {len(resources)} resources", ""]
    lines.append(f"     {'Type':<{width}}Name")
    lines += [f" {' ' if i == 0 else '+'}   {t:<{width}}{n}" for i, (t, n) in enumerate(rows)]
    lines += ["", "Resources by type:"]
    for type_, count in sorted(Counter(r["type"] for r in resources).items()):
        lines.append(f"  {count:>4}  {type_}")
    return "\n".join(lines) + "\n"


def _asset(value: pulumi.Asset | pulumi.Archive) -> Any:
    """An asset or archive as its content's digest (never a local path, which differs between machines):
    a code change shows in the plan as a changed digest."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: _asset(v) for name, v in sorted(value.assets.items())}}
    if isinstance(value, pulumi.StringAsset):
        return {"sha256": hashlib.sha256(value.text.encode()).hexdigest()}
    if isinstance(value, pulumi.FileAsset):
        return {"sha256": hashlib.sha256(Path(value.path).read_bytes()).hexdigest()}
    return KNOWN_AFTER_APPLY
