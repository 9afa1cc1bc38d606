"""A local stand-in for GitHub's pull-request API (http.server on 127.0.0.1, in a thread) that keeps its
pull requests and answers with the faults a test queues: an error status with headers and a body, or a
slow answer."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.local_server import POLL_SECONDS


@dataclass
class Fault:
    """The next `times` requests of `method` get this answer instead of the normal one."""

    method: str
    status: int | None = 500
    """None: the normal answer, only late."""
    body: bytes = b'{"message": "Server Error"}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0
    """Seconds to wait before answering (after doing the work, as a slow GitHub does)."""
    times: int = 1


@dataclass
class FakeGitHub:
    pulls: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def open_heads(self) -> list[str]:
        return [p["head"]["ref"] for p in self.pulls if p["state"] == "open"]

    def _fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.requests.append((method, path))
        fault = self._fault(method)
        status, payload = self._normal(method, path, body) if fault is None or fault.status is None else (0, None)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.status is not None:
                return fault.status, fault.headers, fault.body
        return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    def _normal(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        url = urllib.parse.urlparse(path)
        repository = "/".join(url.path.split("/")[2:4])
        if method == "GET":
            query = urllib.parse.parse_qs(url.query)
            head = query["head"][0].split(":", 1)[1]
            return 200, [p for p in self.pulls if p["head"]["ref"] == head and p["state"] == "open"]
        request = json.loads(body)
        if request["head"] in self.open_heads():
            return 422, {
                "message": "Validation Failed",
                "errors": [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {repository.split('/')[0]}:{request['head']}.",
                    }
                ],
            }
        number = len(self.pulls) + 1
        pull = {
            "number": number,
            "html_url": f"https://github.com/{repository}/pull/{number}",
            "state": "open",
            "title": request["title"],
            "body": request["body"],
            "head": {"ref": request["head"]},
            "base": {"ref": request["base"]},
        }
        self.pulls.append(pull)
        return 201, pull

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, payload = fake.handle(self.command, self.path, self.rfile.read(length))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's method names

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
