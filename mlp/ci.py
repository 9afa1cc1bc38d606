"""What the workflows do, as tested Python: each `run:` step of preview.yml and deploy.yml is one `mlp ci` call.

- `stack_env`: the role ARN, region and state backend of a stack, derived from its environment file and the
  bootstrap's names (components/bootstrap_names.py), for `$GITHUB_ENV`.
- `write_kubeconfig`: `aws eks update-kubeconfig` for stacks that declare `kubernetes:`, before Pulumi runs.
- `run_pulumi`: `pulumi preview` / `pulumi up` with the environment's policy-pack config, writing its report
  section whether or not Pulumi succeeded (the comment is never empty because a preview failed).
- `offline_report`: `mlp cost / policy / tags / plan` as a markdown section, each with its exit code.
- `comment_body`: the one pull-request comment, assembled from the sections the jobs left.
- `deploy_guard`: refuse to deploy a commit that is no longer the tip of main (a re-run of an old deploy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ruamel.yaml import YAML

from components.bootstrap_names import Role, backend_url, role_arn
from components.data_root import repo_root
from components.errors import InputError, Problem
from components.loader import load_environment
from mlp.stack_config import stack_config_path

Operation = Literal["preview", "up"]

COMMENT_MARKER = "<!-- mlp-preview -->"
COMMENT_LIMIT = 64000
"""GitHub caps a comment body at 65536 characters; keep room for the cut notice."""
SECTION_OUTPUT_LIMIT = 20000
"""Characters of one command's output kept in a section (the full text is in the workflow log)."""
POLICY_PACK = "policies"


@dataclass(frozen=True)
class Result:
    """What a command printed and how it exited."""

    code: int
    output: str


Runner = Callable[[Sequence[str], dict[str, str] | None], Result]


def run_command(argv: Sequence[str], env: dict[str, str] | None = None) -> Result:
    """Run a command, echo its output to the log as it comes, and keep it (stdout and stderr merged)."""
    process = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return Result(process.wait(), "".join(lines))


def stack_env(stack: str, role: Role, root: Path | None = None) -> dict[str, str]:
    """Variables a job needs for a stack: which role to assume, in which region, and where the state is."""
    env = load_environment(stack, root)
    return {
        "AWS_ROLE_ARN": role_arn(env.account_id, role),
        "AWS_REGION": env.region,
        "PULUMI_BACKEND_URL": backend_url(env.account_id, env.region),
    }


def kubeconfig_path(stack: str, directory: Path) -> Path:
    return directory / f"kubeconfig-{stack}"


def write_kubeconfig(
    stack: str, directory: Path, runner: Runner = run_command, root: Path | None = None
) -> Path | None:
    """Write the cluster's kubeconfig with `aws eks update-kubeconfig` when the stack declares `kubernetes:`.

    The context it writes is the cluster's ARN, the context the Kubernetes provider selects by default
    (components/kubernetes.py `eks_context`); credentials come from `aws eks get-token` with the job's role.
    Returns the file, or None when the stack has no cluster.
    """
    env = load_environment(stack, root)
    if env.kubernetes is None:
        return None
    path = kubeconfig_path(stack, directory)
    argv = ["aws", "eks", "update-kubeconfig", "--name", env.kubernetes.cluster_name, "--region", env.region]
    result = runner([*argv, "--kubeconfig", str(path)], None)
    if result.code != 0:
        raise CiError(
            f"aws eks update-kubeconfig for cluster {env.kubernetes.cluster_name} failed (exit {result.code})"
        )
    return path


class CiError(Exception):
    """A step cannot go on; the message says why and what to do."""


def check_encrypted_key(stack: str, root: Path | None = None) -> None:
    """The stack file must carry the `encryptedkey` of its awskms secrets provider.

    Without it the CLI makes a new data key on every run (needing kms:Encrypt, which the preview role lacks)
    and writes it into a stack file the runner then throws away
    (https://www.pulumi.com/docs/iac/concepts/secrets/#configuring-secrets-encryption, read 2026-11-30).
    """
    base = root or repo_root()
    path = stack_config_path(base, stack)
    shown = f"stacks/{path.name}"
    doc = YAML(typ="safe").load(path.read_text(encoding="utf-8")) if path.is_file() else None
    if not isinstance(doc, dict) or not doc.get("secretsprovider"):
        raise InputError([Problem(shown, "secretsprovider", "missing: name the state KMS key (docs/gitops.md)")])
    if not doc.get("encryptedkey"):
        raise InputError(
            [
                Problem(
                    shown,
                    "encryptedkey",
                    "missing: every run would make a new data key (kms:Encrypt) and lose it with the runner; "
                    f"run `pulumi stack change-secrets-provider {doc['secretsprovider']!r} -s {stack}` once with "
                    "the deploy role (docs/gitops.md, bootstrap) and commit the key it writes",
                )
            ]
        )


def write_pack_config(stack: str, directory: Path, root: Path | None = None) -> Path:
    """The environment's policy-pack config (what `mlp policy ENV --pack-config` prints), as a file."""
    from policies.config import pack_config  # here: the policy rules import Pulumi, which `mlp ci env` needs not

    env = load_environment(stack, root)
    path = directory / f"policy-config-{stack}.json"
    path.write_text(json.dumps(pack_config(env.policies), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def pulumi_argv(operation: Operation, stack: str, pack_config_file: Path, message: str | None = None) -> list[str]:
    """The CLI call (flags: https://www.pulumi.com/docs/iac/cli/commands/pulumi_preview/ and .../pulumi_up/,
    read 2026-11-30). `up` has no `--skip-preview`: the CLI previews with the policy pack first and changes
    nothing when a mandatory policy fails."""
    argv = ["pulumi", operation, "--stack", stack, "--non-interactive", "--diff", "--color", "never"]
    argv += ["--suppress-progress", "--policy-pack", POLICY_PACK, "--policy-pack-config", str(pack_config_file)]
    if operation == "up":
        argv += ["--yes"]
        if message:
            argv += ["--message", message]
    return argv


def run_pulumi(
    operation: Operation,
    stack: str,
    report: Path,
    *,
    work_dir: Path,
    message: str | None = None,
    runner: Runner = run_command,
    root: Path | None = None,
) -> int:
    """Run `pulumi preview|up` for a stack and always write its report section; return Pulumi's exit code.

    Refuses (exit 2, the reason in the section) before calling Pulumi when the stack file has no
    `encryptedkey`, or when the stack declares `kubernetes:` and no kubeconfig was written.
    """
    title = f"pulumi {operation}"
    try:
        check_encrypted_key(stack, root)
        env = load_environment(stack, root)
        if env.kubernetes is not None and not Path(os.environ.get("KUBECONFIG", "")).is_file():
            raise CiError(
                f"environments/{stack}.yaml declares kubernetes: but KUBECONFIG names no file; run "
                f"`mlp ci kubeconfig {stack}` first"
            )
        config_file = write_pack_config(stack, work_dir, root)
    except InputError as exc:
        text = "\n".join(f"error: {p}" for p in exc.problems)
        report.write_text(section(stack, title, 2, text), encoding="utf-8")
        print(text, file=sys.stderr)
        return 2
    except CiError as exc:
        report.write_text(section(stack, title, 2, f"error: {exc}"), encoding="utf-8")
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = runner(pulumi_argv(operation, stack, config_file, message), None)
    report.write_text(section(stack, title, result.code, result.output), encoding="utf-8")
    return result.code


def section(stack: str, title: str, code: int, output: str) -> str:
    """One report block: title, outcome and output; long output keeps its end (where errors are)."""
    outcome = "succeeded" if code == 0 else f"FAILED (exit {code})"
    text = output if len(output) <= SECTION_OUTPUT_LIMIT else "…\n" + output[-SECTION_OUTPUT_LIMIT:]
    fence = "````" if "```" in text else "```"
    return (
        f"### {title} `{stack}`: {outcome}\n\n<details><summary>{title} output</summary>\n\n"
        f"{fence}\n{text.rstrip()}\n{fence}\n</details>\n\n"
    )


def run_mlp(argv: Sequence[str], env: dict[str, str] | None = None) -> Result:
    """Run an `mlp` command in this process (no interpreter start-up per report), keeping its output."""
    import contextlib
    import io

    from mlp.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        code = main(list(argv))
    sys.stdout.write(buffer.getvalue())
    return Result(code, buffer.getvalue())


def offline_report(stack: str, base_ref: str, runner: Runner = run_mlp, root: Path | None = None) -> str:
    """The offline checks of a stack as one markdown section; one failing report does not hide the others."""
    from mlp.plan import plans_reused  # here: the other `mlp ci` steps need not import Pulumi

    where = ["--root", str(root)] if root else []
    with plans_reused():  # five commands, one plan of the stack (and one of the base, mlp/revisions.py)
        return _offline_report(stack, base_ref, runner, where)


def _offline_report(stack: str, base_ref: str, runner: Runner, where: list[str]) -> str:
    parts = [f"## Stack `{stack}`\n\n"]
    cost = runner(["cost", stack, "--against", base_ref, "--markdown", *where], None)
    parts.append(f"### Cost delta against `{base_ref}`\n\n{cost.output.rstrip()}\n\n")
    if cost.code != 0:
        parts.append(f"_mlp cost failed (exit {cost.code})_\n\n")
    # Beside the cost delta: what each resource does (created, updated in place with its fields, replaced).
    changes = runner(["plan", stack, "--against", base_ref, "--markdown", *where], None)
    parts.append(f"{changes.output.rstrip()}\n\n")
    if changes.code != 0:
        parts.append(f"_mlp plan --against failed (exit {changes.code})_\n\n")
    for command in ("policy", "tags", "plan"):
        result = runner([command, stack, *where], None)
        parts.append(section(stack, f"mlp {command}", result.code, result.output))
    return "".join(parts)


def comment_body(stacks: Sequence[str], sections: Path, sha: str, *, live_preview: bool) -> str:
    """The one comment: per stack, the Pulumi preview section and the offline report; missing ones are said.

    `live_preview` is False for pull requests from forks: they get no OIDC token, so only the offline report.
    """
    parts = [f"{COMMENT_MARKER}\n# Preview of {sha}\n\n"]
    if not stacks:
        parts.append("This change affects no stack: nothing to deploy.\n")
    if not live_preview:
        parts.append(
            "_Pull request from a fork: no AWS credentials, so no `pulumi preview`; the offline report follows. "
            "A maintainer can push the branch to this repository for a live preview._\n\n"
        )
    for stack in stacks:
        offline = sections / f"report-{stack}.md"
        parts.append(
            offline.read_text(encoding="utf-8")
            if offline.is_file()
            else f"## Stack `{stack}`\n\n_The offline report job left no section; see the workflow run._\n\n"
        )
        if live_preview:
            preview = sections / f"pulumi-{stack}.md"
            parts.append(
                preview.read_text(encoding="utf-8")
                if preview.is_file()
                else f"### pulumi preview `{stack}`: not run (awaiting approval of `{stack}-preview`, or the job "
                "failed before Pulumi; see the workflow run)\n\n"
            )
    body = "".join(parts)
    if len(body) > COMMENT_LIMIT:
        body = body[: COMMENT_LIMIT - 200] + "\n\n_Cut to fit a comment; the full reports are in the workflow run._\n"
    return body


def deploy_guard(sha: str, main_sha: str) -> str | None:
    """Why this run must not deploy, or None. A run deploys only the commit main points at: re-running an
    old run would otherwise put its old commit over newer state."""
    if sha == main_sha:
        return None
    return (
        f"this run is for {sha[:12]}, but main is now at {main_sha[:12]}: deploying it would undo newer changes. "
        "Nothing was deployed. Run the deploy workflow for main instead (Actions > deploy > Run workflow)."
    )
