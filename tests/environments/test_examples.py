"""The example environments (environments/*.yaml) are checked only for properties: each plans, passes its
policies, tags every taggable resource, and its generated files (runbooks, pipeline definitions) are current.

Nothing here reads a value of an example: people edit these files (a version bump, a new model, a new team, a
removed model), and the suite must stay green when they do. The same checks run on copies edited those ways,
regenerated as a person would (`mlp pipelines`, `mlp runbook`); behaviour is tested on the fixture
environments the tests own (tests/conftest.py FIXTURE_ROOT).
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from components.data_root import repo_root
from components.loader import ENVIRONMENTS_DIR, load_environment
from components.rendered_pipelines import SUFFIX, forget, rendered_dir, rendering, requests_in
from mlp.cli import EXIT_OK, main
from mlp.generated import stale_files
from mlp.plan import build_plan
from mlp.policy import check_plan, mandatory
from mlp.runbook import RUNBOOK_SUFFIX, render_runbooks, runbook_dir
from mlp.tags import tag_coverage
from tests.conftest import EXAMPLES

Edit = Callable[[dict[str, Any]], None]


def property_problems(root: Path, env: str) -> list[str]:
    """What is wrong with environment `env` at `root` as an example: it must plan, with no mandatory policy
    violation and every cost tag on every taggable resource, and its committed runbooks and pipeline
    definitions must be what `mlp runbook` and `mlp pipelines` would write now."""
    directory = rendered_dir(root, env)
    forget(directory)
    plan = build_plan(env, root)
    loaded = load_environment(env, root)
    problems = [f"policy: {v.line()}" for v in mandatory(check_plan(plan, loaded, root))]
    problems += [f"tags: {s.name} ({s.type}) misses {list(s.missing)}" for s in tag_coverage(plan) if s.missing]
    runbooks = render_runbooks(loaded, plan)
    problems += [f"stale runbook: {n}" for n in stale_files(runbook_dir(root, env), runbooks, RUNBOOK_SUFFIX)]
    # The definitions this plan asked for, rendered as `mlp pipelines` renders them (without planning again).
    definitions = {path.name: rendering(r.spec, r.model) for path, r in requests_in(directory).items()}
    problems += [f"stale pipeline definition: {n}" for n in stale_files(directory, definitions, SUFFIX)]
    return problems


@pytest.mark.parametrize("env", EXAMPLES)
def test_each_example_environment_plans_cleanly_with_current_generated_files(env: str) -> None:
    problems = property_problems(repo_root(), env)
    assert problems == [], (
        f"environments/{env}.yaml: {problems} (after editing it, run `uv run mlp pipelines {env}` and "
        f"`uv run mlp runbook {env}`, and fix what `uv run mlp plan {env}` reports)"
    )


def test_every_example_file_points_editors_at_the_schema() -> None:
    for env in EXAMPLES:
        first = (repo_root() / ENVIRONMENTS_DIR / f"{env}.yaml").read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=schema.json", env


def test_each_example_environment_deploys_into_its_own_account() -> None:
    accounts = {env: load_environment(env).account_id for env in EXAMPLES}
    assert len(set(accounts.values())) == len(accounts), accounts


# --- the examples edited the ways people edit them ------------------------------------------------------------


def _models(data: dict[str, Any]) -> list[Any]:
    models: list[Any] = data["models"]
    return models


def bump_versions(data: dict[str, Any]) -> None:
    """Every model moves on: a shadow challenger becomes the champion (the shadow goes), else the next version."""
    for model in _models(data):
        shadow = model["serving"].get("shadow")
        if shadow is not None:
            model["version"] = shadow["version"]
            del model["serving"]["shadow"]
        else:
            model["version"] += 1


def _unused(name: str, taken: list[str]) -> str:
    """`name`, or `name-2`, `name-3`, ... when the file already has it (the example may have been edited so)."""
    n = 1
    while (candidate := name if n == 1 else f"{name}-{n}") in taken:
        n += 1
    return candidate


def add_model(data: dict[str, Any]) -> None:
    """A new model beside the first one, set up like it (its team, serving and training settings)."""
    model = copy.deepcopy(_models(data)[0])
    model["name"] = model["registry_group"] = _unused("card-testing-detector", [m["name"] for m in _models(data)])
    model["version"] = 1
    model["serving"].pop("shadow", None)
    _models(data).append(model)


def add_team(data: dict[str, Any]) -> None:
    """A new squad, shaped like the first, with one model of its own."""
    team = copy.deepcopy(data["teams"][0])
    team["name"] = _unused("disputes", [t["name"] for t in data["teams"]])
    team["cost_center"] = "CC-4700"
    team["owners"] = ["disputes-ml@payments.example.com"]
    team.pop("on_call", None)
    data["teams"].append(team)
    model = copy.deepcopy(next(m for m in _models(data) if m["team"] == data["teams"][0]["name"]))
    model["name"] = model["registry_group"] = _unused("chargeback-predictor", [m["name"] for m in _models(data)])
    model["team"] = team["name"]
    model["version"] = 1
    model["serving"].pop("shadow", None)
    _models(data).append(model)


def remove_model(data: dict[str, Any]) -> None:
    """The last model no other setting of the file names is retired."""
    models = _models(data)
    for model in reversed(models):
        rest = {k: v for k, v in data.items() if k != "models"}
        if model["name"] not in repr(rest) and len(models) > 1:
            models.remove(model)
            return
    raise AssertionError("every model is named elsewhere in the file: pick another one to remove")


# (edit, environment file it is made in). New models and teams start where squads train (the first stage);
# a version bump happens everywhere; a model is retired from production last.
EDITS: list[tuple[Edit, str]] = [
    *((bump_versions, env) for env in EXAMPLES),
    (add_model, "dev"),
    (add_team, "dev"),
    (remove_model, "prod"),
]


def edited_copy(tmp_path: Path, env: str, edit: Edit) -> Path:
    """A copy of the repository's data (environments, stack configs, runbooks) with `edit` made to
    environments/<env>.yaml by a round-trip YAML edit (comments and layout kept), as people edit it."""
    root = tmp_path / "repo"
    shutil.copytree(repo_root() / ENVIRONMENTS_DIR, root / ENVIRONMENTS_DIR)
    shutil.copytree(repo_root() / "stacks", root / "stacks", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(repo_root() / "docs" / "runbooks", root / "docs" / "runbooks")
    path = root / ENVIRONMENTS_DIR / f"{env}.yaml"
    yaml = YAML(typ="rt")
    # The examples' own layout (quotes kept, sequences indented under their key, long lines kept whole), so
    # the edit is only what a person would change.
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    data = yaml.load(path.read_text())
    edit(data)
    with path.open("w") as f:
        yaml.dump(data, f)
    return root


@pytest.mark.parametrize(
    ("edit", "env"), [(e, env) for e, env in EDITS if env in EXAMPLES], ids=lambda v: getattr(v, "__name__", v)
)
def test_an_example_edited_as_people_do_keeps_its_properties_once_regenerated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Edit, env: str
) -> None:
    root = edited_copy(tmp_path, env, edit)
    assert (root / ENVIRONMENTS_DIR / f"{env}.yaml").read_text() != (
        repo_root() / ENVIRONMENTS_DIR / f"{env}.yaml"
    ).read_text()
    # Regenerated as the README says, with the commands people run.
    assert main(["pipelines", env, "--root", str(root)]) == EXIT_OK
    assert main(["runbook", env, "--root", str(root)]) == EXIT_OK
    capsys.readouterr()
    assert property_problems(root, env) == []


@pytest.mark.parametrize(("edit", "env"), [(add_model, "dev")], ids=["add_model-dev"])
def test_an_edit_not_regenerated_is_caught(tmp_path: Path, edit: Edit, env: str) -> None:
    """The same checks fail on an edited copy until its generated files are regenerated: they can fail."""
    before = {m.name for m in load_environment(env).models}
    root = edited_copy(tmp_path, env, edit)
    [added] = {m.name for m in load_environment(env, root).models} - before
    problems = property_problems(root, env)
    assert f"stale runbook: {added}.md" in problems
    assert f"stale pipeline definition: {added}.json" in problems
