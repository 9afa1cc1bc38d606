"""The fast reader of environment files means what ruamel's round-trip reader means, or declines."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from components import fast_yaml, loader
from components.errors import InputError
from components.fast_yaml import read_plain_yaml
from mlp.plan import Plan, build_plan, plan_json
from tests.conftest import ENVIRONMENTS, FIXTURE_ROOT


def _rt(text: str) -> Any:
    return YAML(typ="rt").load(text)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_fixture_environments_read_the_same(env: str) -> None:
    text = (FIXTURE_ROOT / "environments" / f"{env}.yaml").read_text()
    fast = read_plain_yaml(text)
    assert fast is not None, "plainly written files take the fast path"
    assert fast == _rt(text)


# Scalars whose meaning is the same in every reading: the fast reader resolves them.
SAME = [
    "4Gi",
    "500m",
    "eu-west-1",
    "ml.m5.xlarge",
    "0.85",
    "12",
    "0",
    "-3",
    "true",
    "False",
    "~",
    "null",
    "",
    "10.0.0.0/16",
    "s3://bucket/key",
    "fraud-scoring",
    "'a: b'",
    "'010'",
    '"yes"',
    '"2026-11-25"',
]
# Scalars YAML 1.1 (PyYAML) and YAML 1.2 (ruamel) may read differently, or as non-strings: it declines.
DECLINED = [
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "010",
    "1_000",
    "1e3",
    "+1",
    ".5",
    "0x1F",
    "0o17",
    "1:20",
    ".inf",
    ".NaN",
    "2026-11-25",
    "2026-11-25T10:00:00Z",
    "1.",
    "=",
]


@pytest.mark.parametrize("scalar", SAME)
def test_unambiguous_scalars_mean_what_ruamel_reads(scalar: str) -> None:
    text = f"value: {scalar}\n"
    fast = read_plain_yaml(text)
    assert fast is not None
    assert fast == _rt(text)
    assert type(fast["value"]) in (str, int, float, bool, type(None))


@pytest.mark.parametrize("scalar", DECLINED)
def test_ambiguous_scalars_are_left_to_ruamel(scalar: str) -> None:
    assert read_plain_yaml(f"value: {scalar}\n") is None


def test_duplicate_keys_merge_keys_and_local_tags_are_left_to_ruamel() -> None:
    assert read_plain_yaml("a: 1\na: 2\n") is None  # ruamel rejects it, with its line
    assert read_plain_yaml("base: &b {x: 1}\nmore:\n  <<: *b\n  y: 2\n") is None
    assert read_plain_yaml("a: !custom 1\n") is None
    assert read_plain_yaml("a: [1, 2\n") is None  # not YAML: ruamel reports where
    # Anchors and aliases mean the same in both readings.
    assert read_plain_yaml("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


def test_a_file_the_fast_reader_declines_loads_as_before(env_root: Any) -> None:
    path = env_root / "environments" / "dev.yaml"
    original = loader.load_environment("dev", env_root)
    text = path.read_text()
    assert "  - name: risk\n" in text
    path.write_text(text.replace("  - name: risk\n", "  - <<: {name: risk}\n"))  # a merge key: same data
    assert read_plain_yaml(path.read_text()) is None
    assert loader.load_environment("dev", env_root) == original


def test_the_plan_is_the_same_read_either_way(plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    loader._validated.cache_clear()
    monkeypatch.setattr(loader, "read_plain_yaml", lambda text: None)
    try:
        assert plan_json(build_plan("dev", FIXTURE_ROOT)) == plan_json(plans["dev"])
    finally:
        loader._validated.cache_clear()


def test_errors_still_name_the_line(edit_env: Any) -> None:
    """A file with a problem is read again by ruamel, which knows the lines."""
    root = edit_env("dev", lambda data: data.__setitem__("account_id", "12345"))
    assert read_plain_yaml((root / "environments" / "dev.yaml").read_text()) is not None
    with pytest.raises(InputError) as error:
        loader.load_environment("dev", root)
    [problem] = error.value.problems
    assert problem.path == "account_id" and problem.line is not None
    assert fast_yaml.read_plain_yaml("account_id: '12345'\n") == {"account_id": "12345"}
