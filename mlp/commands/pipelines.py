"""`mlp pipelines [ENV ...]`: write environments/pipelines/<env>/<model>.json, the committed pipeline
definitions that plans read instead of importing the sagemaker SDK (components/rendered_pipelines.py)."""

from __future__ import annotations

import argparse
import sys

from components.data_root import repo_root
from components.loader import known_environments
from components.rendered_pipelines import RENDERED_DIR, SUFFIX, rendered_dir
from mlp.commands import add_root_option
from mlp.generated import stale_files, write_files
from mlp.pipelines import wanted_renderings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "pipelines",
        help="render the training pipelines' definitions into environments/pipelines/",
        description=(
            "Build every training pipeline's definition with the sagemaker SDK and write it, with what it was "
            "built from, to environments/pipelines/<env>/<model>.json; plans read these instead of building."
        ),
    )
    parser.add_argument("envs", nargs="*", metavar="ENV", help="environment names (default: every environment)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed definition is out of date")
    add_root_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = args.root or repo_root()
    stale_anywhere = False
    for env in args.envs or known_environments(root):
        wanted = wanted_renderings(env, root)
        directory = rendered_dir(root, env)
        shown = RENDERED_DIR / env
        if args.check:
            stale = stale_files(directory, wanted, SUFFIX)
            for name in stale:
                print(f"{shown / name} is out of date: run `uv run mlp pipelines {env}`", file=sys.stderr)
            stale_anywhere = stale_anywhere or bool(stale)
            continue
        for name in write_files(directory, wanted, SUFFIX):
            print(f"{'wrote' if name in wanted else 'removed'} {shown / name}")
    return 1 if stale_anywhere else 0
