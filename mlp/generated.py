"""Directories of generated files that are committed (runbooks, rendered pipeline definitions): which
files differ from what would be generated now, and writing them."""

from __future__ import annotations

from pathlib import Path


def stale_files(directory: Path, wanted: dict[str, str], suffix: str) -> list[str]:
    """Names of files (ending in `suffix`) that are missing, different or no longer wanted in `directory`."""
    present = {p.name for p in directory.glob(f"*{suffix}")} if directory.is_dir() else set()
    stale = [n for n, text in wanted.items() if n not in present or (directory / n).read_text("utf-8") != text]
    return sorted(stale + sorted(present - set(wanted)))


def write_files(directory: Path, wanted: dict[str, str], suffix: str) -> list[str]:
    """Write the wanted files and delete the ones no longer wanted; return the names that changed."""
    changed = stale_files(directory, wanted, suffix)
    directory.mkdir(parents=True, exist_ok=True)
    for name in changed:
        path = directory / name
        if name in wanted:
            path.write_text(wanted[name], encoding="utf-8")
        else:
            path.unlink()
    return changed
