"""Where the program reads environments/ from: the repository, or a root one plan sets for itself.

Its own module, importing nothing of ours, so the mock runtime (mlp/runtime.py) can set it without importing
the environment schema: the benchmark's bare-SDK floor runs under that runtime too.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path

# The repository by default; `mlp plan` sets it inside the fresh context of one run, so tests and benchmarks
# can plan fixture environments with the real program.
DATA_ROOT: ContextVar[Path | None] = ContextVar("mlp_data_root", default=None)


def repo_root() -> Path:
    """The repository root: the directory holding Pulumi.yaml (found from this file, not the cwd)."""
    return Path(__file__).resolve().parent.parent


def data_root() -> Path:
    return DATA_ROOT.get() or repo_root()
