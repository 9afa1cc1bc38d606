"""Pipeline definitions rendered into the repository: `environments/pipelines/<env>/<model>.json`.

A definition is a pure function of its spec, the SDK's release and our builder
(`components.pipeline_definition`), and building one starts by importing the sagemaker SDK: about 4 s,
as long as the whole rest of an example environment's plan (benchmarks/README.md). So, as a lock file
does for dependencies, each definition is committed beside the environment file it comes from, with
everything it was built from:

- a plan uses the committed definition when it was rendered from the very same spec, SDK versions and
  builder; otherwise it builds one (definition cache, then the SDK), and `mlp plan` names the files
  that were missing or out of date;
- `mlp pipelines ENV` writes them, always from a build (never from the files), and `--check` fails when
  one is missing, out of date or left over; a test checks every environment, so main never holds a
  definition that the SDK would not build;
- a pull request's effect on each pipeline shows as a diff of its definition.

`MLP_DEFINITION_CACHE=off` switches this off with the cache: every definition is built with the SDK
(the tests and the deploy workflow).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from components.data_root import data_root
from components.definition_cache import definition_cache_dir, definition_material
from components.loader import ENVIRONMENTS_DIR
from components.pipeline_definition import DefinitionSpec, build_definition

if TYPE_CHECKING:
    from components.job_definitions import JobSpec
    from components.monitoring_definition import MonitoringSpec

AnySpec = Union[DefinitionSpec, "JobSpec", "MonitoringSpec"]

RENDERED_DIR = Path(ENVIRONMENTS_DIR) / "pipelines"
SUFFIX = ".json"


@dataclass(frozen=True)
class Request:
    """A definition a plan asked for."""

    model: str
    spec: AnySpec
    committed: bool
    """Served from the committed rendering (False: built, because it was missing or out of date)."""


# The definitions the plans of this process asked for, by rendering path (per process, as the definition
# caches are): `mlp plan` names those it had to build, `mlp pipelines` renders them.
_requests: dict[Path, Request] = {}


def rendered_dir(root: Path, environment: str) -> Path:
    return root / RENDERED_DIR / environment


def definition(spec: AnySpec, model: str) -> str:
    """The pipeline definition of `model` for `spec`, in build_definition's canonical form: the committed
    rendering when it was rendered from exactly this spec, SDK and builder, else `build_definition(spec)`."""
    path = rendered_dir(data_root(), spec.environment) / f"{model}{SUFFIX}"
    committed = _committed(path, spec) if definition_cache_dir() is not None else None
    _requests[path] = Request(model, spec, committed is not None)
    return committed if committed is not None else _build(spec)


def rendering(spec: AnySpec, model: str) -> str:
    """The committed file's text: what the definition was built from, and the definition (built, indented and
    with sorted keys, so that a change reads as a diff)."""
    document = {
        "generated_by": f"uv run mlp pipelines {spec.environment} (do not edit: a test rebuilds and compares)",
        "model": model,
        "built_from": definition_material(spec),
        "definition": json.loads(_build(spec)),
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _build(spec: AnySpec) -> str:
    """Training definitions from their builder; the batch and feature pipelines' from theirs."""
    if isinstance(spec, DefinitionSpec):
        return build_definition(spec)
    from components.monitoring_definition import MonitoringSpec, build_monitoring_definition

    if isinstance(spec, MonitoringSpec):
        return build_monitoring_definition(spec)
    from components.job_definitions import build_job_definition

    return build_job_definition(spec)


def requests_in(directory: Path) -> dict[Path, Request]:
    """What the plans of this process asked of the renderings in `directory`."""
    return {path: request for path, request in _requests.items() if path.parent == directory}


def forget(directory: Path) -> None:
    """Drop what earlier plans asked of `directory`, before planning its environment again."""
    for path in requests_in(directory):
        del _requests[path]


def outdated(directory: Path) -> list[Path]:
    """Renderings in `directory` the plans of this process had to build instead (missing or out of date);
    none when renderings are switched off."""
    if definition_cache_dir() is None:
        return []
    return sorted(path for path, request in requests_in(directory).items() if not request.committed)


def _committed(path: Path, spec: AnySpec) -> str | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("built_from") != _as_json(definition_material(spec)):
        return None
    committed = document.get("definition")
    if not isinstance(committed, dict):
        return None
    return json.dumps(committed, sort_keys=True, separators=(",", ":"))


def _as_json(value: Any) -> Any:
    """`value` as it reads back from a file (tuples become lists)."""
    return json.loads(json.dumps(value))
