"""Promotion converges: with a fault injected (GitHub answering 500, 401, 403 with Retry-After, 422 "already
exists", an HTML page or slowly; a diverged remote branch; SIGINT or SIGTERM mid-push; the registry
unreachable or throttled), `mlp promote` either absorbs it, or exits non-zero with one line saying what
failed, what was done and what to do; a plain re-run, from the same checkout or from a fresh clone, ends
with exactly one branch on origin and one open pull request, and the person's checkout is untouched.

Fixture environments (tests/promotion_repo.py) in a temporary git repository with a bare origin; the
registry is moto; GitHub is tests/fake_github.py. Retry delays are recorded, never slept.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

import mlp.commands.promote as command
import mlp.promote
from mlp.cli import main
from tests.fake_github import FakeGitHub, Fault
from tests.promotion_repo import MODEL, REGION, commit_all, git, make_repository

BRANCH = f"promote/{MODEL}-staging-v3"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    # dev serves 3, staging 2 with 3 as its shadow, prod 1: staging is due version 3.
    root = make_repository(tmp_path, {"dev": 3, "staging": 2, "prod": 1}, {"staging": 3})
    for env in ("dev", "staging", "prod"):  # no runbooks committed here: the day-2 test covers them
        (root / "docs" / "runbooks" / env).rmdir()
    commit_all(root, "fixture environments")
    return root


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's registry with versions 1..3 of the model, all Approved."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        sm = boto3.client("sagemaker", region_name=REGION)
        sm.create_model_package_group(ModelPackageGroupName=MODEL)
        for _ in range(3):
            sm.create_model_package(
                ModelPackageGroupName=MODEL,
                ModelApprovalStatus="Approved",
                InferenceSpecification={
                    "Containers": [{"Image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/churn:1"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )
        yield sm


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_test")
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    yield fake
    fake.stop()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every retry delay asked for, instead of sleeping it."""
    asked: list[float] = []
    monkeypatch.setattr(mlp.promote, "sleep", asked.append)
    return asked


@dataclass
class World:
    """The checkout, moto's registry, the fake GitHub and the retry delays asked for."""

    repo: Path
    github: FakeGitHub
    sleeps: list[float]


@pytest.fixture
def world(repo: Path, registry: Any, github: FakeGitHub, sleeps: list[float]) -> World:
    return World(repo=repo, github=github, sleeps=sleeps)


def promote(root: Path) -> int:
    return main(["promote", MODEL, "--to", "staging", "--push", "--root", str(root)])


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


def assert_converged(root: Path, github: FakeGitHub) -> None:
    """Exactly one promotion branch on origin, holding the promotion, one open pull request for it, and
    the checkout as it was (on main, clean, no extra worktree)."""
    origin = root.parent / "origin.git"
    assert git(origin, "branch", "--list", "promote/*").split() == [BRANCH]
    assert github.open_heads() == [BRANCH]
    staging = git(origin, "show", f"{BRANCH}:environments/staging.yaml")
    assert "    version: 3  # the champion\n" in staging
    assert "shadow" not in staging  # the challenger became the champion
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(root, "status", "--porcelain") == ""
    assert len(git(root, "worktree", "list").splitlines()) == 1


def fresh_clone(root: Path) -> Path:
    clone = root.parent / "clone"
    subprocess.run(["git", "clone", "--quiet", str(root.parent / "origin.git"), str(clone)], check=True)
    for key, value in (("user.name", "Test"), ("user.email", "test@example.com"), ("commit.gpgsign", "false")):
        git(clone, "config", key, value)
    return clone


# --- GitHub faults --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        (Fault("POST", 500, times=9), "POST /repos/acme/ml-platform/pulls failed with HTTP 500: Server Error", None),
        (
            Fault("GET", 401, b'{"message": "Bad credentials"}', times=9),
            "failed with HTTP 401: Bad credentials (the token is missing, wrong or expired: GitHub App "
            "installation tokens last one hour)",
            [],
        ),
        (
            Fault("POST", 403, b'{"message": "You have exceeded a secondary rate limit"}', {"Retry-After": "3600"}),
            "failed with HTTP 403: You have exceeded a secondary rate limit; GitHub asks to wait 3600 s",
            [],
        ),
        (
            Fault(
                "POST",
                403,
                b'{"message": "GitHub Actions is not permitted to create or approve pull requests."}',
                times=9,
            ),
            "(enable Settings > Actions > General > Workflow permissions > Allow GitHub Actions to create and "
            "approve pull requests, or use a GitHub App token)",
            [],
        ),
        (
            Fault(
                "POST",
                502,
                b"<html><head><title>Unicorn! &middot; GitHub</title></head><body>" + b"x" * 5000 + b"</body></html>",
                {"Content-Type": "text/html"},
                times=9,
            ),
            "failed with HTTP 502: an HTML error page ('Unicorn! \u00b7 GitHub')",
            None,
        ),
    ],
    ids=["500", "401", "403-retry-after-too-long", "403-actions-may-not-open-prs", "html-page"],
)
@pytest.mark.parametrize("rerun_in", ["same-checkout", "fresh-clone"])
def test_a_github_fault_that_lasts_ends_in_one_line_and_a_rerun_converges(
    world: World,
    capsys: pytest.CaptureFixture[str],
    case: tuple[Fault, str, list[float] | None],
    rerun_in: str,
) -> None:
    repo, github, sleeps = world.repo, world.github, world.sleeps
    fault, says, waited = dataclasses.replace(case[0]), case[1], case[2]
    github.faults.append(fault)
    assert promote(repo) == command.EXIT_FAULT
    line = one_line(capsys)
    assert line.startswith("error: ") and says in line
    assert "<html" not in line and "xxxx" not in line
    # What was done, and what to do.
    assert f"done so far: committed {git(repo, 'rev-parse', BRANCH)[:7]} on {BRANCH}, pushed it to origin" in line
    assert line.endswith(command.RERUN)
    if waited is not None:
        assert sleeps == waited  # a token or permission problem is not retried; a too-long wait is not waited
    else:
        assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert github.open_heads() == []
    fault.times = 0  # the fault is over: the same command finishes the job, wherever it runs
    assert promote(repo if rerun_in == "same-checkout" else fresh_clone(repo)) == 0
    assert_converged(repo, github)


def test_a_retry_after_is_honoured_and_the_promotion_finishes(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    repo, github, sleeps = world.repo, world.github, world.sleeps
    github.faults += [
        Fault("POST", 403, b'{"message": "You have exceeded a secondary rate limit"}', {"Retry-After": "7"}),
        Fault("GET", 500),
    ]
    assert promote(repo) == 0
    assert sleeps == [1.0, 7.0]  # the GET's 500 after the default delay, the POST after GitHub's own
    assert capsys.readouterr().err == ""
    assert_converged(repo, github)
    assert [r for r in github.requests if r[0] == "POST"] == [("POST", "/repos/acme/ml-platform/pulls")] * 2


def test_a_rate_limit_reset_is_honoured(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, github, sleeps = world.repo, world.github, world.sleeps
    now = 1_800_000_000.0
    monkeypatch.setattr("mlp.github.now", lambda: now)
    github.faults.append(
        Fault(
            "GET",
            403,
            b'{"message": "API rate limit exceeded"}',
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 42)},
        )
    )
    assert promote(repo) == 0
    assert sleeps == [42.0]
    assert_converged(repo, github)


def test_already_exists_is_success(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    repo, github = world.repo, world.github
    assert promote(repo) == 0
    # The listing comes back stale (someone's pull request is not in it yet): the POST is answered 422
    # "A pull request already exists", which is success.
    github.faults.append(Fault("GET", 200, b"[]", times=1))
    assert promote(repo) == 0
    assert "the pull request is already open: https://github.com/acme/ml-platform/pull/1" in capsys.readouterr().out
    assert_converged(repo, github)
    assert len(github.pulls) == 1


def test_a_slow_answer_is_not_a_false_failure(
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, github, sleeps = world.repo, world.github, world.sleeps
    # GitHub opens the pull request but answers after the client stopped waiting (1 s here).
    monkeypatch.setenv("MLP_GITHUB_TIMEOUT_SECONDS", "1")
    github.faults.append(Fault("POST", None, delay=3.0))
    assert promote(repo) == 0
    out = capsys.readouterr().out
    assert "the pull request is already open: https://github.com/acme/ml-platform/pull/1" in out
    assert sleeps == [1.0]
    assert_converged(repo, github)
    assert len(github.pulls) == 1


def test_the_same_promotion_twice_changes_nothing_the_second_time(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, github = world.repo, world.github
    assert promote(repo) == 0
    origin = repo.parent / "origin.git"
    refs = git(origin, "for-each-ref")
    assert promote(repo) == 0
    assert f"{BRANCH} is already on origin" in capsys.readouterr().out
    assert git(origin, "for-each-ref") == refs
    assert_converged(repo, github)


# --- git faults ------------------------------------------------------------------------------------------------


def test_a_rerun_from_a_fresh_clone_converges(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    repo, github = world.repo, world.github
    github.faults.append(Fault("POST", 500, times=9))
    assert promote(repo) == command.EXIT_FAULT
    github.faults.clear()
    clone = fresh_clone(repo)
    assert promote(clone) == 0
    assert f"{BRANCH} is already on origin" in capsys.readouterr().out
    assert_converged(repo, github)


def test_a_diverged_remote_branch_holding_the_promotion_is_reused(
    world: World,
) -> None:
    repo, github = world.repo, world.github
    # Another run (another clone, another day) pushed its own commit of the same promotion, and a person
    # added a commit on top: the local commit would be rejected as non-fast-forward. It is reused instead.
    other = fresh_clone(repo)
    git(other, "switch", "--quiet", "-c", BRANCH)
    path = other / "environments" / "staging.yaml"
    text = path.read_text().replace("version: 2  # the champion", "version: 3  # the champion")
    text = text.replace("      shadow:\n        version: 3\n        mirror_percent: 10\n", "")
    path.write_text(text)
    git(other, "commit", "--quiet", "-am", "promote by hand")
    (other / "NOTE.md").write_text("reviewed\n")
    git(other, "add", "NOTE.md")
    git(other, "commit", "--quiet", "-m", "a note")
    git(other, "push", "--quiet", "origin", BRANCH)
    theirs = git(other, "rev-parse", "HEAD").strip()
    assert promote(repo) == 0
    assert git(repo.parent / "origin.git", "rev-parse", BRANCH).strip() == theirs  # nothing force-pushed
    assert_converged(repo, github)


def test_a_remote_branch_holding_something_else_is_never_overwritten(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, github = world.repo, world.github
    git(repo, "push", "--quiet", "origin", f"main:refs/heads/{BRANCH}")
    assert promote(repo) == command.EXIT_REFUSED
    line = one_line(capsys)
    assert line.startswith(f"refused: origin has a branch {BRANCH} (")
    assert f"does not set {MODEL} to version 3 in environments/staging.yaml" in line
    assert f"delete it (git push origin --delete {BRANCH}) and re-run" in line
    git(repo, "push", "--quiet", "origin", "--delete", BRANCH)
    assert promote(repo) == 0
    assert_converged(repo, github)


def test_a_rejected_push_says_what_was_committed(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    repo, github = world.repo, world.github
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho 'rejected: origin is read-only today' >&2\nexit 1\n")
    hook.chmod(0o755)
    assert promote(repo) == command.EXIT_FAULT
    line = one_line(capsys)
    assert line.startswith("error: git push to origin failed: ")
    assert f"done so far: committed {git(repo, 'rev-parse', BRANCH)[:7]} on {BRANCH};" in line
    assert github.requests == []
    hook.unlink()
    assert promote(repo) == 0
    assert_converged(repo, github)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_mid_push_ends_in_one_line_and_a_rerun_converges(
    world: World,
    capsys: pytest.CaptureFixture[str],
    signame: str,
) -> None:
    repo, github = world.repo, world.github
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text(f"#!/bin/sh\nkill -{signame[3:]} {os.getpid()}\nsleep 3\n")
    hook.chmod(0o755)
    code = promote(repo)
    assert code == {"SIGINT": 130, "SIGTERM": 143}[signame]
    line = one_line(capsys)
    commit = git(repo, "rev-parse", BRANCH)[:7]
    assert line == (
        f"interrupted by {signame}: done so far: committed {commit} on {BRANCH}; your checkout is as it was; "
        f"{command.RERUN}"
    )
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    hook.unlink()
    # Interrupted before the push finished: a fresh clone (as the workflow's next run makes) knows nothing
    # of the local commit, commits the same promotion again and converges all the same.
    assert promote(fresh_clone(repo)) == 0
    assert_converged(repo, github)


# --- registry faults ----------------------------------------------------------------------------------------------


class Flaky:
    """A boto3 client whose `method` raises `error` for its first `times` calls."""

    def __init__(self, client: Any, method: str, error: Exception, times: int) -> None:
        self.client, self.method, self.error, self.times = client, method, error, times

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.client, name)
        if name != self.method:
            return real

        def call(**kwargs: Any) -> Any:
            if self.times > 0:
                self.times -= 1
                raise self.error
            return real(**kwargs)

        return call


THROTTLED = ClientError(
    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
    "ListModelPackages",
)
UNREACHABLE = EndpointConnectionError(endpoint_url="https://api.sagemaker.eu-west-1.amazonaws.com/")


@pytest.mark.parametrize(
    "case",
    [
        ("list_model_packages", THROTTLED, "throttled (ThrottlingException)"),
        ("describe_model_package", UNREACHABLE, "unreachable (Could not connect to the endpoint URL"),
    ],
    ids=["throttled", "unreachable"],
)
def test_a_registry_fault(
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, Exception, str],
) -> None:
    repo, github, sleeps = world.repo, world.github, world.sleeps
    method, error, reason = case
    flaky: dict[str, Flaky] = {}
    real_clients = command._clients

    def clients(region: str, source_region: str) -> dict[str, Any]:
        made = real_clients(region, source_region)
        made["sagemaker"] = flaky.setdefault("sm", Flaky(made["sagemaker"], method, error, flaky_times[0]))
        return made

    monkeypatch.setattr(command, "_clients", clients)
    # Once: absorbed by the retries.
    flaky_times = [1]
    assert promote(repo) == 0
    assert sleeps == [1.0]
    assert_converged(repo, github)
    # For as long as the retries last: one line, nothing committed; the re-run converges.
    git(repo.parent / "origin.git", "branch", "-D", BRANCH)
    git(repo, "branch", "-D", BRANCH)
    github.pulls.clear()
    sleeps.clear()
    flaky.clear()
    flaky_times[0] = 99
    assert promote(repo) == command.EXIT_FAULT
    line = one_line(capsys)
    assert line.startswith(f"error: the model registry did not answer {method} ")
    assert reason in line and "5 attempts" in line
    assert "done so far: nothing yet" in line
    assert git(repo, "branch", "--list", "promote/*") == ""
    flaky.clear()
    flaky_times[0] = 0
    assert promote(repo) == 0
    assert_converged(repo, github)


def test_throttled_alarms_stop_before_any_commit(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, github, sleeps = world.repo, world.github, world.sleeps
    real_clients = command._clients

    def clients(region: str, source_region: str) -> dict[str, Any]:
        made = real_clients(region, source_region)
        made["cloudwatch"] = Flaky(made["cloudwatch"], "describe_alarms", THROTTLED, 99)
        return made

    monkeypatch.setattr(command, "_clients", clients)
    args = ["promote", MODEL, "--to", "staging", "--push", "--alarm-prefix", "dev-churn", "--root", str(repo)]
    assert main(args) == command.EXIT_FAULT
    line = one_line(capsys)
    assert line.startswith("error: CloudWatch did not answer describe_alarms in dev: throttled (ThrottlingException)")
    assert "done so far: nothing yet" in line
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    monkeypatch.setattr(command, "_clients", real_clients)
    assert main(args) == 0
    assert_converged(repo, github)


def test_an_unreachable_github_says_what_was_pushed(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, github, sleeps = world.repo, world.github, world.sleeps
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{closed.getsockname()[1]}")
    assert promote(repo) == command.EXIT_FAULT
    closed.close()
    line = one_line(capsys)
    assert line.startswith("error: GET /repos/acme/ml-platform/pulls?head=acme%3Apromote%2Fchurn-score-staging-v3")
    assert "cannot reach http://127.0.0.1:" in line and "Connection refused" in line
    assert "pushed it to origin" in line
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    assert promote(repo) == 0
    assert_converged(repo, github)
