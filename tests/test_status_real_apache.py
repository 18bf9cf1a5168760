"""The mod_status poller against a real Apache, and against loopback servers that misbehave."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psutil
import pytest
import requests

from console.core.events import SourceState
from console.parsing.modstatus import parse_html
from console.sources.status.http import MAX_BYTES, split_url
from console.sources.status.poll import StatusPoller
from tests.support.apache_server import (
    ApacheServer,
    busy_workers,
    free_port,
    hold_workers,
    require_tool,
)
from tests.support.helpers import MemorySink
from tests.support.local_http import AUTO, FAST, LocalServer, send, status_pages
from tests.support.paths import FIXTURES
from tests.support.wait import async_wait_for

STATUS = FIXTURES / "status"


def statuses(sink: MemorySink) -> list[str]:
    return [s.status for s in sink.states]


def _subsequence(want: list[str], got: list[str]) -> bool:
    it = iter(got)
    return all(any(g == w for g in it) for w in want)


# -- real Apache ---------------------------------------------------------------------------------

BOTH_MPMS = pytest.mark.parametrize("apache", ["prefork", "event"], indirect=True)


@pytest.mark.apache
@BOTH_MPMS
async def test_poller_reads_real_apache(apache: ApacheServer) -> None:
    sink = MemorySink()
    poller = StatusPoller(apache.status_url, sink, **FAST)
    sample = await poller.poll_once()
    second = await poller.poll_once()
    poller.close()
    assert sample is not None and second is not None
    assert sample.mpm == apache.mpm
    assert sample.server_version.startswith("Apache/2.4")
    # prefork: ServerLimit 10; event: ServerLimit 4 x ThreadsPerChild 5.
    assert sample.limit == len(sample.scoreboard) == (10 if apache.mpm == "prefork" else 20)
    assert sample.busy >= 1  # the status request itself
    assert sample.extended is True and sample.workers
    assert sample.url == apache.status_url
    if apache.mpm == "event":
        assert sample.processes and all(p.pid for p in sample.processes)
        assert "ConnsTotal" in sample.fields
    else:
        assert sample.processes == ()
    # "ok" once, not once per poll.
    assert statuses(sink) == ["ok"]
    assert sink.states[0].target == apache.status_url and sink.states[0].hint == ""
    assert len(sink.status) == 2


@pytest.mark.apache
@BOTH_MPMS
async def test_slow_requests_show_as_workers(apache: ApacheServer) -> None:
    sink = MemorySink()
    poller = StatusPoller(apache.status_url, sink, **FAST)
    url = apache.sleep_url + "?5"
    results: list[int] = []

    def slow_get() -> None:
        results.append(requests.get(url, timeout=40).status_code)

    threads = [threading.Thread(target=slow_get) for _ in range(3)]
    for t in threads:
        t.start()
    request_line = "GET /cgi-bin/sleep?5 HTTP/1.1"
    try:
        # for as long as the requests run (not for a guessed time)
        while True:
            sample = await poller.poll_once()
            assert sample is not None, sink.states
            in_flight = [w for w in sample.workers if w.mode == "W" and w.request == request_line]
            # ?auto and the worker table are two requests: wait until both have all three
            if len(in_flight) >= 3 and sample.counts.get("W", 0) >= 3:
                break
            if not all(t.is_alive() for t in threads):
                break
            await asyncio.sleep(0.1)
    finally:
        for t in threads:
            await asyncio.to_thread(t.join, 40)
        poller.close()
    assert len(in_flight) >= 2, sample.workers
    assert sample.busy >= 3  # the sleepers and the status request
    assert sample.counts.get("W", 0) >= 3
    for w in in_flight:
        assert w.client == "127.0.0.1"
        assert w.pid is not None and psutil.pid_exists(w.pid)
        assert psutil.Process(w.pid).name() == "apache2"
        assert w.vhost.startswith("127.0.0.1")
        assert w.protocol == "http/1.1"
    assert results == [200, 200, 200]


@pytest.mark.apache
@pytest.mark.parametrize("apache", [{"mpm": "prefork", "max_workers": 3}], indirect=True)
async def test_saturated_apache_is_a_timeout_then_ok(apache: ApacheServer) -> None:
    # prefork with three workers: a poller whose connection is kept alive holds one of them,
    # two slow requests the others. A status request on a new connection then waits in the
    # listen queue like any other and times out; the kept poller still sees the scoreboard:
    # every worker busy, none idle. Once the slow requests end, the fresh poller is ok again.
    fresh_sink, kept_sink = MemorySink(), MemorySink()
    opts = {"interval": 0.1, "connect_timeout": 0.5, "read_timeout": 0.4}
    fresh = StatusPoller(apache.status_url, fresh_sink, **opts)
    kept = StatusPoller(apache.status_url, kept_sink, **opts)
    assert await fresh.poll_once() is not None
    assert await kept.poll_once() is not None
    fresh.close()
    threads = hold_workers(apache, 2, 6)
    try:
        # the kept poller keeps polling, or Apache would close its idle connection (2 s)
        deadline = time.monotonic() + 30
        while await asyncio.to_thread(busy_workers, apache) < 2:
            assert time.monotonic() < deadline, "the slow requests never started"
            assert await kept.poll_once() is not None
            await asyncio.sleep(0.05)
        # while the slow requests hold the workers (not for a guessed time)
        while statuses(fresh_sink)[-1] != "timeout" and all(t.is_alive() for t in threads):
            fresh.close()  # a new connection each time, as after MaxKeepAliveRequests
            await fresh.poll_once()
            assert await kept.poll_once() is not None
            await asyncio.sleep(0.05)
        state = fresh_sink.last_state()
        assert state is not None and state.status == "timeout", fresh_sink.states
        assert state.message == (
            "no answer within 0.4s: the server may be saturated (all workers busy); still waiting"
        )
        sample = await kept.poll_once()
        assert sample is not None and sample.idle == 0 and sample.counts["W"] >= 3
        assert sample.limit == 3
    finally:
        for t in threads:
            await asyncio.to_thread(t.join, 40)
    assert statuses(kept_sink) == ["ok"]
    fresh.close()
    assert await fresh.poll_once() is not None
    assert statuses(fresh_sink) == ["ok", "timeout", "ok"]
    fresh.close()
    kept.close()


@pytest.mark.apache
@pytest.mark.parametrize("apache", [{"mpm": "prefork", "extended": False}], indirect=True)
async def test_extended_status_off_still_samples_and_hints_once(apache: ApacheServer) -> None:
    sink = MemorySink()
    poller = StatusPoller(apache.status_url, sink, **FAST)
    samples = [await poller.poll_once() for _ in range(3)]
    poller.close()
    assert all(s is not None and not s.extended and s.workers == () for s in samples)
    assert samples[0] is not None and samples[0].limit == 10
    assert statuses(sink) == ["ok"]
    assert "ExtendedStatus On" in sink.states[0].hint


@pytest.mark.apache
async def test_plain_page_is_not_status(apache: ApacheServer) -> None:
    sink = MemorySink()
    poller = StatusPoller(apache.url, sink, **FAST)
    assert await poller.poll_once() is None
    poller.close()
    state = sink.last_state()
    assert state is not None and state.status == "not-status"
    assert "HTML" in state.message and state.hint
    assert sink.status == []


@pytest.mark.apache
async def test_missing_path_is_http_error(apache: ApacheServer) -> None:
    sink = MemorySink()
    poller = StatusPoller(apache.url + "no-status-here", sink, **FAST)
    assert await poller.poll_once() is None
    poller.close()
    state = sink.last_state()
    assert state is not None and state.status == "http-error"
    assert "404" in state.message and "server-status" in state.message


@pytest.mark.apache
async def test_denied_status_is_http_error_403(apache: ApacheServer) -> None:
    sink = MemorySink()
    poller = StatusPoller(apache.private_status_url, sink, **FAST)
    assert await poller.poll_once() is None
    poller.close()
    state = sink.last_state()
    assert state is not None and state.status == "http-error"
    assert "403" in state.message and "Require" in state.hint


@pytest.mark.apache
async def test_stop_and_restart_while_polled(apache: ApacheServer) -> None:
    sink = MemorySink()
    poller = StatusPoller(apache.status_url, sink, max_backoff=0.4, **FAST)
    task = asyncio.create_task(poller.run())
    try:
        await async_wait_for(lambda: len(sink.status) >= 2)
        await asyncio.to_thread(apache.stop)
        await async_wait_for(lambda: statuses(sink)[-1:] == ["refused"])
        refused = sink.last_state()
        assert refused is not None
        assert f"127.0.0.1:{apache.port}" in refused.message
        assert refused.message.startswith("connection refused")
        seen = len(sink.status)
        await asyncio.to_thread(apache.start)
        await async_wait_for(lambda: statuses(sink)[-1:] == ["ok"] and len(sink.status) > seen)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert _subsequence(["ok", "refused", "ok"], statuses(sink))
    # A failing poll does not repeat its state: one "refused", however many polls failed.
    assert statuses(sink).count("refused") == 1
    assert poller.delay == poller.interval


async def test_closed_port_is_refused() -> None:
    sink = MemorySink()
    port = free_port()
    poller = StatusPoller(f"http://127.0.0.1:{port}/server-status", sink, **FAST)
    assert await poller.poll_once() is None
    state = sink.last_state()
    assert state is not None and state.status == "refused"
    assert state.message == (
        f"connection refused: is Apache running / listening on 127.0.0.1:{port}?"
    )
    assert state.kind == "mod-status" and state.source == "mod_status"
    # Backoff doubles per failure, up to the cap, and the state is not repeated.
    delays = [poller.delay]
    for _ in range(8):
        await poller.poll_once()
        delays.append(poller.delay)
    assert delays[:4] == [0.2, 0.4, 0.8, 1.6]
    assert max(delays) == 10.0
    assert statuses(sink) == ["refused"]


# -- small loopback servers (tests/support/local_http.py) ----------------------------------------


async def test_status_pages_from_a_local_server(local_server: Callable[..., LocalServer]) -> None:
    srv = local_server(status_pages)
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status?auto", sink, **FAST)
    sample = await poller.poll_once()
    assert sample is not None
    assert sample.mpm == "event" and sample.busy == 23 and sample.limit == 60
    assert len(sample.workers) == 30 and sample.extended
    assert [path for path, _ in srv.seen] == ["/server-status?auto", "/server-status"]


async def test_samples_keep_the_rows_of_slots_at_work(
    local_server: Callable[..., LocalServer],
) -> None:
    auto = (STATUS / "prefork/auto_090.txt").read_bytes()
    html = (STATUS / "prefork/html_090.html").read_bytes()

    def prefork_pages(handler: BaseHTTPRequestHandler) -> None:
        body, kind = (auto, "plain") if handler.path.endswith("?auto") else (html, "html")
        send(handler, 200, body, Content_Type=f"text/{kind}; charset=ISO-8859-1")

    srv = local_server(prefork_pages)
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", MemorySink(), **FAST)
    sample = await poller.poll_once()
    assert sample is not None
    rows = parse_html(html.decode("latin-1"))[0]
    busy = tuple(w for w in rows if w.mode not in "_.")
    assert 0 < len(busy) < len(rows)  # the page lists idle and open slots too
    assert sample.workers == busy


async def test_credentials_move_from_url_to_auth(local_server: Callable[..., LocalServer]) -> None:
    def needs_password(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("Authorization") != "Basic YWxpY2U6czNjcmV0":  # alice:s3cret
            send(handler, 401, b"no", WWW_Authenticate='Basic realm="status"')
        else:
            status_pages(handler)

    srv = local_server(needs_password)
    sink = MemorySink()
    url = f"http://alice:s3cret@127.0.0.1:{srv.port}/server-status"
    poller = StatusPoller(url, sink, **FAST)
    sample = await poller.poll_once()
    assert sample is not None
    assert sample.url == f"http://127.0.0.1:{srv.port}/server-status"
    state = sink.last_state()
    assert state is not None and state.target == sample.url
    assert "s3cret" not in repr(sink.states) and "alice" not in sample.url

    sink401 = MemorySink()
    anonymous = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink401, **FAST)
    assert await anonymous.poll_once() is None
    state = sink401.last_state()
    assert state is not None and state.status == "auth"
    assert "401" in state.message and "LAMPTOP_STATUS_PASSWORD" in state.hint

    wrong = StatusPoller(sample.url, sink401, auth=("alice", "nope"), **FAST)
    assert await wrong.poll_once() is None
    state = sink401.last_state()
    assert state is not None and state.status == "auth" and "rejected" in state.message


async def test_hang_is_a_timeout_and_the_loop_keeps_running() -> None:
    # A listening socket that never accepts: the kernel completes the handshake and the request
    # sits in the buffer unanswered, as with an Apache whose workers are all busy.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        sink = MemorySink()
        poller = StatusPoller(
            f"http://127.0.0.1:{port}/server-status",
            sink,
            connect_timeout=0.5,
            read_timeout=0.4,
        )
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        started = time.monotonic()
        result = await poller.poll_once()
        took = time.monotonic() - started
        tick_task.cancel()
        poller.close()
    assert result is None
    state = sink.last_state()
    assert state is not None and state.status == "timeout"
    assert state.message == (
        "no answer within 0.4s: the server may be saturated (all workers busy); still waiting"
    )
    # not before the read timeout; the upper bound only tells a timeout from a hang
    assert 0.35 <= took < 30.0
    # the ticker turned while the request waited: a loop blocked by the request would not
    assert ticks >= 2, f"the event loop stalled ({ticks} turns in {took:.1f} s)"


async def test_garbage_is_not_status(local_server: Callable[..., LocalServer]) -> None:
    srv = local_server(lambda h: send(h, 200, b"\x00\xffgarbage\nmore: stuff\n"))
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink, **FAST)
    assert await poller.poll_once() is None
    state = sink.last_state()
    assert state is not None and state.status == "not-status"
    assert "unrecognised" in state.message


async def test_redirect_is_reported_not_followed(local_server: Callable[..., LocalServer]) -> None:
    srv = local_server(
        lambda h: send(h, 302, b"", Location="http://elsewhere.example/server-status")
    )
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink, **FAST)
    assert await poller.poll_once() is None
    state = sink.last_state()
    assert state is not None and state.status == "http-error"
    assert state.message == "HTTP 302: redirected to http://elsewhere.example/server-status"
    assert len(srv.seen) == 1  # nothing fetched from the other host

    relative = local_server(lambda h: send(h, 301, b"", Location="/login"))
    poller = StatusPoller(f"http://127.0.0.1:{relative.port}/server-status", sink, **FAST)
    await poller.poll_once()
    state = sink.last_state()
    assert state is not None
    assert state.message == f"HTTP 301: redirected to http://127.0.0.1:{relative.port}/login"


async def test_server_error_code(local_server: Callable[..., LocalServer]) -> None:
    srv = local_server(lambda h: send(h, 503, b"busy"))
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink, **FAST)
    assert await poller.poll_once() is None
    state = sink.last_state()
    assert state is not None and state.status == "http-error"
    assert state.message == "HTTP 503 Service Unavailable"


async def test_oversized_answer_is_cut_off(local_server: Callable[..., LocalServer]) -> None:
    def huge(handler: BaseHTTPRequestHandler) -> None:
        # No Content-Length: the poller has to stop reading by itself.
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        line = b"Scoreboard: " + b"_" * 1000 + b"\n"
        try:
            for _ in range(MAX_BYTES // len(line) + 200):
                handler.wfile.write(line)
        except OSError:
            pass
        handler.close_connection = True

    srv = local_server(huge)
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink, **FAST)
    assert await poller.poll_once() is None
    state = sink.last_state()
    assert state is not None and state.status == "not-status"
    assert "larger than 4 MiB" in state.message


async def test_html_page_not_status_still_gives_the_counters(
    local_server: Callable[..., LocalServer],
) -> None:
    def auto_only(handler: BaseHTTPRequestHandler) -> None:
        if handler.path.endswith("?auto"):
            send(handler, 200, AUTO)
        else:
            send(handler, 200, b"<html><title>Login</title><body>who are you?</body></html>")

    srv = local_server(auto_only)
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink, **FAST)
    sample = await poller.poll_once()
    assert sample is not None and sample.busy == 23 and not sample.extended
    state = sink.last_state()
    assert state is not None and state.status == "ok"
    assert "worker table unavailable" in state.hint


async def test_extended_false_fetches_only_auto(local_server: Callable[..., LocalServer]) -> None:
    srv = local_server(status_pages)
    sink = MemorySink()
    poller = StatusPoller(
        f"http://127.0.0.1:{srv.port}/server-status",
        sink,
        extended=False,
        **FAST,
    )
    sample = await poller.poll_once()
    assert sample is not None and sample.workers == () and not sample.extended
    assert [path for path, _ in srv.seen] == ["/server-status?auto"]
    state = sink.last_state()
    assert state is not None and state.hint == ""


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    openssl = require_tool("openssl", "openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


async def test_untrusted_certificate(
    local_server: Callable[..., LocalServer], tmp_path: Path
) -> None:
    srv = local_server(status_pages, tls=_self_signed(tmp_path))
    url = f"https://127.0.0.1:{srv.port}/server-status"
    sink = MemorySink()
    poller = StatusPoller(url, sink, **FAST)
    assert await poller.poll_once() is None
    state = sink.last_state()
    assert state is not None and state.status == "error"
    assert "certificate not trusted; set status_verify = false to trust it" in state.message

    trusting = StatusPoller(url, sink, verify=False, **FAST)
    sample = await trusting.poll_once()
    assert sample is not None and sample.mpm == "event"


async def test_tls_to_a_plain_http_port(local_server: Callable[..., LocalServer]) -> None:
    srv = local_server(status_pages)
    sink = MemorySink()
    poller = StatusPoller(f"https://127.0.0.1:{srv.port}/server-status", sink, **FAST)
    assert await poller.poll_once() is None
    state = sink.last_state()
    assert state is not None and state.status == "error"
    assert state.message.startswith("TLS handshake failed")


async def test_run_delivers_until_cancelled(local_server: Callable[..., LocalServer]) -> None:
    srv = local_server(status_pages)
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink, interval=0.05)
    task = asyncio.create_task(poller.run())
    await async_wait_for(lambda: len(sink.status) >= 3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [s.status for s in sink.states] == ["ok"]
    assert all(isinstance(s, SourceState) for s in sink.states)


@pytest.mark.parametrize(
    ("url", "clean", "auth"),
    [
        ("http://127.0.0.1/server-status", "http://127.0.0.1/server-status", None),
        ("http://127.0.0.1/server-status?auto", "http://127.0.0.1/server-status", None),
        ("localhost:8080/server-status", "http://localhost:8080/server-status", None),
        ("http://u:p%40ss@[::1]:8080/st?x=1&auto", "http://[::1]:8080/st?x=1", ("u", "p@ss")),
        (
            "https://admin@example.com/server-status",
            "https://example.com/server-status",
            ("admin", ""),
        ),
    ],
)
def test_split_url(url: str, clean: str, auth: tuple[str, str] | None) -> None:
    assert split_url(url) == (clean, auth)


@pytest.mark.parametrize(
    ("url", "hostport", "auto_url"),
    [
        ("http://127.0.0.1/server-status", "127.0.0.1:80", "http://127.0.0.1/server-status?auto"),
        ("https://example.com/st", "example.com:443", "https://example.com/st?auto"),
        ("http://[::1]:8080/st?x=1", "[::1]:8080", "http://[::1]:8080/st?x=1&auto"),
        ("http://[::1]/st", "[::1]:80", "http://[::1]/st?auto"),
    ],
)
def test_where_the_poller_asks(url: str, hostport: str, auto_url: str) -> None:
    poller = StatusPoller(url, MemorySink())
    assert poller._connection()._hostport == hostport  # named in the "connection refused" message
    assert poller._auto_url == auto_url


def test_apache_fixture_skips_without_apache_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tests.support.apache_server as apache_server

    monkeypatch.setattr(apache_server, "APACHE_BIN", tmp_path / "no-apache2")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        apache_server.require_apache()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        apache_server.require_apache()
