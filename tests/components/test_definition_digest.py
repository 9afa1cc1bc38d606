"""The builder digest (components/definition_cache.py) covers every module whose code shapes a definition, so
that editing one of them invalidates the definition cache and the committed renderings."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from components import definition_cache
from components.definition_cache import BUILDER_SOURCES

COMPONENTS = Path(definition_cache.__file__).parent
# The builders' entry points: the training pipeline's, and the two that build through its SDK sandbox.
BUILDERS = ("pipeline_definition.py", "job_definitions.py", "monitoring_definition.py")
# Imported by the builders but shaping no definition: the cache itself (its module docstring says why) and
# the renderings (a type only).
NOT_THE_BUILDER = {"definition_cache.py", "rendered_pipelines.py"}


def _imported_components(source: Path) -> set[Path]:
    """The components modules `source` imports at run time (not under TYPE_CHECKING)."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for guard in ast.walk(tree)
        if isinstance(guard, ast.If) and ast.unparse(guard.test) == "TYPE_CHECKING"
        for node in ast.walk(guard)
    }
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in type_only and node.module:
            parts = node.module.split(".")
            if parts[0] == "components" and len(parts) > 1:
                found.add(COMPONENTS.joinpath(*parts[1:-1], f"{parts[-1]}.py"))
    return {path for path in found if path.is_file()}


def _closure(start: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen or path.name in NOT_THE_BUILDER:
            continue
        seen.add(path)
        todo.extend(_imported_components(path))
    return seen


def test_every_module_the_builders_run_is_in_the_digest() -> None:
    # The job and monitoring builders add their own module to the digest (definition_material); what they
    # import from the training builder's sandbox must be in the shared part.
    needed = _closure(COMPONENTS / "pipeline_definition.py")
    for builder in BUILDERS[1:]:
        needed |= {p for p in _imported_components(COMPONENTS / builder) if p.name not in NOT_THE_BUILDER}
        needed.discard(COMPONENTS / builder)
    needed = {p for p in needed if p.name not in BUILDERS[1:]}
    missing = sorted(str(p.relative_to(COMPONENTS)) for p in needed if p not in BUILDER_SOURCES)
    assert "sdk_patches.py" in {p.name for p in needed}  # the sandbox every builder runs in
    assert missing == [], f"modules that shape definitions but are not in BUILDER_SOURCES: {missing}"


def test_editing_the_sdk_sandbox_changes_the_builder_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copies = []
    for source in BUILDER_SOURCES:
        copy = tmp_path / source.name
        shutil.copyfile(source, copy)
        copies.append(copy)
    digest = definition_cache._builder_digest.__wrapped__
    monkeypatch.setattr(definition_cache, "BUILDER_SOURCES", tuple(copies))
    before = digest()
    patches = tmp_path / "sdk_patches.py"
    patches.write_text(patches.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert digest() != before
