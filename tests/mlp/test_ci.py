"""`mlp ci`: the workflow steps in Python (mlp/ci.py, mlp/commands/ci.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from components.loader import load_environment
from mlp import ci
from mlp.cli import main
from policies.config import pack_config

FIXED_KEY = "encryptedkey: AQICAHhFIXTURE==\n"


def with_key(root: Path, stack: str) -> None:
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    path.write_text(path.read_text() + FIXED_KEY)


class Recorder:
    """A runner that records the commands and answers with a fixed result."""

    def __init__(self, code: int = 0, output: str = "ok\n") -> None:
        self.calls: list[list[str]] = []
        self.code = code
        self.output = output

    def __call__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> ci.Result:
        self.calls.append(list(argv))
        return ci.Result(self.code, self.output)


def test_env_derives_role_region_and_backend_from_the_environment_file(
    env_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = load_environment("prod", env_root)
    assert main(["ci", "env", "prod", "--role", "deploy", "--root", str(env_root)]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert lines == {
        "AWS_ROLE_ARN": f"arn:aws:iam::{env.account_id}:role/mlp-github-deploy",
        "AWS_REGION": env.region,
        "PULUMI_BACKEND_URL": f"s3://mlp-pulumi-state-{env.account_id}?region={env.region}",
    }


def test_a_stack_file_without_encryptedkey_is_refused_before_pulumi_runs(env_root: Path, tmp_path: Path) -> None:
    runner = Recorder()
    report = tmp_path / "pulumi-dev.md"
    code = ci.run_pulumi("preview", "dev", report, work_dir=tmp_path, runner=runner, root=env_root)
    assert code == 2
    assert runner.calls == []
    text = report.read_text()
    assert "FAILED (exit 2)" in text
    assert "stacks/Pulumi.dev.yaml" in text and "encryptedkey" in text and "change-secrets-provider" in text


def test_kubernetes_stacks_need_a_kubeconfig_before_pulumi(
    env_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_environment("staging", env_root).kubernetes is not None
    with_key(env_root, "staging")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    runner = Recorder()
    report = tmp_path / "r.md"
    assert ci.run_pulumi("up", "staging", report, work_dir=tmp_path, runner=runner, root=env_root) == 2
    assert runner.calls == [] and "mlp ci kubeconfig staging" in report.read_text()


def test_preview_and_up_get_the_environment_policy_config_and_always_report(
    env_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_key(env_root, "staging")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    failing = Recorder(code=255, output="error: the preview failed: AccessDenied\n")
    report = tmp_path / "pulumi-staging.md"
    code = ci.run_pulumi(
        "up", "staging", report, work_dir=tmp_path, message="deploy abc", runner=failing, root=env_root
    )
    assert code == 255
    (argv,) = failing.calls
    assert argv[:3] == ["pulumi", "up", "--stack"] and "--yes" in argv and "--skip-preview" not in argv
    config = Path(argv[argv.index("--policy-pack-config") + 1])
    assert json.loads(config.read_text()) == json.loads(
        json.dumps(pack_config(load_environment("staging", env_root).policies))
    )
    assert argv[argv.index("--message") + 1] == "deploy abc"
    text = report.read_text()
    assert "pulumi up `staging`: FAILED (exit 255)" in text and "AccessDenied" in text


def test_kubeconfig_is_written_for_a_stack_with_a_cluster(env_root: Path, tmp_path: Path) -> None:
    runner = Recorder()
    cluster = load_environment("staging", env_root).kubernetes
    assert cluster is not None
    path = ci.write_kubeconfig("staging", tmp_path, runner=runner, root=env_root)
    assert path == tmp_path / "kubeconfig-staging"
    (argv,) = runner.calls
    assert argv[:3] == ["aws", "eks", "update-kubeconfig"]
    assert argv[argv.index("--name") + 1] == cluster.cluster_name
    assert argv[argv.index("--kubeconfig") + 1] == str(path)


def test_kubeconfig_failure_is_an_error(env_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ci.CiError, match="update-kubeconfig"):
        ci.write_kubeconfig("staging", tmp_path, runner=Recorder(code=254), root=env_root)


def test_offline_report_keeps_going_when_one_command_fails() -> None:
    class Fails(Recorder):
        def __call__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> ci.Result:
            self.calls.append(list(argv))
            return ci.Result(1 if argv[0] == "policy" else 0, f"output of {argv[0]}\n")

    runner = Fails()
    text = ci.offline_report("prod", "origin/main", runner=runner)
    assert [c[0] for c in runner.calls] == ["cost", "plan", "policy", "tags", "plan"]
    assert ["plan", "prod", "--against", "origin/main", "--markdown"] in runner.calls
    assert "mlp policy `prod`: FAILED (exit 1)" in text
    assert "mlp plan `prod`: succeeded" in text and "output of plan" in text


def test_comment_body_names_missing_sections_and_forks(tmp_path: Path) -> None:
    (tmp_path / "report-dev.md").write_text("## Stack `dev`\n\noffline dev\n")
    body = ci.comment_body(["dev", "prod"], tmp_path, "abc123", live_preview=True)
    assert body.startswith(ci.COMMENT_MARKER)
    assert "offline dev" in body
    assert "pulumi preview `dev`: not run" in body  # awaiting approval, or failed before Pulumi
    assert "The offline report job left no section" in body  # prod
    fork = ci.comment_body(["dev"], tmp_path, "abc123", live_preview=False)
    assert "from a fork" in fork and "pulumi preview `dev`" not in fork


def test_comment_body_fits_a_github_comment(tmp_path: Path) -> None:
    (tmp_path / "report-dev.md").write_text("x" * 100_000)
    body = ci.comment_body(["dev"], tmp_path, "abc", live_preview=False)
    assert len(body) <= ci.COMMENT_LIMIT and body.endswith("workflow run._\n")


def test_deploy_guard_refuses_an_old_commit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", "deploy-guard", "--sha", "a" * 40, "--main", "a" * 40]) == 0
    assert main(["ci", "deploy-guard", "--sha", "a" * 40, "--main", "b" * 40]) == 1
    err = capsys.readouterr().err
    assert "main is now at bbbbbbbbbbbb" in err and "Nothing was deployed" in err


def test_bad_stack_is_an_input_error(env_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", "env", "nope", "--role", "preview", "--root", str(env_root)]) == 2
    assert "nope" in capsys.readouterr().err


def without_kubernetes(data: Any) -> None:
    """The environment edited as a user drops its cluster: no namespaces, nothing served on Kubernetes."""
    del data["kubernetes"]
    for team in data["teams"]:
        team.pop("namespace", None)
    data["models"] = [m for m in data.get("models", []) if m.get("serving", {}).get("platform") != "kubernetes"]


def test_no_kubeconfig_and_no_refusal_without_a_cluster(
    edit_env: Callable[[str, Callable[[Any], None]], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = edit_env("dev", without_kubernetes)
    assert load_environment("dev", root).kubernetes is None
    runner = Recorder()
    assert ci.write_kubeconfig("dev", tmp_path, runner=runner, root=root) is None
    assert runner.calls == []
    assert main(["ci", "kubeconfig", "dev", "--dir", str(tmp_path), "--root", str(root)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "declares no kubernetes" in captured.err
    with_key(root, "dev")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    report = tmp_path / "pulumi-dev.md"
    assert ci.run_pulumi("preview", "dev", report, work_dir=tmp_path, runner=runner, root=root) == 0
    assert runner.calls and runner.calls[0][:2] == ["pulumi", "preview"]
