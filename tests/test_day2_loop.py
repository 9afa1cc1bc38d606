"""The day-2 loop, end to end, offline: a model version registered and approved in the registry (moto, as a
server, so the workflow's own command can reach it from its own process); the repository_dispatch payload
built from the approval event (AWS's documented example with the approved version's fields) by the
EventBridge rule's own pattern and input transformer, read from the offline plan of the registry's
environment; promote.yml's own `run:` script executed, in a fresh clone as actions/checkout makes one,
producing the branch and the pull request on a local bare origin and a local GitHub API; on each merged
tree `mlp plan`, `mlp runbook --check` and `mlp pipelines --check` pass and `mlp affected` names the stack
the deploy runs; each successful deploy promotes one stage further, to prod, with no hand edit. The same
event delivered twice changes nothing the second time.

Not run here: the whole test suite on the promoted tree (too slow for one test; the fixture trees are
checked by the same commands CI runs on them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from ruamel.yaml import YAML

from components.data_root import repo_root
from mlp.cli import main
from mlp.plan import build_plan
from tests.fake_github import FakeGitHub
from tests.promotion_repo import MODEL, REGION, commit_all, git, make_repository

EVENT = repo_root() / "tests" / "fixtures" / "eventbridge" / "sagemaker-model-package-state-change.json"
WORKFLOW = repo_root() / ".github" / "workflows" / "promote.yml"
# `uv run mlp SUB ARGS` as the runner would run it, against the checkout the script runs in (in CI the
# checkout is the repository mlp belongs to; here it is a fixture repository, hence --root).
UV_SHIM = """#!/bin/sh
[ "$1" = run ] || { echo "unexpected: uv $*" >&2; exit 99; }
shift; cmd=$1; sub=$2; shift 2
exec "$cmd" "$sub" --root "$PWD" "$@"
"""


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server standing for the dev account's registry; yields its URL."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's matching for the pattern forms the rule uses (nested fields, lists of exact values)."""
    for key, wanted in pattern.items():
        value = event.get(key)
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(wanted, value):
                return False
        elif not any(v in wanted for v in (value if isinstance(value, list) else [value])):
            return False
    return True


def transform(transformer: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """EventBridge's input transformer: each <name> replaced by the value at its path (strings without their
    quotes, which the template writes; numbers as they are)."""
    values = {}
    for name, path in transformer["inputPaths"].items():
        node: Any = event
        for part in path.removeprefix("$.").split("."):
            node = node[part]
        values[name] = json.dumps(node)[1:-1] if isinstance(node, str) else json.dumps(node)
    body = re.sub(r"<(\w+)>", lambda m: values[m.group(1)], transformer["inputTemplate"])
    return dict(json.loads(body))


def dispatch_payload(dev_tree: Path, described: dict[str, Any]) -> dict[str, Any]:
    """The body EventBridge sends GitHub for the approval of `described`, by the rule in dev's plan."""
    plan = build_plan("dev", dev_tree)
    # The rule and the target the ApprovalDispatch component (components/gitops.py) makes.
    (dispatch,) = [r["urn"] for r in plan["resources"] if r["type"] == "mlplatform:gitops:ApprovalDispatch"]
    children = {r["type"]: r for r in plan["resources"] if r["parent"] == dispatch}
    rule, target = children["aws:cloudwatch/eventRule:EventRule"], children["aws:cloudwatch/eventTarget:EventTarget"]
    event = json.loads(EVENT.read_text())
    event["detail"].update(
        {k: described[k] for k in ("ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn")},
        ModelApprovalStatus=described["ModelApprovalStatus"],
    )
    assert matches(json.loads(rule["inputs"]["eventPattern"]), event)
    pending = {**event, "detail": {**event["detail"], "ModelApprovalStatus": "PendingManualApproval"}}
    assert not matches(json.loads(rule["inputs"]["eventPattern"]), pending)  # registering opens nothing
    return transform(target["inputs"]["inputTransformer"], event)


class Runner:
    """promote.yml's `mlp promote` step, run as the runner runs it: its script, its environment variables,
    in a fresh clone of origin, with `uv run` resolved to this virtual environment."""

    def __init__(self, tmp: Path, origin: Path, registry: str, github: FakeGitHub) -> None:
        step = YAML(typ="safe").load(WORKFLOW.read_text())["jobs"]["promote"]["steps"][-1]
        self.script: str = step["run"]
        self.variables = set(step["env"])
        self.tmp, self.origin, self.runs = tmp, origin, 0
        shim = tmp / "shim"
        shim.mkdir()
        (shim / "uv").write_text(UV_SHIM)
        (shim / "uv").chmod(0o755)
        self.env = {
            "PATH": os.pathsep.join([str(shim), str(Path(sys.executable).parent), os.environ["PATH"]]),
            "HOME": str(tmp),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": registry,
            "GITHUB_TOKEN": "ghs_installation_token",
            "GITHUB_API_URL": github.url,
            # Plans read the committed pipeline renderings, as outside the tests.
            "MLP_DEFINITION_CACHE": str(tmp / "definition-cache"),
        }

    def run(self, event: str, **values: str) -> subprocess.CompletedProcess[str]:
        assert set(values) <= self.variables, f"promote.yml sets no {set(values) - self.variables}"
        self.runs += 1
        checkout = self.tmp / f"checkout-{self.runs}"
        subprocess.run(["git", "clone", "--quiet", str(self.origin), str(checkout)], check=True)
        env = {**{v: "" for v in self.variables}, **self.env, "EVENT": event, **values}
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", self.script],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )


def merge(origin: Path, tmp: Path, github: FakeGitHub, branch: str) -> tuple[Path, list[str]]:
    """Merge the pull request of `branch` as GitHub would (a merge commit on main); returns the merged
    tree and the files the merge changed."""
    tree = tmp / f"merged-{branch.replace('/', '-')}"
    subprocess.run(["git", "clone", "--quiet", str(origin), str(tree)], check=True)
    for key, value in (("user.name", "Reviewer"), ("user.email", "reviewer@example.com"), ("commit.gpgsign", "false")):
        git(tree, "config", key, value)
    before = git(tree, "rev-parse", "HEAD").strip()
    git(tree, "merge", "--quiet", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}")
    git(tree, "push", "--quiet", "origin", "main")
    for pull in github.pulls:
        if pull["head"]["ref"] == branch:
            pull["state"] = "closed"
    return tree, git(tree, "diff", "--name-only", before, "HEAD").split()


def checks_pass(tree: Path, env: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What CI and the deploy run on the merged tree: the plan, the generated files, the affected stacks."""
    assert main(["plan", env, "--root", str(tree)]) == 0
    assert main(["runbook", env, "--check", "--root", str(tree)]) == 0
    assert main(["pipelines", "--check", "--root", str(tree)]) == 0
    capsys.readouterr()
    changed = git(tree, "diff", "--name-only", "HEAD^1", "HEAD").split()
    assert main(["affected", "--json", "--root", str(tree), *changed]) == 0
    return list(json.loads(capsys.readouterr().out))


def repository(tmp_path: Path, versions: dict[str, int]) -> tuple[Path, Path]:
    """The fixture repository with `versions` served, staging running 4 as a shadow challenger and prod
    retraining the model (so its pipeline definition is rendered and committed like the repository's), the
    runbooks generated, all pushed to origin. Returns (the checkout, origin)."""
    root = make_repository(tmp_path, versions, {"staging": 4}, training=("prod",))
    for env in ("dev", "staging", "prod"):
        assert main(["runbook", env, "--root", str(root)]) == 0
    assert main(["pipelines", "--root", str(root)]) == 0
    assert (root / "environments" / "pipelines" / "prod" / f"{MODEL}.json").is_file()
    commit_all(root, "fixture environments and their runbooks")
    return root, tmp_path / "origin.git"


def registered(registry: str, *, approve_4: bool) -> Any:
    """Versions 1-3 approved and 4 registered in the registry (approved too with `approve_4`); the
    description of version 4."""
    sm = boto3.client("sagemaker", region_name=REGION, endpoint_url=registry)
    sm.create_model_package_group(ModelPackageGroupName=MODEL)
    for version in range(1, 5):
        sm.create_model_package(
            ModelPackageGroupName=MODEL,
            ModelApprovalStatus="Approved" if version < 4 else "PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/churn:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
    arn = f"{sm.describe_model_package_group(ModelPackageGroupName=MODEL)['ModelPackageGroupArn']}"
    arn = arn.replace("model-package-group", "model-package") + "/4"
    if approve_4:
        sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    return sm.describe_model_package(ModelPackageName=arn)


def test_an_approval_opens_the_first_stages_pull_request_and_the_same_event_twice_changes_nothing(
    tmp_path: Path, registry: str, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every stage serves 3; the squad's pipeline registers version 4, a person approves it.
    root, origin = repository(tmp_path, {"dev": 3, "staging": 3, "prod": 3})
    described = registered(registry, approve_4=True)
    assert described["ModelApprovalStatus"] == "Approved"

    # EventBridge turns the approval into the repository_dispatch body.
    payload = dispatch_payload(root, described)
    assert payload["event_type"] == "model-approved"
    client = payload["client_payload"]
    assert client == {
        "model_package_group": MODEL,
        "version": 4,
        "model_package_arn": described["ModelPackageArn"],
        "source_environment": "dev",
    }
    approval = {"MODEL": client["model_package_group"], "VERSION": str(client["version"])}

    runner = Runner(tmp_path, origin, registry, github)
    done = runner.run("repository_dispatch", **approval)
    assert done.returncode == 0, done.stdout + done.stderr
    branch = f"promote/{MODEL}-dev-v4"
    assert git(origin, "branch", "--list", "promote/*").split() == [branch]
    assert github.open_heads() == [branch]
    assert "Promotes **churn-score** in **dev** from version 3 to **4**" in github.pulls[0]["body"]
    # The runbook that names the served version is regenerated in the same commit.
    assert git(origin, "diff", "--name-only", "main", branch).split() == [
        "docs/runbooks/dev/churn-score.md",
        "environments/dev.yaml",
    ]

    # The same event again (EventBridge delivers at least once): nothing changes.
    refs = git(origin, "for-each-ref")
    again = runner.run("repository_dispatch", **approval)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "the pull request is already open" in again.stdout
    assert git(origin, "for-each-ref") == refs
    assert len(github.pulls) == 1

    # The merged tree passes what CI and the deploy run, and the deploy is dev's.
    tree, _ = merge(origin, tmp_path, github, branch)
    assert checks_pass(tree, "dev", capsys) == ["dev"]
    assert "    version: 4  # the champion" in (tree / "environments" / "dev.yaml").read_text()


def test_each_successful_deploy_promotes_one_stage_further_until_prod(
    tmp_path: Path, registry: str, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    # Where the first test ends: dev's pull request merged, so dev serves the approved version 4.
    _, origin = repository(tmp_path, {"dev": 4, "staging": 3, "prod": 3})
    registered(registry, approve_4=True)
    runner = Runner(tmp_path, origin, registry, github)

    # dev deployed -> staging's pull request -> merged, deployed -> prod's -> merged, deployed -> nothing left.
    for stage, following in (("dev", "staging"), ("staging", "prod"), ("prod", None)):
        after_deploy = runner.run("workflow_run")
        assert after_deploy.returncode == 0, after_deploy.stdout + after_deploy.stderr
        if following is None:
            assert "nothing to promote" in after_deploy.stdout
            assert github.open_heads() == []
            break
        assert github.open_heads() == [f"promote/{MODEL}-{following}-v4"], f"after {stage}'s deploy"
        tree, _ = merge(origin, tmp_path, github, f"promote/{MODEL}-{following}-v4")
        assert checks_pass(tree, following, capsys) == [following]
        assert "    version: 4  # the champion" in (tree / "environments" / f"{following}.yaml").read_text()
    # Staging's challenger became its champion: the shadow went in the same edit.
    final = tmp_path / "final"
    subprocess.run(["git", "clone", "--quiet", str(origin), str(final)], check=True)
    staging = (final / "environments" / "staging.yaml").read_text()
    assert "shadow" not in staging and "    version: 4  # the champion" in staging
    assert len(github.pulls) == 2
    shutil.rmtree(final)
