"""ApprovalDispatch reads the dispatch token during `pulumi up` only, never during a preview (item 4 of issue 15):
previews run with a role that cannot read secrets."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from mlp.mocks import PlanMocks
from mlp.runtime import run_program

SECRET_INVOKE = "aws:secretsmanager/getSecretVersion:getSecretVersion"

PROGRAM = """
from components.gitops import ApprovalDispatch, ApprovalDispatchArgs
from components.tagging import CostTags

ApprovalDispatch(
    "dispatch",
    ApprovalDispatchArgs(
        environment="dev",
        account_id="111122223333",
        repository="acme/ml",
        github_token_secret="acme/dispatch-token",
        model_package_groups=["fraud"],
    ),
    CostTags(environment="dev", team="platform", cost_center="cc-1", repository="acme/ml"),
)
"""


class RecordingMocks(PlanMocks):
    """The plan's mocks, remembering which invokes the program made."""

    calls: ClassVar[list[str]] = []

    def call(self, args):  # type: ignore[no-untyped-def]
        RecordingMocks.calls.append(args.token)
        return super().call(args)


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, preview: bool) -> dict[str, object]:
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text(PROGRAM)
    RecordingMocks.calls = []
    monkeypatch.setattr("mlp.runtime.PlanMocks", RecordingMocks)
    import pulumi

    real = pulumi.runtime.set_mocks

    def set_mocks(mocks, project=None, stack=None, preview=True, **kwargs):  # type: ignore[no-untyped-def]
        return real(mocks, project=project, stack=stack, preview=preview_flag, **kwargs)

    preview_flag = preview
    monkeypatch.setattr("pulumi.runtime.set_mocks", set_mocks)
    registrations = run_program(program, tmp_path, "dev", {}, set())
    (connection,) = [r for r in registrations if r.type == "aws:cloudwatch/eventConnection:EventConnection"]
    return connection.inputs


def test_a_preview_reads_no_secret_and_leaves_the_token_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = run(tmp_path, monkeypatch, preview=True)
    assert SECRET_INVOKE not in RecordingMocks.calls
    from mlp.plan import _plain

    assert _plain(inputs)["authParameters"]["apiKey"]["value"] == "(known after apply)"


def test_up_reads_the_secret_and_sends_it_as_a_bearer_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = run(tmp_path, monkeypatch, preview=False)
    assert RecordingMocks.calls.count(SECRET_INVOKE) == 1
    from mlp.plan import _plain

    assert _plain(inputs)["authParameters"]["apiKey"]["value"] == "Bearer <value of acme/dispatch-token>"
