"""Cost-allocation tags, applied in one place to every taggable AWS resource.

Each platform component installs a `cost_tags` transform on itself. Pulumi applies a component's
transforms to all its descendants, nearest component first, and the transform only fills keys that are
missing — so a model's component tags its children with its team and model, and shared resources fall
back to the environment's `platform` team.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

PLATFORM_TEAM = "platform"
COST_TAG_KEYS = ("environment", "team", "cost-center", "managed-by", "repository")
MODEL_TAG_KEY = "model"
MANAGED_BY = "pulumi/ml-platform"


@dataclass(frozen=True)
class CostTags:
    """The cost-allocation tags of one owner (a team, optionally one of its models)."""

    environment: str
    team: str
    cost_center: str
    repository: str
    model: str | None = None

    def as_dict(self) -> dict[str, str]:
        tags = {
            "environment": self.environment,
            "team": self.team,
            "cost-center": self.cost_center,
            "managed-by": MANAGED_BY,
            "repository": self.repository,
        }
        if self.model:
            tags[MODEL_TAG_KEY] = self.model
        return tags


@functools.cache
def is_taggable(type_token: str) -> bool:
    """Whether a resource type accepts `tags`, read from the generated provider SDK (i.e. its schema).

    Only `aws:` types are considered; Kubernetes objects carry labels instead.
    """
    package, _, rest = type_token.partition(":")
    if package != "aws" or ":" not in rest:
        return False
    module_path, _, class_name = rest.rpartition(":")
    module = module_path.split("/")[0]
    # Modules named like a Python keyword get a trailing underscore in the SDK (`lambda` -> `lambda_`).
    cls = None
    for name in (module, f"{module}_"):
        try:
            cls = getattr(importlib.import_module(f"pulumi_aws.{name}"), class_name)
            break
        except (ImportError, AttributeError):
            continue
    if cls is None:
        return False
    init = getattr(cls, "_internal_init", None)
    return init is not None and "tags" in inspect.signature(init).parameters


def cost_tags_transform(tags: CostTags) -> pulumi.ResourceTransform:
    """A transform that adds any missing cost tag to taggable AWS resources."""
    wanted = tags.as_dict()

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom or not is_taggable(args.type_):
            return None
        current = args.props.get("tags") or {}
        if not isinstance(current, Mapping):
            return None  # an unresolved Output: leave it, policies will flag a missing tag
        merged = {**wanted, **current}
        if merged == current:
            return None
        return pulumi.ResourceTransformResult(props={**args.props, "tags": merged}, opts=args.opts)

    return transform
