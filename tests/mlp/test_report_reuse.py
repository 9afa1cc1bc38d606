"""One pull-request report plans each stack once and its base once, and a light workflow step imports no
Pulumi: what a report does is unchanged, only how often it plans (mlp/ci.py, mlp/plan.py, mlp/revisions.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.data_root import repo_root
from mlp import ci, plan, revisions
from tests.mlp.fixture_environments import commit_all, git, write_environment


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose HEAD holds the fixture environment dev, with a change on top of it."""
    root = write_environment(tmp_path / "repo")
    git(root, "init", "-q")
    commit_all(root, "base")
    env_file = root / "environments" / "dev.yaml"
    env_file.write_text(env_file.read_text() + "# a reviewed change\n")
    return root


def test_a_report_plans_the_stack_once_and_its_base_once(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)  # as in the workflow, which runs in the checkout
    heads: list[str] = []
    bases: list[str] = []
    build, plan_dir = plan._build_plan, revisions.plan_in_directory

    def counted_build(stack: str, root: Path) -> Any:
        heads.append(stack)
        return build(stack, root)

    def counted_base(root: Path, env: str, ref: str) -> Any:
        bases.append(env)
        return plan_dir(root, env, ref)

    monkeypatch.setattr(plan, "_build_plan", counted_build)
    monkeypatch.setattr(revisions, "plan_in_directory", counted_base)

    report = ci.offline_report("dev", "HEAD", root=repo)

    # cost --against, plan --against, policy, tags and plan all read one plan of dev, and one of the base.
    assert heads == ["dev"]
    assert bases == ["dev"]
    for section in ("### Cost delta against `HEAD`", "mlp policy `dev`", "mlp tags `dev`", "mlp plan `dev`"):
        assert section in report
    # Outside a report, every plan is planned afresh (files may change between two plans).
    plan.build_plan("dev", repo)
    plan.build_plan("dev", repo)
    assert heads == ["dev", "dev", "dev"]


def test_plans_reused_gives_each_caller_its_own_copy(repo: Path) -> None:
    with plan.plans_reused():
        first = plan.build_plan("dev", repo)
        first["resources"].clear()
        second = plan.build_plan("dev", repo)
    assert second["resources"], "a caller's edit reached the next caller's plan"


def test_a_light_workflow_step_imports_no_pulumi(repo: Path) -> None:
    code = (
        "import sys\n"
        "from mlp.cli import main\n"
        f"main(['ci', 'env', 'dev', '--role', 'preview', '--root', {str(repo)!r}])\n"
        "print(sorted(m for m in ('pulumi', 'pulumi_aws', 'sagemaker') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo_root(), capture_output=True, text=True, check=True)
    assert "AWS_ROLE_ARN=" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"
