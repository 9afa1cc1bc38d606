"""promote.yml: when it runs (approval, successful deploy, manual), what its script runs for each event (the
`run:` script executed with a recording `uv`), and that no token is ever stored in the checkout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from components.data_root import repo_root
from components.gitops import APPROVAL_EVENT_TYPE

WORKFLOWS = repo_root() / ".github" / "workflows"
# A GitHub App installation token expires an hour after it is minted (docs/gitops.md, with its source).
TOKEN_LIFETIME_MINUTES = 60


def load(name: str) -> dict[str, Any]:
    data = YAML(typ="safe").load((WORKFLOWS / f"{name}.yml").read_text())
    if True in data:  # YAML 1.1 reads the key `on` as True
        data["on"] = data.pop(True)
    return dict(data)


def job() -> dict[str, Any]:
    (only,) = load("promote")["jobs"].values()
    return dict(only)


def test_it_runs_on_approval_after_each_successful_deploy_and_by_hand() -> None:
    on = load("promote")["on"]
    assert on["repository_dispatch"] == {"types": [APPROVAL_EVENT_TYPE]}
    # The deploy workflow is named by its `name:`; a rename there must not silently stop the lifecycle.
    assert on["workflow_run"] == {"workflows": [load("deploy")["name"]], "types": ["completed"], "branches": ["main"]}
    assert set(on["workflow_dispatch"]["inputs"]) == {"model", "to", "version"}
    assert job()["if"] == "github.event_name != 'workflow_run' || github.event.workflow_run.conclusion == 'success'"


def test_no_token_is_stored_in_the_checkout_and_the_app_token_outlives_the_job() -> None:
    steps = job()["steps"]
    (checkout,) = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False
    assert "token" not in checkout["with"]
    scripts = "\n".join(s.get("run", "") for s in steps)
    assert "extraheader" not in scripts and "credential" not in scripts and "GITHUB_TOKEN" not in scripts
    (app,) = [s for s in steps if s.get("uses", "").startswith("actions/create-github-app-token@")]
    assert {k: v for k, v in app["with"].items() if k.startswith("permission-")} == {
        "permission-contents": "write",
        "permission-pull-requests": "write",
    }
    assert steps[-1]["env"]["GITHUB_TOKEN"] == "${{ steps.app.outputs.token || github.token }}"
    assert job()["timeout-minutes"] < TOKEN_LIFETIME_MINUTES


@pytest.mark.parametrize(
    ("event", "values", "argv"),
    [
        (
            "repository_dispatch",
            {"MODEL": "churn-score", "VERSION": "4"},
            ["run", "mlp", "promote", "churn-score", "--next", "--version", "4", "--push"],
        ),
        ("workflow_run", {}, ["run", "mlp", "promote", "--pending", "--push"]),
        (
            "workflow_dispatch",
            {"MODEL": "churn-score", "TARGET": "prod"},
            ["run", "mlp", "promote", "churn-score", "--to", "prod", "--push"],
        ),
        (
            "workflow_dispatch",
            {"MODEL": "churn-score", "TARGET": "prod", "VERSION": "7"},
            ["run", "mlp", "promote", "churn-score", "--to", "prod", "--version", "7", "--push"],
        ),
        (
            # A payload field with shell in it stays one argument: it reaches the script through env only.
            "repository_dispatch",
            {"MODEL": "x; touch pwned", "VERSION": "$(id)"},
            ["run", "mlp", "promote", "x; touch pwned", "--next", "--version", "$(id)", "--push"],
        ),
    ],
)
def test_the_script_runs_the_right_promotion_for_each_event(
    tmp_path: Path, event: str, values: dict[str, str], argv: list[str]
) -> None:
    step = job()["steps"][-1]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv"
    (bin_dir / "uv").write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{record}"\n')
    (bin_dir / "uv").chmod(0o755)
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "init", "--quiet", str(checkout)], check=True)
    env = {
        **{name: "" for name in step["env"]},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "EVENT": event,
        "GITHUB_TOKEN": "ghs_job_token",
        **values,
    }
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=checkout, env=env, check=True
    )
    assert record.read_text().splitlines() == argv
    assert not (checkout / "pwned").exists()
    assert "ghs_" not in (checkout / ".git" / "config").read_text()
