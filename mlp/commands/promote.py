"""`mlp promote MODEL --to ENV [--version N]`: promote a model version by pull request.

Exit codes: 0 done (or nothing to do), 1 a gate refused, 2 bad input, 4 an outside service (registry, git
remote, GitHub) failed after its retries, 130/143 interrupted by SIGINT/SIGTERM. Every failure ends with
one line saying what failed, what was already done and what to do; a plain re-run finishes the job.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from components.data_root import repo_root
from components.errors import InputError, Problem
from components.loader import load_environment
from mlp import promote as promote_module
from mlp.aws_access import aws_access
from mlp.commands import add_root_option
from mlp.github import GitHub
from mlp.promote import (
    Promotion,
    PromotionFaultError,
    PromotionRefusedError,
    check_version,
    gh_command,
    git,
    next_environments,
    next_stage,
    pending_promotions,
    plan_promotion,
    prepare_tree,
    promotion_order,
)
from mlp.promotion_branch import Progress, deliver

EXIT_REFUSED = 1
EXIT_INPUT = 2
EXIT_FAULT = 4
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
RERUN = "re-run the same command to finish (it reuses the commit, the branch and an open pull request)"


class SignalReceivedError(BaseException):  # not an Exception: no `except Exception` may swallow it
    """SIGTERM (the runner cancelling the job) or SIGINT (Ctrl-C) arrived."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "promote",
        help="promote a model version to the next environment, as a pull request",
        description=(
            "Check the promotion gates (version Approved in the registry; the environment below already serves "
            "it; optionally its rollback alarms are OK), set the version in environments/<env>.yaml (and "
            "regenerate its runbooks), commit on promote/<model>-<env>-v<N> and open the pull request (GitHub "
            "API when GITHUB_TOKEN is set, else print the gh command). Re-running finishes an interrupted "
            "promotion. Exit 1 when a gate refuses, 4 when the registry, git remote or GitHub failed."
        ),
    )
    parser.add_argument("model", nargs="?", help="model name in the environment file (or its registry group)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", dest="target", help="environment to promote to")
    where.add_argument(
        "--next",
        action="store_true",
        help="promote to the lowest stage serving an older version (what a registry approval runs)",
    )
    where.add_argument(
        "--pending",
        action="store_true",
        help="every model: promote each stage serving an older version than the stage below (after a deploy)",
    )
    where.add_argument("--after", metavar="ENV", help="promote to the environment(s) promoted from ENV")
    parser.add_argument(
        "--version",
        type=int,
        default=None,
        help="model package version (default: what the environment below serves; in the first stage, and "
        "with --next, the newest Approved version)",
    )
    parser.add_argument(
        "--alarm-prefix",
        default=None,
        help="refuse while an alarm of the environment below "
        "whose name starts with this prefix is in ALARM (uses the current AWS credentials)",
    )
    parser.add_argument("--base", default="main", help="branch the pull request targets (default: main)")
    parser.add_argument("--push", action="store_true", help="push the branch to origin before opening the PR")
    add_root_option(parser, holds="the git repository with environments/")
    parser.set_defaults(func=run)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A handler that does nothing (SIG_IGN set from a handler races with a signal already pending)."""


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise SignalReceivedError for the duration of the command (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        # A runner cancelling a job sends SIGINT, then SIGTERM: the first one counts, later ones must not
        # cut short the clean-up (the temporary worktree) it started.
        for s in EXIT_SIGNAL:
            signal.signal(s, _ignore)
        raise SignalReceivedError(signum)

    previous = {s: signal.signal(s, interrupt) for s in EXIT_SIGNAL}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _clients(region: str, source_region: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    # One attempt per botocore call: mlp.promote.registry_call retries throttling and outages itself.
    once = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return {
        "sagemaker": boto3.client("sagemaker", region_name=region, config=once),
        "s3": boto3.client("s3", region_name=region, config=once),
        "cloudwatch": boto3.client("cloudwatch", region_name=source_region, config=once),
    }


def _jobs(args: argparse.Namespace, root: Path) -> list[tuple[str, str, int | None]] | str:
    """(model, target, version) to promote, or the line saying there is nothing to do."""
    if args.pending:
        due = pending_promotions(root)
        return list(due) or "nothing to promote: every stage serves what the stage below it serves"
    if args.next:
        version = args.version
        if version is None:
            first = load_environment(promotion_order(root)[0], root)
            group = next((m.registry_group for m in first.models if args.model in (m.name, m.registry_group)), None)
            if group is None:
                raise PromotionRefusedError(f"model {args.model!r} is not in environments/{first.name}.yaml")
            sagemaker = _clients(first.registry.region, first.registry.region)["sagemaker"]
            version = check_version(sagemaker, group, None, first.registry.environment).version
        target = next_stage(root, args.model, version)
        if target is None:
            return (
                f"nothing to promote: no stage serving {args.model} waits for version {version} (each serves it or "
                "a newer one, or the stage below it has moved on)"
            )
        return [(args.model, target, version)]
    if args.after:
        targets = next_environments(root, args.after)
        if not targets:
            raise PromotionRefusedError(f"no environment is promoted from {args.after!r}")
        return [(args.model, t, args.version) for t in targets]
    return [(args.model, args.target, args.version)]


def _sleep(seconds: float) -> None:
    promote_module.sleep(seconds)  # looked up at each call, so tests can make every retry instant


def _promote_one(args: argparse.Namespace, root: Path, job: tuple[str, str, int | None], progress: Progress) -> None:
    model, target, version = job
    env = load_environment(target, root)
    source = env.promoted_from
    source_region = load_environment(source, root).region if source else env.registry.region
    with aws_access(
        "mlp promote", "sagemaker:ListModelPackages/DescribeModelPackage, s3:GetObject, cloudwatch:DescribeAlarms"
    ):
        promotion: Promotion = plan_promotion(
            root,
            model,
            target,
            version=version,
            alarm_prefix=args.alarm_prefix,
            **_clients(env.registry.region, source_region),
        )
    client = GitHub.from_environment(sleep=_sleep)
    deliver(
        root,
        promotion,
        base=args.base,
        push=args.push,
        github=client,
        repository=env.repository,
        prepare=lambda tree: prepare_tree(tree, target),
        progress=progress,
        say=print,
    )
    if client is None:
        body_file = Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / f"mlp-pr-{target}.md"
        body_file.write_text(promotion.pr_body(), encoding="utf-8")
        print("GITHUB_TOKEN is not set; open the pull request with:")
        print(gh_command(promotion, args.base, body_file))


def run(args: argparse.Namespace) -> int:
    root: Path = args.root or repo_root()
    if bool(args.model) == bool(args.pending):
        print("error: give a MODEL, except with --pending (which promotes every model)", file=sys.stderr)
        return EXIT_INPUT
    progress = Progress()
    with _signals():
        try:
            return _run(args, root, progress)
        except (SignalReceivedError, KeyboardInterrupt) as exc:
            signum = exc.signum if isinstance(exc, SignalReceivedError) else signal.SIGINT
            name = signal.Signals(signum).name
            print(
                f"interrupted by {name}: done so far: {progress}; your checkout is as it was; {RERUN}",
                file=sys.stderr,
            )
            return EXIT_SIGNAL[signal.Signals(signum)]


def _run(args: argparse.Namespace, root: Path, progress: Progress) -> int:
    try:
        jobs = _jobs(args, root)
    except PromotionRefusedError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except PromotionFaultError as exc:
        print(f"error: {exc}; nothing was committed or pushed; {RERUN}", file=sys.stderr)
        return EXIT_FAULT
    if isinstance(jobs, str):
        print(jobs)
        return 0
    try:
        git(root, "rev-parse", "HEAD")
    except PromotionRefusedError as exc:  # not a git work tree (or no commit yet): nothing to branch from
        raise InputError(
            [Problem(str(root), "", f"mlp promote commits on a branch and needs a git work tree: {exc}")]
        ) from None
    dirty = git(root, "status", "--porcelain", "--", "environments").splitlines()
    if dirty:
        print(f"refused: {dirty[0][3:]} has uncommitted changes: commit or stash them first", file=sys.stderr)
        return EXIT_REFUSED
    status = 0
    for job in jobs:
        progress.done.clear()
        try:
            _promote_one(args, root, job, progress)
        except PromotionRefusedError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            status = max(status, EXIT_REFUSED)
        except PromotionFaultError as exc:
            print(f"error: {exc}; done so far: {progress}; {RERUN}", file=sys.stderr)
            status = max(status, EXIT_FAULT)
    return status
