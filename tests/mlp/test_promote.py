"""`mlp promote`: each gate refuses with its reason; a passing promotion is a one-line commit on its own
branch and a pull request with the registry's evaluation metrics (moto for AWS, a local HTTP server for
GitHub, temporary git repositories for git)."""

from __future__ import annotations

import difflib
import json
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlp.cli import main
from mlp.promote import set_model_version
from tests.conftest import FIXTURE_ROOT
from tests.local_server import serving

REGION = "eu-west-1"  # the dev registry's region (environments/dev.yaml)
GROUP = "fraud-scoring"
METRICS_URI = "s3://mlp-dev-evaluation/fraud-scoring/14/evaluation.json"
EVALUATION = {"binary_classification_metrics": {"auc": {"value": 0.947}, "recall": {"value": 0.81}}}
# Versions 1..15 of fraud-scoring; all Approved but 15 (waiting for review) and 9 (rejected).
STATUSES = {v: "Approved" for v in range(1, 16)} | {15: "PendingManualApproval", 9: "Rejected"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(env_root: Path) -> Path:
    """A git repository holding a copy of environments/ and stacks/, on main, with a bare origin."""
    origin = env_root.parent / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    git(env_root, "init", "--quiet", "-b", "main")
    git(env_root, "config", "user.name", "Test")
    git(env_root, "config", "user.email", "test@payments.example.com")
    git(env_root, "config", "commit.gpgsign", "false")
    git(env_root, "remote", "add", "origin", str(origin))
    git(env_root, "add", ".")
    git(env_root, "commit", "--quiet", "-m", "initial")
    return env_root


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The dev registry with fraud-scoring versions 1..15, an evaluation report for 14, and CloudWatch."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with mock_aws():
        sm = boto3.client("sagemaker", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="mlp-dev-evaluation", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(
            Bucket="mlp-dev-evaluation", Key="fraud-scoring/14/evaluation.json", Body=json.dumps(EVALUATION).encode()
        )
        sm.create_model_package_group(ModelPackageGroupName=GROUP)
        sm.create_model_package_group(ModelPackageGroupName="transaction-anomaly")
        for version, status in STATUSES.items():
            metrics = {}
            if version == 14:
                metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": METRICS_URI}}}
            if version == 13:  # a report that is not readable falls back to its location
                metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://gone/x"}}}
            sm.create_model_package(
                ModelPackageGroupName=GROUP,
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [{"Image": "418295730164.dkr.ecr.eu-west-1.amazonaws.com/fraud-scoring:1"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
                **({"ModelMetrics": metrics} if metrics else {}),
            )
        yield {"sagemaker": sm, "s3": s3, "cloudwatch": boto3.client("cloudwatch", region_name=REGION)}


def promote(repo: Path, *args: str) -> int:
    return main(["promote", "--root", str(repo), *args])


# --- gates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["fraud-scoring", "--to", "staging", "--version", "99"],
            "refused: version 99 of 'fraud-scoring' does not exist in the dev registry; versions there: "
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15",
        ),
        (
            ["fraud-scoring", "--to", "staging", "--version", "15"],
            "refused: version 15 of 'fraud-scoring' is PendingManualApproval, not Approved: approve it in the dev "
            "registry (ModelApprovalStatus=Approved) before promoting it",
        ),
        (
            ["fraud-scoring", "--to", "staging", "--version", "9"],
            "refused: version 9 of 'fraud-scoring' is Rejected, not Approved",
        ),
        (
            ["fraud-scoring", "--to", "prod", "--version", "14"],
            "refused: staging serves version 13, not 14: promotion goes staging -> prod without skipping; "
            "promote version 14 to staging first",
        ),
        (
            ["fraud-scoring", "--to", "staging", "--version", "13"],
            "refused: staging already serves version 13: nothing to promote",
        ),
        (
            ["fraud-scoring", "--to", "staging", "--version", "11"],
            "refused: staging serves version 13, newer than 11: promotion only moves forward; to roll back, "
            "revert the promotion commit that brought the newer version",
        ),
        (
            ["churn", "--to", "staging"],
            "refused: model 'churn' is not in environments/staging.yaml; models there: fraud-scoring, "
            "transaction-anomaly",
        ),
        (
            ["transaction-anomaly", "--to", "staging"],
            "refused: model package group 'transaction-anomaly' in the dev registry has no versions",
        ),
    ],
)
def test_each_gate_refuses_with_its_reason(
    repo: Path, aws: dict[str, Any], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert promote(repo, *args) == 1
    assert message in capsys.readouterr().err
    # A refused promotion leaves no branch, no commit and no edit behind.
    assert git(repo, "branch", "--list", "promote/*") == ""
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""


def test_a_rollback_alarm_in_alarm_refuses(repo: Path, aws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    cw = aws["cloudwatch"]
    for name in ("dev-fraud-scoring-invocation-5xx", "dev-fraud-scoring-model-latency", "dev-other-model-5xx"):
        cw.put_metric_alarm(
            AlarmName=name,
            MetricName="Invocation5XXErrors",
            Namespace="AWS/SageMaker",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
    cw.set_alarm_state(AlarmName="dev-fraud-scoring-invocation-5xx", StateValue="ALARM", StateReason="test")
    cw.set_alarm_state(AlarmName="dev-other-model-5xx", StateValue="ALARM", StateReason="test")
    assert promote(repo, "fraud-scoring", "--to", "staging", "--alarm-prefix", "dev-fraud-scoring") == 1
    assert (
        "refused: rollback alarms of dev are in ALARM: dev-fraud-scoring-invocation-5xx; promote once they are OK"
        in capsys.readouterr().err
    )
    # Once the alarm is OK, the same promotion passes, and says the alarms were checked.
    cw.set_alarm_state(AlarmName="dev-fraud-scoring-invocation-5xx", StateValue="OK", StateReason="test")
    assert promote(repo, "fraud-scoring", "--to", "staging", "--alarm-prefix", "dev-fraud-scoring") == 0
    assert "- no rollback alarm of dev (prefix 'dev-fraud-scoring') is in ALARM" in git(
        repo, "log", "-1", "--format=%B", "promote/fraud-scoring-staging-v14"
    )


# --- the edit ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("model", ["fraud-scoring", "transaction-anomaly"])
def test_the_edit_changes_one_line_and_nothing_else(env_root: Path, env: str, model: str) -> None:
    path = env_root / "environments" / f"{env}.yaml"
    before = path.read_text()
    set_model_version(path, model, 99)
    after = path.read_text()
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    old_line = next(line for line in changed if line.startswith("-"))
    assert changed == [old_line, "+    version: 99"]
    assert old_line.startswith("-    version: ")
    # Comments, quoting and the rest of the file are byte for byte the same.
    assert before.replace(old_line[1:] + "\n", "", 1) == after.replace("    version: 99\n", "", 1)
    assert (FIXTURE_ROOT / "environments" / f"{env}.yaml").read_text() == before  # the original is untouched


# --- branch, commit and pull request -------------------------------------------------------------------------


def test_a_passing_promotion_commits_one_line_on_its_branch_and_prints_the_gh_command(
    repo: Path, aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert promote(repo, "fraud-scoring", "--to", "staging") == 0
    out = capsys.readouterr().out
    branch = "promote/fraud-scoring-staging-v14"
    # The commit is made beside the checkout, which stays on main.
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(repo, "rev-list", "--count", f"main..{branch}").strip() == "1"
    assert git(repo, "diff", "--name-only", "main", branch).split() == ["environments/staging.yaml"]
    diff = [
        line
        for line in git(repo, "diff", "--unified=0", "main", branch).splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    # Staging's shadow runs 14: the challenger becomes the champion and the shadow goes.
    assert diff[:2] == ["-    version: 13", "+    version: 14"]
    assert diff[2:] == [
        "-      shadow:",
        "-        version: 14",
        "-        mirror_percent: 50",
        "-        instance_count: 1",
    ]
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert message.startswith("Promote fraud-scoring to staging: v13 -> v14\n")
    assert "Model: fraud-scoring (model package group fraud-scoring)" in message
    assert "Version: 13 -> 14 (arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud-scoring/14)" in message
    assert "- version 14 exists in model package group fraud-scoring (dev registry) and is Approved" in message
    assert "- promotion order dev -> staging: dev already serves version 14 (order: dev -> staging -> prod)" in message
    # No token: the exact command to open the pull request, with the body written next to the repository.
    body_file = Path(git(repo, "rev-parse", "--absolute-git-dir").strip()) / "mlp-pr-staging.md"
    assert (
        f"gh pr create --base main --head {branch} --title 'Promote fraud-scoring to staging: v13 -> v14' "
        f"--body-file {body_file}" in out
    )
    assert "| binary_classification_metrics.auc | 0.947 |" in body_file.read_text()


def test_the_first_stage_takes_the_newest_approved_version(
    repo: Path, aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # dev is the first stage (no promoted_from): the newest Approved version is 14 (15 awaits review), and
    # dev already serves it.
    assert promote(repo, "fraud-scoring", "--to", "dev") == 1
    assert "refused: dev already serves version 14: nothing to promote" in capsys.readouterr().err


class Recorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []  # noqa: RUF012 - shared by the server's handler instances

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Recorder.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": json.loads(self.rfile.read(length)),
            }
        )
        payload = json.dumps({"number": 42, "html_url": "https://github.com/payments-co/ml-platform/pull/42"})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def do_GET(self) -> None:
        # `mlp promote` first looks for an open pull request of the branch: there is none yet.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    Recorder.requests = []
    with serving(HTTPServer(("127.0.0.1", 0), Recorder)) as server:
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_test_token")
        monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_port}")
        yield Recorder.requests


def test_with_a_token_the_branch_is_pushed_and_the_pull_request_opened(
    repo: Path, aws: dict[str, Any], github: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert promote(repo, "fraud-scoring", "--to", "staging", "--push") == 0
    assert "opened https://github.com/payments-co/ml-platform/pull/42" in capsys.readouterr().out
    (request,) = github
    assert request["method"] == "POST"
    assert request["path"] == "/repos/payments-co/ml-platform/pulls"
    headers = request["headers"]
    assert headers["authorization"] == "Bearer ghs_test_token"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["content-type"] == "application/json"
    body = request["body"]
    assert set(body) == {"title", "head", "base", "body", "maintainer_can_modify"}
    assert body["title"] == "Promote fraud-scoring to staging: v13 -> v14"
    assert body["head"] == "promote/fraud-scoring-staging-v14"
    assert body["base"] == "main"
    text = body["body"]
    assert text.startswith("<!-- mlp-promote -->\nPromotes **fraud-scoring** in **staging** from version 13 to **14**")
    assert "- [x] version 14 exists in model package group fraud-scoring (dev registry) and is Approved" in text
    # The evaluation metrics come from the registry's ModelMetrics report.
    assert f"**ModelQuality.Statistics** (`{METRICS_URI}`)" in text
    assert "| binary_classification_metrics.auc | 0.947 |" in text
    assert "| binary_classification_metrics.recall | 0.81 |" in text
    # The branch reached origin before the pull request was asked for.
    origin = repo.parent / "origin.git"
    assert git(origin, "branch", "--list", "promote/*").strip() == "promote/fraud-scoring-staging-v14"


def test_metrics_fall_back_to_the_report_location(
    repo: Path, aws: dict[str, Any], github: list[dict[str, Any]]
) -> None:
    # staging -> prod for version 13 needs staging to serve 13 (it does) and prod to be older (12).
    assert promote(repo, "fraud-scoring", "--to", "prod") == 0
    text = github[0]["body"]["body"]
    assert "- **ModelQuality.Statistics**: `s3://gone/x` (report not readable here; open it from the registry)" in text


def test_approval_dispatch_promotes_to_the_stage_after_the_registry(
    repo: Path, aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # What promote.yml runs for a `model-approved` dispatch from dev: the registry group and `--after dev`.
    assert promote(repo, "fraud-scoring", "--after", "dev", "--version", "14") == 0
    assert git(repo, "branch", "--list", "promote/*").split() == ["promote/fraud-scoring-staging-v14"]


def test_an_existing_promotion_branch_refuses(
    repo: Path, aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "branch", "promote/fraud-scoring-staging-v14")
    assert promote(repo, "fraud-scoring", "--to", "staging") == 1
    assert (
        "refused: branch promote/fraud-scoring-staging-v14 already exists: this promotion is already under way"
        in capsys.readouterr().err
    )


def test_nothing_after_the_last_stage_refuses(
    repo: Path, aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert promote(repo, "fraud-scoring", "--after", "prod") == 1
    assert "refused: no environment is promoted from 'prod'" in capsys.readouterr().err


def test_a_pull_request_that_already_exists_counts_as_opened(
    repo: Path,
    aws: dict[str, Any],
    github: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "https://github.com/payments-co/ml-platform/pull/41"
    answers = iter([[], [{"number": 41, "html_url": url}]])

    def list_pulls(self: Recorder) -> None:
        payload = json.dumps(next(answers)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def reject(self: Recorder) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        payload = json.dumps({"message": "Validation Failed: A pull request already exists"}).encode()
        self.send_response(422)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    monkeypatch.setattr(Recorder, "do_GET", list_pulls, raising=False)
    monkeypatch.setattr(Recorder, "do_POST", reject)
    assert promote(repo, "fraud-scoring", "--to", "staging") == 0
    assert f"the pull request is already open: {url}" in capsys.readouterr().out
    assert git(repo, "branch", "--list", "promote/*").split() == ["promote/fraud-scoring-staging-v14"]
