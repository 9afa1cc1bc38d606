"""What makes planning fast must not change what is planned (benchmarks/README.md has the figures)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components import pipeline_definition
from components.errors import InputError
from components.loader import load_environment, validate_environment
from components.pipeline_definition import build_definition
from mlp.plan import Plan
from tests.components.test_pipelines import ENV_MODELS, _pipeline, _spec_of


def _fresh_build(spec: Any) -> str:
    """A definition built the way it was before the speed-ups: new boto and SDK sessions, and the SDK's
    own LocalSagemakerClient (which creates a LocalSession per processing step)."""
    build_definition.cache_clear()
    pipeline_definition._session.cache_clear()
    pipeline_definition._offline_boto_session.cache_clear()
    return build_definition(spec)


def test_shared_sessions_build_every_definition_as_fresh_ones_do(
    plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plans were built with one SDK session per process and no LocalSession; every definition of
    every example environment is byte-identical to one built from scratch with the SDK's own classes."""
    assert ENV_MODELS
    specs = {(env, model): _spec_of(plans, env, model) for env, model in ENV_MODELS}
    with monkeypatch.context() as patch:
        patch.setattr(pipeline_definition, "_method_names_only", lambda client_class: client_class)
        for (env, model), spec in specs.items():
            planned = _pipeline(plans[env], model)["inputs"]["pipelineDefinition"]
            assert _fresh_build(spec) == planned, f"{env}/{model}"
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
