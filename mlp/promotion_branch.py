"""The git and GitHub side of a promotion whose gates passed: one commit on `promote/<model>-<env>-v<N>`, on
origin, with one open pull request, however many times and from however many checkouts it is run.

- The commit is made in a temporary worktree under the git directory, never in the person's checkout, so
  an interruption leaves their checkout exactly as it was (the temporary worktree is removed on the way
  out, and any left by a killed run is removed before the next one starts).
- A branch that already holds the promotion (the environment file at its tip serves the version), locally
  or on origin, is reused instead of committed again: a re-run, a duplicate approval event or a run from a
  fresh clone converges on the branch already there. A branch of that name that holds something else is
  never overwritten: the refusal names it and how to remove it.
- The commit is dated with its base commit's date, so two runs on the same base with the same identity
  make the same commit, byte for byte.
- Pushing, fetching and listing origin authenticate with GITHUB_TOKEN through a credential helper given
  on the command line for that one git call: the token is read from the environment when git asks, and
  never written to .git/config (actions/checkout runs with persist-credentials: false).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from components.loader import ENVIRONMENTS_DIR
from mlp.github import GitHub, GitHubError
from mlp.promote import Promotion, PromotionFaultError, PromotionRefusedError, set_model_version

WORKTREES = "mlp-promote"
"""Directory under the git common directory holding the temporary worktrees of promotions in progress."""

# Git asks the helper for credentials only when origin needs them (https); a local path never does.
# `credential.helper=` first empties the helpers git would otherwise also ask (and store into).
CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || exit 0; echo username=x-access-token; echo "password=$GITHUB_TOKEN"; }; f'
)


@dataclass
class Progress:
    """What a promotion has done so far, said in the one line a failure or an interruption prints."""

    done: list[str] = field(default_factory=list)

    def add(self, step: str) -> None:
        self.done.append(step)

    def __str__(self) -> str:
        return ", ".join(self.done) if self.done else "nothing yet"


def _git(root: Path, *args: str, remote: bool = False, env: dict[str, str] | None = None) -> str:
    """Run git; a failure of a call that talks to origin is a fault (re-run), any other a refusal."""
    # Only with a token: without one, the person's own credential helpers (a keychain) stay in charge.
    with_token = remote and bool(os.environ.get("GITHUB_TOKEN"))
    extra = ["-c", "credential.helper=", "-c", f"credential.helper={CREDENTIAL_HELPER}"] if with_token else []
    result = subprocess.run(
        ["git", *extra, *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {}), "GIT_TERMINAL_PROMPT": "0"},
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        reason = detail[-1] if detail else f"exit {result.returncode}"
        if remote:
            raise PromotionFaultError(f"git {args[0]} to origin failed: {reason}")
        raise PromotionRefusedError(f"git {' '.join(args)} failed: {reason}")
    return result.stdout


def _ref(root: Path, ref: str) -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


def served_version(root: Path, rev: str, target: str, model: str) -> int | None:
    """The version `model` serves in environments/<target>.yaml at commit `rev` (None when unreadable)."""
    result = subprocess.run(
        ["git", "show", f"{rev}:{ENVIRONMENTS_DIR}/{target}.yaml"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    try:
        data = YAML(typ="safe").load(result.stdout)
        found = [m for m in data.get("models") or [] if m.get("name") == model]
        return int(found[0]["version"]) if found else None
    except Exception:  # noqa: BLE001 - a file that does not parse holds no promotion
        return None


def holds(root: Path, rev: str, promotion: Promotion) -> bool:
    return served_version(root, rev, promotion.target, promotion.model) == promotion.to_version


def _remove_worktree(root: Path, path: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=root, capture_output=True, check=False)
    subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True, check=False)


def make_commit(
    root: Path,
    promotion: Promotion,
    base: str,
    prepare: Callable[[Path], list[str]],
) -> str:
    """Commit the promotion on top of `base` in a temporary worktree and return the commit.

    `prepare(tree)` runs after the edit: it validates the edited tree and regenerates what the edit made
    stale, returning the paths it changed (raises PromotionRefusedError to stop)."""
    common = Path(_git(root, "rev-parse", "--path-format=absolute", "--git-common-dir").strip())
    tree = common / WORKTREES / promotion.branch.replace("/", "-")
    _remove_worktree(root, tree)  # left by a run that was killed
    tree.parent.mkdir(parents=True, exist_ok=True)
    _git(root, "worktree", "add", "--quiet", "--detach", str(tree), base)
    try:
        rel = f"{ENVIRONMENTS_DIR}/{promotion.target}.yaml"
        set_model_version(tree / rel, promotion.model, promotion.to_version)
        changed = prepare(tree)
        _git(tree, "add", "--all", "--", rel, *changed)
        when = _git(tree, "log", "-1", "--format=%ct", base).strip() + " +0000"
        _git(
            tree,
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            promotion.commit_message(),
            env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
        )
        return _git(tree, "rev-parse", "HEAD").strip()
    finally:
        _remove_worktree(root, tree)


@dataclass(frozen=True)
class Delivered:
    branch: str
    commit: str
    committed: bool
    """False when an existing branch already held the promotion."""
    pull_request: str | None
    opened: bool


def _remote_branch(root: Path, promotion: Promotion) -> str | None:
    """The commit of the promotion's branch on origin, fetched; None when origin has no such branch."""
    branch = promotion.branch
    listed = _git(root, "ls-remote", "--heads", "origin", f"refs/heads/{branch}", remote=True).split()
    if not listed:
        return None
    if _ref(root, listed[0]) is None:
        _git(root, "fetch", "--quiet", "--no-tags", "origin", f"refs/heads/{branch}", remote=True)
    return listed[0]


def _existing_commit(
    root: Path, promotion: Promotion, remote: str | None, local: str | None, say: Callable[[str], None]
) -> str | None:
    """The commit of a branch already holding the promotion (origin's first); refuses on a branch of that
    name holding something else; None when there is no branch yet."""
    branch = promotion.branch
    rel = f"{ENVIRONMENTS_DIR}/{promotion.target}.yaml"
    if remote is not None:
        if not holds(root, remote, promotion):
            raise PromotionRefusedError(
                f"origin has a branch {branch} ({remote[:7]}) that does not set {promotion.model} to version "
                f"{promotion.to_version} in {rel}: look at it, delete it (git push origin --delete {branch}) "
                "and re-run"
            )
        say(f"{branch} is already on origin ({remote[:7]}) with this promotion: reusing it")
        return remote
    if local is not None:
        if not holds(root, local, promotion):
            raise PromotionRefusedError(
                f"branch {branch} already exists: this promotion is already under way, but the branch does not "
                f"set {promotion.model} to version {promotion.to_version} in {rel}; delete it "
                f"(git branch -D {branch}) and re-run"
            )
        say(f"{branch} already holds this promotion ({local[:7]}): reusing it")
        return local
    return None


def _push(root: Path, promotion: Promotion, commit: str) -> str:
    """Push the commit as the promotion's branch; returns the commit origin ends up with."""
    branch = promotion.branch
    try:
        _git(root, "push", "--quiet", "origin", f"{commit}:refs/heads/{branch}", remote=True)
    except PromotionFaultError as rejected:
        # A concurrent run (or a person) may have pushed the branch meanwhile: theirs counts when it holds
        # the promotion. Otherwise the push's own error is the one to report.
        try:
            theirs = _remote_branch(root, promotion)
        except PromotionFaultError:
            raise rejected from None
        if theirs is None or not holds(root, theirs, promotion):
            raise
        return theirs
    return commit


def deliver(
    root: Path,
    promotion: Promotion,
    *,
    base: str,
    push: bool,
    github: GitHub | None,
    repository: str,
    prepare: Callable[[Path], list[str]],
    progress: Progress,
    say: Callable[[str], None],
) -> Delivered:
    """Make (or find) the promotion's commit and branch, push it when asked, and make sure its pull
    request is open. Raises PromotionRefusedError or PromotionFaultError; `progress` says what was done."""
    branch = promotion.branch
    local = _ref(root, f"refs/heads/{branch}")
    remote = _remote_branch(root, promotion) if push else None
    commit = _existing_commit(root, promotion, remote, local, say)
    committed = commit is None
    if commit is None:
        commit = make_commit(root, promotion, "HEAD", prepare)
        say(f"committed on {branch}:\n{promotion.commit_message()}")
        progress.add(f"committed {commit[:7]} on {branch}")
    else:
        progress.add(f"found {branch} ({commit[:7]}){' on origin' if commit == remote else ''}")
    if local is None:
        _git(root, "branch", branch, commit)
    if push and remote is None:
        commit = _push(root, promotion, commit)
        say(f"pushed {branch} to origin")
        progress.add("pushed it to origin")
    if github is None:
        return Delivered(branch, commit, committed, None, False)
    try:
        url, opened = github.ensure_pull_request(repository, branch, base, promotion.title, promotion.pr_body())
    except GitHubError as exc:
        raise PromotionFaultError(str(exc)) from None
    say(f"opened {url}" if opened else f"the pull request is already open: {url}")
    progress.add(f"{'opened' if opened else 'found'} the pull request {url}")
    return Delivered(branch, commit, committed, url, opened)
