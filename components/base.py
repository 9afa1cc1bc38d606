"""The base every platform component derives from: type token, cost tags and child options."""

from __future__ import annotations

from typing import Any

import pulumi

from components.tagging import CostTags, cost_tags_transform


class PlatformComponent(pulumi.ComponentResource):
    """A ComponentResource whose AWS descendants all carry `tags` as cost-allocation tags.

    Subclasses create children with `self.child_opts()` so each child has `parent=self`, and call
    `self.register_outputs(...)` last.
    """

    def __init__(
        self,
        type_token: str,
        name: str,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        own = pulumi.ResourceOptions(transforms=[cost_tags_transform(tags)])
        super().__init__(type_token, name, None, pulumi.ResourceOptions.merge(opts, own))
        self.tags = tags

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child resource: parented to this component (so it inherits the provider)."""
        return pulumi.ResourceOptions(parent=self, **kwargs)
