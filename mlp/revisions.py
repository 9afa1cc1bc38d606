"""Plans of another git revision, for `mlp plan ENV --against REF` and `mlp cost ENV --against REF`: the
revision is checked out into a temporary `git worktree` and planned offline there, by its own code when it has
any."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from components.data_root import repo_root
from components.errors import InputError, Problem
from mlp.plan import Plan, build_plan, reused_plan
from mlp.runtime import PROJECT

CACHE_ENV = "MLP_DEFINITION_CACHE"


def git(repo: Path, *args: str) -> str | None:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def plan_at_revision(repo: Path, ref: str, env: str) -> Plan:
    """Plan ENV as the files of `ref` in the git repository `repo` say; an empty plan when ENV did not
    exist there (everything it has now is created)."""
    top = git(repo, "rev-parse", "--show-toplevel")
    if top is None:
        raise InputError([Problem("command line", "--against", f"{repo} is not in a git work tree")])
    resolved = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if resolved is None:
        raise InputError([Problem("command line", "--against", f"{ref!r} is not a commit in this repository ({top})")])
    # The files of `repo` may sit below the work tree's top (e.g. a test's fixture directory).
    below = Path(repo).resolve().relative_to(Path(top).resolve())
    # Inside one report, `mlp cost --against` and `mlp plan --against` plan the same base once (mlp/plan.py).
    return reused_plan(
        ("commit", top, resolved, str(below), env), lambda: _plan_commit(Path(top), resolved, below, env, ref)
    )


def _plan_commit(top: Path, resolved: str, below: Path, env: str, ref: str) -> Plan:
    with tempfile.TemporaryDirectory(prefix="mlp-against-") as tmp:
        tree = Path(tmp) / "tree"
        if git(top, "worktree", "add", "--detach", "--quiet", str(tree), resolved) is None:
            raise InputError([Problem("command line", "--against", f"could not check out {ref} into {tree}")])
        try:
            root = tree / below
            if not (root / "environments" / f"{env}.yaml").is_file():
                return {"project": PROJECT, "stack": env, "resources": [], "warnings": []}
            return plan_in_directory(root, env, ref)
        finally:
            git(top, "worktree", "remove", "--force", str(tree))


def plan_working_tree(repo: Path, env: str) -> Plan:
    """ENV as the working tree of `repo` has it: in this process when its program is this one (or it holds no
    program), else by its own code in a subprocess, as a revision is."""
    if Path(repo).resolve() == repo_root().resolve() or not (Path(repo) / "mlp" / "cli.py").is_file():
        return build_plan(env, repo)
    return plan_in_directory(repo, env, "the working tree")


def plan_in_directory(root: Path, env: str, ref: str) -> Plan:
    """Plan ENV from the files under `root`, in a subprocess. When `root` holds the program (mlp/), its own
    code plans it (PYTHONPATH puts it first); otherwise this code does."""
    environ = dict(os.environ)
    if (root / "mlp" / "cli.py").is_file():
        environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), environ.get("PYTHONPATH")) if p)
    # The base plan may use the definition cache even where this process has it off (as the tests do):
    # its pipelines are not what is under test, and building them with the SDK costs seconds each.
    if environ.get(CACHE_ENV) == "off":
        del environ[CACHE_ENV]
    proc = subprocess.run(
        [sys.executable, "-m", "mlp.cli", "plan", env, "--json", "--root", str(root)],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit 1: planned, with policy violations; the document is complete.
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        detail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-5:]
        raise InputError(
            [
                Problem("command line", "--against", f"{env} does not plan at {ref} (exit {proc.returncode}): {line}")
                for line in detail or ["no output"]
            ]
        )
    plan: Plan = json.loads(proc.stdout)
    return plan
