"""Shared fixtures: plans of the real environments (computed once) and copies to break on purpose."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

# SDKs that read a region at import time get one; nothing in the tests reaches AWS.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
# Tests build pipeline definitions with the SDK, never from a cache a previous run left
# (tests/test_definition_cache.py switches it on where it is the subject).
os.environ["MLP_DEFINITION_CACHE"] = "off"

from components.loader import repo_root
from mlp.plan import Plan, build_plan

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    """The plan of every example environment, planned once per test session."""
    return {env: build_plan(env) for env in ENVIRONMENTS}


@pytest.fixture
def env_root(tmp_path: Path) -> Path:
    """A copy of environments/ and the stack configs, to edit without touching the repository."""
    root = tmp_path / "repo"
    shutil.copytree(repo_root() / "environments", root / "environments")
    (root / "stacks").mkdir()
    for config in (repo_root() / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(config, root / "stacks" / config.name)
    return root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The definition cache switched on, in an empty directory (and with it the committed renderings), as
    outside the tests; definitions the process built in memory are forgotten before and after."""
    from components import definition_cache
    from components.pipeline_definition import build_definition

    directory = tmp_path / "definitions"
    monkeypatch.setenv(definition_cache.CACHE_ENV, str(directory))
    build_definition.cache_clear()
    yield directory
    build_definition.cache_clear()


EditFn = Callable[[Any], None]


@pytest.fixture
def edit_env(env_root: Path) -> Callable[[str, EditFn], Path]:
    """Edit environments/<env>.yaml in the copy through a function on its parsed YAML."""

    def edit(env: str, change: EditFn) -> Path:
        path = env_root / "environments" / f"{env}.yaml"
        yaml = YAML(typ="rt")
        data = yaml.load(path.read_text())
        change(data)
        with path.open("w") as f:
            yaml.dump(data, f)
        return env_root

    return edit


def resources_of(plan: Plan, type_: str) -> list[dict[str, Any]]:
    """Resources of one type in a plan."""
    return [r for r in plan["resources"] if r["type"] == type_]


def one_of(plan: Plan, type_: str, name: str | None = None) -> dict[str, Any]:
    """The single resource of a type (and name, when given); fails when there are none or several."""
    found = [r for r in resources_of(plan, type_) if name is None or r["name"] == name]
    assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r['name'] for r in found]}"
    return found[0]
