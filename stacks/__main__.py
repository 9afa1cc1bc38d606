"""The Pulumi program: load the environment of the current stack and build the platform from it.

The same file runs under `pulumi preview/up -s <env>` and under `mlp plan <env>` (mock runtime).
"""

import sys

import pulumi

from components.errors import InputError
from components.loader import load_environment
from components.platform import build_platform

# The stack name is the environment name unless stack config names another environment file.
environment = pulumi.Config().get("environment") or pulumi.get_stack()
try:
    env = load_environment(environment)
except InputError as exc:
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)
    raise SystemExit(2) from None

build_platform(env)
