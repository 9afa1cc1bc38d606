"""SageMaker's API model, as the installed botocore ships it: the value lists the schema checks against.

Read from botocore's own data files, without importing botocore (a botocore session costs ~0.3 s to
import and parses the model again for each session: four parses in a plan, profiled). Only the
package's data is read, not the models a user may keep in ~/.aws/models, so a machine's files never
change what an environment file may say.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
from pathlib import Path
from typing import Any

SERVICE = "sagemaker"


def instance_types(shape: str) -> tuple[str, ...]:
    """The values of one of SageMaker's instance-type enums (e.g. `TrainingInstanceType`), in API order."""
    values: list[str] = _shapes()[shape]["enum"]
    return tuple(values)


@functools.cache
def _shapes() -> dict[str, Any]:
    spec = importlib.util.find_spec("botocore")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed")
    service = Path(next(iter(spec.submodule_search_locations))) / "data" / SERVICE
    # One directory per API version, named by its date; botocore's loader takes the newest too.
    latest = max(p for p in service.iterdir() if p.is_dir())
    packed = latest / "service-2.json.gz"
    raw = gzip.decompress(packed.read_bytes()) if packed.exists() else (latest / "service-2.json").read_bytes()
    shapes: dict[str, Any] = json.loads(raw)["shapes"]
    return shapes


def enum_values(shape: str) -> tuple[str, ...]:
    """The values of one of SageMaker's string enums (e.g. `FeatureType`, `SplitType`), in API order."""
    values: list[str] = _shapes()[shape]["enum"]
    return tuple(values)


def shape_rule(shape: str) -> dict[str, Any]:
    """A shape's constraints (`min`, `max`, `pattern`, `enum`), without its documentation."""
    return {k: v for k, v in _shapes()[shape].items() if k in ("min", "max", "pattern", "enum")}


def member_documentation(structure: str, member: str) -> str:
    """The API documentation of one member of a request structure (where AWS states a rule the shapes cannot)."""
    doc: str = _shapes()[structure]["members"][member].get("documentation", "")
    return doc
