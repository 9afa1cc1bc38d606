"""Promotion moves batch and online serving together: `mlp promote` rewrites the model's one `version` line
(mlp.promote.set_model_version), and both the endpoint's model and the batch pipeline's transform step then
serve the new registry version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from components.data_root import repo_root
from mlp.plan import Plan, build_plan
from mlp.promote import set_model_version
from tests.components.test_features import ACCOUNT, REGION, fixture_env
from tests.conftest import resources_of

MODEL = "aws:sagemaker/model:Model"


def _write_as_promote_writes(root: Path, env: dict[str, Any]) -> Path:
    """The fixture environment in the layout the promotion's round trip keeps (sequences indented 4, offset 2),
    as the example environment files are."""
    (root / "environments").mkdir(parents=True)
    (root / "stacks").mkdir()
    shutil.copy(repo_root() / "stacks" / "Pulumi.dev.yaml", root / "stacks" / "Pulumi.fx.yaml")
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    path = root / "environments" / "fx.yaml"
    with path.open("w") as f:
        yaml.dump(env, f)
    return path


def _served(plan: Plan) -> dict[str, str]:
    """Package served by each SageMaker model, by logical name; and the batch step's model name."""
    served = {r["name"]: r["inputs"]["primaryContainer"]["modelPackageName"] for r in resources_of(plan, MODEL)}
    [pipeline] = [
        r for r in resources_of(plan, "aws:sagemaker/pipeline:Pipeline") if r["name"].endswith("-batch-pipeline")
    ]
    [step] = json.loads(pipeline["inputs"]["pipelineDefinition"])["Steps"]
    [batch_model] = [r for r in resources_of(plan, MODEL) if r["name"] == "fx-scorer-batch-model"]
    assert step["Arguments"]["ModelName"] == batch_model["inputs"]["name"]
    served["transform step"] = served["fx-scorer-batch-model"]
    return served


def test_promoting_a_version_moves_the_endpoint_and_the_batch_transform_together(tmp_path: Path) -> None:
    env = fixture_env(feature_groups=[])
    env["models"][0]["features"] = []
    path = _write_as_promote_writes(tmp_path, env)
    before = _served(build_plan("fx", tmp_path))
    old = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/scorer/7"
    assert set(before.values()) == {old}

    original = path.read_text().splitlines()
    updated = set_model_version(path, "scorer", 8).splitlines()
    assert [(a, b) for a, b in zip(original, updated, strict=True) if a != b] == [("    version: 7", "    version: 8")]
    after = _served(build_plan("fx", tmp_path))
    new = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/scorer/8"
    assert after == {name: new for name in before}, "one line promoted the endpoint and the batch transform"
