"""The environment files: valid, realistic, and with a committed JSON Schema that is current."""

from __future__ import annotations

from components.loader import load_environment, repo_root
from mlp.commands.schema import render_schema
from tests.conftest import ENVIRONMENTS


def test_committed_schema_is_generated_from_the_models() -> None:
    committed = (repo_root() / "environments" / "schema.json").read_text()
    assert committed == render_schema(), "environments/schema.json is stale: run `uv run mlp schema`"


def test_every_environment_file_points_editors_at_the_schema() -> None:
    for env in ENVIRONMENTS:
        first = (repo_root() / "environments" / f"{env}.yaml").read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=schema.json"


def test_fraud_and_risk_squads_serve_their_models_everywhere() -> None:
    for env in ENVIRONMENTS:
        spec = load_environment(env)
        owners = {m.name: m.team for m in spec.models}
        assert owners["fraud-scoring"] == "fraud"
        assert owners["transaction-anomaly"] == "risk"


def test_prod_is_sized_larger_than_dev() -> None:
    dev, prod = load_environment("dev"), load_environment("prod")
    for name in ("fraud-scoring", "transaction-anomaly"):
        d = next(m for m in dev.models if m.name == name)
        p = next(m for m in prod.models if m.name == name)
        assert p.serving.instance_count > d.serving.instance_count
    assert prod.finops.monthly_budget_usd > dev.finops.monthly_budget_usd


def test_each_environment_deploys_into_its_own_account() -> None:
    accounts = [load_environment(env).account_id for env in ENVIRONMENTS]
    assert len(set(accounts)) == len(accounts)


def test_registry_lives_in_dev_and_is_consumed_by_staging_and_prod() -> None:
    dev, staging, prod = (load_environment(e) for e in ENVIRONMENTS)
    assert dev.hosts_registry and not staging.hosts_registry and not prod.hosts_registry
    assert staging.registry.account_id == prod.registry.account_id == dev.account_id
    assert dev.registry_consumer_account_ids == sorted([staging.account_id, prod.account_id])
    assert staging.registry_consumer_account_ids == []
    assert prod.registry.model_package_arn("fraud-scoring", 12) == (
        f"arn:aws:sagemaker:{dev.region}:{dev.account_id}:model-package/fraud-scoring/12"
    )
