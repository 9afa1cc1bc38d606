"""Load `environments/<env>.yaml` into the schema, with file, line and field in every error."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from components.config import Environment, LoadedEnvironment, RegistryLocation
from components.config.batch import batch_problems
from components.config.features import feature_problems
from components.config.finops import MAX_ALERT_EMAILS
from components.config.kubernetes import kubernetes_problems
from components.config.observability import observability_problems
from components.config.serving import sagemaker_problems
from components.config.triage import triage_problems
from components.config.wording import in_words
from components.data_root import data_root
from components.errors import InputError, Problem
from components.fast_yaml import read_plain_yaml
from components.image_validation import image_problems
from components.sdk_images import model_monitor_registries

ENVIRONMENTS_DIR = "environments"

Loc = Sequence[int | str]


def known_environments(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / ENVIRONMENTS_DIR).glob("*.yaml"))


def load_environment(name: str, root: Path | None = None) -> LoadedEnvironment:
    """Parse and validate one environment file; raise InputError listing every problem.

    Also reads the other environment files for what spans environments: where the model registry lives
    and which accounts consume it, so no account id is ever written twice.
    """
    root = root or data_root()
    env = validate_environment(name, root)
    promotion_order(root)  # the same promotion graph `mlp promote` and `mlp affected` refuse, refused here too
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
        registry=RegistryLocation(
            environment=host_name,
            account_id=host.account_id,
            region=host.region,
            experiment_tracking=host.experiment_tracking.enabled,
        ),
        registry_consumer_account_ids=consumers,
    )


def promotion_order(root: Path) -> list[str]:
    """Environments in promotion (and deploy) order: each after the one it is promoted from.

    Environments no chain reaches, or chains that loop, are reported as input errors.
    """
    envs = {name: validate_environment(name, root) for name in known_environments(root)}

    def line_of(name: str) -> int | None:
        shown = f"{ENVIRONMENTS_DIR}/{name}.yaml"
        return _line(_read_yaml(root / shown, shown), ("promoted_from",))

    problems: list[Problem] = []
    for name, env in envs.items():
        if env.promoted_from is not None and env.promoted_from not in envs:
            problems.append(
                Problem(
                    f"{ENVIRONMENTS_DIR}/{name}.yaml",
                    "promoted_from",
                    f"environment {env.promoted_from!r} does not exist; known environments: {', '.join(envs)}",
                    line_of(name),
                )
            )
    if problems:
        raise InputError(problems)
    order: list[str] = []
    frontier = sorted(n for n, e in envs.items() if e.promoted_from is None)
    while frontier:
        current = frontier.pop(0)
        order.append(current)
        frontier.extend(sorted(n for n, e in envs.items() if e.promoted_from == current))
    looping = sorted(set(envs) - set(order))
    if looping:
        raise InputError(
            [
                Problem(
                    f"{ENVIRONMENTS_DIR}/{name}.yaml",
                    "promoted_from",
                    f"promotion order loops ({' -> '.join(looping)}): one environment must be the first stage, "
                    "with no promoted_from",
                    line_of(name),
                )
                for name in looping
            ]
        )
    return order


def validate_environment(name: str, root: Path) -> Environment:
    """Parse and validate one environment file on its own."""
    path = root / ENVIRONMENTS_DIR / f"{name}.yaml"
    shown = f"{ENVIRONMENTS_DIR}/{name}.yaml"
    if not path.is_file():
        known = ", ".join(known_environments(root)) or "none"
        raise InputError(
            [Problem(shown, "", f"unknown environment {name!r}: there is no {shown}; known environments: {known}")]
        )
    return _validated(shown, read_text(path, shown))


def read_text(path: Path, shown: str) -> str:
    """The file's text, or InputError naming the file and the line of the first byte that is not UTF-8."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    shown,
                    "",
                    f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as "
                    "UTF-8 (YAML files are UTF-8)",
                    line,
                )
            ]
        ) from None


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
    return _checked(shown, _read_text(text, shown), text)


def _checked(shown: str, data: Any, text: str | None = None) -> Environment:
    """The validated environment, or InputError listing every problem (with lines when `data` is the
    round-trip parser's, and values as written when `text` is given)."""
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        lines = text.splitlines() if text is not None else []
        problems = [_problem(shown, data, err, lines) for err in exc.errors()]
        # The rules between entries need a valid file, but the names they compare are plain values: report
        # those too, so one run shows every problem of the file.
        seen = {p.path for p in problems}
        problems += [
            Problem(shown, _dotted(loc), msg, _line(data, loc))
            for loc, msg in _name_problems(data)
            if _dotted(loc) not in seen
        ]
        raise InputError(problems) from None
    problems = [Problem(shown, _dotted(loc), msg, _line(data, loc)) for loc, msg in _reference_problems(env)]
    if problems:
        raise InputError(problems)
    return env


def _read_yaml(path: Path, shown: str) -> Any:
    return _read_text(read_text(path, shown), shown)


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


def _duplicate_name(what: str, name: str) -> str:
    return f"duplicate {what} name {name!r}: each {what} needs a unique name"


def _shared_group(group: str, owner: str) -> str:
    return (
        f"registry group {group!r} is already model {owner!r}'s: each model needs its own model package group "
        "(its versions, approvals and registry resources); choose another name"
    )


def _name_problems(data: Any) -> list[tuple[Loc, str]]:
    """Duplicate team and model names, shared registry groups and unknown teams, read from the file's plain
    values (for a file that does not validate as a whole)."""

    def entries(key: str) -> list[dict[str, Any]]:
        value = data.get(key) if isinstance(data, dict) else None
        return [e if isinstance(e, dict) else {} for e in value] if isinstance(value, list) else []

    teams, models = entries("teams"), entries("models")
    team_names = [str(t.get("name")) for t in teams]
    found: list[tuple[Loc, str]] = []
    for key, what, items in (("teams", "team", teams), ("models", "model", models)):
        names = [i.get("name") for i in items]
        for n, name in enumerate(names):
            if isinstance(name, str) and name in names[:n]:
                found.append(((key, n, "name"), _duplicate_name(what, name)))
    groups = [m.get("registry_group") for m in models]
    for n, group in enumerate(groups):
        if isinstance(group, str) and group in groups[:n]:
            owner = str(models[groups.index(group)].get("name"))
            found.append((("models", n, "registry_group"), _shared_group(group, owner)))
    for n, model in enumerate(models):
        team = model.get("team")
        if isinstance(team, str) and teams and team not in team_names:
            found.append((("models", n, "team"), f"team {team!r} does not exist; teams here: {', '.join(team_names)}"))
    return found


def _aws_name_problems(env: Environment) -> list[tuple[Loc, str]]:
    """Names that become AWS names must be unique where AWS requires it: one model package group per model
    (a group is one model's audit trail, and its name is unique per account and region), one scheduled
    action per scale-down window of an endpoint."""
    found: list[tuple[Loc, str]] = []
    groups: dict[str, str] = {}
    for i, model in enumerate(env.models):
        owner = groups.setdefault(model.registry_group, model.name)
        if owner != model.name:
            found.append((("models", i, "registry_group"), _shared_group(model.registry_group, owner)))
        scaling = model.serving.autoscaling
        windows = [w.name for w in scaling.scale_down_windows] if scaling else []
        for j, window in enumerate(windows):
            if window in windows[:j]:
                found.append(
                    (
                        ("models", i, "serving", "autoscaling", "scale_down_windows", j, "name"),
                        f"window name {window!r} is used twice: each window becomes scheduled actions named after "
                        "it; give each window a unique name",
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
                found.append(((loc, i, "name"), _duplicate_name(what, n)))
            seen.add(n)
    found += _aws_name_problems(env)
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
    found += _region_image_problems(env)
    found += feature_problems(env)
    found += batch_problems(env)
    return found


def _region_image_problems(env: Environment) -> list[tuple[Loc, str]]:
    """The region publishes the images the environment's components run: Model Monitor's analyzer, which the
    monitors of models that capture data and the training pipelines' baseline step use. Blamed on `region`,
    which is what to change (or the models' settings that need the image)."""
    registries = model_monitor_registries()
    needing = [
        m.name
        for m in env.models
        if m.training is not None or (m.serving.platform == "sagemaker" and m.serving.data_capture is not None)
    ]
    if not needing or env.region in registries:
        return []
    nearby = [r for r in sorted(registries) if r.split("-")[0] == env.region.split("-")[0]][:4]
    return [
        (
            ("region",),
            f"Model Monitor publishes no analyzer image in {env.region} (sagemaker SDK image_uri_config/"
            f"model-monitor.json), and models here need it for the monitors of captured data and the training "
            f"pipelines' baseline step: {', '.join(needing)}; deploy to a region that has it, e.g. "
            f"{', '.join(nearby or ['us-east-1', 'eu-west-1'])}, or remove those models' serving.data_capture "
            "and training",
        )
    ]


def _problem(shown: str, data: Any, err: ErrorDetails, lines: Sequence[str] = ()) -> Problem:
    loc = _written_loc(data, err["loc"])
    line = _line(data, loc)
    if err["type"] == "extra_forbidden":
        allowed = _allowed_fields(Environment, err["loc"][:-1])
        message = f"unknown field {loc[-1]!r}; allowed here: {', '.join(allowed)}"
    elif err["type"] == "missing":
        message = "required field is missing"
    else:
        raw = None
        if line is not None and 0 < line <= len(lines) and ":" in lines[line - 1]:
            raw = lines[line - 1].split(":", 1)[1].split("#", 1)[0].strip() or None
        message = in_words(err, _allowed_fields(Environment, err["loc"]), raw)
    return Problem(shown, _dotted(loc), message, line)


def _written_loc(data: Any, loc: Loc) -> Loc:
    """The error's location as the file spells it: without the parts pydantic adds for a union, which are not
    keys of the file (the tag of a discriminated union, `canary` in rollout.canary.percent, or a member's
    type name)."""
    shown: list[int | str] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part not in node:
            if "[" in part or part in [str(v) for v in node.values()]:
                continue
            node = None
        else:
            node = _child(node, part)
        shown.append(part)
    return tuple(shown)


def _child(node: Any, part: int | str) -> Any:
    """The mapping's or list's entry at `part`, or None."""
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _allowed_fields(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the model found by following loc through the schema (through a union's tag too)."""
    current: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        holder = next((m for m in current if part in m.model_fields), None)
        if holder is not None:
            current = _models_in(holder.model_fields[part].annotation)
        else:  # a union's tag or member name: keep the member it names
            current = [m for m in current if part in _literals(m) or part == m.__name__][:1]
        if not current:
            return []
    return sorted(current[0].model_fields) if len(current) == 1 else []


def _literals(model: type[BaseModel]) -> set[str]:
    return {str(a) for f in model.model_fields.values() for a in getattr(f.annotation, "__args__", ()) or ()}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Every pydantic model inside an annotation such as `X`, `X | None`, `list[X]` or a union of models."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or getattr(annotation, "__metadata__", ()):
        found += [m for m in _models_in(arg) if m not in found]
    origin = getattr(annotation, "__origin__", None)
    if not found and origin is not None and origin is not annotation:
        found = _models_in(origin)
    return found


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
