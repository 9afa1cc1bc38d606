"""Run a GitHub workflow offline: its jobs in `needs` order, `if:` conditions and matrices evaluated, every
`run:` step executed with bash (as GitHub's runner does: `bash -e -o pipefail`), and every `uses:` step
replaced by a recorder of its inputs (with the few effects later steps rely on: artifacts move between jobs).

Stub `pulumi`, `aws`, `kubectl`, `gh` and `uv` executables on PATH append what they were called with (and the
files named in their arguments) to a JSON-lines log. `uv run mlp ...` runs the real `mlp` in this
interpreter, reading a fixture repository (`--root`) instead of the repository's example files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from components.data_root import repo_root

WORKFLOWS = repo_root() / ".github" / "workflows"

# --- a small evaluator for GitHub's expression language (the subset the workflows use) ------------------

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<op>\|\||&&|==|!=|!|\(|\)|,)|(?P<name>[A-Za-z_][\w.*-]*))"
)


class Expr:
    """Evaluates `${{ ... }}` expressions against a context dict (github, env, matrix, needs, ...)."""

    def __init__(self, context: dict[str, Any], job_status: str = "success") -> None:
        self.context = context
        self.job_status = job_status

    def eval(self, text: str) -> Any:
        self.tokens = [m for m in TOKEN.finditer(text) if m.group(0).strip()]
        self.i = 0
        self.skipping = 0  # > 0 while parsing an operand that short-circuiting does not evaluate
        value = self._or()
        assert self.i == len(self.tokens), f"unparsed expression: {text!r}"
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.i].group(0).strip() if self.i < len(self.tokens) else None

    def _next(self) -> re.Match[str]:
        self.i += 1
        return self.tokens[self.i - 1]

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._next()
            right = self._lazy(self._and, skip=bool(value))
            value = value or right
        return value

    def _and(self) -> Any:
        value = self._cmp()
        while self._peek() == "&&":
            self._next()
            right = self._lazy(self._cmp, skip=not value)
            value = value and right
        return value

    def _lazy(self, parse: Any, *, skip: bool) -> Any:
        self.skipping += skip
        try:
            return parse()
        finally:
            self.skipping -= skip

    def _cmp(self) -> Any:
        value = self._unary()
        while self._peek() in ("==", "!="):
            op = self._next().group(0).strip()
            right = self._unary()
            equal = _loose(value) == _loose(right)
            value = equal if op == "==" else not equal
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._next()
            return not self._unary()
        return self._atom()

    def _atom(self) -> Any:  # noqa: PLR0911 - one return per kind of token
        token = self._next()
        if token.group("str") is not None:
            return token.group("str")[1:-1].replace("''", "'")
        if token.group("num") is not None:
            return int(token.group("num"))
        if token.group("op") == "(":
            value = self._or()
            assert self._next().group(0).strip() == ")"
            return value
        name = token.group("name")
        if self._peek() == "(":
            self._next()
            args: list[Any] = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._next()
            self._next()
            return None if self.skipping else self._call(name, args)
        if name in ("true", "false"):
            return name == "true"
        if name == "null":
            return None
        return self._lookup(name)

    def _lookup(self, path: str) -> Any:
        parts = path.split(".")
        if parts[-1] == "*":  # needs.*.result style is handled by the caller as a list
            raise AssertionError("object filters are only supported as `needs.*.result`")
        if len(parts) == 3 and parts[0] == "needs" and parts[1] == "*":
            return [job.get(parts[2]) for job in self.context.get("needs", {}).values()]
        value: Any = self.context
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "fromJSON":
            return json.loads(args[0])
        if name == "contains":
            haystack, needle = args
            return needle in haystack if isinstance(haystack, list) else str(needle) in str(haystack or "")
        if name == "always":
            return True
        if name == "cancelled":
            return False
        if name == "success":
            return self.job_status == "success"
        if name == "failure":
            return self.job_status == "failure"
        raise AssertionError(f"expression function {name}() is not supported by the harness")


def _loose(value: Any) -> Any:
    """GitHub compares loosely: booleans and their string forms are equal as strings here."""
    if isinstance(value, bool):
        return str(value).lower()
    return value


PLACEHOLDER = re.compile(r"\$\{\{(.*?)\}\}")


def render(value: Any, expr: Expr) -> Any:
    """Substitute every `${{ }}` in a string (a lone expression keeps its type)."""
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value.strip())
    if whole:
        return expr.eval(whole.group(1))
    return PLACEHOLDER.sub(lambda m: _text(expr.eval(m.group(1))), value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


# --- stubs ---------------------------------------------------------------------------------------------------

STUB = """#!{python}
import json, os, shutil, subprocess, sys
from pathlib import Path
tool = {tool!r}
argv = sys.argv[1:]
files = {{}}
for i, arg in enumerate(argv):
    if i and argv[i - 1] == "--policy-pack-config":
        files[arg] = Path(arg).read_text()
    if arg.startswith("body=@"):
        files[arg[6:]] = Path(arg[6:]).read_text()
kube = os.environ.get("KUBECONFIG", "")
record = {{"tool": tool, "argv": argv, "files": files, "job": os.environ.get("HARNESS_JOB"),
           "kubeconfig": Path(kube).read_text() if kube and Path(kube).is_file() else None,
           "aws_session": bool(os.environ.get("AWS_SESSION_TOKEN")),
           "backend": os.environ.get("PULUMI_BACKEND_URL")}}
with open(os.environ["HARNESS_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
{body}
"""

BODIES = {
    "pulumi": """
code = int(os.environ.get("HARNESS_PULUMI_EXIT", "0"))
print(f"Previewing {argv[0]} ({argv[2]}):" if len(argv) > 2 else "pulumi")
if code:
    print("error: preview failed: " + os.environ.get("HARNESS_PULUMI_ERROR", "boom"))
sys.exit(code)
""",
    "aws": """
if argv[:2] == ["eks", "update-kubeconfig"]:
    target = Path(argv[argv.index("--kubeconfig") + 1])
    name = argv[argv.index("--name") + 1]
    target.write_text(f"apiVersion: v1\\nkind: Config\\nclusters: [{{name: {name}}}]\\n")
""",
    "kubectl": "",
    "gh": """
if argv[:1] == ["api"] and argv[1].endswith("/commits/main"):
    print(os.environ["HARNESS_MAIN_SHA"])
elif argv[:2] == ["run", "list"]:
    print(os.environ.get("HARNESS_LAST_DEPLOY", ""))
elif "--paginate" in argv:
    print(os.environ.get("HARNESS_COMMENT_ID", ""))
""",
    "uv": """
if argv[:1] == ["sync"]:
    sys.exit(0)
assert argv[:2] == ["run", "mlp"], argv
args = argv[2:]
if not (args[:1] == ["ci"] and args[1] in ("comment", "deploy-guard")):
    args += ["--root", os.environ["HARNESS_ROOT"]]
sys.path.insert(0, os.environ["HARNESS_REPO"])
from mlp.cli import entry
sys.argv = ["mlp", *args]
sys.exit(entry())  # the console script `uv run mlp` runs
""",
}


def write_stubs(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for tool, body in BODIES.items():
        path = directory / tool
        path.write_text(STUB.format(python=sys.executable, tool=tool, body=body))
        path.chmod(0o755)
    return directory


# --- the runner ----------------------------------------------------------------------------------------------


@dataclass
class StepRecord:
    job: str
    name: str
    uses: str | None
    inputs: dict[str, Any]
    outcome: str


@dataclass
class Run:
    """Everything a workflow run did: job results, `uses:` inputs, stub calls, summaries."""

    results: dict[str, str] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    summaries: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def uses(self, action: str) -> list[StepRecord]:
        return [s for s in self.steps if s.uses and s.uses.split("@")[0] == action]

    def of(self, tool: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["tool"] == tool]


def load_workflow(name: str) -> dict[str, Any]:
    data = YAML(typ="safe").load((WORKFLOWS / f"{name}.yml").read_text())
    if True in data:
        data["on"] = data.pop(True)
    assert isinstance(data, dict)
    return data


class WorkflowRunner:
    def __init__(self, name: str, *, workdir: Path, fixture_root: Path, github: dict[str, Any], env: dict[str, str]):
        self.workflow = load_workflow(name)
        self.workdir = workdir
        self.fixture_root = fixture_root
        self.github = github
        self.extra_env = env
        self.home = workdir.parent / f"{name}-harness"
        self.stubs = write_stubs(self.home / "bin")
        self.log = self.home / "calls.jsonl"
        self.artifacts = self.home / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)

    def run(self) -> Run:
        result = Run()
        needs_ctx: dict[str, dict[str, Any]] = {}
        base_ctx = {"github": self.github, "inputs": self.github.get("inputs", {}), "vars": {}}
        workflow_env = {k: _text(render(v, Expr(base_ctx))) for k, v in (self.workflow.get("env") or {}).items()}
        for job_id, job in self.workflow["jobs"].items():
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            ctx = {**base_ctx, "env": workflow_env, "needs": {n: needs_ctx[n] for n in needs}}
            condition = job.get("if")
            upstream_ok = all(needs_ctx[n]["result"] == "success" for n in needs)
            if condition is None:
                go = upstream_ok
            else:
                text = str(condition)
                uses_status = any(f in text for f in ("always()", "cancelled()", "failure()", "success()"))
                go = (uses_status or upstream_ok) and bool(Expr(ctx).eval(text))
            if not go:
                result.results[job_id] = "skipped"
                needs_ctx[job_id] = {"result": "skipped", "outputs": {}}
                continue
            matrix = (job.get("strategy") or {}).get("matrix")
            instances: list[dict[str, Any]] = [{}]
            if matrix:
                ((key, values),) = matrix.items()
                values = render(values, Expr(ctx))
                instances = [{key: v} for v in values]
            status = "success"
            outputs: dict[str, Any] = {}
            for instance in instances:
                instance_status, instance_outputs = self._run_job(job_id, job, {**ctx, "matrix": instance}, result)
                if instance_status != "success":
                    status = "failure"
                outputs.update(instance_outputs)
            result.results[job_id] = status
            needs_ctx[job_id] = {"result": status, "outputs": outputs}
            result.outputs[job_id] = outputs
        if self.log.is_file():
            result.calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return result

    def _run_job(
        self, job_id: str, job: dict[str, Any], ctx: dict[str, Any], result: Run
    ) -> tuple[str, dict[str, Any]]:
        label = job_id + "".join(f"[{v}]" for v in ctx["matrix"].values())
        runner_dir = self.home / "runner" / label
        if runner_dir.exists():
            shutil.rmtree(runner_dir)
        runner_dir.mkdir(parents=True)
        files = {n: runner_dir / n for n in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}
        for path in files.values():
            path.write_text("")
        env: dict[str, str] = dict(ctx["env"])
        env.update({k: _text(render(v, Expr(ctx))) for k, v in (job.get("env") or {}).items()})
        steps_ctx: dict[str, Any] = {}
        status = "success"
        for index, step in enumerate(job["steps"]):
            step_ctx = {**ctx, "env": env, "steps": steps_ctx}
            expr = Expr(step_ctx, status)
            condition = step.get("if")
            if condition is None:
                go = status == "success"
            else:
                text = str(condition)
                uses_status = any(f in text for f in ("always()", "cancelled()", "failure()", "success()"))
                go = (uses_status or status == "success") and bool(expr.eval(text))
            name = step.get("name") or step.get("uses") or f"step {index}"
            if not go:
                result.steps.append(StepRecord(label, name, step.get("uses"), {}, "skipped"))
                continue
            step_env = {**env, **{k: _text(render(v, expr)) for k, v in (step.get("env") or {}).items()}}
            if "uses" in step:
                inputs = {k: render(v, expr) for k, v in (step.get("with") or {}).items()}
                outcome = self._uses(step["uses"], inputs, env)
            else:
                outcome = self._bash(step["run"], step_env, files, label)
                for line in files["GITHUB_ENV"].read_text().splitlines():
                    if "=" in line:
                        key, _, value = line.partition("=")
                        env[key] = value
                files["GITHUB_ENV"].write_text("")
                outputs = dict(
                    line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines() if "=" in line
                )
                files["GITHUB_OUTPUT"].write_text("")
                if step.get("id"):
                    steps_ctx[step["id"]] = {"outputs": outputs, "outcome": outcome}
                inputs = {}
            result.steps.append(StepRecord(label, name, step.get("uses"), inputs, outcome))
            if outcome != "success":
                status = "failure"
        result.summaries[label] = files["GITHUB_STEP_SUMMARY"].read_text()
        job_ctx = {**ctx, "steps": steps_ctx}
        outputs = {k: render(v, Expr(job_ctx)) for k, v in (job.get("outputs") or {}).items()}
        return status, outputs

    def _uses(self, uses: str, inputs: dict[str, Any], env: dict[str, str]) -> str:
        action = uses.split("@", maxsplit=1)[0]
        if action == "aws-actions/configure-aws-credentials":
            env.update(AWS_ACCESS_KEY_ID="AKIAHARNESS", AWS_SECRET_ACCESS_KEY="x", AWS_SESSION_TOKEN="token")
        elif action == "actions/upload-artifact":
            source = self.workdir / str(inputs["path"])
            if source.is_file():
                target = self.artifacts / str(inputs["name"])
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target / source.name)
        elif action == "actions/download-artifact":
            target = self.workdir / str(inputs.get("path", "."))
            target.mkdir(parents=True, exist_ok=True)
            for artifact in self.artifacts.iterdir():
                for path in artifact.iterdir():
                    shutil.copy(path, target / path.name)
        return "success"

    def _bash(self, script: str, env: dict[str, str], files: dict[str, Path], label: str) -> str:
        full_env = {
            **{k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR", "AWS_DEFAULT_REGION")},
            **env,
            **self.extra_env,
            **{name: str(path) for name, path in files.items()},
            "PATH": f"{self.stubs}{os.pathsep}{os.environ['PATH']}",
            "HARNESS_LOG": str(self.log),
            "HARNESS_ROOT": str(self.fixture_root),
            "HARNESS_REPO": str(repo_root()),
            "HARNESS_JOB": label,
            "RUNNER_TEMP": str(files["GITHUB_ENV"].parent),
            "GITHUB_SHA": str(self.github.get("sha", "")),
        }
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
            cwd=self.workdir,
            env=full_env,
            capture_output=True,
            text=True,
            check=False,
        )
        (files["GITHUB_ENV"].parent / "log.txt").open("a").write(proc.stdout + proc.stderr)
        return "success" if proc.returncode == 0 else "failure"
