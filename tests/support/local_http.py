"""Small loopback HTTP servers answering whatever a test says, for the mod_status poller.

``LocalServer(respond)`` serves on a free loopback port from a thread; ``respond`` gets each
``GET``'s handler and answers with :func:`send`. The ``local_server`` fixture (registered in
``tests/conftest.py``) starts as many as a test asks for and closes them after it.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.paths import FIXTURES

Responder = Callable[[BaseHTTPRequestHandler], None]

FAST = {"interval": 0.1, "connect_timeout": 0.5, "read_timeout": 1.0}
"""StatusPoller options for polling a loopback server quickly."""

AUTO = (FIXTURES / "status" / "event/auto_311.txt").read_bytes()
HTML = (FIXTURES / "status" / "event/html_311.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append((self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        self.server.respond(self)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def send(handler: BaseHTTPRequestHandler, code: int, body: bytes, **headers: str) -> None:
    """Answer ``code`` with ``body``; ``Content_Type="x"`` sends ``Content-Type: x``."""
    handler.send_response(code)
    for key, value in headers.items():
        handler.send_header(key.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def status_pages(handler: BaseHTTPRequestHandler) -> None:
    """Answer like mod_status (event MPM): ``?auto`` or the HTML page."""
    if handler.path.endswith("?auto"):
        send(handler, 200, AUTO, Content_Type="text/plain; charset=ISO-8859-1")
    else:
        send(handler, 200, HTML, Content_Type="text/html; charset=ISO-8859-1")


class LocalServer:
    """A threaded HTTP server on ``127.0.0.1``; ``seen`` lists each (path, Authorization)."""

    def __init__(self, respond: Responder, tls: ssl.SSLContext | None = None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.respond = respond  # type: ignore[attr-defined]
        self.httpd.seen = []  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def seen(self) -> list[tuple[str, str | None]]:
        return self.httpd.seen  # type: ignore[attr-defined, no-any-return]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def local_server() -> Iterator[Callable[..., LocalServer]]:
    """``local_server(respond, tls=None)`` starts a :class:`LocalServer`; all close after."""
    servers: list[LocalServer] = []

    def start(respond: Responder, tls: ssl.SSLContext | None = None) -> LocalServer:
        srv = LocalServer(respond, tls)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.close()
