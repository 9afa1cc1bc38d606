"""Bad input never produces a traceback: one line per problem, with file, line and field, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlp.cli import EXIT_INPUT, main


def plan_errors(root: Path, env: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    code = main(["plan", env, "--root", str(root)])
    captured = capsys.readouterr()
    assert code == EXIT_INPUT, captured.err
    assert "Traceback" not in captured.err
    assert captured.out == "", "nothing is planned when the input is bad"
    return captured.err.strip().splitlines()


def test_yaml_syntax_error_names_file_and_line(env_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = env_root / "environments" / "dev.yaml"
    lines = path.read_text().splitlines()
    bad = next(i for i, line in enumerate(lines) if line.startswith("teams:"))
    lines[bad + 1] = "  - name: [fraud"
    path.write_text("\n".join(lines) + "\n")

    [error] = plan_errors(env_root, "dev", capsys)

    assert error.startswith("error: environments/dev.yaml:")
    assert "YAML syntax error" in error
    line = int(error.split(":")[2])
    assert bad + 1 <= line <= bad + 3


def test_unknown_key_lists_allowed_fields(edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def typo(data: Any) -> None:
        data["models"][0]["serving"]["instance_typ"] = "ml.m5.large"

    [error] = plan_errors(edit_env("dev", typo), "dev", capsys)

    assert "environments/dev.yaml:" in error
    assert "models[0].serving.instance_typ: unknown field 'instance_typ'" in error
    assert "allowed here: autoscaling, batch, data_capture, deployment_timeout_minutes, image_repository, " in error
    assert "instance_count, instance_type, kserve, platform, rollout, serverless, shadow, slos" in error


def test_wrong_type_shows_value_and_line(edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def wrong(data: Any) -> None:
        data["models"][1]["version"] = "latest"

    root = edit_env("dev", wrong)
    [error] = plan_errors(root, "dev", capsys)

    text = (root / "environments" / "dev.yaml").read_text().splitlines()
    line = next(i + 1 for i, text_line in enumerate(text) if "version: latest" in text_line)
    assert error.startswith(f"error: environments/dev.yaml:{line}: models[1].version:")
    assert "'latest'" in error


def test_missing_field_is_reported(edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def drop(data: Any) -> None:
        del data["teams"][0]["cost_center"]

    [error] = plan_errors(edit_env("prod", drop), "prod", capsys)

    assert "environments/prod.yaml:" in error
    assert "teams[0].cost_center: required field is missing" in error


def test_duplicate_model_names(edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def duplicate(data: Any) -> None:
        data["models"][1]["name"] = data["models"][0]["name"]

    [error] = plan_errors(edit_env("staging", duplicate), "staging", capsys)

    assert "models[1].name: duplicate model name 'fraud-scoring'" in error


def test_model_of_unknown_team(edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def orphan(data: Any) -> None:
        data["models"][0]["team"] = "payments"

    root = edit_env("dev", orphan)
    [error] = plan_errors(root, "dev", capsys)

    text = (root / "environments" / "dev.yaml").read_text().splitlines()
    line = next(i + 1 for i, text_line in enumerate(text) if "team: payments" in text_line)
    assert error == (
        f"error: environments/dev.yaml:{line}: models[0].team: team 'payments' does not exist; teams here: fraud, risk"
    )


def test_several_problems_are_all_reported(edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def many(data: Any) -> None:
        data["account_id"] = "12345"
        data["region"] = "Europe"

    errors = plan_errors(edit_env("dev", many), "dev", capsys)

    assert [e.split(": ")[2] for e in errors] == ["account_id", "region"]


def test_unknown_environment(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "qa"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert err.strip() == (
        "error: environments/qa.yaml: unknown environment 'qa': there is no environments/qa.yaml; "
        "known environments: dev, prod, staging"
    )


def test_file_that_is_not_a_mapping(env_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env_root / "environments" / "dev.yaml").write_text("- just\n- a list\n")
    [error] = plan_errors(env_root, "dev", capsys)
    assert error == "error: environments/dev.yaml:1: the file must be a YAML mapping of environment settings"


def test_registry_environment_must_exist(edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def wrong(data: Any) -> None:
        data["registry_environment"] = "shared"

    [error] = plan_errors(edit_env("prod", wrong), "prod", capsys)

    assert error.startswith("error: environments/prod.yaml:7: registry_environment: environment 'shared'")
    assert error.endswith("known environments: dev, prod, staging")
