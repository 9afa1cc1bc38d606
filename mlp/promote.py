"""`mlp promote`: move a model version one environment up the promotion chain, by pull request.

The promotion order is data: each environment names the one it is `promoted_from`, and the chain of those
fields (dev -> staging -> prod) is the order promotions and deploys follow. A promotion passes these gates,
each refusing with its reason:

1. the version exists in the model package group of the registry and is Approved;
2. the environment below (`promoted_from`) already serves that version, so no stage is skipped, and the
   target does not already serve it or a newer one (rolling back is a revert of the promotion commit);
3. optionally (`--alarm-prefix`), none of the environment below's rollback alarms is in ALARM.

Then it edits `environments/<env>.yaml` in place (one line), commits on `promote/<model>-<env>-v<N>`,
and opens the pull request (GitHub REST API when a token is set, else prints the `gh` command).
"""

from __future__ import annotations

import difflib
import io
import json
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from components.config import Environment, LoadedEnvironment, Model
from components.loader import (
    ENVIRONMENTS_DIR,
    load_environment,
    validate_environment,
)
from components.loader import promotion_order as loader_promotion_order

PR_MARKER = "<!-- mlp-promote -->"


class PromotionRefusedError(Exception):
    """A gate failed; the message says which and what to do."""


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
        page = sagemaker.list_model_packages(**kwargs)
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
    except Exception as exc:  # noqa: BLE001 - any registry failure refuses the promotion with its reason
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
    described = sagemaker.describe_model_package(ModelPackageName=chosen.arn)
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
        page = cloudwatch.describe_alarms(**kwargs)
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
    quotes and flow style kept) and return the new text. Refuses if anything but that line would change."""
    original = path.read_text(encoding="utf-8")
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(original)
    for model in data.get("models") or []:
        if model.get("name") == model_name:
            model["version"] = version
            break
    else:
        raise PromotionRefusedError(f"model {model_name!r} is not in {path.name}")
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    updated = buffer.getvalue()
    changed = [
        line
        for line in difflib.unified_diff(original.splitlines(), updated.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    if len(changed) != 2:
        raise PromotionRefusedError(
            f"editing {path.name} would change {len(changed)} lines, not one: the file's layout is not what the "
            "round trip writes back; edit the version by hand"
        )
    path.write_text(updated, encoding="utf-8")
    return updated


# --- git and the pull request ------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PromotionRefusedError(f"git {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def commit_promotion(root: Path, promotion: Promotion) -> None:
    """Edit the environment file and commit it on the promotion branch (created from the current HEAD)."""
    rel = f"{ENVIRONMENTS_DIR}/{promotion.target}.yaml"
    if git(root, "status", "--porcelain", "--", rel).strip():
        raise PromotionRefusedError(f"{rel} has uncommitted changes: commit or stash them first")
    if git(root, "branch", "--list", promotion.branch).strip():
        raise PromotionRefusedError(f"branch {promotion.branch} already exists: this promotion is already under way")
    git(root, "switch", "--quiet", "-c", promotion.branch)
    set_model_version(root / rel, promotion.model, promotion.to_version)
    git(root, "add", "--", rel)
    git(root, "commit", "--quiet", "-m", promotion.commit_message())


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
