"""`mlp promote`: move a model version one environment up the promotion chain, by pull request.

The promotion order is data: each environment names the one it is `promoted_from`, and the chain of those
fields (dev -> staging -> prod) is the order promotions and deploys follow. A promotion passes these gates,
each refusing with its reason:

1. the version exists in the model package group of the registry and is Approved;
2. the environment below (`promoted_from`) already serves that version, so no stage is skipped, and the
   target does not already serve it or a newer one (rolling back is a revert of the promotion commit);
3. optionally (`--alarm-prefix`), none of the environment below's rollback alarms is in ALARM.

Then it edits `environments/<env>.yaml` (one line; a shadow running that version becomes the champion),
validates the edited tree, regenerates what the edit makes stale (runbooks), commits on
`promote/<model>-<env>-v<N>` beside the person's checkout, and opens the pull request (GitHub REST API
when a token is set, else prints the `gh` command): mlp/promotion_branch.py, which also makes re-runs
converge. Which stage an approval goes to (`next_stage`) and which promotions a deploy makes due
(`pending_promotions`) are the lifecycle of docs/gitops.md.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import Environment, LoadedEnvironment, Model
from components.errors import InputError
from components.loader import (
    ENVIRONMENTS_DIR,
    known_environments,
    load_environment,
    validate_environment,
)
from components.loader import promotion_order as loader_promotion_order
from mlp.yaml_edit import dump_changes, round_trip_yaml

PR_MARKER = "<!-- mlp-promote -->"


class PromotionRefusedError(Exception):
    """A gate failed; the message says which and what to do."""


class PromotionFaultError(Exception):
    """Something outside the repository (the registry, the git remote, GitHub) failed after its retries;
    the message says what failed. The command adds what was already done and what to do."""


# Registry calls are retried here, not by botocore (its clients are made with one attempt), so one policy,
# with delays tests can make instant, decides. Error codes AWS uses for throttling: botocore's own list
# (botocore/retries/standard.py, ThrottledRetryableChecker, in the locked botocore; read 2026-11-30).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
REGISTRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
sleep = time.sleep
"""How the retries wait; tests replace it with a recorder so no test really sleeps."""


def _transient(exc: Exception) -> str | None:
    """Why a registry call may succeed when repeated (throttled, 5xx, unreachable), or None."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in THROTTLING_CODES:
            return f"throttled ({code})"
        if status >= 500:
            return f"HTTP {status} ({code})"
        return None
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return f"unreachable ({exc})"
    return None


def registry_call(call: Any, what: str, service: str = "the model registry", **kwargs: Any) -> Any:
    """`call(**kwargs)`, repeated after REGISTRY_DELAYS while the service is throttled or unreachable."""
    for delay in (*REGISTRY_DELAYS, None):
        try:
            return call(**kwargs)
        except Exception as exc:
            reason = _transient(exc)
            if reason is None:
                raise
            if delay is None:
                raise PromotionFaultError(
                    f"{service} did not answer {what}: {reason}, {len(REGISTRY_DELAYS) + 1} attempts"
                ) from None
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class RegistryVersion:
    """One version of a model package group, as the registry describes it."""

    version: int
    arn: str
    approval_status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    """describe_model_package's ModelMetrics (report locations per kind)."""


@dataclass(frozen=True)
class Promotion:
    """A promotion whose gates passed."""

    model: str
    registry_group: str
    target: str
    source: str | None
    from_version: int
    to_version: int
    package_arn: str
    gates: list[str]
    metrics_markdown: str

    @property
    def branch(self) -> str:
        return f"promote/{self.model}-{self.target}-v{self.to_version}"

    @property
    def title(self) -> str:
        return f"Promote {self.model} to {self.target}: v{self.from_version} -> v{self.to_version}"

    def commit_message(self) -> str:
        lines = [
            self.title,
            "",
            f"Model: {self.model} (model package group {self.registry_group})",
            f"Environment: {self.target} (environments/{self.target}.yaml)",
            f"Version: {self.from_version} -> {self.to_version} ({self.package_arn})",
            "Gates passed:",
            *[f"- {gate}" for gate in self.gates],
        ]
        return "\n".join(lines) + "\n"

    def pr_body(self) -> str:
        return "\n".join(
            [
                PR_MARKER,
                f"Promotes **{self.model}** in **{self.target}** from version {self.from_version} to "
                f"**{self.to_version}** (`{self.package_arn}`).",
                "",
                "### Gates passed",
                *[f"- [x] {gate}" for gate in self.gates],
                "",
                "### Evaluation metrics (model registry)",
                self.metrics_markdown,
                "",
                f"Merging deploys `{self.target}`; the deploy workflow runs `pulumi up` for its stack.",
            ]
        )


# --- promotion order ------------------------------------------------------------------------------------


def promotion_order(root: Path) -> list[str]:
    """Environments in promotion (and deploy) order; the loader's check, which `mlp plan` applies too."""
    return loader_promotion_order(root)


def next_environments(root: Path, source: str) -> list[str]:
    """Environments promoted from `source` (the stages right above it)."""
    return [n for n in promotion_order(root) if validate_environment(n, root).promoted_from == source]


# --- gates ----------------------------------------------------------------------------------------------


def find_model(env: Environment, env_name: str, model: str) -> Model:
    """The model named `model` (or whose registry group is `model`) in the environment."""
    for candidate in env.models:
        if model in (candidate.name, candidate.registry_group):
            return candidate
    known = ", ".join(m.name for m in env.models) or "none"
    raise PromotionRefusedError(f"model {model!r} is not in environments/{env_name}.yaml; models there: {known}")


def registry_versions(sagemaker: Any, group: str) -> dict[int, RegistryVersion]:
    """Every version of a model package group (list_model_packages, paginated)."""
    versions: dict[int, RegistryVersion] = {}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"ModelPackageGroupName": group, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = registry_call(sagemaker.list_model_packages, f"list_model_packages on {group!r}", **kwargs)
        for summary in page.get("ModelPackageSummaryList", []):
            number = summary.get("ModelPackageVersion")
            if number is None:
                continue
            versions[int(number)] = RegistryVersion(
                version=int(number),
                arn=summary["ModelPackageArn"],
                approval_status=str(summary.get("ModelApprovalStatus", "PendingManualApproval")),
            )
        token = page.get("NextToken")
        if not token:
            return versions


def check_version(sagemaker: Any, group: str, version: int | None, registry_env: str) -> RegistryVersion:
    """Gate 1: the version exists and is Approved. Without a version: the newest Approved one."""
    try:
        versions = registry_versions(sagemaker, group)
    except PromotionFaultError:
        raise
    except Exception as exc:  # noqa: BLE001 - any other registry failure refuses the promotion with its reason
        raise PromotionRefusedError(
            f"cannot read model package group {group!r} in the {registry_env} registry: {exc}"
        ) from None
    if not versions:
        raise PromotionRefusedError(f"model package group {group!r} in the {registry_env} registry has no versions")
    if version is None:
        approved = [v for v in versions.values() if v.approval_status == "Approved"]
        if not approved:
            raise PromotionRefusedError(
                f"no version of {group!r} is Approved in the {registry_env} registry: approve one first"
            )
        chosen = max(approved, key=lambda v: v.version)
    else:
        if version not in versions:
            raise PromotionRefusedError(
                f"version {version} of {group!r} does not exist in the {registry_env} registry; "
                f"versions there: {', '.join(str(v) for v in sorted(versions))}"
            )
        chosen = versions[version]
        if chosen.approval_status != "Approved":
            raise PromotionRefusedError(
                f"version {version} of {group!r} is {chosen.approval_status}, not Approved: approve it in the "
                f"{registry_env} registry (ModelApprovalStatus=Approved) before promoting it"
            )
    try:
        described = registry_call(
            sagemaker.describe_model_package, f"describe_model_package on {chosen.arn}", ModelPackageName=chosen.arn
        )
    except PromotionFaultError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. AccessDenied: refuse with the registry's reason
        raise PromotionRefusedError(f"cannot describe {chosen.arn} in the {registry_env} registry: {exc}") from None
    return RegistryVersion(chosen.version, chosen.arn, chosen.approval_status, described.get("ModelMetrics") or {})


def check_order(target: str, source: str | None, target_version: int, source_version: int | None, version: int) -> str:
    """Gate 2: the stage below serves the version, and the target moves forward."""
    if target_version == version:
        raise PromotionRefusedError(f"{target} already serves version {version}: nothing to promote")
    if target_version > version:
        raise PromotionRefusedError(
            f"{target} serves version {target_version}, newer than {version}: promotion only moves forward; "
            "to roll back, revert the promotion commit that brought the newer version"
        )
    if source is None:
        return f"{target} is the first stage of the promotion order"
    if source_version != version:
        raise PromotionRefusedError(
            f"{source} serves version {source_version}, not {version}: promotion goes {source} -> {target} "
            f"without skipping; promote version {version} to {source} first"
        )
    return f"promotion order {source} -> {target}: {source} already serves version {version}"


def check_alarms(cloudwatch: Any, source: str, prefix: str) -> str:
    """Gate 3 (optional): no alarm whose name starts with `prefix` is in ALARM in the stage below."""
    firing: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"AlarmNamePrefix": prefix, "StateValue": "ALARM"}
        if token:
            kwargs["NextToken"] = token
        try:
            page = registry_call(cloudwatch.describe_alarms, f"describe_alarms in {source}", "CloudWatch", **kwargs)
        except PromotionFaultError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. AccessDenied: the gate cannot pass unread
            raise PromotionRefusedError(f"cannot read the rollback alarms of {source}: {exc}") from None
        # StateValue is filtered again here: the API applies it, but moto ignores it next to a prefix.
        alarms = page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
        firing += [a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM"]
        token = page.get("NextToken")
        if not token:
            break
    if firing:
        raise PromotionRefusedError(
            f"rollback alarms of {source} are in ALARM: {', '.join(sorted(firing))}; promote once they are OK"
        )
    return f"no rollback alarm of {source} (prefix {prefix!r}) is in ALARM"


# --- evaluation metrics -----------------------------------------------------------------------------------


def metrics_markdown(model_metrics: dict[str, Any], s3: Any | None) -> str:
    """Markdown of the package's ModelMetrics: each report's numbers when its JSON can be read from S3
    (SageMaker's evaluation format: {"<kind>_metrics": {"<name>": {"value": x}}}), else its location."""
    reports: list[tuple[str, str]] = []
    for section, kinds in sorted(model_metrics.items()):
        for kind, source in sorted((kinds or {}).items()):
            uri = (source or {}).get("S3Uri")
            if uri:
                reports.append((f"{section}.{kind}", uri))
    if not reports:
        return "_The registry holds no evaluation metrics for this version (ModelMetrics is empty)._"
    out: list[str] = []
    for name, uri in reports:
        values = _read_metric_values(s3, uri) if s3 is not None else None
        if values:
            out += [f"**{name}** (`{uri}`)", "", "| metric | value |", "|---|---|"]
            out += [f"| {k} | {v} |" for k, v in values]
            out.append("")
        else:
            out.append(f"- **{name}**: `{uri}` (report not readable here; open it from the registry)")
    return "\n".join(out).rstrip()


def _read_metric_values(s3: Any, uri: str) -> list[tuple[str, Any]] | None:
    if not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[len("s3://") :].partition("/")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        doc = json.loads(body)
    except Exception:  # noqa: BLE001 - an unreadable report falls back to its location
        return None
    values: list[tuple[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "value" in node and isinstance(node["value"], (int, float)):
                values.append((path, node["value"]))
                return
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)

    walk(doc, "")
    return values or None


# --- the environment file edit -----------------------------------------------------------------------------


def set_model_version(path: Path, model_name: str, version: int) -> str:
    """Rewrite `models[<model>].version` in the file through a ruamel round trip (comments, key order,
    quotes and flow style kept) and return the new text.

    When the model's shadow runs exactly this version, the edit a person would make is made: the
    challenger becomes the champion and `serving.shadow` goes (a shadow equal to the served version is an
    input error). Refuses if anything else would change."""
    text = edited_model_version(path.read_text(encoding="utf-8"), path.name, model_name, version)
    path.write_text(text, encoding="utf-8")
    return text


def edited_model_version(original: str, shown: str, model_name: str, version: int) -> str:
    """The text of an environment file with `models[<model>].version` set (see set_model_version)."""
    yaml = round_trip_yaml()
    data = yaml.load(original)
    shadow_line: tuple[int, int] | None = None
    for model in data.get("models") or []:
        if model.get("name") == model_name:
            model["version"] = version
            serving = model.get("serving")
            shadow = serving.get("shadow") if isinstance(serving, dict) else None
            if isinstance(shadow, dict) and shadow.get("version") == version:
                shadow_line = serving.lc.key("shadow")
            break
    else:
        raise PromotionRefusedError(f"model {model_name!r} is not in {shown}")
    updated, changed = dump_changes(yaml, data, original)
    if len(changed) != 2 or not re.fullmatch(rf"\+\s*version: {version}(\s+#.*)?", changed[1]):
        raise PromotionRefusedError(
            f"editing {shown} would change {len(changed)} lines, not one: the file's layout is not what the "
            "round trip writes back; edit the version by hand"
        )
    if shadow_line is None:
        return updated
    # The shadow goes as a block of lines (its key and everything indented under it), so comments around
    # it stay where they are; the version line above it kept its place, so the line numbers hold.
    lines = updated.splitlines(keepends=True)
    start, column = shadow_line
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > column):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "".join(lines[:start] + lines[end:])


# --- git and the pull request ------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PromotionRefusedError(f"git {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def gh_command(promotion: Promotion, base: str, body_file: Path) -> str:
    """The exact command that opens the pull request when no token is set."""
    return shlex.join(
        [
            "gh",
            "pr",
            "create",
            "--base",
            base,
            "--head",
            promotion.branch,
            "--title",
            promotion.title,
            "--body-file",
            str(body_file),
        ]
    )


# --- putting it together -----------------------------------------------------------------------------------


def plan_promotion(
    root: Path,
    model: str,
    target: str,
    *,
    version: int | None,
    sagemaker: Any,
    s3: Any | None = None,
    cloudwatch: Any | None = None,
    alarm_prefix: str | None = None,
) -> Promotion:
    """Run every gate and describe the promotion; raises PromotionRefusedError at the first failing gate."""
    order = promotion_order(root)
    target_env: LoadedEnvironment = load_environment(target, root)
    target_model = find_model(target_env, target, model)
    source = target_env.promoted_from
    source_model: Model | None = None
    if source is not None:
        source_model = find_model(validate_environment(source, root), source, target_model.name)
        if version is None:
            version = source_model.version
    registry = target_env.registry
    found = check_version(sagemaker, target_model.registry_group, version, registry.environment)
    gates = [
        f"version {found.version} exists in model package group {target_model.registry_group} "
        f"({registry.environment} registry) and is Approved"
    ]
    gates.append(
        check_order(target, source, target_model.version, source_model.version if source_model else None, found.version)
    )
    gates[-1] += f" (order: {' -> '.join(order)})"
    if alarm_prefix:
        if source is None or cloudwatch is None:
            gates.append("rollback alarms not checked: there is no environment below to watch")
        else:
            gates.append(check_alarms(cloudwatch, source, alarm_prefix))
    return Promotion(
        model=target_model.name,
        registry_group=target_model.registry_group,
        target=target,
        source=source,
        from_version=target_model.version,
        to_version=found.version,
        package_arn=found.arn,
        gates=gates,
        metrics_markdown=metrics_markdown(found.metrics, s3),
    )


# --- the edited tree: validated, and what it makes stale regenerated ---------------------------------------


def prepare_tree(tree: Path, target: str) -> list[str]:
    """Validate the edited tree with the loader `mlp plan` uses, then regenerate the committed files the
    version change makes stale; returns their paths (relative to the tree) for the commit.

    Runbooks name the served version, so they are regenerated (when the repository commits them).
    Pipeline renderings hold only the training spec, which a promotion does not touch, so they stay."""
    try:
        for name in known_environments(tree):
            load_environment(name, tree)
        promotion_order(tree)
    except InputError as exc:
        raise PromotionRefusedError(
            f"the promoted {ENVIRONMENTS_DIR}/{target}.yaml would not load, so nothing was committed: "
            + "; ".join(str(p) for p in exc.problems)
        ) from None
    from mlp.generated import write_files
    from mlp.plan import build_plan
    from mlp.runbook import RUNBOOK_SUFFIX, RUNBOOKS_DIR, render_runbooks, runbook_dir

    directory = runbook_dir(tree, target)
    if not directory.is_dir():
        return []
    wanted = render_runbooks(load_environment(target, tree), build_plan(target, tree))
    return [str(RUNBOOKS_DIR / target / name) for name in write_files(directory, wanted, RUNBOOK_SUFFIX)]


# --- which promotions are due ------------------------------------------------------------------------------


def served_in(root: Path, env_name: str, model: str) -> Model | None:
    """The model (by name or registry group) in an environment, or None when it is not served there."""
    env = validate_environment(env_name, root)
    return next((m for m in env.models if model in (m.name, m.registry_group)), None)


def next_stage(root: Path, model: str, version: int) -> str | None:
    """The lowest stage of the promotion order that serves `model` at a version older than `version`:
    where an approval of `version` goes next (None when every stage serving it serves it or newer).

    Stages are walked in order and the walk stops at a stage without the model: adding a model to an
    environment is a person's change, not a promotion. A stage whose stage below serves another version
    than `version` is not waiting for it (a late approval of a version a newer one has overtaken)."""
    below: int | None = None
    for env_name in promotion_order(root):
        served = served_in(root, env_name, model)
        if served is None:
            return None
        if served.version < version:
            return env_name if below in (None, version) else None
        below = served.version
    return None


def pending_promotions(root: Path) -> list[tuple[str, str, int]]:
    """(model, target, version) for every stage serving a model older than the stage below it does: what
    the lifecycle promotes after a deploy. The first stage is moved by registry approvals instead."""
    due: list[tuple[str, str, int]] = []
    order = promotion_order(root)
    models = sorted({m.name for env_name in order for m in validate_environment(env_name, root).models})
    for model in models:
        for env_name in order:
            source = validate_environment(env_name, root).promoted_from
            if source is None:
                continue
            below, here = served_in(root, source, model), served_in(root, env_name, model)
            if below is not None and here is not None and below.version > here.version:
                due.append((model, env_name, below.version))
    return due
