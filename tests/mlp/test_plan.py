"""`mlp plan`: the plan document contract, determinism and the view for people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.tagging import COST_TAG_KEYS, is_taggable
from mlp.cli import EXIT_OK, main
from mlp.plan import Plan, build_plan, plan_json
from mlp.stack_config import load_stack_config
from tests.conftest import ENVIRONMENTS, FIXTURE_ROOT

RESOURCE_KEYS = {"urn", "type", "name", "parent", "custom", "protect", "dependencies", "inputs"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_plans_with_the_document_shape(plans: dict[str, Plan], env: str) -> None:
    plan = plans[env]
    assert plan["project"] == "ml-platform"
    assert plan["stack"] == env
    assert plan["resources"], "an environment always has its foundation"
    urns = {r["urn"] for r in plan["resources"]}
    for r in plan["resources"]:
        assert set(r) == RESOURCE_KEYS
        assert r["urn"] == f"urn:pulumi:{env}::ml-platform::{r['urn'].split('::')[2]}::{r['name']}"
        assert (
            r["parent"] is None
            or r["parent"] in urns
            or r["parent"].endswith("pulumi:pulumi:Stack::ml-platform-" + env)
        )
        assert all(d in urns for d in r["dependencies"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_taggable_resource_carries_every_cost_tag(plans: dict[str, Plan], env: str) -> None:
    taggable = [r for r in plans[env]["resources"] if r["custom"] and is_taggable(r["type"])]
    assert taggable
    for r in taggable:
        tags = r["inputs"].get("tags") or {}
        missing = [k for k in COST_TAG_KEYS if not tags.get(k)]
        assert not missing, f"{r['name']} ({r['type']}) misses {missing}"
        assert tags["environment"] == env


def test_plans_are_deterministic_byte_for_byte() -> None:
    first = plan_json(build_plan("prod", FIXTURE_ROOT))
    second = plan_json(build_plan("prod", FIXTURE_ROOT))
    assert first == second


def test_json_output_is_the_plan_document(capsys: pytest.CaptureFixture[str], plans: dict[str, Plan]) -> None:
    assert main(["plan", "dev", "--json", "--root", str(FIXTURE_ROOT)]) == EXIT_OK
    out = capsys.readouterr().out
    assert json.loads(out) == plans["dev"]
    assert out == plan_json(plans["dev"])


def test_tree_shows_components_children_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "prod", "--root", str(FIXTURE_ROOT)]) == EXIT_OK
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Plan for stack prod (project ml-platform): ")
    platform = next(i for i, line in enumerate(lines) if "mlplatform:platform:MLPlatform" in line)
    foundation = next(i for i, line in enumerate(lines) if "mlplatform:foundation:EnvironmentFoundation" in line)
    bucket = next(line for line in lines if "aws:s3/bucket:Bucket " in line)
    assert platform < foundation
    assert bucket.rstrip().endswith("prod-foundation-artifacts  [protected]")
    assert "Resources by type:" in out
    assert "   1  aws:kms/key:Key" in out


def test_stack_config_is_read_as_pulumi_passes_it(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  environment: dev\n"
        "  aws:region: eu-west-1\n"
        "  pulumi:disable-default-providers: [aws]\n"
        "  dbPassword:\n"
        "    secure: AAABAJ0nC1ZZ\n"
    )
    config, secrets = load_stack_config(tmp_path, "dev")
    assert config == {
        "ml-platform:environment": "dev",
        "aws:region": "eu-west-1",
        "pulumi:disable-default-providers": '["aws"]',
        "ml-platform:dbPassword": "[secret]",
    }
    assert secrets == {"ml-platform:dbPassword"}


def test_stack_config_reaches_the_program(env_root: Path) -> None:
    """`ml-platform:environment` in stack config picks the environment file, as it would under the CLI."""
    (env_root / "environments" / "sandbox.yaml").write_text((env_root / "environments" / "dev.yaml").read_text())
    (env_root / "stacks" / "Pulumi.sandbox.yaml").write_text("config:\n  ml-platform:environment: dev\n")
    plan = build_plan("sandbox", env_root)
    bucket = next(r for r in plan["resources"] if r["type"] == "aws:s3/bucket:Bucket")
    assert bucket["name"] == "dev-foundation-artifacts"
