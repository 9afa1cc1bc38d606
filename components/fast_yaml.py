"""Reading an environment file fast when it is plainly written, with the round-trip parser's meaning.

The loader parses environment files with ruamel's round-trip parser because it keeps line numbers for
error messages, but it is pure Python: ~5 s for a 500-model file (profiled, benchmarks/README.md).
libyaml (through PyYAML's CSafeLoader) parses the same file in ~0.5 s, but PyYAML resolves plain scalars
by YAML 1.1 (`yes`/`on` are booleans, `010` is octal, `1:20` sexagesimal, dates become dates), where
ruamel's reading is YAML 1.2. So the fast reader resolves only scalars whose meaning is the same in both
(`true`/`false`, `null`/`~`/empty, plain decimal integers and floats) and gives up, returning None, on
any other scalar that either reading could take for something other than a string, on local tags,
merge keys and keys given twice: the loader then parses with ruamel as before. Lines are never needed on this path: a
file with a problem is parsed again with ruamel to say where (components/loader.py).
"""

from __future__ import annotations

import re
from typing import Any

import yaml  # type: ignore[import-untyped]


class AmbiguousError(Exception):
    """The file uses YAML whose meaning the fast reader does not vouch for."""


# Plain scalars with one meaning in YAML 1.1, 1.2 and ruamel's round-trip reading.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^-?(?:0|[1-9][0-9]*)\.[0-9]+$")
# Plain scalars some reading takes for a non-string, or reads differently: anything made of digits,
# signs, underscores, colons, one point and an exponent (numbers of YAML 1.1 and 1.2: leading zeros,
# underscores, sexagesimal, "1e3", ".5"), other bases, infinities and NaN, dates, YAML 1.1's boolean
# words, the merge key and the value indicator.
_SUSPECT = re.compile(
    r"""^(?:
        [-+]?[0-9_:]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?
      | [-+]?0[box][0-9a-fA-F_]+
      | [-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*
      | y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF
      | <<  | =
    )$""",
    re.X,
)


class _StrictLoader(yaml.CSafeLoader):  # type: ignore[misc]
    """libyaml's parser; plain scalars become strings unless they are unambiguous (see the module)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # ruamel rejects a key given twice (the loader reports its line); PyYAML keeps the last one.
        keys = [k.value if isinstance(k, yaml.ScalarNode) else None for k, _ in node.value]
        if None in keys or len(set(keys)) != len(keys):
            raise AmbiguousError("duplicate or non-scalar key")
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


# Drop PyYAML's YAML 1.1 implicit resolvers: every plain scalar goes to `_plain`, which decides.
_StrictLoader.yaml_implicit_resolvers = {}
_PLAIN_TAG = "tag:mlp:plain"
_StrictLoader.add_implicit_resolver(_PLAIN_TAG, re.compile(r"(?s).*"), None)


def _plain(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    value = loader.construct_scalar(node)
    if _NULL.match(value):
        return None
    if _BOOL.match(value):
        return value.lower() == "true"
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    if _SUSPECT.match(value):
        raise AmbiguousError(value)
    return value


def _refuse(loader: _StrictLoader, suffix: str, node: yaml.Node) -> Any:
    raise AmbiguousError(f"tag {node.tag}")


_StrictLoader.add_constructor(_PLAIN_TAG, _plain)
_StrictLoader.add_multi_constructor("!", _refuse)
_StrictLoader.add_multi_constructor("tag:", _refuse)


def read_plain_yaml(text: str) -> Any | None:
    """The document's data as ruamel's round-trip reader means it, or None when the fast reader cannot
    vouch for that (or the text is not valid YAML: the caller's parser reports where)."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader with fewer resolvers
    except (AmbiguousError, yaml.YAMLError):
        return None
