"""The model lifecycle `mlp promote` drives (docs/gitops.md "Model lifecycle"): which stage an approval goes
to (`--next`), which promotions a deploy makes due (`--pending`), the edited tree validated before any
commit, and the push token handed to git without being stored. Fixture environments
(tests/promotion_repo.py), moto for the registry."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlp.cli import main
from mlp.promote import next_stage, pending_promotions, set_model_version
from mlp.promotion_branch import CREDENTIAL_HELPER
from tests.promotion_repo import MODEL, REGION, commit_all, environment, git, make_repository


def fixture(tmp_path: Path, versions: dict[str, int], shadow: dict[str, int] | None = None) -> Path:
    root = make_repository(tmp_path, versions, shadow)
    for env in versions:
        (root / "docs" / "runbooks" / env).rmdir()
    commit_all(root, "fixture environments")
    return root


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's registry with versions 1..5 of the model: 1..4 Approved, 5 awaiting review."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with mock_aws():
        sm = boto3.client("sagemaker", region_name=REGION)
        sm.create_model_package_group(ModelPackageGroupName=MODEL)
        for version in range(1, 6):
            sm.create_model_package(
                ModelPackageGroupName=MODEL,
                ModelApprovalStatus="Approved" if version < 5 else "PendingManualApproval",
                InferenceSpecification={
                    "Containers": [{"Image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/churn:1"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )
        yield sm


@pytest.mark.parametrize(
    ("versions", "approved", "stage"),
    [
        ({"dev": 3, "staging": 3, "prod": 3}, 4, "dev"),  # a new approval starts at the first stage
        ({"dev": 4, "staging": 3, "prod": 3}, 4, "staging"),  # dev serves it already: the next stage
        ({"dev": 4, "staging": 4, "prod": 2}, 4, "prod"),
        ({"dev": 4, "staging": 4, "prod": 4}, 4, None),  # everywhere: nothing to do
        ({"dev": 5, "staging": 4, "prod": 4}, 4, None),  # an older approval arriving late changes nothing
        ({"dev": 5, "staging": 3, "prod": 3}, 4, None),  # ... even where a stage is still older
    ],
)
def test_an_approval_goes_to_the_lowest_stage_serving_an_older_version(
    tmp_path: Path, versions: dict[str, int], approved: int, stage: str | None
) -> None:
    assert next_stage(fixture(tmp_path, versions), MODEL, approved) == stage


def test_the_walk_stops_at_a_stage_without_the_model(tmp_path: Path) -> None:
    root = fixture(tmp_path, {"dev": 4, "staging": 3, "prod": 3})
    text = (root / "environments" / "staging.yaml").read_text()
    (root / "environments" / "staging.yaml").write_text(
        text.split("models:")[0] + "policies:\n  enforcement: advisory\n"
    )
    assert next_stage(root, MODEL, 4) is None
    assert pending_promotions(root) == []


@pytest.mark.parametrize(
    ("versions", "due"),
    [
        ({"dev": 4, "staging": 3, "prod": 3}, [(MODEL, "staging", 4)]),
        ({"dev": 5, "staging": 4, "prod": 3}, [(MODEL, "staging", 5), (MODEL, "prod", 4)]),
        ({"dev": 4, "staging": 4, "prod": 4}, []),
        ({"dev": 3, "staging": 4, "prod": 4}, []),  # a stage ahead of the one below is left alone
    ],
)
def test_a_deploy_makes_each_stage_behind_the_one_below_due(
    tmp_path: Path, versions: dict[str, int], due: list[tuple[str, str, int]]
) -> None:
    assert pending_promotions(fixture(tmp_path, versions)) == due


def test_next_without_a_version_takes_the_newest_approved(
    tmp_path: Path, registry: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = fixture(tmp_path, {"dev": 3, "staging": 3, "prod": 3})
    assert main(["promote", MODEL, "--next", "--root", str(root)]) == 0
    assert git(root, "branch", "--list", "promote/*").split() == [f"promote/{MODEL}-dev-v4"]  # 5 awaits review
    assert "committed on promote/churn-score-dev-v4" in capsys.readouterr().out


def test_pending_with_nothing_due_says_so_and_succeeds(
    tmp_path: Path, registry: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = fixture(tmp_path, {"dev": 4, "staging": 4, "prod": 4})
    assert main(["promote", "--pending", "--root", str(root)]) == 0
    assert capsys.readouterr().out == "nothing to promote: every stage serves what the stage below it serves\n"
    assert main(["promote", "--root", str(root), "--to", "dev"]) == 2
    assert "error: give a MODEL, except with --pending" in capsys.readouterr().err


def test_an_edited_tree_that_would_not_load_is_never_committed(
    tmp_path: Path, registry: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = fixture(tmp_path, {"dev": 4, "staging": 3, "prod": 3})
    real = set_model_version

    def edit_badly(path: Path, model: str, version: int) -> str:
        text = real(path, model, version) + "instance_typ: ml.m5.large\n"
        path.write_text(text)
        return text

    monkeypatch.setattr("mlp.promotion_branch.set_model_version", edit_badly)
    assert main(["promote", MODEL, "--to", "staging", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "refused: the promoted environments/staging.yaml would not load, so nothing was committed: "
        "environments/staging.yaml:"
    )
    assert "instance_typ: unknown field 'instance_typ'" in err
    assert git(root, "branch", "--list", "promote/*") == ""
    assert git(root, "status", "--porcelain") == ""
    assert len(git(root, "worktree", "list").splitlines()) == 1


def test_the_shadow_that_becomes_champion_leaves_a_valid_file(
    tmp_path: Path, registry: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = fixture(tmp_path, {"dev": 4, "staging": 3, "prod": 3}, {"staging": 4})
    assert main(["promote", MODEL, "--to", "staging", "--root", str(root)]) == 0
    promoted = git(root, "show", f"promote/{MODEL}-staging-v4:environments/staging.yaml")
    # Exactly the file a person would write: the champion at 4, the shadow's lines gone, every other line
    # as it was, including the comment that followed the shadow block.
    expected = environment("staging", 4).replace("instance_count: 1\n", "instance_count: 1\n      # end of serving\n")
    assert promoted == expected


def test_the_push_token_reaches_git_only_when_asked_and_is_never_stored(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    result = subprocess.run(
        ["git", "-c", "credential.helper=", "-c", f"credential.helper={CREDENTIAL_HELPER}", "credential", "fill"],
        cwd=repo,
        input="protocol=https\nhost=github.com\npath=acme/ml-platform.git\n\n",
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GITHUB_TOKEN": "ghs_minted_for_this_job", "GIT_TERMINAL_PROMPT": "0"},
    )
    assert "username=x-access-token\n" in result.stdout
    assert "password=ghs_minted_for_this_job\n" in result.stdout
    assert "ghs_" not in (repo / ".git" / "config").read_text()
    # The helper answers only `get`: `store` (after a successful push) writes nothing anywhere.
    subprocess.run(
        ["git", "-c", "credential.helper=", "-c", f"credential.helper={CREDENTIAL_HELPER}", "credential", "approve"],
        cwd=repo,
        input="protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_minted_for_this_job\n\n",
        check=True,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert not (tmp_path / ".git-credentials").exists()
    assert "ghs_" not in (repo / ".git" / "config").read_text()
