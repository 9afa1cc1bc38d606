"""policies/rules/protection.py: model registries and data buckets are protected."""

from __future__ import annotations

from policies.rules.protection import stateful_resources_protected
from tests.policies.fixtures import bucket, compliant_stack, messages, model_package_group, topic


def test_a_compliant_stack_passes() -> None:
    assert messages(stateful_resources_protected, compliant_stack()) == []


def test_an_unprotected_registry_is_reported() -> None:
    assert messages(stateful_resources_protected, [model_package_group(protect=False)]) == [
        "dev-fraud-scoring-registry: the model registry is not protected: create it with protect=True "
        "(protect_stateful_resources in the env file)"
    ]


def test_an_unprotected_bucket_is_reported() -> None:
    assert messages(stateful_resources_protected, [bucket("prod-data", "mlp-prod-data", protect=False)]) == [
        "prod-data: the data bucket is not protected: create it with protect=True (protect_stateful_resources in "
        "the env file)"
    ]


def test_stateless_resources_need_no_protection() -> None:
    assert messages(stateful_resources_protected, [topic()]) == []
