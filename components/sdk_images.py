"""The sagemaker SDK's table of AWS built-in images: which account publishes an image in which region.

Read from the JSON files the SDK bundles (`sagemaker/core/image_uri_config/<framework>.json`) without
importing sagemaker (the import takes seconds), so that validating an environment file and resolving its
image URIs stays fast.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

MODEL_MONITOR_REPOSITORY = "sagemaker-model-monitor-analyzer"


def builtin_image_uri(framework: str, version: str, region: str) -> str:
    """URI of an AWS built-in image, from the registries in the sagemaker SDK's bundled
    `sagemaker/core/image_uri_config/<framework>.json` (read without importing sagemaker).

    Raises ValueError naming what is available when the version or region is unknown.
    """
    config = _image_config(framework)
    versions = config["training"]["versions"] if "training" in config else config["versions"]
    if version not in versions:
        raise ValueError(f"{framework} version {version!r} is not known; known versions: {', '.join(versions)}")
    entry = versions[version]
    registries: dict[str, str] = entry["registries"]
    if region not in registries:
        raise ValueError(f"the built-in {framework} {version} image is not published in {region}")
    tag = f"{version}-cpu-py3" if framework == "sklearn" else version
    return f"{_registry_host(registries[region], region)}/{entry['repository']}:{tag}"


def model_monitor_image_uri(region: str) -> str:
    """URI of the Model Monitor analyzer image (data-quality baselining), from the SDK's bundled
    `sagemaker/core/image_uri_config/model-monitor.json` (the registry the SDK's DefaultModelMonitor uses).

    Raises ValueError when the image is not published in region.
    """
    registries = model_monitor_registries()
    if region not in registries:
        raise ValueError(f"the Model Monitor analyzer image is not published in {region}")
    return f"{_registry_host(registries[region], region)}/{MODEL_MONITOR_REPOSITORY}"


def model_monitor_registries() -> dict[str, str]:
    """Account of the Model Monitor analyzer image per region (the SDK's model-monitor.json)."""
    registries: dict[str, str] = _image_config("model-monitor")["versions"][""]["registries"]
    return registries


@functools.cache
def _image_config(framework: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("sagemaker")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sagemaker SDK is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config" / f"{framework}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _registry_host(account: str, region: str) -> str:
    """The ECR registry of `account` in `region` (China regions have their own domain)."""
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}"
