"""components/rendered_pipelines.py and `mlp pipelines`: committed definitions, read only when current."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.data_root import repo_root
from components.loader import load_environment
from components.pipeline_definition import FAIL_STEP
from components.rendered_pipelines import RENDERED_DIR, SUFFIX, outdated, rendered_dir
from mlp import cli
from mlp.generated import stale_files
from mlp.pipelines import wanted_renderings
from mlp.plan import Plan, build_plan, plan_json
from tests.components.test_pipelines import _definition, _pipeline, _steps
from tests.conftest import EXAMPLES


def _committed_definition(root: Path, env: str, model: str) -> str:
    document = json.loads((rendered_dir(root, env) / f"{model}{SUFFIX}").read_text(encoding="utf-8"))
    return json.dumps(document["definition"], sort_keys=True, separators=(",", ":"))


def _trained(env: str) -> list[str]:
    return [m.name for m in load_environment(env).models if m.training is not None]


@pytest.mark.parametrize("env", EXAMPLES)
def test_committed_renderings_are_what_the_sdk_builds(example_plans: dict[str, Plan], env: str) -> None:
    """The check CI runs, on the example environments: every pipeline of the environment has its file, built
    by the SDK now (the tests build with the SDK), with nothing left over; and each committed definition is the
    planned one."""
    wanted = wanted_renderings(env, repo_root())
    # Training pipelines, and the batch and feature pipelines (tests/components/test_features.py).
    assert {f"{model}{SUFFIX}" for model in _trained(env)} <= set(wanted)
    stale = stale_files(rendered_dir(repo_root(), env), wanted, SUFFIX)
    assert stale == [], f"{RENDERED_DIR / env} is out of date ({', '.join(stale)}): run `uv run mlp pipelines {env}`"
    for model in _trained(env):
        planned = _pipeline(example_plans[env], model)["inputs"]["pipelineDefinition"]
        assert _committed_definition(repo_root(), env, model) == planned, f"{env}/{model}"


def test_a_plan_reads_current_renderings_without_the_sdk(example_plans: dict[str, Plan], cache: Path) -> None:
    """The example prod planned in a fresh process with an empty definition cache: byte-identical to the plan built with
    the SDK, the SDK never imported, nothing built into the cache."""
    script = (
        "import sys; from mlp.plan import build_plan, plan_json; "
        "sys.stdout.write(plan_json(build_plan('prod'))); "
        "sys.stderr.write('sdk imported' if 'sagemaker' in sys.modules else 'no sdk')"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300)
    assert done.stderr.strip().endswith("no sdk"), done.stderr[-2000:]
    assert done.stdout == plan_json(example_plans["prod"])
    assert not cache.exists()


def _raise_threshold(data: Any) -> None:
    fraud = next(m for m in data["models"] if m["name"] == "fraud-scoring")
    fraud["training"]["metric"]["minimum"] = 0.97


def test_a_stale_rendering_is_built_and_named(
    edit_env: Callable[[str, Any], Path], cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A changed spec no longer matches the committed file: the plan builds that definition with the SDK,
    reads the other one, and `mlp plan` names the file to regenerate."""
    root = edit_env("dev", _raise_threshold)
    plan = build_plan("dev", root)
    message = _steps(_definition(plan, "fraud-scoring"))[FAIL_STEP]["Arguments"]["ErrorMessage"]["Std:Join"]
    assert message["Values"][0] == "auc is below the threshold 0.97: got"  # built from the edited file
    assert _pipeline(plan, "fraud-scoring")["inputs"]["pipelineDefinition"] != _committed_definition(
        root, "dev", "fraud-scoring"
    )
    anomaly = _pipeline(plan, "transaction-anomaly")["inputs"]["pipelineDefinition"]
    assert anomaly == _committed_definition(root, "dev", "transaction-anomaly")
    assert outdated(rendered_dir(root, "dev")) == [rendered_dir(root, "dev") / "fraud-scoring.json"]

    assert cli.main(["plan", "dev", "--json", "--root", str(root)]) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert "note: environments/pipelines/dev/fraud-scoring.json is missing or out of date" in err
    assert "`uv run mlp pipelines dev` writes it" in err
    assert "transaction-anomaly.json" not in err


def test_off_ignores_the_renderings(env_root: Path, plans: dict[str, Plan]) -> None:
    """With MLP_DEFINITION_CACHE=off (the tests, the deploy workflow) even a doctored file is never read."""
    path = rendered_dir(env_root, "prod") / "fraud-scoring.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["definition"]["Parameters"] = []
    path.write_text(json.dumps(document), encoding="utf-8")
    plan = build_plan("prod", env_root)
    assert _pipeline(plan, "fraud-scoring")["inputs"] == _pipeline(plans["prod"], "fraud-scoring")["inputs"]
    assert outdated(rendered_dir(env_root, "prod")) == []


def test_the_command_rewrites_doctored_and_removes_leftover_files(
    env_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--check` fails on a hand-edited definition (its inputs still match) and on a file no pipeline
    has; writing rebuilds the one from the SDK and removes the other."""
    directory = rendered_dir(env_root, "staging")
    original = (directory / "fraud-scoring.json").read_text(encoding="utf-8")
    document = json.loads(original)
    document["definition"]["Parameters"] = []
    (directory / "fraud-scoring.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    (directory / "retired-model.json").write_text("{}", encoding="utf-8")

    assert cli.main(["pipelines", "staging", "--check", "--root", str(env_root)]) == cli.EXIT_POLICY
    err = capsys.readouterr().err
    assert "environments/pipelines/staging/fraud-scoring.json is out of date" in err
    assert "environments/pipelines/staging/retired-model.json is out of date" in err
    assert "transaction-anomaly" not in err

    assert cli.main(["pipelines", "staging", "--root", str(env_root)]) == cli.EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "wrote environments/pipelines/staging/fraud-scoring.json",
        "removed environments/pipelines/staging/retired-model.json",
    ]
    assert (directory / "fraud-scoring.json").read_text(encoding="utf-8") == original
    assert cli.main(["pipelines", "staging", "--check", "--root", str(env_root)]) == cli.EXIT_OK


def test_a_damaged_rendering_is_built_instead(env_root: Path, cache: Path, plans: dict[str, Plan]) -> None:
    path = rendered_dir(env_root, "prod") / "transaction-anomaly.json"
    path.write_text(path.read_text(encoding="utf-8")[:500], encoding="utf-8")  # cut short
    plan = build_plan("prod", env_root)
    planned = _pipeline(plans["prod"], "transaction-anomaly")["inputs"]["pipelineDefinition"]
    assert _pipeline(plan, "transaction-anomaly")["inputs"]["pipelineDefinition"] == planned
    assert outdated(rendered_dir(env_root, "prod")) == [path]
