"""The environment schema: its committed JSON Schema is current, and what spans environment files (where the
registry lives, which accounts consume it) is derived from the files, on the fixture environments."""

from __future__ import annotations

from components.data_root import repo_root
from mlp.commands.schema import render_schema
from tests.conftest import fixture_env


def test_committed_schema_is_generated_from_the_models() -> None:
    committed = (repo_root() / "environments" / "schema.json").read_text()
    assert committed == render_schema(), "environments/schema.json is stale: run `uv run mlp schema`"


def test_registry_lives_in_dev_and_is_consumed_by_staging_and_prod() -> None:
    dev, staging, prod = (fixture_env(e) for e in ("dev", "staging", "prod"))
    assert dev.hosts_registry and not staging.hosts_registry and not prod.hosts_registry
    assert staging.registry.account_id == prod.registry.account_id == dev.account_id
    assert dev.registry_consumer_account_ids == sorted([staging.account_id, prod.account_id])
    assert staging.registry_consumer_account_ids == []
    assert prod.registry.model_package_arn("fraud-scoring", 12) == (
        f"arn:aws:sagemaker:{dev.region}:{dev.account_id}:model-package/fraud-scoring/12"
    )
