"""mlp/github.py: GitHub's answers summarised in one line, the waits it asks for, and answers that are not
what the API promises (a proxy's page, a dropped connection) reported instead of crashing."""

from __future__ import annotations

import email.utils
import socket
import threading
from collections.abc import Iterator

import pytest

from mlp.github import GitHub, GitHubError, summarise, wait_seconds
from tests.fake_github import FakeGitHub, Fault


@pytest.mark.parametrize(
    ("body", "content_type", "summary"),
    [
        (b'{"message": "Bad credentials", "documentation_url": "https://docs.github.com"}', "", "Bad credentials"),
        (
            b'{"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", '
            b'"message": "A pull request already exists for acme:promote/x."}]}',
            "application/json",
            "Validation Failed; A pull request already exists for acme:promote/x.",
        ),
        (b'{"message": "", "errors": [{"code": "missing_field"}]}', "", "missing_field"),
        (
            b"<!DOCTYPE html><html><head><title>\n  Unicorn! &middot; GitHub\n</title>",
            "text/html",
            "an HTML error page ('Unicorn! \u00b7 GitHub')",
        ),
        (b"<html><body>502 Bad Gateway</body></html>", "", "an HTML error page"),
        (b"upstream connect error " * 20, "text/plain", ("upstream connect error " * 20)[:197] + "..."),
        (b"", "", "(empty answer)"),
    ],
)
def test_an_error_body_is_one_short_line(body: bytes, content_type: str, summary: str) -> None:
    assert summarise(body, content_type) == summary


def test_the_wait_github_asks_for() -> None:
    now = 1_800_000_000.0
    assert wait_seconds({"retry-after": "30"}, now) == 30.0
    later = email.utils.formatdate(now + 90, usegmt=True)
    assert wait_seconds({"retry-after": later}, now) == pytest.approx(90.0)
    assert wait_seconds({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 600)}, now) == 600.0
    assert wait_seconds({"x-ratelimit-remaining": "12", "x-ratelimit-reset": str(int(now) + 600)}, now) is None
    assert wait_seconds({}, now) is None


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub().start()
    yield server
    server.stop()


def client(url: str, waits: list[float]) -> GitHub:
    return GitHub(token="t", api_url=url, timeout_seconds=5, sleep=waits.append)


def test_a_page_where_json_was_promised_is_an_error(fake: FakeGitHub) -> None:
    fake.faults.append(Fault("GET", 200, b"<html><title>Sign in</title></html>", {"Content-Type": "text/html"}))
    with pytest.raises(GitHubError) as caught:
        client(fake.url, []).find_pull_request("acme/ml-platform", "promote/x", "main")
    assert str(caught.value) == (
        "GET /repos/acme/ml-platform/pulls?head=acme%3Apromote%2Fx&base=main&state=open answered HTTP 200 with "
        "an HTML error page ('Sign in'), not JSON"
    )


def test_a_dropped_connection_is_retried() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def drop_then_answer() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()  # no status line at all
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
        conn.close()

    thread = threading.Thread(target=drop_then_answer, daemon=True)
    thread.start()
    waits: list[float] = []
    assert client(f"http://127.0.0.1:{port}", waits).find_pull_request("acme/ml-platform", "promote/x", "main") is None
    assert waits == [1.0]
    thread.join()
    listener.close()


def test_a_token_is_never_sent_over_plain_http_to_another_host() -> None:
    with pytest.raises(GitHubError, match=r"refusing to send a token to http://github\.example\.com/repos"):
        client("http://github.example.com", []).find_pull_request("acme/ml-platform", "promote/x", "main")
