"""policies/rules/tags.py: cost tags on every taggable resource."""

from __future__ import annotations

from policies.rules.base import KNOWN_AFTER_APPLY
from policies.rules.tags import cost_tags
from tests.policies.fixtures import changed, compliant_stack, messages, resource, topic


def test_a_compliant_stack_passes() -> None:
    assert messages(cost_tags, compliant_stack()) == []


def test_a_missing_cost_tag_is_reported() -> None:
    broken = changed(topic(), "tags", "cost-center", delete=True)
    assert messages(cost_tags, [broken]) == [
        "prod-fraud-alerts: missing cost tags cost-center: create the resource inside a PlatformComponent "
        "(opts=self.child_opts()) so the cost-tag transform adds them"
    ]


def test_no_tags_at_all_lists_every_cost_tag() -> None:
    broken = changed(topic(), "tags", delete=True)
    assert messages(cost_tags, [broken]) == [
        "prod-fraud-alerts: missing cost tags environment, team, cost-center, managed-by, repository: create the "
        "resource inside a PlatformComponent (opts=self.child_opts()) so the cost-tag transform adds them"
    ]


def test_an_empty_cost_tag_is_reported() -> None:
    broken = changed(topic(), "tags", "team", value=" ")
    assert messages(cost_tags, [broken]) == [
        "prod-fraud-alerts: empty cost tags team: give each a value (who pays for this resource)"
    ]


def test_untaggable_types_and_tags_known_only_after_apply_are_not_judged() -> None:
    alias = resource("aws:kms/alias:Alias", "prod-foundation-key-alias", {"name": "alias/ml-platform-prod"})
    component = resource("mlplatform:platform:MLPlatform", "prod", {}, custom=False)
    computed = changed(topic(), "tags", value=KNOWN_AFTER_APPLY)
    assert messages(cost_tags, [alias, component, computed]) == []
