"""The commands that call AWS (`mlp cost --actual`, `--refresh-prices`) refuse without credentials in one line
and exit 2, instead of an internal error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from components.data_root import repo_root
from components.errors import InputError
from mlp.aws_access import aws_access
from mlp.cli import EXIT_INPUT, main
from tests.mlp.fixture_environments import write_environment


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential source botocore looks at: variables, files, containers or instance metadata."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


CASES = {
    "actual": (["--actual", "--month", "2026-10"], "mlp cost --actual", "ce:GetCostAndUsage"),
    "refresh": (["--refresh-prices", "--prices", "PRICES"], "mlp cost --refresh-prices", "pricing:GetProducts"),
}


@pytest.mark.usefixtures("no_credentials")
@pytest.mark.parametrize("case", sorted(CASES))
def test_missing_credentials_are_bad_input(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flags, what, needs = CASES[case]
    root = write_environment(tmp_path / "repo")
    prices = tmp_path / "prices.json"  # a copy: a refresh writes the file it read
    shutil.copy(repo_root() / "mlp" / "data" / "prices.json", prices)
    flags = [str(prices) if f == "PRICES" else f for f in flags]

    code = main(["cost", "dev", "--root", str(root), *flags])

    captured = capsys.readouterr()
    assert code == EXIT_INPUT, captured.err
    assert captured.err.strip() == (
        f"error: AWS credentials: {what} calls AWS ({needs}) and found no usable credentials (NoCredentialsError); "
        "set AWS_PROFILE (then `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the account to read"
    )


def test_refused_call_names_the_permission() -> None:
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetCostAndUsage")
    with pytest.raises(InputError) as raised, aws_access("mlp cost --actual", "ce:GetCostAndUsage"):
        raise denied
    [problem] = raised.value.problems
    assert str(problem).startswith(
        "AWS credentials: mlp cost --actual: AWS refused the call (AccessDeniedException): the credentials may not "
        "call ce:GetCostAndUsage;"
    )


def test_other_aws_errors_are_not_hidden() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetProducts")
    with pytest.raises(ClientError), aws_access("mlp cost --refresh-prices", "pricing:GetProducts"):
        raise throttled
