"""Run the stack program under Pulumi's mock runtime and record every registration.

`RecordingMonitor` is Pulumi's own `MockMonitor` plus two things the real engine does and the mock
does not: it runs resource transforms (a resource's own, then each ancestor's, then the stack's), so
tags added by a transform are visible; and it records parent, dependencies and `protect` for the plan.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import runpy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime._callbacks import _CallbackServicer
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from components.data_root import DATA_ROOT
from mlp.collector import fewer_collections
from mlp.mocks import PlanMocks

PROJECT = "ml-platform"


@dataclass
class Registration:
    """One resource as the engine received it, after transforms."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    protect: bool
    dependencies: list[str]
    provider: str | None
    inputs: dict[str, Any]


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock resource monitor that applies transforms and keeps every registration."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self._own_transforms: dict[str, list[Any]] = {}
        self._parents: dict[str, str] = {}
        self._by_token: dict[str, Any] = {}

    def _callbacks(self, callbacks: Any) -> list[Any]:
        """The transform functions a registration names, as pulumi's mocks resolve them, but from an index
        kept across registrations: pulumi rebuilds a token index over every registered transform for every
        registration (one transform per component: quadratic in the size of the program, profiled)."""
        tokens = [c.token for c in callbacks]
        if any(t not in self._by_token for t in tokens):
            for servicer in _CallbackServicer._servicers:
                for fn, token in servicer._transforms.items():
                    self._by_token[token] = fn
        return [self._by_token[t] for t in tokens if t in self._by_token]

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine builds them: the parent's full type chain, without the root stack's type."""
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                qualified = f"{parent_type}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{qualified}::{name}"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()  # type: ignore[no-untyped-call]
        inputs = rpc.deserialize_properties(request.object)
        own = self._callbacks(request.transforms)
        self._own_transforms[urn] = own
        if request.parent:
            self._parents[urn] = request.parent
        inputs = self._transform(urn, request, inputs)

        args = pulumi.runtime.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        id_, state = self.mocks.new_resource(args)
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_ or "", state)
        self.registrations.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                protect=bool(request.protect),
                dependencies=sorted(set(request.dependencies)),
                provider=request.provider or None,
                inputs=inputs,
            )
        )
        obj = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj)

    def _transform(self, urn: str, request: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        chain: list[Any] = []
        node: str | None = urn
        while node:
            chain.extend(self._own_transforms.get(node, []))
            node = self._parents.get(node)
        chain.extend(self._stack_transforms)
        for transform in chain:
            result = transform(
                pulumi.ResourceTransformArgs(
                    custom=bool(request.custom),
                    type_=request.type,
                    name=request.name,
                    props=inputs,
                    opts=pulumi.ResourceOptions(),
                )
            )
            if asyncio.iscoroutine(result):
                result = _sync_await(result)
            if result is not None:
                inputs = dict(result.props)
        return inputs


def _no_stack_trace() -> Any:
    """What Pulumi sends when it finds no user frame: an empty stack trace."""
    return source_pb2.StackTrace()


class _Collect(logging.Handler):
    """Keeps the messages of warnings the program logs (`pulumi.log.warn`, see components/warnings.py)."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


class ProgramError(Exception):
    """The stack program raised while it ran under the mocks."""


def run_program(
    program_dir: Path,
    data_root: Path,
    stack: str,
    config: dict[str, str],
    secret_keys: set[str],
    *,
    warnings: list[str] | None = None,
    project: str = PROJECT,
) -> list[Registration]:
    """Run `program_dir/__main__.py` as stack `stack` of `project`, reading environments from `data_root`.

    Each run gets a fresh context and event loop, so runs never share Pulumi's global state. Warnings the
    program logs are appended to `warnings` when given.
    """
    main = str(program_dir / "__main__.py")
    return run_function(
        lambda: runpy.run_path(main, run_name="__main__"),
        stack,
        config,
        secret_keys,
        data_root=data_root,
        warnings=warnings,
        project=project,
    )


def run_function(
    program: Callable[[], object],
    stack: str,
    config: dict[str, str] | None = None,
    secret_keys: set[str] | None = None,
    *,
    data_root: Path | None = None,
    warnings: list[str] | None = None,
    project: str = PROJECT,
) -> list[Registration]:
    """Run `program` (any function that declares resources: the stack program, or one component with its
    provider) as stack `stack` under the mocks, the way `run_program` runs the stack program."""
    into = warnings if warnings is not None else []
    return contextvars.Context().run(
        _run, program, data_root, stack, config or {}, secret_keys or set(), warnings=into, project=project
    )


def _run(
    body: Callable[[], object],
    data_root: Path | None,
    stack: str,
    config: dict[str, str],
    secret_keys: set[str],
    *,
    warnings: list[str],
    project: str,
) -> list[Registration]:
    if data_root is not None:
        DATA_ROOT.set(data_root)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        monitor = RecordingMonitor(PlanMocks())
        pulumi.runtime.set_all_config(config, list(secret_keys))
        # A logger of its own (not in logging's tree), so warnings are collected per run, never printed.
        # At WARNING, Pulumi's debug messages (several per resource) are dropped before a record is made
        # (~4 % of a plan, profiled); only warnings and errors are collected anyway.
        logger = logging.Logger(f"mlp-plan-{stack}", level=logging.WARNING)
        logger.addHandler(_Collect(warnings))
        pulumi.runtime.set_mocks(
            monitor.mocks, project=project, stack=stack, preview=True, monitor=monitor, logger=logger
        )

        def program() -> None:
            # One callbacks server for the run. Pulumi creates it lazily inside each registration's task,
            # whose context copy never sees another's, so every component with a transform started a gRPC
            # server of its own (18 for prod, thousands at scale; profiled). Set it in the program's context.
            callbacks = _CallbackServicer(cast(Any, monitor))  # pulumi's mocks pass their monitor too
            _sync_await(callbacks.serve())  # type: ignore[no-untyped-call]
            settings.SETTINGS.callbacks = callbacks
            body()

        # Pulumi walks the Python stack on every registration to tell the engine where the resource was
        # declared (~2.5 ms each, profiled: a tenth of a plan). The recording monitor never reads it.
        saved_stack_trace = pulumi_resource._get_stack_trace
        pulumi_resource._get_stack_trace = _no_stack_trace
        try:
            with fewer_collections():
                _sync_await(run_pulumi_func(program))
        finally:
            pulumi_resource._get_stack_trace = saved_stack_trace
        return monitor.registrations
    finally:
        asyncio.set_event_loop(None)
        loop.close()
