"""`mlp plan ENV --against REF`: the plan of a git revision compared with the working tree's, in a small git
repository of fixture environments (the base revision is planned by a subprocess, as in a pull request)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlp import revisions
from mlp.cli import EXIT_INPUT, main
from mlp.plan import render_tree
from mlp.plan_diff import REPLACE, UPDATE, Change, FieldChange, diff_plans, render_markdown
from tests.mlp.fixture_environments import ENVIRONMENT, SECOND_MODEL, commit_all, git, write_environment

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose HEAD holds the fixture environment dev."""
    root = write_environment(tmp_path / "repo")
    git(root, "init", "-q")
    commit_all(root, "base")
    return root


def against(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    """The `changes` section of `mlp plan dev --against HEAD --json`."""
    code = main(["plan", "dev", "--root", str(repo), "--against", "HEAD", "--json", *extra])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    changes: dict[str, Any] = json.loads(captured.out)["changes"]
    return changes


def by_type(changes: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for c in changes["resources"]:
        found.setdefault(c["type"], []).append(c)
    return found


def test_version_bump_replaces_model_and_configuration_and_updates_the_endpoint(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_environment(repo, text=ENVIRONMENT.replace("version: 3", "version: 4"))

    changes = against(repo, capsys)

    found = by_type(changes)
    [model], [config], [endpoint] = found[MODEL], found[CONFIG], found[ENDPOINT]
    assert (model["action"], config["action"], endpoint["action"]) == ("replace", "replace", "update")
    package = next(f for f in model["fields"] if f["path"] == "primaryContainer.modelPackageName")
    assert package["before"].endswith("model-package/scoring/3") and package["after"].endswith("/scoring/4")
    assert package["replaces"] is True
    [config_name] = endpoint["fields"]
    assert config_name["path"] == "endpointConfigName" and config_name["replaces"] is False
    assert "-v3-" in config_name["before"] and "-v4-" in config_name["after"]
    assert changes["summary"]["create"] == changes["summary"]["delete"] == 0


def test_added_and_removed_models(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_environment(repo, text=ENVIRONMENT + SECOND_MODEL)
    added = against(repo, capsys)
    created = {c["name"] for c in added["resources"] if c["action"] == "create"}
    assert {"limits-model", "limits-config", "limits-endpoint"} <= created
    assert not [c for c in added["resources"] if c["action"] == "delete"]

    commit_all(repo, "add limits")
    write_environment(repo)  # back to one model: limits is removed
    removed = against(repo, capsys)
    deleted = {c["name"] for c in removed["resources"] if c["action"] == "delete"}
    assert deleted == created
    assert not [c for c in removed["resources"] if c["action"] == "create"]


def test_tag_change_updates_in_place(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_environment(repo, text=ENVIRONMENT.replace("CC-4100", "CC-4200"))

    changes = against(repo, capsys)

    assert changes["summary"]["replace"] == 0
    assert changes["summary"]["update"] > 0
    for change in changes["resources"]:
        assert change["action"] == "update", change
        assert all("CC-4100" in json.dumps(f["before"]) for f in change["fields"]), change
    model = by_type(changes)[MODEL][0]
    assert model["fields"] == [{"path": "tags.cost-center", "before": "CC-4100", "after": "CC-4200", "replaces": False}]


def test_tree_and_markdown_show_the_changes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_environment(repo, text=ENVIRONMENT.replace("version: 3", "version: 4"))

    code = main(["plan", "dev", "--root", str(repo), "--against", "HEAD", "--markdown"])
    markdown = capsys.readouterr().out

    assert code in (0, 1)
    assert markdown.startswith("### Resource changes in `dev` against `HEAD`\n")
    assert "| `+-` replace | `scoring-model` | `aws:sagemaker/model:Model` |" in markdown
    assert "| `~` update | `scoring-endpoint` |" in markdown
    assert "Policy advisories" not in markdown, "the comment section holds the changes only"


def test_tree_fits_the_width_and_marks_each_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["plan", "dev", "--root", str(repo), "--json"])
    before = json.loads(capsys.readouterr().out)
    write_environment(repo, text=ENVIRONMENT.replace("version: 3", "version: 4"))
    main(["plan", "dev", "--root", str(repo), "--json"])
    after = json.loads(capsys.readouterr().out)

    changes = diff_plans(before, after)
    tree = render_tree(after, changes, width=80)

    assert max(len(line) for line in tree.splitlines()) <= 80
    rows = {line.split()[-1]: line for line in tree.splitlines() if line.startswith((" +-", " ~ "))}
    assert rows["scoring-model"].startswith(" +-") and rows["scoring-endpoint"].startswith(" ~ ")
    assert {c.action for c in changes if c.type in (MODEL, CONFIG)} == {REPLACE}
    assert [c.action for c in changes if c.type == ENDPOINT] == [UPDATE]


def test_unknown_revision_is_bad_input(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "dev", "--root", str(repo), "--against", "no-such-branch"])
    captured = capsys.readouterr()
    assert code == EXIT_INPUT and captured.out == ""
    assert captured.err.startswith("error: command line: --against: 'no-such-branch' is not a commit")


def test_base_plan_may_use_the_definition_cache(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests switch the cache off (conftest); the base revision's plan is not under test and keeps it."""
    seen: dict[str, str] = {}

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.update(kwargs["env"])
        document = {"project": "ml-platform", "stack": "dev", "resources": []}
        return subprocess.CompletedProcess(command, 0, stdout=json.dumps(document), stderr="")

    monkeypatch.setenv("MLP_DEFINITION_CACHE", "off")
    monkeypatch.setattr(subprocess, "run", run)
    assert revisions.plan_in_directory(repo, "dev", "HEAD")["resources"] == []
    assert "MLP_DEFINITION_CACHE" not in seen


def test_long_field_lists_are_cut_replacements_first() -> None:
    fields = [FieldChange(f"tags.k{i}", "a", "b", replaces=False) for i in range(11)]
    fields.append(FieldChange("name", "old", "new", replaces=True))
    change = Change("urn:x", MODEL, "scoring-model", REPLACE, fields)

    markdown = render_markdown("dev", "main", [change])

    row = next(line for line in markdown.splitlines() if "scoring-model" in line)
    assert row.count("<br>") == 8, "eight fields, then the count of the rest"
    assert "`name` (forces replacement)" in row.split("<br>")[0]
    assert row.endswith("… and 4 more changed fields (`--json` lists them all) |")
