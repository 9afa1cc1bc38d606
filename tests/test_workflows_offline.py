"""The workflows, run offline (issue 15, "The workflows run offline").

Each scenario runs a workflow with tests/workflow_harness.py: its jobs' `run:` steps executed in order with
stub `pulumi`, `aws`, `kubectl`, `gh` on PATH, and `uses:` steps recorded. The fixture repository is a copy
of the environment files with a change to one stack's file, committed on top of a base commit.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from components.bootstrap_names import SESSION_SECONDS
from components.data_root import repo_root
from components.loader import load_environment
from policies.config import pack_config
from tests.conftest import FIXTURE_ROOT, fixture_env
from tests.workflow_harness import Run, WorkflowRunner, load_workflow

CHANGED = "staging"
REPO = "acme/ml-platform"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def fixture_repo(root: Path) -> tuple[Path, str, str]:
    """environments/ and stacks/ (with an encryptedkey, as after bootstrap) in a git repository: a base
    commit, then a change to the CHANGED stack's environment file. Returns (root, base, head)."""
    shutil.copytree(FIXTURE_ROOT / "environments", root / "environments")
    (root / "stacks").mkdir()
    for config in (repo_root() / "stacks").glob("Pulumi.*.yaml"):
        text = config.read_text()
        (root / "stacks" / config.name).write_text(text + "encryptedkey: AQICAHhFIXTUREKEY==\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    base = git(root, "rev-parse", "HEAD")
    env_file = root / "environments" / f"{CHANGED}.yaml"
    env_file.write_text(env_file.read_text() + "# a reviewed change\n")
    git(root, "commit", "-qam", "change")
    return root, base, git(root, "rev-parse", "HEAD")


def pull_request(base: str, head: str, *, fork: bool) -> dict[str, Any]:
    return {
        "repository": REPO,
        "sha": head,
        "token": "ghs_harness",
        "run_id": "42",
        "base_ref": "main",
        "event_name": "pull_request",
        "event": {
            "pull_request": {
                "number": 7,
                "base": {"sha": base},
                "head": {"sha": head, "repo": {"full_name": "someone/fork" if fork else REPO}},
            }
        },
    }


def run_preview(tmp: Path, *, fork: bool, pulumi_exit: int) -> Run:
    root, base, head = fixture_repo(tmp / "repo")
    runner = WorkflowRunner(
        "preview",
        workdir=root,
        fixture_root=root,
        github=pull_request(base, head, fork=fork),
        env={"HARNESS_PULUMI_EXIT": str(pulumi_exit), "HARNESS_PULUMI_ERROR": "AccessDenied on kms:Decrypt"},
    )
    return runner.run()


@pytest.fixture(scope="module")
def failed_preview(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A pull request from this repository whose `pulumi preview` fails."""
    return run_preview(tmp_path_factory.mktemp("preview"), fork=False, pulumi_exit=255)


@pytest.fixture(scope="module")
def fork_preview(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_preview(tmp_path_factory.mktemp("fork"), fork=True, pulumi_exit=0)


@pytest.fixture(scope="module")
def deploy(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A push to main whose change affects one stack; main points at the pushed commit."""
    root, base, head = fixture_repo(tmp_path_factory.mktemp("deploy") / "repo")
    github = {"repository": REPO, "sha": head, "token": "ghs", "run_id": "43", "event_name": "push", "event": {}}
    runner = WorkflowRunner(
        "deploy",
        workdir=root,
        fixture_root=root,
        github=github,
        env={"HARNESS_MAIN_SHA": head, "HARNESS_LAST_DEPLOY": base},
    )
    return runner.run()


def expected_pack_config(stack: str, root: Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(json.dumps(pack_config(load_environment(stack, root).policies)))
    return config


def pulumi_config_files(call: dict[str, Any]) -> dict[str, Any]:
    argv = call["argv"]
    path = argv[argv.index("--policy-pack-config") + 1]
    return {"path": path, "config": json.loads(call["files"][path])}


# --- preview.yml ---------------------------------------------------------------------------------------------


def test_preview_runs_the_affected_stack_with_its_policy_config(failed_preview: Run) -> None:
    (call,) = failed_preview.of("pulumi")
    assert call["argv"][:3] == ["preview", "--stack", CHANGED]
    assert call["argv"][call["argv"].index("--policy-pack") :][:2] == ["--policy-pack", "policies"]
    # The config the pack gets is the environment's own (levels and the instance allowlist), not the default.
    config = pulumi_config_files(call)["config"]
    assert config == expected_pack_config(CHANGED, FIXTURE_ROOT)
    assert config["all"]["enforcementLevel"] == fixture_env(CHANGED).policies.enforcement
    assert "--skip-preview" not in call["argv"]
    assert call["backend"].startswith("s3://mlp-pulumi-state-")


def test_a_kubeconfig_exists_before_pulumi_runs_where_kubernetes_is_declared(failed_preview: Run) -> None:
    cluster = fixture_env(CHANGED).kubernetes
    assert cluster is not None
    (call,) = failed_preview.of("pulumi")
    assert call["kubeconfig"] is not None and cluster.cluster_name in call["kubeconfig"]
    (aws,) = failed_preview.of("aws")
    assert aws["argv"][:2] == ["eks", "update-kubeconfig"]
    assert failed_preview.calls.index(aws) < failed_preview.calls.index(call)
    assert aws["aws_session"]  # after the credentials step


# (workflow, the module fixture that ran it): one scenario per test, so no test waits for two workflow runs.
SCENARIOS = [("preview", "failed_preview"), ("deploy", "deploy")]


@pytest.mark.parametrize(("workflow", "scenario"), SCENARIOS)
def test_the_pulumi_cli_version_is_pinned_to_the_locked_sdk(
    workflow: str, scenario: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(scenario)
    lock = (repo_root() / "uv.lock").read_text()
    locked = re.search(r'\nname = "pulumi"\nversion = "([\d.]+)"', lock)
    assert locked is not None
    installs = run.uses("pulumi/actions")
    assert installs, f"{workflow} installs no Pulumi CLI"
    for step in installs:
        assert step.inputs == {"pulumi-version": locked.group(1)}, "install only, at the pinned version"
    version = tuple(int(p) for p in locked.group(1).split("."))
    assert version >= (3, 221, 0), "a Python policy pack with the uv toolchain needs CLI 3.221.0 or later"


@pytest.mark.parametrize(("workflow", "scenario"), SCENARIOS)
def test_role_sessions_outlast_the_jobs_that_hold_them(
    workflow: str, scenario: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(scenario)
    jobs = load_workflow(workflow)["jobs"]
    steps = run.uses("aws-actions/configure-aws-credentials")
    assert steps
    for step in steps:
        job = jobs[step.job.split("[")[0]]
        seconds = int(step.inputs["role-duration-seconds"])
        assert seconds > job["timeout-minutes"] * 60, f"{workflow}.{step.job}: session ends before the job"
        assert seconds <= SESSION_SECONDS, "the bootstrap role's MaxSessionDuration must allow it"


def test_a_failed_preview_still_fills_the_comment(failed_preview: Run) -> None:
    assert failed_preview.results["preview"] == "failure"
    assert failed_preview.results["comment-after-preview"] == "success"
    posts = [c for c in failed_preview.of("gh") if "--method" in c["argv"]]
    assert posts, "the comment was posted"
    body = next(iter(posts[-1]["files"].values()))
    assert body.startswith("<!-- mlp-preview -->")
    assert f"pulumi preview `{CHANGED}`: FAILED (exit 255)" in body
    assert "AccessDenied on kms:Decrypt" in body  # the error itself, not an empty section
    assert f"mlp policy `{CHANGED}`" in body  # and the offline report


def test_a_fork_skips_aws_and_still_gets_the_offline_report(fork_preview: Run) -> None:
    assert fork_preview.results["preview"] == "skipped"
    assert not fork_preview.uses("aws-actions/configure-aws-credentials")
    assert not fork_preview.of("pulumi") and not fork_preview.of("aws")
    assert fork_preview.results["comment"] == "success"
    summary = fork_preview.summaries["comment"]
    assert "Pull request from a fork" in summary
    assert f"mlp plan `{CHANGED}`" in summary and "Resources by type" in summary
    # A fork's token cannot comment: nothing is posted, the report is the run summary.
    assert not [c for c in fork_preview.of("gh") if "--method" in c["argv"]]


# --- deploy.yml ----------------------------------------------------------------------------------------------


def test_deploy_previews_then_ups_the_affected_stack_with_its_policy_config(deploy: Run) -> None:
    assert deploy.outputs["changes"]["stacks"] == json.dumps([CHANGED])
    assert deploy.results[f"preview-{CHANGED}"] == "success" and deploy.results[CHANGED] == "success"
    calls = deploy.of("pulumi")
    assert [c["argv"][0] for c in calls] == ["preview", "up"]
    for call in calls:
        assert call["argv"][2] == CHANGED
        assert pulumi_config_files(call)["config"] == expected_pack_config(CHANGED, FIXTURE_ROOT)
        assert call["kubeconfig"] is not None
        assert "--skip-preview" not in call["argv"]
    assert calls[0]["job"] == f"preview-{CHANGED}" and calls[1]["job"] == CHANGED
    roles = [s.inputs["role-to-assume"] for s in deploy.uses("aws-actions/configure-aws-credentials")]
    assert [r.rsplit("/", 1)[1] for r in roles] == ["mlp-github-preview", "mlp-github-deploy"]
    # The approver of the stage reads the preview in the run summary.
    assert f"pulumi preview `{CHANGED}`: succeeded" in deploy.summaries[f"preview-{CHANGED}"]


def test_deploy_refuses_a_commit_that_is_no_longer_mains_tip(tmp_path: Path) -> None:
    root, base, head = fixture_repo(tmp_path / "repo")
    github = {"repository": REPO, "sha": base, "token": "ghs", "run_id": "44", "event_name": "push", "event": {}}
    run = WorkflowRunner(
        "deploy",
        workdir=root,
        fixture_root=root,
        github=github,
        env={"HARNESS_MAIN_SHA": head, "HARNESS_LAST_DEPLOY": base},
    ).run()
    assert run.results["changes"] == "failure"
    assert not run.of("pulumi")
    assert all(result == "skipped" for job, result in run.results.items() if job != "changes")


def test_every_job_with_kubernetes_stacks_writes_the_kubeconfig_before_pulumi() -> None:
    # Structure, for the stacks the scenarios above do not run: the kubeconfig step precedes every Pulumi step.
    for name in ("preview", "deploy"):
        for job_id, job in load_workflow(name)["jobs"].items():
            runs = [str(s.get("run", "")) for s in job["steps"]]
            pulumi_steps = [i for i, r in enumerate(runs) if re.search(r"mlp ci (preview|up) ", r)]
            if not pulumi_steps:
                continue
            kube = [i for i, r in enumerate(runs) if "mlp ci kubeconfig" in r]
            assert kube and kube[0] < pulumi_steps[0], f"{name}.{job_id}"


def test_the_stack_files_name_the_state_key_of_the_bootstrap() -> None:
    from components.bootstrap_names import STATE_KEY_ALIAS

    for config in (repo_root() / "stacks").glob("Pulumi.*.yaml"):
        doc = YAML(typ="safe").load(config.read_text())
        assert doc["secretsprovider"].startswith(f"awskms://{STATE_KEY_ALIAS}?region=")
