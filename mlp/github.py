"""A small GitHub REST client (stdlib only): what `mlp promote` needs to open a pull request, and to keep
opening it idempotent under faults.

Endpoint and headers follow https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request (read
2026-11-25). The API root comes from GITHUB_API_URL, which GitHub Actions sets (and tests point at a
local server); it defaults to https://api.github.com.

Retries (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api; its rule read
2026-11-30 through the quotation in https://phabricator.wikimedia.org/T185939): when `retry-after` is
present, wait that many seconds; when `x-ratelimit-remaining` is 0, wait until `x-ratelimit-reset` (epoch
seconds). A 403 or 429 that says neither is not a rate limit (a missing permission): never retried. 5xx
answers, timeouts and refused connections are retried with a doubling delay. Waits longer than
`max_wait_seconds` are not waited: the error says how long GitHub asked for, so a re-run can be timed.
"""

from __future__ import annotations

import contextlib
import email.utils
import html
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "ml-platform-mlp"
DEFAULT_TIMEOUT_SECONDS = 30.0
TIMEOUT_ENV = "MLP_GITHUB_TIMEOUT_SECONDS"
"""Seconds to wait for one answer. A request that runs out is not a failure: the pull request is looked
up before anything is sent again, so a slow GitHub never yields a second pull request or a false error."""
DEFAULT_ATTEMPTS = 5
MAX_WAIT_SECONDS = 120.0
# Server errors worth repeating; 501 (not implemented) and the like will not change on a retry.
RETRIED_STATUSES = frozenset({500, 502, 503, 504})

# Answered by POST /pulls when an open pull request already has this head and base
# (https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request, 422 "Validation failed").
ALREADY_EXISTS = re.compile(r"pull request already exists", re.IGNORECASE)
# When GITHUB_TOKEN may not open pull requests, GitHub answers 403 "GitHub Actions is not permitted to
# create or approve pull requests" (the repository setting below is off).
ACTIONS_PR_SETTING = (
    "Settings > Actions > General > Workflow permissions > Allow GitHub Actions to create and approve pull requests"
)


class GitHubError(Exception):
    """The API refused or could not be reached; the message is one line, with GitHub's own message."""

    def __init__(
        self, message: str, status: int | None = None, *, retryable: bool = False, wait: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.wait = wait
        """Seconds GitHub asked to wait before a retry (retry-after, x-ratelimit-reset), when it said."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def now() -> float:
    """The time rate-limit resets are compared with (tests replace it)."""
    return time.time()


def summarise(body: bytes, content_type: str = "") -> str:
    """GitHub's message from an error body: the JSON `message` (and its `errors`), or for an HTML page
    (a proxy's or GitHub's own "Unicorn!" page) its title, never the page itself."""
    text = body.decode(errors="replace").strip()
    if not text:
        return "(empty answer)"
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        doc = json.loads(text)
        message = str(doc.get("message", "")).strip()
        details = [
            str(e.get("message") or e.get("code") or "") if isinstance(e, dict) else str(e)
            for e in doc.get("errors") or []
        ]
        details = [d for d in details if d]
        if message or details:
            return "; ".join([message, *details]) if message else "; ".join(details)
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        found = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        title = " ".join(html.unescape(found.group(1)).split()) if found else ""
        return f"an HTML error page ({title!r})" if title else "an HTML error page"
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:197] + "..."


def wait_seconds(headers: dict[str, str], now: float) -> float | None:
    """How long GitHub asks to wait before retrying, from `retry-after` (seconds or an HTTP date) or an
    exhausted `x-ratelimit-remaining` with its `x-ratelimit-reset`; None when it asks for no wait."""
    retry_after = headers.get("retry-after")
    if retry_after:
        with contextlib.suppress(ValueError):
            return max(0.0, float(retry_after))
        with contextlib.suppress(TypeError, ValueError):
            return max(0.0, email.utils.parsedate_to_datetime(retry_after).timestamp() - now)
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
        with contextlib.suppress(ValueError):
            return max(0.0, float(headers["x-ratelimit-reset"]) - now)
    return None


@dataclass(frozen=True)
class GitHub:
    token: str
    api_url: str = DEFAULT_API_URL
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    attempts: int = DEFAULT_ATTEMPTS
    max_wait_seconds: float = MAX_WAIT_SECONDS
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=lambda: now(), repr=False)  # noqa: PLW0108 - looked up per call

    @classmethod
    def from_environment(cls, **overrides: Any) -> GitHub | None:
        """A client when GITHUB_TOKEN is set, else None."""
        token = os.environ.get("GITHUB_TOKEN")
        if not token:
            return None
        timeout = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_SECONDS)
        return cls(
            token=token,
            api_url=os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
            timeout_seconds=timeout,
            **overrides,
        )

    # --- one request ---------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> Answer:
        url = self.api_url.rstrip("/") + path
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise GitHubError(f"refusing to send a token to {url}: use an https API URL")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked above
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("X-GitHub-Api-Version", API_VERSION)
        req.add_header("User-Agent", USER_AGENT)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_seconds) as resp:  # noqa: S310
                return Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, exc.read())
        except TimeoutError as exc:
            raise GitHubError(f"{method} {path}: no answer within {self.timeout_seconds:g} s", retryable=True) from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise GitHubError(
                    f"{method} {path}: no answer within {self.timeout_seconds:g} s", retryable=True
                ) from exc
            raise GitHubError(f"{method} {path}: cannot reach {self.api_url}: {reason}", retryable=True) from exc
        except (ConnectionError, OSError, http.client.HTTPException) as exc:
            reason = str(exc) or type(exc).__name__
            raise GitHubError(
                f"{method} {path}: connection to {self.api_url} failed: {reason}", retryable=True
            ) from exc

    def _decoded(self, method: str, path: str, answer: Answer) -> Any:
        """The JSON of a successful answer; a proxy's page in its place is an error, not a crash."""
        if not answer.body:
            return None
        try:
            return json.loads(answer.body)
        except ValueError:
            summary = summarise(answer.body, answer.headers.get("content-type", ""))
            raise GitHubError(
                f"{method} {path} answered HTTP {answer.status} with {summary}, not JSON", answer.status
            ) from None

    def _error(self, method: str, path: str, answer: Answer) -> GitHubError:
        message = summarise(answer.body, answer.headers.get("content-type", ""))
        wait = wait_seconds(answer.headers, self.clock())
        limited = answer.status == 429 or (answer.status == 403 and wait is not None)
        text = f"{method} {path} failed with HTTP {answer.status}: {message}"
        if answer.status == 401:
            text += " (the token is missing, wrong or expired: GitHub App installation tokens last one hour)"
        elif answer.status == 403 and not limited and "not permitted to create" in message:
            text += f" (enable {ACTIONS_PR_SETTING}, or use a GitHub App token)"
        return GitHubError(text, answer.status, retryable=limited or answer.status in RETRIED_STATUSES, wait=wait)

    def _wait(self, exc: GitHubError, delay: float) -> None:
        """Sleep as long as GitHub asked (or `delay` when it did not say); refuse waits that are too long."""
        wait = delay if exc.wait is None else exc.wait
        if wait > self.max_wait_seconds:
            raise GitHubError(f"{exc}; GitHub asks to wait {wait:.0f} s", exc.status) from None
        self.sleep(wait)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, *, retry: bool = True) -> Any:
        """One call, retried while GitHub says to (rate limits, 5xx, timeouts); raises GitHubError."""
        delay = 1.0
        for attempt in range(1, self.attempts + 1):
            try:
                answer = self._send(method, path, body)
                if answer.status < 400:
                    return self._decoded(method, path, answer)
                raise self._error(method, path, answer)
            except GitHubError as exc:
                if not retry or not exc.retryable or attempt == self.attempts:
                    raise
                self._wait(exc, delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    # --- pull requests ------------------------------------------------------------------------------------

    def find_pull_request(self, repository: str, head: str, base: str) -> str | None:
        """The html_url of the open pull request from branch `head` (of this repository) into `base`."""
        owner = repository.split("/", 1)[0]
        query = urllib.parse.urlencode({"head": f"{owner}:{head}", "base": base, "state": "open"})
        found = self.request("GET", f"/repos/{repository}/pulls?{query}")
        return str(found[0]["html_url"]) if found else None

    def create_pull_request(self, repository: str, head: str, base: str, title: str, body: str) -> str:
        """Open a pull request; returns its html_url."""
        # Not retried here: a lost answer may hide a created pull request (ensure_pull_request looks first).
        created = self.request(
            "POST",
            f"/repos/{repository}/pulls",
            {"title": title, "head": head, "base": base, "body": body, "maintainer_can_modify": True},
            retry=False,
        )
        return str(created["html_url"])

    def ensure_pull_request(self, repository: str, head: str, base: str, title: str, body: str) -> tuple[str, bool]:
        """The pull request from `head` into `base`, opened unless one is already open: (html_url, opened).

        Idempotent: a POST whose answer was lost (timeout, 5xx after GitHub acted) may have opened it, so
        before each new POST the open pull requests are looked up; "already exists" (422) is success."""
        existing = self.find_pull_request(repository, head, base)
        if existing:
            return existing, False
        delay = 1.0
        for attempt in range(1, self.attempts + 1):
            try:
                return self.create_pull_request(repository, head, base, title, body), True
            except GitHubError as exc:
                if exc.status == 422 and ALREADY_EXISTS.search(str(exc)):
                    found = self.find_pull_request(repository, head, base)
                    if found:
                        return found, False
                    raise
                if not exc.retryable or attempt == self.attempts:
                    raise
                self._wait(exc, delay)
                delay *= 2
                found = self.find_pull_request(repository, head, base)
                if found:
                    return found, False
        raise AssertionError("unreachable")  # pragma: no cover
