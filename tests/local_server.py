"""A local HTTP server on a free port, in a thread, for the duration of a `with` block."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from typing import TypeVar

# serve_forever checks for shutdown once per poll interval; the default (0.5 s) made every test that stops
# a server wait half a second in its teardown.
POLL_SECONDS = 0.01

Server = TypeVar("Server", bound=socketserver.BaseServer)


@contextlib.contextmanager
def serving(server: Server) -> Iterator[Server]:
    """Serve `server` (already bound, e.g. to port 0) until the block ends, then stop and close it."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
