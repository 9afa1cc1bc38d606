"""What makes planning fast must not change what is planned (benchmarks/README.md has the figures)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components import definition_cache, pipeline_definition, sdk_patches
from components.errors import InputError
from components.loader import load_environment, validate_environment
from components.pipeline_definition import build_definition
from mlp.plan import Plan
from tests.components.test_pipelines import ENV_MODELS, _pipeline, _spec_of


def _fresh_build(spec: Any) -> str:
    """A definition built the way it was before the speed-ups: new boto and SDK sessions, and the SDK's
    own LocalSagemakerClient (which creates a LocalSession per processing step)."""
    build_definition.cache_clear()
    sdk_patches.sdk_session.cache_clear()
    sdk_patches._offline_boto_session.cache_clear()
    return build_definition(spec)


def test_shared_sessions_build_every_definition_as_fresh_ones_do(
    plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plans were built with one SDK session per process and no LocalSession; a definition of each
    fixture environment (without and with a VPC, on demand and scheduled) is byte-identical to one built from
    scratch with the SDK's own classes, and every definition is the same built through one shared session in
    another order. (From scratch takes about a second a definition: one per environment keeps this test short.)"""
    assert ENV_MODELS
    specs = {(env, model): _spec_of(plans, env, model) for env, model in ENV_MODELS}
    one_per_environment = {env: (env, model) for env, model in reversed(ENV_MODELS)}.values()
    with monkeypatch.context() as patch:
        patch.setattr(sdk_patches, "_method_names_only", lambda client_class: client_class)
        for env, model in one_per_environment:
            planned = _pipeline(plans[env], model)["inputs"]["pipelineDefinition"]
            assert _fresh_build(specs[env, model]) == planned, f"{env}/{model}"
    # And in another order through one shared session: no build leaves anything behind for the next.
    build_definition.cache_clear()
    for (env, model), spec in reversed(specs.items()):
        assert build_definition(spec) == _pipeline(plans[env], model)["inputs"]["pipelineDefinition"]
        build_definition.cache_clear()


def test_a_build_leaves_the_sdk_as_it_found_it(plans: dict[str, Plan]) -> None:
    from sagemaker.core.local.local_session import LocalSagemakerClient
    from sagemaker.mlops.workflow import steps

    env, model = ENV_MODELS[0]
    build_definition.cache_clear()
    build_definition(_spec_of(plans, env, model))
    assert steps.LocalSagemakerClient is LocalSagemakerClient


def test_an_edited_environment_file_is_validated_again(edit_env: Callable[[str, Any], Path]) -> None:
    """Validation is cached per file content: an edit (valid or not) is seen by the next load."""
    root = edit_env("dev", lambda data: None)
    before = load_environment("dev", root)
    assert validate_environment("dev", root) == validate_environment("dev", Path(root))

    edit_env("dev", lambda data: data.update(account_id="999999999999"))
    assert validate_environment("dev", root).account_id == "999999999999"
    assert load_environment("dev", root).account_id == "999999999999" != before.account_id

    edit_env("dev", lambda data: data.update(account_id="not-an-account"))
    with pytest.raises(InputError) as first:
        validate_environment("dev", root)
    with pytest.raises(InputError) as again:
        validate_environment("dev", root)
    assert [p.path for p in first.value.problems] == [p.path for p in again.value.problems] == ["account_id"]


def test_planning_leaves_pulumis_stack_traces_as_it_found_them(plans: dict[str, Plan]) -> None:
    """The plans (built by the fixture) skipped Pulumi's per-registration stack walk, which the recording
    monitor never reads; it is back after each run, so a real Pulumi program in the process keeps it."""
    from pulumi.runtime import resource as pulumi_resource

    assert plans
    walk = pulumi_resource._get_stack_trace
    assert (walk.__module__, walk.__name__) == ("pulumi.runtime.resource", "_get_stack_trace")


def test_a_run_collects_garbage_less_often_and_restores_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During a run the collector uses the run's thresholds; after it (even a failing one) the process's."""
    import gc
    import json

    from mlp import runtime
    from mlp.collector import RUN_GC_THRESHOLDS

    program = tmp_path / "__main__.py"
    program.write_text("import gc, json, os\nopen(os.environ['SEEN'], 'w').write(json.dumps(gc.get_threshold()))\n")
    monkeypatch.setenv("SEEN", str(tmp_path / "seen.json"))
    before = gc.get_threshold()
    runtime.run_program(tmp_path, tmp_path, "dev", {}, set())
    assert tuple(json.loads((tmp_path / "seen.json").read_text())) == RUN_GC_THRESHOLDS
    assert gc.get_threshold() == before
    program.write_text("raise RuntimeError('broken program')\n")
    with pytest.raises(Exception, match="broken program"):
        runtime.run_program(tmp_path, tmp_path, "dev", {}, set())
    assert gc.get_threshold() == before


def test_the_console_script_keeps_the_plan_thresholds_for_its_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """`mlp` runs one command per process: it keeps the run's thresholds (restoring the defaults would make
    the next collection a full one over the whole plan); `main`, called in-process, changes nothing."""
    import gc
    import tomllib

    from mlp import cli
    from mlp.collector import RUN_GC_THRESHOLDS

    scripts = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["mlp"] == "mlp.cli:entry"
    before = gc.get_threshold()
    try:
        assert cli.main(["schema", "--check"]) == cli.EXIT_OK
        assert gc.get_threshold() == before
        monkeypatch.setattr("sys.argv", ["mlp", "schema", "--check"])
        assert cli.entry() == cli.EXIT_OK
        assert gc.get_threshold() == RUN_GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)


# --- The definition cache ---------------------------------------------------------------------------


def _no_sdk_build(spec: Any) -> str:
    raise AssertionError("the SDK was asked to build a definition the cache holds")


def test_a_cached_definition_is_the_one_the_sdk_builds(
    plans: dict[str, Plan], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, model = ENV_MODELS[0]
    spec = _spec_of(plans, env, model)
    planned = _pipeline(plans[env], model)["inputs"]["pipelineDefinition"]
    assert build_definition(spec) == planned  # built by the SDK, and kept
    [entry] = cache.iterdir()
    assert entry.name == f"{definition_cache.definition_key(spec)}.json"

    build_definition.cache_clear()
    monkeypatch.setattr(pipeline_definition, "_build", _no_sdk_build)
    assert build_definition(spec) == planned  # read back, byte for byte, without the SDK


def test_the_key_changes_with_the_spec_the_sdk_release_and_the_builder(
    plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    env, model = ENV_MODELS[0]
    spec = _spec_of(plans, env, model)
    key = definition_cache.definition_key(spec)
    assert definition_cache.definition_key(dataclasses.replace(spec, metric_minimum=0.99)) != key
    assert definition_cache.definition_key(dataclasses.replace(spec, subnet_ids=("subnet-1",))) != key
    with monkeypatch.context() as patch:
        patch.setattr(definition_cache, "_sdk_versions", lambda: {"sagemaker": "0.0.0"})
        assert definition_cache.definition_key(spec) != key
    with monkeypatch.context() as patch:
        patch.setattr(definition_cache, "_builder_digest", lambda: "an edited builder")
        assert definition_cache.definition_key(spec) != key
    assert definition_cache.definition_key(spec) == key


def test_a_damaged_entry_is_rebuilt(plans: dict[str, Plan], cache: Path) -> None:
    env, model = ENV_MODELS[0]
    spec = _spec_of(plans, env, model)
    cache.mkdir(parents=True)
    entry = cache / f"{definition_cache.definition_key(spec)}.json"
    entry.write_text('{"Version": "2020-12-01", "Steps": [')  # cut short
    planned = _pipeline(plans[env], model)["inputs"]["pipelineDefinition"]
    assert build_definition(spec) == planned
    assert entry.read_text() == planned


def test_off_builds_every_time_and_keeps_nothing(
    plans: dict[str, Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(definition_cache.CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert definition_cache.definition_cache_dir() is None
    env, model = ENV_MODELS[0]
    build_definition.cache_clear()
    build_definition(_spec_of(plans, env, model))
    assert list(tmp_path.iterdir()) == []


def test_the_default_cache_is_the_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(definition_cache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert definition_cache.definition_cache_dir() == tmp_path / "xdg" / "ml-platform" / "pipeline-definitions"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".cache" / "ml-platform" / "pipeline-definitions"
    assert definition_cache.definition_cache_dir() == expected


def test_a_warm_plan_imports_no_sdk_and_plans_the_same(plans: dict[str, Plan], cache: Path, env_root: Path) -> None:
    """The dev plan in a fresh process with every definition cached (and none committed, so the cache is
    what serves them): byte-identical to the plan built with the SDK, and the sagemaker SDK never imported."""
    import shutil
    import subprocess
    import sys

    from components.rendered_pipelines import RENDERED_DIR
    from mlp.plan import build_plan, plan_json

    shutil.rmtree(env_root / RENDERED_DIR)
    # A first plan in this process builds every definition dev asks for (training, batch, feature jobs) and
    # keeps it in the cache; the in-memory builds are forgotten first, so each one really reaches the cache.
    from components.job_definitions import build_job_definition

    build_definition.cache_clear()
    build_job_definition.cache_clear()
    build_plan("dev", env_root)
    script = (
        "import sys; from pathlib import Path; from mlp.plan import build_plan, plan_json; "
        f"sys.stdout.write(plan_json(build_plan('dev', Path({str(env_root)!r})))); "
        "sys.stderr.write('sdk imported' if 'sagemaker' in sys.modules else 'no sdk')"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300)
    assert done.stderr.strip().endswith("no sdk"), done.stderr[-2000:]
    assert done.stdout == plan_json(plans["dev"])
