"""FinOps: every taggable resource carries the cost-allocation tags."""

from __future__ import annotations

from collections.abc import Mapping

from components.tagging import COST_TAG_KEYS, is_taggable
from policies.rules.base import Resource, RuleConfig, inputs, known, resource_rule


@resource_rule(
    "cost-tags",
    "Every taggable AWS resource carries the cost-allocation tags with non-empty values.",
)
def cost_tags(r: Resource, _config: RuleConfig) -> list[str]:
    if not is_taggable(str(r.get("type"))):
        return []
    tags = inputs(r).get("tags")
    if not known(tags):
        return []  # tags computed from other outputs: the real value is checked on `up`
    tags = tags if isinstance(tags, Mapping) else {}
    missing = [k for k in COST_TAG_KEYS if k not in tags]
    empty = [k for k in COST_TAG_KEYS if k in tags and not str(tags[k] or "").strip()]
    found = []
    if missing:
        found.append(
            f"missing cost tags {', '.join(missing)}: create the resource inside a PlatformComponent "
            "(opts=self.child_opts()) so the cost-tag transform adds them"
        )
    if empty:
        found.append(f"empty cost tags {', '.join(empty)}: give each a value (who pays for this resource)")
    return found


RULES = (cost_tags,)
