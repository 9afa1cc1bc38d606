"""policies/__main__.py: the pack starts as Pulumi starts it and serves every rule.

Runs `python policies/__main__.py` (so the policies directory is sys.path[0], as when the analyzer runs the
pack), reads the port it prints and asks the server on 127.0.0.1 what it has — then stops the process.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import grpc  # type: ignore[import-untyped]
import pytest
from google.protobuf import empty_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2_grpc

from components.data_root import repo_root
from policies.registry import RULES


@pytest.fixture
def pack_port() -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, str(repo_root() / "policies" / "__main__.py")],
        cwd=repo_root() / "policies",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"the pack did not start: {line!r} {err}")
        yield int(line)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_pack_serves_every_rule(pack_port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{pack_port}") as channel:
        info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "ml-platform"
    assert [p.name for p in info.policies] == [r.name for r in RULES]
    assert {p.enforcementLevel for p in info.policies} == {1}  # mandatory without a config: fails closed
