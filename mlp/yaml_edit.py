"""Edits of an environment file through a ruamel round trip, as `mlp promote` and `mlp finops advise` make
them: comments, key order, quotes and flow style are kept, and the caller checks that only the lines it
meant to change did (`dump_changes`), refusing otherwise: a layout the round trip would rewrite is edited by
hand.
"""

from __future__ import annotations

import difflib
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ruamel.yaml import YAML


def round_trip_yaml() -> YAML:
    """The ruamel loader and dumper of environment files: the layout their examples use (2-space mappings,
    sequences indented 4 with the dash at 2), no line wrapping, quotes kept."""
    from ruamel.yaml import YAML  # imported when a file is edited: most commands never do

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def dump_changes(yaml: YAML, data: Any, original: str) -> tuple[str, list[str]]:
    """The text `data` dumps to, and the lines that differ from `original`: each removed line as "-line",
    each added one as "+line", in the order of a unified diff."""
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    updated = buffer.getvalue()
    changed = [
        line
        for line in difflib.unified_diff(original.splitlines(), updated.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return updated, changed
