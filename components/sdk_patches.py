"""The sagemaker SDK, patched and sandboxed for building pipeline definitions offline.

What every definition builder (components/pipeline_definition.py, job_definitions.py,
monitoring_definition.py) runs the SDK in:

- `offline_sdk(region)`: for the duration of one build, a quiet SDK whose boto sessions have an empty
  credential chain (a request could not even be signed, and instance metadata is never queried), with role
  validation off and two speed patches (config validation once per process; no LocalSession per step);
- `sdk_session(region, bucket)`: the SDK session of a build, shared by the builds of a process, with the
  default bucket given (never looked up) and the SDK configuration explicit (`SDK_CONFIG`, telemetry off);
- `quality_check_step_class()`: the SDK's QualityCheckStep, fixed so that its definition serialises;
- `build_offline(spec, build)`: what each builder's entry point does, once: the definition cache, else
  `build(session)` in the offline SDK, in canonical form.

This module is part of the builder: its source is in the digest of every definition
(components/definition_cache.py BUILDER_SOURCES).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from components.definition_cache import definition_cache_dir, definition_key, read_cached, write_cached

if TYPE_CHECKING:
    from components.rendered_pipelines import AnySpec

# The SDK configuration used for every build: explicit, so no config file on the machine changes the
# definition, and with telemetry off (the SDK would otherwise send usage pings over HTTP).
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


@contextlib.contextmanager
def offline_sdk(region: str) -> Iterator[None]:
    """Quiet, validation-free SDK that cannot reach AWS, for the duration of one build; restores the
    process's environment, logging and default boto3 session after.

    Some SDK modules create boto3 clients from the default session at import time (e.g.
    `sagemaker.ai_registry.air_hub`); with no credentials in the environment that would probe the
    instance metadata endpoint over the network. The default session is swapped for an offline one
    while the SDK is imported and used.
    """
    import boto3

    overrides = {
        "SAGEMAKER_VALIDATE_ROLE": "false",
        # Some SDK code builds its own boto3.Session(): give it the region, and make sure its credential
        # chain can never reach the instance metadata endpoint.
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    saved_env = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    previous_session = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = _offline_boto_session(region)
    # The SDK re-validates its config against its JSON Schema (checking the schema itself first) on every
    # config lookup: ~0.35 s each, about 90 lookups per definition (profiled). Ours is a constant, so it is
    # validated once per process and the lookups skip it.
    from sagemaker.core.config.config_manager import SageMakerConfig

    previous_validate = SageMakerConfig.__dict__["validate_sagemaker_config"]
    SageMakerConfig.validate_sagemaker_config = staticmethod(_validate_sdk_config)
    # ProcessingStep (and TransformStep) instantiate a LocalSagemakerClient only to read the name of one
    # of its methods; each instance creates a LocalSession with its own boto clients: ~0.4 s per step
    # (profiled). During a build the steps module sees a subclass with the same methods that creates
    # no session.
    from sagemaker.mlops.workflow import steps

    previous_local_client = steps.LocalSagemakerClient
    steps.LocalSagemakerClient = _method_names_only(previous_local_client)
    # The SDK logs (and warns) at length about what a pipeline session skips; a plan shows none of it.
    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(disabled)
        steps.LocalSagemakerClient = previous_local_client
        SageMakerConfig.validate_sagemaker_config = previous_validate
        boto3.DEFAULT_SESSION = previous_session
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@functools.cache
def _method_names_only(client_class: type) -> type:
    """A subclass of the SDK's LocalSagemakerClient whose constructor creates no session: the steps only
    read its methods' names, which it inherits unchanged."""

    def init(self: Any, sagemaker_session: Any = None) -> None:
        self.sagemaker_session = sagemaker_session

    return type(client_class.__name__, (client_class,), {"__init__": init, "__module__": __name__})


def _validate_sdk_config(sagemaker_config: dict[str, Any] | None = None) -> None:
    """The SDK's config validation, done once for our constant SDK_CONFIG and every time for anything else."""
    from sagemaker.core.config.config_manager import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    if sagemaker_config == SDK_CONFIG:
        _validate_constant_config_once()
        return
    import jsonschema

    jsonschema.validate(sagemaker_config, SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)


@functools.cache
def _validate_constant_config_once() -> None:
    import jsonschema
    from sagemaker.core.config.config_manager import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    jsonschema.validate(SDK_CONFIG, SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)


@functools.cache
def _offline_boto_session(region: str) -> Any:
    """A boto3 session that cannot call AWS: its credential chain is empty, so nothing is looked up
    (no files, no instance metadata) and no request could be signed.

    One per region per process: its loader keeps the service models it parsed, and the SDK creates a
    dozen clients (sagemaker's model alone is megabytes of JSON, profiled at ~0.2 s a parse).
    """
    import boto3
    import botocore.credentials
    import botocore.session

    core = botocore.session.Session()
    core.register_component("credential_provider", botocore.credentials.CredentialResolver(providers=[]))
    return boto3.Session(botocore_session=core, region_name=region)


@functools.cache
def sdk_session(region: str, bucket: str) -> Any:
    """The SDK session of a build: offline boto session, known default bucket, explicit SDK config.

    One per (region, bucket) per process: creating one costs ~1 s (it creates a dozen boto3 clients,
    profiled), and a build only reads it (its defaults) or overwrites its `context` with the step being
    built, so consecutive builds that share it produce the same definitions as fresh ones
    (tests/components/test_pipelines.py checks every model of the example environments).
    """
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    return PipelineSession(
        boto_session=_offline_boto_session(region), default_bucket=bucket, sagemaker_config=SDK_CONFIG
    )


@functools.cache
def quality_check_step_class() -> type:
    """The SDK's QualityCheckStep, with its job's NetworkConfig in API form.

    The SDK (sagemaker-mlops, `_check_job_request._build_check_job_request`) puts the NetworkConfig
    object itself into the CreateProcessingJob request, which `Pipeline.definition()` cannot serialise
    (TypeError: Object of type NetworkConfig is not JSON serializable). This subclass converts it with
    the object's own `_to_request_dict()`, as the SDK's processors do for ProcessingStep.
    """
    from sagemaker.core.network import NetworkConfig
    from sagemaker.mlops.workflow.quality_check_step import QualityCheckStep

    def arguments(self: Any) -> Any:
        request = QualityCheckStep.arguments.fget(self)
        if isinstance(request.get("NetworkConfig"), NetworkConfig):
            request["NetworkConfig"] = request["NetworkConfig"]._to_request_dict()
        return request

    return type("QualityCheckStep", (QualityCheckStep,), {"arguments": property(arguments), "__module__": __name__})


def build_offline(spec: AnySpec, build: Callable[[Any], str]) -> str:
    """The definition JSON of `spec` in canonical form (sorted keys, no spaces): read from the definition
    cache when this spec was built before by the same SDK and builder, else `build(session)` with the SDK
    session of spec's region and bucket, inside `offline_sdk`, and kept in the cache."""
    cache = definition_cache_dir()
    entry = cache / f"{definition_key(spec)}.json" if cache else None
    cached = read_cached(entry) if entry else None
    if cached is not None:
        return cached
    with offline_sdk(spec.region):
        session = sdk_session(spec.region, spec.bucket)
        session.context = None  # as a fresh session starts, even if an earlier build failed halfway
        raw = build(session)
    definition = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    if entry:
        write_cached(entry, definition)
    return definition
