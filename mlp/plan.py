"""The plan document: what an environment would deploy, as data every offline tool reads.

`build_plan` runs the stack program under the mocks; `plan_json` is the contract in DESIGN.md;
`render_tree` is the view for people, shaped like `pulumi preview`.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

from components.data_root import repo_root
from components.loader import load_environment
from mlp.plan_diff import DELETE, SYMBOLS, Change, short, shown_fields
from mlp.policy import check_config
from mlp.runtime import PROJECT, Registration, run_function, run_program
from mlp.stack_config import environment_of, load_stack_config

KNOWN_AFTER_APPLY = "(known after apply)"

Plan = dict[str, Any]


# While `plans_reused()` is active: the plans already made, by what they are a plan of. The commands of one
# pull-request report (mlp/ci.py `offline_report`) read the same files and the same base commit, so each stack and
# each commit is planned once, not once per command.
_reused: ContextVar[dict[tuple[str, ...], Plan] | None] = ContextVar("mlp_reused_plans", default=None)


@contextlib.contextmanager
def plans_reused() -> Iterator[None]:
    """Within the block, each (stack, root) and each commit (mlp/revisions.py) is planned once; only for callers
    whose files cannot change meanwhile."""
    token = _reused.set({})
    try:
        yield
    finally:
        _reused.reset(token)


def reused_plan(key: tuple[str, ...], make: Callable[[], Plan]) -> Plan:
    """`make()`, or inside `plans_reused()` a copy of the plan already made under `key` (each caller gets its own
    copy: a caller's edit never reaches the next)."""
    reused = _reused.get()
    if reused is None:
        return make()
    if key not in reused:
        reused[key] = make()
    return copy.deepcopy(reused[key])


def build_plan(stack: str, root: Path | None = None) -> Plan:
    """Validate the environment, run stacks/__main__.py under the mocks and return the plan document.

    `root` holds environments/ and stacks/Pulumi.<stack>.yaml (the repository unless a test or
    benchmark plans fixture environments); the program is always this repository's stacks/.

    Raises components.errors.InputError for bad input, before anything runs.
    """
    where = root or repo_root()
    return reused_plan(("stack", stack, str(where.resolve())), lambda: _build_plan(stack, where))


def _build_plan(stack: str, root: Path) -> Plan:
    config, secret_keys = load_stack_config(root, stack)
    # Fail fast with file/line errors, before anything is planned or printed; the program loads it again.
    check_config(load_environment(environment_of(root, stack, config), root), root)
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


DEFAULT_WIDTH = 100
"""Columns of the tree when the terminal's width is unknown (output piped to a file or a CI log)."""


def terminal_width() -> int:
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def render_tree(plan: Plan, changes: list[Change] | None = None, width: int | None = None) -> str:
    """Component -> children tree with type and logical name, then a count by type, in `width` columns (the
    terminal's). With `changes` (a plan compared against another revision), each row carries pulumi preview's
    mark (+ create, ~ update in place, +- replace, - delete), changed fields follow their resource, and
    deleted resources appear where they were."""
    width = width or terminal_width()
    by_urn = {c.urn: c for c in changes or []}
    resources = list(plan["resources"])
    if changes is not None:
        deleted = [c for c in changes if c.action == DELETE]
        resources += [
            {"urn": c.urn, "type": c.type, "name": c.name, "parent": c.parent, "custom": True, "protect": False}
            for c in deleted
        ]
    children: dict[str | None, list[dict[str, Any]]] = {}
    urns = {r["urn"] for r in resources}
    for r in resources:
        parent = r["parent"] if r["parent"] in urns else None
        children.setdefault(parent, []).append(r)
    for group in children.values():
        group.sort(key=lambda r: (r["custom"], r["type"], r["name"]))

    rows: list[tuple[str, str, str, str]] = [(" ", "", "pulumi:pulumi:Stack", f"{plan['project']}-{plan['stack']}")]
    details: dict[int, list[str]] = {}

    def walk(parent: str | None, prefix: str) -> None:
        group = children.get(parent, [])
        for i, r in enumerate(group):
            last = i == len(group) - 1
            flag = "  [protected]" if r["protect"] else ""
            change = by_urn.get(r["urn"])
            mark = SYMBOLS[change.action] if change else (" " if changes is not None else "+")
            rows.append((mark, prefix + ("└─ " if last else "├─ "), r["type"], r["name"] + flag))
            if change and change.fields:
                indent = 5 + len(prefix) + 3
                fields, more = shown_fields(change)
                details[len(rows) - 1] = [
                    _field_line(f.path + (" (replaces)" if f.replaces else ""), f.before, f.after, width - indent)
                    for f in fields
                ] + ([f"… and {more} more changed fields (--json lists them all)"] if more else [])
            walk(r["urn"], prefix + ("   " if last else "│  "))

    walk(None, "")
    # The type column is as wide as the widest type, but leaves the names (up to 40 columns) their room.
    longest_name = max(len(n) for _, _, _, n in rows)
    column = max(min(max(len(p) + len(t) for _, p, t, _ in rows) + 2, width - 5 - min(longest_name, 40)), 20)
    lines = [f"Plan for stack {plan['stack']} (project {plan['project']}): {len(plan['resources'])} resources", ""]
    lines.append(_fit(f"     {'Type':<{column}}Name", width))
    for i, (mark, prefix, type_, name) in enumerate(rows):
        shown = _fit(prefix + type_, column - 2)
        lines.append(_fit(f" {mark:<2}  {shown:<{column}}{name}", width))
        indent = " " * (5 + len(prefix) + 3)
        lines += [_fit(indent + text, width) for text in details.get(i, [])]
    lines += ["", "Resources by type:"]
    for type_, count in sorted(Counter(r["type"] for r in plan["resources"]).items()):
        lines.append(_fit(f"  {count:>4}  {type_}", width))
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


def _field_line(path: str, before: Any, after: Any, room: int) -> str:
    """`path: before => after`, the two values sharing what room the path leaves (at least 12 columns each)."""
    each = max((room - len(path) - 6) // 2, 12)
    return f"{path}: {short(before, each)} => {short(after, each)}"


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` columns, with an ellipsis where it was cut."""
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"
