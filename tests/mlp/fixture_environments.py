"""Small environment files for tests of input checks and plan comparisons (never the example environments)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ENVIRONMENT = """\
account_id: "111111111111"
region: eu-west-1
repository: acme/ml-platform
protect_stateful_resources: false
finops:
  monthly_budget_usd: 1000
teams:
  - name: fraud
    cost_center: CC-4100
    owners: [fraud@example.com]
    monthly_budget_usd: 500
models:
  - name: scoring
    team: fraud
    registry_group: scoring
    version: 3
    serving:
      rollout: {strategy: all-at-once}
"""

SECOND_MODEL = """\
  - name: limits
    team: fraud
    registry_group: limits
    version: 1
"""


def write_environment(root: Path, name: str = "dev", text: str = ENVIRONMENT) -> Path:
    """environments/<name>.yaml under root with `text`; returns root."""
    path = root / "environments" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return root


def line_of(root: Path, needle: str, name: str = "dev", text: str | None = None) -> int:
    """1-based line of the first line of environments/<name>.yaml (or of `text`) containing `needle`."""
    written = text if text is not None else (root / "environments" / f"{name}.yaml").read_text(encoding="utf-8")
    lines = written.splitlines()
    return next(i + 1 for i, line in enumerate(lines) if needle in line)


def git(repo: Path, *args: str) -> str:
    """Run git in repo (with an identity of its own, so a machine without one can commit)."""
    identity = ["-c", "user.name=mlp tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false"]
    done = subprocess.run(["git", "-C", str(repo), *identity, *args], capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
