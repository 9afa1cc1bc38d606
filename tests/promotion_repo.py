"""A small, self-contained repository for promotion tests: three fixture environments (not the example
files), their stack configs, runbooks generated for them, a git history on `main` and a bare `origin`.

The environments serve one model, `churn-score`, at versions the test chooses; staging runs a shadow
challenger. Nothing here reads the example environment files' values.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from components.data_root import repo_root

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
REGION = "eu-west-1"
REPOSITORY = "acme/ml-platform"
MODEL = "churn-score"


def environment(name: str, version: int, *, shadow: int | None = None, training: bool = False) -> str:
    """environments/<name>.yaml: one team, one SageMaker-served model at `version` (and a shadow, and a
    training pipeline)."""
    first = name == "dev"
    below = {"staging": "dev", "prod": "staging"}.get(name)
    lines = [
        "# yaml-language-server: $schema=schema.json",
        f"# {name}: a fixture environment for promotion tests.",
        f'account_id: "{ACCOUNTS[name]}"',
        f"region: {REGION}",
        f"repository: {REPOSITORY}",
    ]
    if first:
        lines += [
            "protect_stateful_resources: false",
            "gitops:",
            "  approval_dispatch:",
            "    github_token_secret: ml-platform/github-dispatch-token",
        ]
    else:
        lines += ["registry_environment: dev", f"promoted_from: {below}"]
    lines += [
        "finops:",
        "  monthly_budget_usd: 1000",
        "teams:",
        "  - name: cards",
        "    cost_center: CC-1000",
        "    owners: [cards-ml@example.com]",
        "    monthly_budget_usd: 500",
        "models:",
        f"  - name: {MODEL}",
        "    team: cards",
        f"    registry_group: {MODEL}",
        f"    version: {version}  # the champion",
        "    serving:",
        "      instance_type: ml.m5.large",
        "      instance_count: 1",
    ]
    if shadow is not None:
        lines += ["      shadow:", f"        version: {shadow}", "        mirror_percent: 10", "      # end of serving"]
    if training:
        lines += ["    training:", "      metric: {name: auc, minimum: 0.8}"]
    lines += ["policies:", "  enforcement: advisory"]
    return "\n".join(lines) + "\n"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def make_repository(
    where: Path, versions: dict[str, int], shadow: dict[str, int] | None = None, training: tuple[str, ...] = ()
) -> Path:
    """A git repository at where/repo, on `main`, with where/origin.git as origin, holding the fixture
    environments (those in `training` with a training pipeline), the repository's stack configs and schema,
    and an empty docs/runbooks/<env>/ per environment; nothing committed yet."""
    root = where / "repo"
    (root / "environments").mkdir(parents=True)
    (root / "stacks").mkdir()
    shutil.copy(repo_root() / "environments" / "schema.json", root / "environments" / "schema.json")
    for env, version in versions.items():
        text = environment(env, version, shadow=(shadow or {}).get(env), training=env in training)
        (root / "environments" / f"{env}.yaml").write_text(text)
        shutil.copy(repo_root() / "stacks" / f"Pulumi.{env}.yaml", root / "stacks" / f"Pulumi.{env}.yaml")
        (root / "docs" / "runbooks" / env).mkdir(parents=True)
    origin = where / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(origin)], check=True)
    git(root, "init", "--quiet", "-b", "main")
    for key, value in (("user.name", "Test"), ("user.email", "test@example.com"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    git(root, "remote", "add", "origin", str(origin))
    return root


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", message)
    git(root, "push", "--quiet", "origin", "HEAD:refs/heads/main")
