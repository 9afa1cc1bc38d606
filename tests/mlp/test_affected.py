"""Which stacks a change affects: environment files hit their stack, shared code hits all, docs none."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlp.affected import affected_stacks
from mlp.cli import main
from tests.conftest import FIXTURE_ROOT

ALL = ["dev", "staging", "prod"]


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (["environments/prod.yaml"], ["prod"]),
        (["environments/staging.yaml", "environments/dev.yaml"], ["dev", "staging"]),
        (["stacks/Pulumi.staging.yaml"], ["staging"]),
        (["environments/prod.yaml", "docs/gitops.md"], ["prod"]),
        (["components/serving.py"], ALL),
        (["stacks/__main__.py"], ALL),
        (["policies/__main__.py"], ALL),
        (["mlp/plan.py"], ALL),
        (["pyproject.toml"], ALL),
        (["uv.lock"], ALL),
        (["Pulumi.yaml"], ALL),
        (["environments/prod.yaml", "uv.lock"], ALL),
        (["docs/gitops.md", "README.md", "tests/test_workflows.py", ".github/workflows/ci.yml"], []),
        (["environments/schema.json"], []),
        (["environments/pipelines/staging/fraud-scoring.json"], ["staging"]),
        (["./environments/dev.yaml", ""], ["dev"]),
        ([], []),
    ],
)
def test_affected_stacks_of_sample_changes(changed: list[str], expected: list[str]) -> None:
    assert affected_stacks(changed, FIXTURE_ROOT) == expected


def test_a_deleted_environment_file_affects_no_remaining_stack() -> None:
    assert affected_stacks(["environments/sandbox.yaml"], FIXTURE_ROOT) == []


def test_order_follows_promoted_from_not_the_alphabet(edit_env: Callable[[str, Any], Path]) -> None:
    # Insert a stage between staging and prod: prod now promotes from preprod.
    root = edit_env("prod", lambda d: d.__setitem__("promoted_from", "preprod"))
    (root / "environments" / "preprod.yaml").write_text(
        (root / "environments" / "staging.yaml").read_text().replace("promoted_from: dev", "promoted_from: staging")
    )
    changed = ["environments/prod.yaml", "environments/preprod.yaml", "environments/dev.yaml"]
    assert affected_stacks(changed, root) == ["dev", "preprod", "prod"]
    assert affected_stacks(["components/x.py"], root) == ["dev", "staging", "preprod", "prod"]


def test_cli_reads_files_from_stdin_and_prints_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("environments/staging.yaml\nREADME.md\n"))
    assert main(["affected", "--json", "--root", str(FIXTURE_ROOT)]) == 0
    assert capsys.readouterr().out == '["staging"]\n'


def test_promotion_loop_is_an_input_error(
    edit_env: Callable[[str, Any], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = edit_env("dev", lambda d: d.__setitem__("promoted_from", "prod"))
    assert main(["affected", "--root", str(root), "uv.lock"]) == 2
    err = capsys.readouterr().err
    lines = (root / "environments" / "dev.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("promoted_from:"))  # edit_env appended it
    assert f"environments/dev.yaml:{line}: promoted_from: promotion order loops (dev -> prod -> staging)" in err
    assert "one environment must be the first stage" in err


def test_promoted_from_an_unknown_environment(
    edit_env: Callable[[str, Any], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = edit_env("prod", lambda d: d.__setitem__("promoted_from", "stagign"))
    assert main(["affected", "--root", str(root), "uv.lock"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"environments/prod\.yaml:\d+: promoted_from: environment 'stagign' does not exist", err)
