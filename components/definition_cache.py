"""The definition cache: pipeline definitions kept on disk by what they are built from.

A definition is a pure function of its spec, the SDK's code (its release: the build reads no config file
and makes no call) and the builder's code (`BUILDER_SOURCES`: `components/pipeline_definition.py`, the SDK
sandbox and patches every builder runs in, `components/sdk_patches.py`, and the constants they use,
`components/artifacts.py` and `components/jobs/metrics_contract.py`).
Importing the SDK is most of an example environment's plan (benchmarks/README.md), so builds are kept on
disk under a key hashing all of those: a plan whose pipelines did not change reads them back without
importing the SDK. A changed spec, SDK release or builder gives a new key; a damaged entry is rebuilt.
`MLP_DEFINITION_CACHE` names the directory, or `off` to always build (the tests do, so that they exercise
the SDK). The same key material is what a committed rendering records (`components/rendered_pipelines.py`).

This module is not part of the builder: changing it changes no definition, so it invalidates neither the
cache nor the committed renderings.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import inspect
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.rendered_pipelines import AnySpec

CACHE_ENV = "MLP_DEFINITION_CACHE"
# Distributions whose code the build runs; their installed versions are part of the key.
SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "boto3", "botocore")
# Our modules whose code or constants shape a definition (the image table, components/sdk_images.py, does
# not: a spec carries the image URIs themselves). jobs/metrics_contract.py: the monitoring pipeline's paths
# and pointer name (components/monitoring_definition.py). tests/components/test_definition_digest.py checks
# that every module the builders import is here.
BUILDER_SOURCES = tuple(
    Path(__file__).parent / name
    for name in ("pipeline_definition.py", "sdk_patches.py", "artifacts.py", "jobs/metrics_contract.py")
)


def definition_cache_dir() -> Path | None:
    """Where definitions are cached: $MLP_DEFINITION_CACHE, else the user's cache directory
    ($XDG_CACHE_HOME or ~/.cache) under ml-platform/pipeline-definitions; None when switched off."""
    configured = os.environ.get(CACHE_ENV, "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ml-platform" / "pipeline-definitions"


def definition_key(spec: AnySpec) -> str:
    """sha256 of what the definition is built from (`definition_material`)."""
    return hashlib.sha256(json.dumps(definition_material(spec), sort_keys=True).encode()).hexdigest()


def definition_material(spec: AnySpec) -> dict[str, Any]:
    """Everything a definition is a function of, as JSON values: the spec's values, the versions of the SDK
    distributions and the digest of the builder's source."""
    # Other pipelines' specs build themselves (components/job_definitions.py): their module is part of the
    # builder too. The training definitions' digest stays what it was.
    own = Path(inspect.getfile(type(spec)))
    builder = _builder_digest() if own in BUILDER_SOURCES else _digest_with(_builder_digest(), own)
    return {"spec": dataclasses.asdict(spec), "sdk": _sdk_versions(), "builder": builder}


@functools.cache
def _sdk_versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in SDK_DISTRIBUTIONS}


@functools.cache
def _builder_digest() -> str:
    digest = hashlib.sha256()
    for source in BUILDER_SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()


@functools.cache
def _digest_with(builder: str, source: Path) -> str:
    """The builder's digest extended with the module of another pipeline's spec (components/job_definitions.py)."""
    return hashlib.sha256(builder.encode() + source.read_bytes()).hexdigest()


def read_cached(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)  # a damaged entry (which an atomic write should never leave) is rebuilt
    except (OSError, ValueError):
        return None
    return text


def write_cached(path: Path, definition: str) -> None:
    """Write atomically (a reader sees the old entry or the new one, never half); a cache that cannot be
    written only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as tmp:
            tmp.write(definition)
        os.replace(tmp.name, path)
    except OSError:
        return
