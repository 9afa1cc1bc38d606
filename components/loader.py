"""Load `environments/<env>.yaml` into the schema, with file, line and field in every error."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from components.config import Environment, LoadedEnvironment, RegistryLocation
from components.config.finops import MAX_ALERT_EMAILS
from components.config.kubernetes import kubernetes_problems
from components.config.observability import observability_problems
from components.config.serving import sagemaker_problems
from components.config.triage import triage_problems
from components.errors import InputError, Problem
from components.fast_yaml import read_plain_yaml
from components.pipeline_definition import image_problems

ENVIRONMENTS_DIR = "environments"

Loc = Sequence[int | str]


# Where environments/ is read from. The repository by default; `mlp plan` sets it inside the fresh
# context of one run, so tests and benchmarks can plan fixture environments with the real program.
DATA_ROOT: ContextVar[Path | None] = ContextVar("mlp_data_root", default=None)


def repo_root() -> Path:
    """The repository root: the directory holding Pulumi.yaml (found from this file, not the cwd)."""
    return Path(__file__).resolve().parent.parent


def data_root() -> Path:
    return DATA_ROOT.get() or repo_root()


def known_environments(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / ENVIRONMENTS_DIR).glob("*.yaml"))


def load_environment(name: str, root: Path | None = None) -> LoadedEnvironment:
    """Parse and validate one environment file; raise InputError listing every problem.

    Also reads the other environment files for what spans environments: where the model registry lives
    and which accounts consume it, so no account id is ever written twice.
    """
    root = root or data_root()
    env = validate_environment(name, root)
    shown = f"{ENVIRONMENTS_DIR}/{name}.yaml"
    host_name = env.registry_environment or name
    if host_name == name:
        host = env
    else:
        if host_name not in known_environments(root):
            data = _read_yaml(root / ENVIRONMENTS_DIR / f"{name}.yaml", shown)
            raise InputError(
                [
                    Problem(
                        shown,
                        "registry_environment",
                        f"environment {host_name!r} does not exist; known environments: "
                        + ", ".join(known_environments(root)),
                        _line(data, ("registry_environment",)),
                    )
                ]
            )
        host = validate_environment(host_name, root)
    consumers = sorted(
        {
            other.account_id
            for other_name in known_environments(root)
            if host_name == name
            and other_name != name
            and (other := validate_environment(other_name, root)).registry_environment == name
        }
    )
    return LoadedEnvironment.model_construct(
        **dict(env),
        name=name,
        registry=RegistryLocation(environment=host_name, account_id=host.account_id, region=host.region),
        registry_consumer_account_ids=consumers,
    )


def validate_environment(name: str, root: Path) -> Environment:
    """Parse and validate one environment file on its own."""
    path = root / ENVIRONMENTS_DIR / f"{name}.yaml"
    shown = f"{ENVIRONMENTS_DIR}/{name}.yaml"
    if not path.is_file():
        known = ", ".join(known_environments(root)) or "none"
        raise InputError(
            [Problem(shown, "", f"unknown environment {name!r}: there is no {shown}; known environments: {known}")]
        )
    return _validated(shown, path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=64)
def _validated(shown: str, text: str) -> Environment:
    """The validated environment of one file's text (as `shown`), parsed and checked once per process per
    distinct content: `load_environment` validates every other environment file to find registry
    consumers, and a plan loads its environment twice (profiled: ~0.3 s per file). Keyed by the text
    itself, so an edited file is validated again; only valid files are cached (an error is raised anew
    each time), and the result is a frozen model. Plainly written files are parsed by libyaml
    (components/fast_yaml.py: ~10x faster at hundreds of models); a file with a problem is parsed again by
    ruamel's round-trip parser, which knows the lines."""
    fast = read_plain_yaml(text)
    if isinstance(fast, dict):
        try:
            return _checked(shown, fast)
        except InputError:
            pass  # parsed again with ruamel below, to say on which line
    return _checked(shown, _read_text(text, shown))


def _checked(shown: str, data: Any) -> Environment:
    """The validated environment, or InputError listing every problem (with lines when `data` is the
    round-trip parser's)."""
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        raise InputError([_problem(shown, data, err) for err in exc.errors()]) from None
    problems = [Problem(shown, _dotted(loc), msg, _line(data, loc)) for loc, msg in _reference_problems(env)]
    if problems:
        raise InputError(problems)
    return env


def _read_yaml(path: Path, shown: str) -> Any:
    return _read_text(path.read_text(encoding="utf-8"), shown)


def _read_text(text: str, shown: str) -> Any:
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        raise InputError([Problem(shown, "", f"YAML syntax error: {what}", line)]) from None
    if not isinstance(data, dict):
        raise InputError([Problem(shown, "", "the file must be a YAML mapping of environment settings", 1)])
    return data


def _finops_problems(env: Environment) -> list[tuple[Loc, str]]:
    """Alert recipients within what AWS accepts; serverless traffic only for models that exist."""
    found: list[tuple[Loc, str]] = []
    for i, team in enumerate(env.teams):
        if len(team.owners) > MAX_ALERT_EMAILS:
            found.append(
                (
                    ("teams", i, "owners"),
                    f"team {team.name!r} has {len(team.owners)} owners but a budget alert reaches at most "
                    f"{MAX_ALERT_EMAILS} email addresses: list a team mailing list instead of each person",
                )
            )
    everyone = {e for t in env.teams for e in t.owners}
    if not env.finops.alert_emails and len(everyone) > MAX_ALERT_EMAILS:
        found.append(
            (
                ("finops",),
                f"the environment's alerts go to every team owner when finops.alert_emails is empty, and there "
                f"are {len(everyone)}; an alert reaches at most {MAX_ALERT_EMAILS}: set finops.alert_emails",
            )
        )
    model_names = [m.name for m in env.models]
    referenced: list[tuple[str, list[str]]] = [
        ("serverless_usage", [u.model for u in env.finops.serverless_usage]),
        ("endpoint_traffic", [t.model for t in env.finops.endpoint_traffic]),
    ]
    for field, models in referenced:
        for i, model in enumerate(models):
            if model not in model_names:
                found.append(
                    (
                        ("finops", field, i, "model"),
                        f"model {model!r} does not exist; models here: {', '.join(model_names) or 'none'}",
                    )
                )
    return found


def _reference_problems(env: Environment) -> list[tuple[Loc, str]]:
    """Rules that span several entries, which field types alone cannot express."""
    found: list[tuple[Loc, str]] = _finops_problems(env)
    team_names = [t.name for t in env.teams]
    for loc, names, what in (("teams", team_names, "team"), ("models", [m.name for m in env.models], "model")):
        seen: set[str] = set()
        for i, n in enumerate(names):
            if n in seen:
                found.append(((loc, i, "name"), f"duplicate {what} name {n!r}: each {what} needs a unique name"))
            seen.add(n)
    for i, model in enumerate(env.models):
        if model.team not in team_names:
            found.append(
                (("models", i, "team"), f"team {model.team!r} does not exist; teams here: {', '.join(team_names)}")
            )
        for where, message in sagemaker_problems(model.serving, model.version, env.network is not None):
            found.append((("models", i, "serving", *where), message))
        if model.training is not None:
            found += [(("models", i, "training", f), msg) for f, msg in image_problems(env.region, model.training)]
    found += kubernetes_problems(env)
    if env.gitops.approval_dispatch is not None and env.registry_environment is not None:
        found.append(
            (
                ("gitops", "approval_dispatch"),
                f"approvals happen where the registry lives, and this environment serves from the registry in "
                f"{env.registry_environment!r}: move gitops.approval_dispatch to "
                f"environments/{env.registry_environment}.yaml",
            )
        )
    found += observability_problems(env)
    found += triage_problems(env)
    return found


def _problem(shown: str, data: Any, err: ErrorDetails) -> Problem:
    loc = err["loc"]
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        allowed = _allowed_fields(Environment, loc[:-1])
        message = f"unknown field {loc[-1]!r}; allowed here: {', '.join(allowed)}"
    elif err["type"] == "missing":
        message = "required field is missing"
    elif "input" in err and not isinstance(err["input"], (dict, list)):
        message = f"{message} (got {err['input']!r})"
    return Problem(shown, _dotted(loc), message, _line(data, loc))


def _allowed_fields(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the model found by following loc through the schema."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
        if current is None:
            return []
    return sorted(current.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as `X`, `X | None` or `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or getattr(annotation, "__metadata__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    origin = getattr(annotation, "__origin__", None)
    return _model_in(origin) if origin is not None and origin is not annotation else None


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line(data: Any, loc: Loc) -> int | None:
    """1-based line of the deepest part of loc that exists in the YAML."""
    line: int | None = None
    node = data
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line
