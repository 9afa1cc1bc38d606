"""Plan at scale: how long `mlp plan` takes, and how much memory, for an environment with N models.

    uv run python benchmarks/plan_scale.py 100          # one size
    uv run python benchmarks/plan_scale.py 10 100 500   # several; one result line per size
    uv run python benchmarks/plan_scale.py --env dev staging prod   # the example environments

For each N it generates an environment with N models spread over teams (every model with an endpoint and
a registry, every fourth one with a training pipeline), copied from the example models in
environments/prod.yaml, and plans it in a fresh process through `mlp plan`'s code path. It then measures
the floor: a bare Pulumi program that registers the same resource types and count (with the same inputs)
through pulumi_aws, under the same mock runtime, with none of our components. Each measurement is the
whole process (imports included, as a user waits for it); peak memory is the plan process's peak RSS.

The plan runs three times, each with a definition cache of its own (components/definition_cache.py):

- cold: nothing rendered and an empty cache, so the SDK is imported and builds every definition (a
  repository's very first plan, or one after an SDK upgrade, before `mlp pipelines` has run);
- then `mlp pipelines` renders the definitions into the environment's directory, as a repository commits
  them (components/rendered_pipelines.py), and one rendering is taken away: the plan builds that one
  definition (a pull request that changed one model's training);
- rendered: every definition committed and an empty cache, the state of main and of most pull requests.

With `--repeat K` the rendered plan and the floor run K times each, alternating, and the last line gives
the median of each (the floor's time moves by up to 10 % between runs on this machine). Lines per size:
    plan_scale_cold models=N plan_s=X ratio=Z peak_mb=M
    plan_scale_one_stale models=N plan_s=X ratio=Z peak_mb=M
    plan_scale_runs models=N plan_s=X1,X2,... floor_s=Y1,Y2,...                (with --repeat)
    plan_scale models=N resources=R plan_s=X floor_s=Y ratio=Z peak_mb=M      (rendered; the last line)

With `--env ENV ...` it plans each example environment of this repository instead: the whole command
`mlp plan ENV --json` (its parser, the plan, the policy report) in a fresh process, with the committed
definitions and an empty definition cache (the state of main), against the floor built from that plan's
resources; `--repeat K` as above. One line per environment (after
`plan_examples_runs env=ENV ...` with --repeat):
    plan_examples env=ENV resources=R plan_s=X floor_s=Y ratio=Z peak_mb=M process_plan_s=... process_ratio=...

Every result line ends with the same times taken around the child processes (process_*): those include
the interpreter's start and exit, which the children's own clocks (plan_s, floor_s) do not.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TEAMS = ("fraud", "risk", "payments", "disputes", "onboarding", "aml", "credit", "treasury")
PIPELINE_EVERY = 4
ENV_NAME = "bench"


def generate_environment(models: int, root: Path) -> None:
    """environments/bench.yaml with `models` models, plus the example files the loader reads alongside."""
    from ruamel.yaml import YAML  # here, not at the top: a child's clock starts after the module's imports

    shutil.copytree(REPO / "environments", root / "environments")
    (root / "stacks").mkdir()
    shutil.copy(REPO / "stacks" / "Pulumi.prod.yaml", root / "stacks" / f"Pulumi.{ENV_NAME}.yaml")
    yaml = YAML(typ="rt")
    env = yaml.load((REPO / "environments" / "prod.yaml").read_text())
    env.pop("registry_environment", None)  # the benchmark environment hosts its own registries
    template_team = env["teams"][0]
    env["teams"] = []
    for team in TEAMS:
        entry = copy.deepcopy(template_team)
        entry["name"] = team
        env["teams"].append(entry)
    templates = [m for m in env["models"] if (m.get("serving") or {}).get("platform", "sagemaker") == "sagemaker"]
    env["models"] = []
    for i in range(models):
        model = copy.deepcopy(templates[i % len(templates)])
        model["name"] = f"model-{i:04d}"
        model["registry_group"] = f"model-{i:04d}"
        model["team"] = TEAMS[i % len(TEAMS)]
        if i % PIPELINE_EVERY and "training" in model:
            del model["training"]
        env["models"].append(model)
    with (root / "environments" / f"{ENV_NAME}.yaml").open("w") as f:
        yaml.dump(env, f)


FLOOR_PROGRAM = '''
"""The floor: the same resource types, count and inputs registered straight through the SDKs: pulumi_aws
for AWS types, pulumi_kubernetes for Kubernetes ones (a custom resource kind through its CustomResource), so
the floor pays for importing every SDK module a program declaring these types must import, and nothing of
ours (mlp.runtime imports only components/data_root.py)."""
import importlib, json, keyword, os, re
import pulumi
import pulumi_aws

resources = json.loads(open(os.environ["MLP_FLOOR_RESOURCES"]).read())


def archive(value):
    """The plan writes an archive as its members' digests (mlp.plan._asset): one of as many members."""
    if isinstance(value, dict) and list(value) == ["archive"]:
        return pulumi.AssetArchive({n: pulumi.StringAsset(m.get("sha256", "")) for n, m in value["archive"].items()})
    return value


provider = None
k8s_opts = None
for r in resources:
    if r["type"] == "pulumi:providers:aws":
        ids = r["inputs"].get("allowedAccountIds")
        provider = pulumi_aws.Provider(r["name"], region=r["inputs"].get("region"),
                                       allowed_account_ids=json.loads(ids) if isinstance(ids, str) else ids)
    elif r["type"].startswith("pulumi:providers:"):  # e.g. the kubernetes provider: no pulumi_aws class
        k8s = pulumi.ProviderResource(r["type"].rpartition(":")[2], r["name"], dict(r["inputs"]))
        k8s_opts = pulumi.ResourceOptions(provider=k8s)  # the mocks refuse Kubernetes objects without one
opts = pulumi.ResourceOptions(provider=provider)
for r in resources:
    if not r["custom"] or r["type"].startswith("pulumi:providers:"):
        continue
    if r["type"].startswith("kubernetes:"):
        kwargs = {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in r["inputs"].items()}
        group_version, _, kind = r["type"].split(":", 1)[1].rpartition(":")
        module_name = "pulumi_kubernetes." + group_version.replace(".k8s.io", "").replace("/", ".")
        try:
            cls = getattr(importlib.import_module(module_name), kind)
        except (ImportError, AttributeError):  # a custom resource kind (KServe's): the SDK's generic class
            import pulumi_kubernetes
            cls = pulumi_kubernetes.apiextensions.CustomResource
        cls(r["name"], opts=k8s_opts, **kwargs)
        continue
    if not r["type"].startswith("aws:"):  # any other provider's objects: registered as they are, by type token
        pulumi.CustomResource(r["type"], r["name"], dict(r["inputs"]), opts=k8s_opts)
        continue
    module_path, _, class_name = r["type"].split(":", 1)[1].rpartition(":")
    module = module_path.split("/")[0]
    module += "_" if keyword.iskeyword(module) else ""  # aws:lambda/... lives in pulumi_aws.lambda_
    cls = getattr(importlib.import_module("pulumi_aws." + module), class_name)
    kwargs = {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): archive(v) for k, v in r["inputs"].items()}
    cls(r["name"], opts=opts, **kwargs)
'''


def child_plan(root: Path, env: str, out: Path, command: bool = False) -> None:
    """Run in a fresh process: plan environment `env` under `root` the way `mlp plan` does; with `command`,
    the whole command, `mlp plan ENV --json` (its parser, the outdated-definitions notes, the policy report)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    started = time.perf_counter()
    import gc

    from mlp.collector import RUN_GC_THRESHOLDS

    gc.set_threshold(*RUN_GC_THRESHOLDS)  # as the `mlp` console script does (mlp.cli.entry)

    if command:
        import contextlib
        import io

        from mlp.cli import main

        document, report = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(document), contextlib.redirect_stderr(report):
            code = main(["plan", env, "--json", "--root", str(root)])
        if code:
            raise SystemExit(f"mlp plan {env} exited {code}:\n{report.getvalue()}")
        resources = json.loads(document.getvalue())["resources"]
    else:
        from mlp.plan import build_plan, plan_json

        plan = build_plan(env, root)
        plan_json(plan)
        resources = plan["resources"]
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "resources": resources}))


def child_floor(resources_file: Path, out: Path) -> None:
    """Run in a fresh process: register the same resources through pulumi_aws under the same mocks."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    started = time.perf_counter()
    from mlp.runtime import run_program

    with tempfile.TemporaryDirectory() as program_dir:
        (Path(program_dir) / "__main__.py").write_text(FLOOR_PROGRAM)
        os.environ["MLP_FLOOR_RESOURCES"] = str(resources_file)
        registered = run_program(Path(program_dir), Path(program_dir), ENV_NAME, {}, set())
    elapsed = time.perf_counter() - started
    out.write_text(json.dumps({"seconds": elapsed, "resources": len(registered)}))


def _child(kind: str, *args: Path | str, cache: Path | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if cache is not None:
        env["MLP_DEFINITION_CACHE"] = str(cache)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, f"--{kind}", *map(str, args), str(out)], check=True, cwd=REPO, env=env
        )
        # The child's own clock misses the interpreter's start and exit (Pulumi's threads, the heap's
        # teardown: ~0.8 s of a 2.4 s example plan); the user waits for those too.
        process_s = time.perf_counter() - started
        result: dict[str, Any] = json.loads(out.read_text())
        return {**result, "process_seconds": process_s}


def measure(models: int, repeat: int = 1) -> list[str]:
    """The three plans (see the module's docstring), checked to plan the same resources, and the floor,
    which builds no definitions; the rendered plan and the floor `repeat` times each."""
    from components.rendered_pipelines import rendered_dir  # here: the plan child times this import itself

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        generate_environment(models, root)
        cold = _child("plan", root, ENV_NAME, cache=Path(tmp) / "cold-cache")
        _render(root, cache=Path(tmp) / "cold-cache")
        renderings = sorted(rendered_dir(root, ENV_NAME).glob("*.json"))
        if not renderings:
            raise SystemExit("no pipeline definition was rendered")
        taken = renderings[0].rename(Path(tmp) / renderings[0].name)
        one_stale = _child("plan", root, ENV_NAME, cache=Path(tmp) / "one-stale-cache")
        taken.rename(renderings[0])
        rendered, floors = _rendered_against_floor(root, ENV_NAME, cold["resources"], repeat, Path(tmp))
        if any(r["resources"] != cold["resources"] for r in (one_stale, *rendered)):
            raise SystemExit("the plans differ")
    floor_s = statistics.median(f["seconds"] for f in floors)

    def short(kind: str, run: dict[str, Any]) -> str:
        ratio = run["seconds"] / floor_s
        return f"{kind} models={models} plan_s={run['seconds']:.2f} ratio={ratio:.2f} peak_mb={run['peak_mb']:.0f}"

    lines = [short("plan_scale_cold", cold), short("plan_scale_one_stale", one_stale)]
    return lines + _summary("plan_scale", f"models={models}", cold["resources"], rendered, floors)


def measure_env(env: str, repeat: int = 1) -> list[str]:
    """An example environment of this repository as `mlp plan ENV` sees it on main (definitions committed),
    against the floor built from its first plan's resources; the plan and the floor `repeat` times each."""
    with tempfile.TemporaryDirectory() as tmp:
        first = _child("plan-command", REPO, env, cache=Path(tmp) / "rendered-cache-0")
        rendered, floors = _rendered_against_floor(
            REPO, env, first["resources"], repeat, Path(tmp), done=[first], kind="plan-command"
        )
        if any(r["resources"] != first["resources"] for r in rendered):
            raise SystemExit("the plans differ")
    return _summary("plan_examples", f"env={env}", first["resources"], rendered, floors)


def _rendered_against_floor(
    root: Path,
    env: str,
    resources: list[dict[str, Any]],
    repeat: int,
    tmp: Path,
    *,
    done: list[dict[str, Any]] | None = None,
    kind: str = "plan",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rendered plan (each run with an empty definition cache of its own) and the floor built from
    `resources`, `repeat` times each, alternating; `done` holds plan runs already made (counted in)."""
    resources_file = tmp / "resources.json"
    resources_file.write_text(json.dumps(resources))
    rendered: list[dict[str, Any]] = list(done or [])
    floors: list[dict[str, Any]] = []
    for run in range(repeat):
        if run >= len(rendered):
            rendered.append(_child(kind, root, env, cache=tmp / f"rendered-cache-{run}"))
        floors.append(_child("floor", resources_file))
    return rendered, floors


def _summary(
    kind: str, label: str, resources: list[dict[str, Any]], rendered: list[dict[str, Any]], floors: list[dict[str, Any]]
) -> list[str]:
    """The runs line (with more than one run) and the result line: medians, checked counts."""
    custom = sum(1 for r in resources if r["custom"])
    if any(floor["resources"] != custom for floor in floors):
        raise SystemExit(f"the floor registered other than the plan's {custom} custom resources")
    plan_s = statistics.median(r["seconds"] for r in rendered)
    floor_s = statistics.median(f["seconds"] for f in floors)
    peak_mb = max(r["peak_mb"] for r in rendered)
    process_plan_s = statistics.median(r["process_seconds"] for r in rendered)
    process_floor_s = statistics.median(f["process_seconds"] for f in floors)
    lines = []
    if len(rendered) > 1:
        runs = f"plan_s={','.join(_seconds(rendered))} floor_s={','.join(_seconds(floors))}"
        process = f"process_plan_s={','.join(_seconds(rendered, 'process_seconds'))} "
        process += f"process_floor_s={','.join(_seconds(floors, 'process_seconds'))}"
        lines.append(f"{kind}_runs {label} {runs} {process}")
    lines.append(
        f"{kind} {label} resources={len(resources)} plan_s={plan_s:.2f} floor_s={floor_s:.2f} "
        f"ratio={plan_s / floor_s:.2f} peak_mb={peak_mb:.0f} process_plan_s={process_plan_s:.2f} "
        f"process_floor_s={process_floor_s:.2f} process_ratio={process_plan_s / process_floor_s:.2f}"
    )
    return lines


def _seconds(runs: list[dict[str, Any]], key: str = "seconds") -> list[str]:
    return [f"{run[key]:.2f}" for run in runs]


def _render(root: Path, cache: Path) -> None:
    """`mlp pipelines` for the benchmark environment (not timed): what a repository commits."""
    env = dict(os.environ, MLP_DEFINITION_CACHE=str(cache))
    command = [sys.executable, "-m", "mlp.cli", "pipelines", ENV_NAME, "--root", str(root)]
    subprocess.run(command, check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", type=int, default=[10])
    parser.add_argument("--repeat", type=int, default=1, help="runs of the rendered plan and of the floor (median)")
    parser.add_argument("--env", nargs="+", metavar="ENV", help="example environments instead of generated sizes")
    parser.add_argument("--plan", nargs=3, metavar=("ROOT", "ENV", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--plan-command", nargs=3, metavar=("ROOT", "ENV", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--floor", nargs=2, type=Path, metavar=("RESOURCES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plan:
        root, env, out = args.plan
        child_plan(Path(root), env, Path(out))
    elif args.floor:
        child_floor(*args.floor)
    elif args.plan_command:
        root, env, out = args.plan_command
        child_plan(Path(root), env, Path(out), command=True)
    elif args.env:
        for env in args.env:
            for line in measure_env(env, args.repeat):
                print(line, flush=True)
    else:
        for n in args.models:
            for line in measure(n, args.repeat):
                print(line, flush=True)


if __name__ == "__main__":
    main()
