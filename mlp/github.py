"""A small GitHub REST client (stdlib only): what `mlp promote` needs to open a pull request.

Endpoint and headers follow https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request (read
2026-11-25). The API root comes from GITHUB_API_URL, which GitHub Actions sets (and tests point at a
local server); it defaults to https://api.github.com.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "ml-platform-mlp"


class GitHubError(Exception):
    """The API answered with an error status; the message carries GitHub's own message."""


@dataclass(frozen=True)
class GitHub:
    token: str
    api_url: str = DEFAULT_API_URL
    timeout_seconds: float = 30.0

    @classmethod
    def from_environment(cls) -> GitHub | None:
        """A client when GITHUB_TOKEN is set, else None."""
        token = os.environ.get("GITHUB_TOKEN")
        if not token:
            return None
        return cls(token=token, api_url=os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
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
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("message", detail)
            raise GitHubError(f"{method} {path} failed with HTTP {exc.code}: {detail}") from None
        return json.loads(payload) if payload else None

    def create_pull_request(self, repository: str, head: str, base: str, title: str, body: str) -> str:
        """Open a pull request; returns its html_url."""
        created = self.request(
            "POST",
            f"/repos/{repository}/pulls",
            {"title": title, "head": head, "base": base, "body": body, "maintainer_can_modify": True},
        )
        return str(created["html_url"])
