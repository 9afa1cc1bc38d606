"""Which stacks a change affects, from the list of changed files.

An environment file (environments/<env>.yaml), its rendered pipeline definitions
(environments/pipelines/<env>/) or a stack config (stacks/Pulumi.<env>.yaml) affects its own stack.
What every stack runs or is checked with affects all of them: the program and component library, the
policy pack, the command line that builds the plan, the dependency set and the project file. Everything
else (docs, tests, workflows, benchmarks) deploys nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from mlp.promote import promotion_order

# Paths (directories end with "/") whose change affects every stack.
AFFECTS_ALL = (
    "components/",
    "stacks/__main__.py",
    "policies/",
    "mlp/",
    "pyproject.toml",
    "uv.lock",
    "Pulumi.yaml",
)
_ENV_FILE = re.compile(r"^environments/(?P<env>[^/]+)\.yaml$")
_STACK_FILE = re.compile(r"^stacks/Pulumi\.(?P<env>[^/]+)\.yaml$")
# What the stack's plan reads instead of building its pipeline definitions (components/rendered_pipelines.py).
_RENDERED_FILE = re.compile(r"^environments/pipelines/(?P<env>[^/]+)/[^/]+\.json$")


def affected_stacks(changed: Iterable[str], root: Path) -> list[str]:
    """Stacks the changed files affect, in promotion (= deploy) order."""
    order = promotion_order(root)
    hit: set[str] = set()
    for raw in changed:
        path = raw.strip().removeprefix("./")
        if not path:
            continue
        if any(path == p or (p.endswith("/") and path.startswith(p)) for p in AFFECTS_ALL):
            return order
        if path == "environments/schema.json":
            # Generated from components/config, which affects every stack on its own.
            continue
        match = _ENV_FILE.match(path) or _STACK_FILE.match(path) or _RENDERED_FILE.match(path)
        if match and match["env"] in order:
            hit.add(match["env"])
        elif match:
            # A deleted environment file: its stack is gone from the order and has nothing to deploy.
            continue
    return [env for env in order if env in hit]
