"""What changes between two plan documents: resources created, deleted, updated in place and replaced.

Resources are matched by URN (the engine's identity: type chain and logical name). A matched resource whose
inputs differ is updated in place, or replaced when a changed input is one its provider cannot update
(mlp/replacement.py). Values only known after deployment are equal to each other: the plan cannot tell.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mlp.replacement import forces_replacement

Plan = dict[str, Any]

CREATE, DELETE, UPDATE, REPLACE = "create", "delete", "update", "replace"
SYMBOLS = {CREATE: "+", DELETE: "-", UPDATE: "~", REPLACE: "+-"}


@dataclass(frozen=True)
class FieldChange:
    """One changed input: its dotted path, the values before and after (None: absent), and whether the
    change alone replaces the resource."""

    path: str
    before: Any
    after: Any
    replaces: bool


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    action: str
    fields: list[FieldChange] = field(default_factory=list)
    parent: str | None = None
    """The parent's URN (kept for deleted resources, which the tree shows where they were)."""


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested values flattened to paths (`a.b[0].c`), so a change names the field that changed. A string
    holding a JSON document (a policy, a dashboard body, a pipeline definition) is opened the same way."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(leaves(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, inner in enumerate(value):
            out.update(leaves(inner, f"{prefix}[{i}]"))
        return out
    return {prefix: value} if prefix else {}


def field_changes(type_: str, before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    old, new = leaves(before), leaves(after)
    return [
        FieldChange(path, old.get(path), new.get(path), forces_replacement(type_, path))
        for path in sorted(set(old) | set(new))
        if old.get(path) != new.get(path)
    ]


def diff_plans(before: Plan, after: Plan) -> list[Change]:
    """Every resource that changes, in URN order; unchanged resources are left out."""
    old = {r["urn"]: r for r in before["resources"]}
    new = {r["urn"]: r for r in after["resources"]}
    changes: list[Change] = []
    for urn in sorted(set(old) | set(new)):
        if urn not in old:
            r = new[urn]
            changes.append(Change(urn, r["type"], r["name"], CREATE))
        elif urn not in new:
            r = old[urn]
            changes.append(Change(urn, r["type"], r["name"], DELETE, parent=r["parent"]))
        else:
            r = new[urn]
            fields = field_changes(r["type"], old[urn]["inputs"], r["inputs"])
            if fields:
                action = REPLACE if any(f.replaces for f in fields) else UPDATE
                changes.append(Change(urn, r["type"], r["name"], action, fields))
    return changes


def counts(changes: list[Change]) -> dict[str, int]:
    return {action: sum(1 for c in changes if c.action == action) for action in (CREATE, UPDATE, REPLACE, DELETE)}


def changes_json(ref: str, changes: list[Change]) -> dict[str, Any]:
    """The `changes` section of `mlp plan ENV --against REF --json`."""
    return {"against": ref, "summary": counts(changes), "resources": [asdict(c) for c in changes]}


MAX_FIELDS_SHOWN = 8
"""Changed fields listed per resource in the tree and the comment; the rest are counted (all are in --json)."""


def shown_fields(change: Change) -> tuple[list[FieldChange], int]:
    """The fields to list (those that force a replacement first) and how many more there are."""
    ordered = sorted(change.fields, key=lambda f: not f.replaces)
    return ordered[:MAX_FIELDS_SHOWN], max(len(ordered) - MAX_FIELDS_SHOWN, 0)


def short(value: Any, width: int) -> str:
    """A value as JSON on one line, cut to `width` characters (the middle elided, both ends kept)."""
    text = "(absent)" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(text) <= width:
        return text
    keep = max(width - 1, 2) // 2
    return text[:keep] + "…" + text[-keep:]


def summary_line(ref: str, changes: list[Change]) -> str:
    n = counts(changes)
    return (
        f"Against {ref}: {n[CREATE]} to create, {n[UPDATE]} to update in place, {n[REPLACE]} to replace, "
        f"{n[DELETE]} to delete"
    )


def render_markdown(stack: str, ref: str, changes: list[Change], value_width: int = 60) -> str:
    """The changes as a pull-request comment section: a summary, then a table of the changed resources and
    the fields that change (those that force a replacement marked)."""
    lines = [f"### Resource changes in `{stack}` against `{ref}`", "", summary_line(ref, changes), ""]
    if not changes:
        return "\n".join([*lines, "No resource changes.", ""])
    lines += ["| | resource | type | changed fields |", "|---|---|---|---|"]
    for c in changes:
        fields, more = shown_fields(c)
        details = "<br>".join(
            [
                f"`{f.path}`{' (forces replacement)' if f.replaces else ''}: "
                f"`{_cell(short(f.before, value_width))}` → `{_cell(short(f.after, value_width))}`"
                for f in fields
            ]
            + ([f"… and {more} more changed fields (`--json` lists them all)"] if more else [])
        )
        lines.append(f"| `{SYMBOLS[c.action]}` {c.action} | `{c.name}` | `{c.type}` | {details} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")
