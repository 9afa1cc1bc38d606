"""Tag coverage of a plan document: every taggable AWS resource must carry every cost-allocation tag.

Whether a resource can be tagged is read from the provider SDK (`components.tagging.is_taggable`, i.e. the
resource type's schema), not from a hand-kept list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.tagging import COST_TAG_KEYS, MODEL_TAG_KEY, PLATFORM_TEAM, is_taggable
from mlp.plan import Plan

REPORTED_KEYS = (*COST_TAG_KEYS, MODEL_TAG_KEY)


@dataclass(frozen=True)
class TagStatus:
    """One resource of the plan and its cost tags."""

    urn: str
    type: str
    name: str
    taggable: bool
    tags: dict[str, str]
    missing: tuple[str, ...]
    """Required cost tags the resource lacks (always empty for resources that cannot be tagged)."""


def tag_coverage(plan: Plan) -> list[TagStatus]:
    """Every custom (non-component, non-provider) resource with its cost tags and what it misses."""
    found = []
    for r in plan["resources"]:
        if not r.get("custom") or r["type"].startswith("pulumi:providers:"):
            continue
        taggable = is_taggable(r["type"])
        raw: Any = r.get("inputs", {}).get("tags")
        tags = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        missing = tuple(k for k in COST_TAG_KEYS if not tags.get(k)) if taggable else ()
        found.append(TagStatus(r["urn"], r["type"], r["name"], taggable, tags, missing))
    return found


def shared_line(shared: tuple[str, str], statuses: list[TagStatus]) -> str:
    """Who pays for shared resources (team platform), and whether their tags agree."""
    cost_center, source = shared
    tagged = sorted({s.tags.get("cost-center", "") for s in statuses if s.tags.get("team") == PLATFORM_TEAM} - {""})
    line = f"Shared resources (team {PLATFORM_TEAM}) are charged to cost center {cost_center} ({source})"
    if tagged and tagged != [cost_center]:
        line += f"; but their tags say {', '.join(tagged)}"
    return line + "."


def render_text(stack: str, statuses: list[TagStatus], shared: tuple[str, str] | None = None) -> str:
    taggable = [s for s in statuses if s.taggable]
    untaggable = [s for s in statuses if not s.taggable]
    failing = [s for s in taggable if s.missing]
    lines = [f"Cost tags of stack {stack}: {len(taggable)} taggable resources, {len(failing)} missing tags", ""]
    if shared is not None:
        lines += [shared_line(shared, statuses), ""]
    width = max((len(s.name) for s in statuses), default=10) + 2

    def shown(s: TagStatus, key: str) -> str:
        return s.tags.get(key) or ("-" if key == MODEL_TAG_KEY else "MISSING")

    widths = {k: max([len(k), *(len(shown(s, k)) for s in taggable)]) + 2 for k in REPORTED_KEYS}
    header = "".join(f"{k:<{widths[k]}}" for k in REPORTED_KEYS)
    lines.append(f"  {'Resource':<{width}}{header}Type")
    for s in taggable:
        values = "".join(f"{shown(s, k):<{widths[k]}}" for k in REPORTED_KEYS)
        lines.append(f"  {s.name:<{width}}{values}{s.type}")
    if untaggable:
        lines += ["", "Cannot be tagged (the resource type has no tags in its schema):"]
        lines += [f"  {s.name:<{width}}{s.type}" for s in untaggable]
    if failing:
        lines += ["", "Missing cost tags:"]
        lines += [f"  {s.name} ({s.type}): {', '.join(s.missing)}" for s in failing]
    return "\n".join(lines) + "\n"


def to_json(stack: str, statuses: list[TagStatus], shared: tuple[str, str] | None = None) -> dict[str, Any]:
    return {
        **({"shared_cost_center": {"cost_center": shared[0], "source": shared[1]}} if shared else {}),
        "stack": stack,
        "required_tags": list(COST_TAG_KEYS),
        "resources": [
            {"urn": s.urn, "type": s.type, "name": s.name, "tags": s.tags, "missing": list(s.missing)}
            for s in statuses
            if s.taggable
        ],
        "untaggable": [{"urn": s.urn, "type": s.type, "name": s.name} for s in statuses if not s.taggable],
        "complete": not any(s.missing for s in statuses),
    }
