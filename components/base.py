"""The base every platform component derives from: type token, cost tags and child options."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
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

    def service_role(
        self,
        role_resource: str,
        policy_resource: str,
        *,
        role_name: str,
        description: str,
        service: str,
        account_id: str,
        policy: pulumi.Input[str],
        policy_name: str | None = None,
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """A role that only `service` in `account_id` may assume, with its one inline policy: the shape of
        every role the components create for an AWS service. Depend on the policy (the second) where the
        service acts at once, or it may act before its permissions exist."""
        role = aws.iam.Role(
            role_resource,
            name=role_name,
            description=description,
            assume_role_policy=service_trust_policy(service, account_id),
            opts=self.child_opts(),
        )
        role_policy = aws.iam.RolePolicy(
            policy_resource, name=policy_name, role=role.id, policy=policy, opts=self.child_opts()
        )
        return role, role_policy
