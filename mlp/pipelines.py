"""What `environments/pipelines/<env>/` should hold: the definition of every pipeline a plan of the
environment builds, rendered by `components.rendered_pipelines` from a build (never from the files)."""

from __future__ import annotations

from pathlib import Path

from components.rendered_pipelines import forget, rendered_dir, rendering, requests_in
from mlp.plan import build_plan


def wanted_renderings(env: str, root: Path) -> dict[str, str]:
    """File name -> text, for every pipeline of the environment at `root`."""
    directory = rendered_dir(root, env)
    forget(directory)
    build_plan(env, root)
    return {path.name: rendering(request.spec, request.model) for path, request in requests_in(directory).items()}
