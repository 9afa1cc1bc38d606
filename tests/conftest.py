"""Shared fixtures: the test-owned environments and their plans (computed once), copies to break on purpose.

Tests assert behaviour on FIXTURE_ROOT, environments owned by the tests, never on the example environments in
environments/: people edit those (a version bump, a new model, a new team), and the suite must stay green
when they do. The examples are checked only for properties (tests/environments/test_examples.py)."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from ruamel.yaml import YAML

if TYPE_CHECKING:
    import pulumi

# SDKs that read a region at import time get one; nothing in the tests reaches AWS.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
# Tests build pipeline definitions with the SDK, never from a cache a previous run left
# (tests/test_definition_cache.py switches it on where it is the subject).
os.environ["MLP_DEFINITION_CACHE"] = "off"

from components.config import LoadedEnvironment
from components.data_root import repo_root
from components.loader import known_environments, load_environment
from mlp.collector import RUN_GC_THRESHOLDS
from mlp.plan import Plan, build_plan, plan_function

# A test process plans and imports as `mlp` does, so it collects garbage as the `mlp` console script does
# (mlp/collector.py): with the default thresholds, collections over the SDKs' heap took much of the suite.
gc.set_threshold(*RUN_GC_THRESHOLDS)

# The environments the tests own: frozen copies of the examples as they were, with the repository's stack
# configs (stacks/ is a link to them). Read them with `root=FIXTURE_ROOT` / `--root FIXTURE_ROOT`.
FIXTURE_ROOT = Path(__file__).resolve().parent / "fixtures" / "platform"
ENVIRONMENTS = ("dev", "staging", "prod")
# The example environments, whatever people have made of them: only properties are checked on these.
EXAMPLES = tuple(known_environments(repo_root()))


def fixture_env(name: str) -> LoadedEnvironment:
    """A fixture environment, loaded and validated."""
    return load_environment(name, FIXTURE_ROOT)


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    """The plan of every fixture environment, planned once per test session."""
    return {env: build_plan(env, FIXTURE_ROOT) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def example_plans() -> dict[str, Plan]:
    """The plan of every example environment in environments/, planned once per test session."""
    return {env: build_plan(env) for env in EXAMPLES}


@pytest.fixture(scope="session")
def rendered_fixture_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture environments with their pipeline definitions rendered as `mlp pipelines` writes them (built
    once per session; the definitions themselves are built once per process and shared with `plans`)."""
    from components.rendered_pipelines import SUFFIX, rendered_dir
    from mlp.generated import write_files
    from mlp.pipelines import wanted_renderings

    root = tmp_path_factory.mktemp("fixture") / "repo"
    shutil.copytree(FIXTURE_ROOT / "environments", root / "environments")
    for env in ENVIRONMENTS:
        write_files(rendered_dir(root, env), wanted_renderings(env, root), SUFFIX)
    return root


@pytest.fixture
def env_root(tmp_path: Path, rendered_fixture_root: Path) -> Path:
    """A copy of the fixture environments (with their rendered pipeline definitions) and the stack configs, to
    edit without touching the originals."""
    root = tmp_path / "repo"
    shutil.copytree(rendered_fixture_root / "environments", root / "environments")
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


# Builds one component (or a few) with the options it is given: they carry the pinned provider.
Build = Callable[["pulumi.ResourceOptions"], object]
ComponentPlanner = Callable[..., Plan]

ACCOUNT_ID = "111122223333"
REGION = "eu-west-1"


def plan_one(build: Build, *, stack: str = "dev", account_id: str = ACCOUNT_ID, region: str = REGION) -> Plan:
    """The plan document of what `build` declares, and nothing else: run under the same mocks and recording
    monitor as `mlp plan` (transforms applied, so cost tags are visible), behind an explicit AWS provider
    pinned to `account_id` and `region` as the stack program's is. No environment file is read."""
    import pulumi
    import pulumi_aws as aws

    def program() -> None:
        provider = aws.Provider(f"aws-{stack}", region=region, allowed_account_ids=[account_id])
        build(pulumi.ResourceOptions(providers=[provider]))

    return plan_function(program, stack)


@pytest.fixture
def plan_component() -> ComponentPlanner:
    """`plan_one`: plan one component on its own, for unit tests where a whole environment is not the point."""
    return plan_one


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
