"""`mlp tags`: every resource with its cost tags, what cannot be tagged, exit 1 on a missing tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.tagging import COST_TAG_KEYS, is_taggable
from mlp.cli import EXIT_OK, EXIT_POLICY, main
from mlp.plan import Plan
from mlp.tags import tag_coverage
from tests.conftest import ENVIRONMENTS
from tests.mlp.test_cost import FRAUD_TAGS, fixture_plan, resource


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_taggable_resource_of_the_environments_carries_every_cost_tag(plans: dict[str, Plan], env: str) -> None:
    statuses = tag_coverage(plans[env])
    taggable = [s for s in statuses if s.taggable]
    assert taggable, "the plan has taggable resources"
    assert [s.name for s in taggable if s.missing] == []
    assert all(s.tags["environment"] == env for s in taggable)


def test_untaggable_types_come_from_the_schema(plans: dict[str, Plan]) -> None:
    statuses = {s.type: s.taggable for s in tag_coverage(plans["dev"])}
    # Types whose SDK resource has no `tags` input are listed as untaggable, taggable ones are checked.
    assert statuses["aws:sns/topicPolicy:TopicPolicy"] is False
    assert statuses["aws:s3/bucketPolicy:BucketPolicy"] is False
    assert statuses["aws:kms/key:Key"] is True
    assert statuses["aws:budgets/budget:Budget"] is True
    assert "mlplatform:finops:CostGuardrails" not in statuses, "components are not resources to tag"
    assert "pulumi:providers:aws" not in statuses


def test_tags_command_fails_on_an_untagged_resource(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = fixture_plan()
    plan["resources"].append(resource("aws:sns/topic:Topic", "orphan-topic", {"name": "orphan"}))
    partial = {k: v for k, v in FRAUD_TAGS.items() if k != "cost-center"}
    plan["resources"].append(resource("aws:s3/bucket:Bucket", "half-tagged", {"bucket": "b", "tags": partial}))
    plan["resources"].append(resource("aws:s3/bucketPolicy:BucketPolicy", "no-tags-possible", {"bucket": "b"}))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))

    code = main(["tags", "dev", "--plan", str(path)])
    out = capsys.readouterr().out

    assert code == EXIT_POLICY
    assert f"orphan-topic (aws:sns/topic:Topic): {', '.join(COST_TAG_KEYS)}" in out
    assert "half-tagged (aws:s3/bucket:Bucket): cost-center" in out
    untaggable = out.split("Cannot be tagged")[1].split("Missing cost tags")[0]
    assert "no-tags-possible" in untaggable
    # EventBridge Scheduler schedules have no tags in their schema: listed, not failed.
    assert "fraud-scoring-training-schedule" in untaggable
    # The fixture's autoscaling target has tags in its schema but none set: it fails too.
    assert "fraud-scoring-scaling (aws:appautoscaling/target:Target)" in out


def test_tags_command_passes_and_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = fixture_plan()
    for r in plan["resources"]:
        if is_taggable(r["type"]):
            r["inputs"]["tags"] = {**FRAUD_TAGS, **r["inputs"].get("tags", {})}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))

    code = main(["tags", "dev", "--plan", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)

    assert code == EXIT_OK
    assert out["complete"] is True
    endpoint = next(r for r in out["resources"] if r["name"] == "fraud-scoring-endpoint")
    assert endpoint["tags"]["team"] == "fraud" and endpoint["missing"] == []
