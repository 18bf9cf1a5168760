"""``lamptop record --metrics HOST:PORT``: Prometheus metrics served from a thread.

The HTTP server is the standard library's WSGI server with prometheus-client's WSGI app behind
``/metrics``: each scrape runs in a thread of its own (at most :data:`MAX_SCRAPES` at once,
each cut off after :data:`CLIENT_TIMEOUT` seconds of silence), asks the event loop for one
:class:`~console.incident.metrics_state.MetricsState` and writes it out. The loop does the
reading because the recorder is the loop's alone; what it reads is the newest end of each
ring, so a scrape costs the loop well under a millisecond (see the README).

Binding happens before any source starts, and a failure is said in words: ``lamptop record``
exits 2 rather than run without the metrics it was asked for.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry, make_wsgi_app

from console.core.config import Config
from console.core.listen import parse_listen
from console.core.recorder import Recorder
from console.core.text import clean
from console.incident.metrics_families import LamptopCollector
from console.incident.metrics_state import MetricsState, MetricsTally, read_state
from console.incident.watch import IncidentWatch

MAX_SCRAPES = 4
"""Scrapes served at once; a connection past that is closed at once."""
CLIENT_TIMEOUT = 10.0
"""Seconds a client may stay silent before its connection is closed."""
LOOP_TIMEOUT = 5.0
"""Seconds a scrape waits for the event loop; past that it serves the previous figures."""

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MetricsError(Exception):
    """The metrics cannot be served where asked, in words."""


class _Handler(WSGIRequestHandler):
    timeout = CLIENT_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing: a scrape every 15 s is not news (``record`` prints events)."""


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[Any, ...], family: socket.AddressFamily) -> None:
        self.address_family = family
        self._slots = threading.BoundedSemaphore(MAX_SCRAPES)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's full name (socket.getfqdn): on a box
        # whose resolver is down that waits for a timeout. The name is not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def routes(metrics: WsgiApp) -> WsgiApp:
    """``/metrics`` to the exporter, ``/`` a pointer to it, anything else 404; a failure
    while collecting is a 500 with one line, never a traceback on ``record``'s output."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            try:
                return metrics(environ, start_response)
            except Exception as exc:  # a bug in a collector: say so to the scraper
                body = f"lamptop: collecting failed: {clean(type(exc).__name__)}\n".encode()
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
                return [body]
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"lamptop: Prometheus metrics at /metrics\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"lamptop: not found; the metrics are at /metrics\n"]

    return app


def _bind_error(listen: str, exc: OSError) -> MetricsError:
    where = f"--metrics {clean(listen)}"
    if isinstance(exc, socket.gaierror):
        return MetricsError(f"{where}: no such address on this machine ({exc.strerror})")
    if exc.errno == errno.EADDRINUSE:
        return MetricsError(
            f"{where}: the port is already in use (another lamptop record, or an exporter?); "
            "choose another port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return MetricsError(
            f"{where}: not an address of this machine; use 127.0.0.1, or one `ip addr` shows"
        )
    if exc.errno == errno.EACCES:
        return MetricsError(f"{where}: ports below 1024 need root; choose one such as 9177")
    return MetricsError(f"{where}: cannot listen: {exc.strerror or exc}")


class MetricsServer:
    """The HTTP server on its thread; :meth:`close` stops it and frees the port."""

    def __init__(self, listen: str, app: WsgiApp) -> None:
        host, port = parse_listen(listen)
        try:
            family, _, _, _, address = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
            self._server = _Server(address, family)
        except OSError as exc:
            raise _bind_error(listen, exc) from None
        self._server.set_app(app)
        bound_host, bound_port = str(self._server.server_address[0]), self._server.server_port
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        self.url = f"http://{shown}:{bound_port}/metrics"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="lamptop-metrics", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)


def on_loop(
    loop: asyncio.AbstractEventLoop, fn: Callable[[], MetricsState], timeout: float
) -> MetricsState:
    """``fn()`` run on ``loop`` from another thread, its result waited for ``timeout`` s."""
    future: concurrent.futures.Future[MetricsState] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    loop.call_soon_threadsafe(run)
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        future.cancel()
        raise


def start_metrics(cfg: Config, recorder: Recorder, incidents: IncidentWatch) -> MetricsServer:
    """Serve ``recorder``'s figures at ``cfg.metrics``: count what the recorder does not
    (errors, rule fires, bundles) and start the server. Call it on the running loop."""
    assert cfg.metrics is not None
    tally = MetricsTally()
    recorder.subscribe(tally)
    incidents.on_trigger = _both(incidents.on_trigger, tally.on_trigger)
    incidents.on_saved = _both(incidents.on_saved, tally.on_saved)
    loop = asyncio.get_running_loop()
    last = [MetricsState(taken_at=recorder.clock.now())]

    def gather() -> MetricsState:
        return read_state(recorder, tally, scripts=cfg.metrics_scripts)

    def read() -> MetricsState:
        try:
            last[0] = on_loop(loop, gather, LOOP_TIMEOUT)
        except (RuntimeError, TimeoutError):
            pass  # the loop is closing, or stalled: the previous figures
        return last[0]

    registry = CollectorRegistry(auto_describe=False)
    registry.register(LamptopCollector(read))
    return MetricsServer(cfg.metrics, routes(make_wsgi_app(registry)))


def _both(first: Callable[..., None] | None, then: Callable[..., None]) -> Callable[..., None]:
    def call(*args: Any) -> None:
        if first is not None:
            first(*args)
        then(*args)

    return call
