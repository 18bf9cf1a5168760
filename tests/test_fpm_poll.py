"""The PHP-FPM poller against a real php-fpm on its unix socket, and peers that misbehave."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from console.core.stack import FpmSample
from console.sources.fpm.poll import KIND, FpmPoller
from tests.support.fpm_server import FpmServer
from tests.support.helpers import MemorySink
from tests.support.local_http import LocalServer, send
from tests.support.need import need_root
from tests.support.paths import FIXTURES
from tests.support.users import as_ordinary_user
from tests.support.wait import TIMEOUT, async_wait_for

FAST = {"interval": 0.1, "connect_timeout": 0.5, "read_timeout": 0.5}
SATURATED = pytest.mark.parametrize(
    "fpm", [{"max_children": 2, "status_listen": True}], indirect=True
)


def last(sink: MemorySink) -> tuple[str, str, str]:
    state = sink.states[-1]
    return state.status, state.message, state.hint


async def sample_where(
    poller: FpmPoller, check: Callable[[FpmSample], object], what: str, within: float = TIMEOUT
) -> FpmSample:
    """Poll until a sample passes ``check``; that sample. Fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        got = await poller.poll_once()
        if got is not None and check(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within:g} s: {what} (last: {got})")
        await asyncio.sleep(0.1)


# -- a real pool ---------------------------------------------------------------------------------


@pytest.mark.fpm
async def test_polls_a_real_pool_and_leaves_out_its_own_request(fpm: FpmServer) -> None:
    sink = MemorySink()
    poller = FpmPoller(fpm.target, sink, name="php-fpm:www", max_children=2, **FAST)
    first = await poller.poll_once()
    second = await poller.poll_once()
    poller.close()
    again = await poller.poll_once()  # as after a restart by supervise()
    poller.close()
    assert first is not None and second is not None and again is not None
    assert (first.pool, first.process_manager, first.source) == ("www", "dynamic", "php-fpm:www")
    assert first.target == fpm.target and first.max_children == 2
    assert first.active >= 1  # the counters keep lamptop's own request
    assert first.accepted < second.accepted
    # ... the process list does not
    for s in (first, second):
        assert not [p for p in s.processes if p.busy and p.uri.startswith("/fpm-status")]
    assert [s.status for s in sink.states] == ["ok"]
    assert (sink.states[0].kind, sink.states[0].target) == (KIND, fpm.target)
    assert sink.fpm == [first, second, again]


@pytest.mark.fpm
@pytest.mark.parametrize("fpm", [{"status_listen": True}], indirect=True)
async def test_a_slow_request_is_busy_with_its_uri_then_shows_its_memory(fpm: FpmServer) -> None:
    sink = MemorySink()
    # on pm.status_listen, so that no status request lands on the sleeper's child once it is
    # done (its row would then show that request instead of sleep.php)
    poller = FpmPoller(fpm.status_target, sink, **FAST)
    fpm.hold(1, 3)

    def sleeper(s: FpmSample) -> list[object]:
        return [p for p in s.busy if p.uri == "/sleep.php?s=3"]

    try:
        one = await sample_where(poller, sleeper, "sleep.php busy")
        (busy,) = sleeper(one)
        assert busy.state == "Running" and busy.method == "GET"
        assert busy.script == str(fpm.docroot / "sleep.php")
        assert busy.memory == 0  # only known once the request is done
        later = await sample_where(
            poller,
            lambda s: [p for p in sleeper(s) if p.duration > busy.duration],  # type: ignore[attr-defined]
            "a longer duration",
        )
        assert sleeper(later)[0].pid == busy.pid
        done = await sample_where(
            poller,
            lambda s: [p for p in s.processes if p.pid == busy.pid and not p.busy],
            "sleep.php done",
        )
    finally:
        poller.close()
    (idle,) = [p for p in done.processes if p.pid == busy.pid]
    assert idle.uri == "/sleep.php?s=3"  # the last request, kept on an idle child
    assert idle.memory > 4 * 1024 * 1024  # str_repeat of 4 MB
    assert idle.duration >= 3.0
    assert idle.requests >= busy.requests


@pytest.mark.fpm
@SATURATED
async def test_saturated_pool_times_out_but_status_listen_answers(fpm: FpmServer) -> None:
    sink = MemorySink()
    poller = FpmPoller(fpm.target, sink, **FAST)
    before = await poller.poll_once()  # learns the pool's name
    assert before is not None and before.max_children_reached == 0
    fpm.hold(2, 30)
    fpm.wait_sleeping(2)
    try:
        assert await poller.poll_once() is None
        status, message, hint = last(sink)
        assert status == "timeout"
        assert message == (
            "no answer within 0.5s from pool www: every child may be busy "
            "(pm.max_children reached); still waiting"
        )
        assert "pm.status_listen = /run/php/fpm-status-www.sock in pool www" in hint
        assert "even when all children are busy" in hint
        assert poller.delay == poller.interval  # collected later, no back-off
        # the request keeps its place: the next poll sends no second one
        pending = poller._pending
        assert await poller.poll_once() is None and poller._pending is pending

        reserved = FpmPoller(fpm.status_target, MemorySink(), **FAST)
        during = await sample_where(
            reserved,
            lambda s: s.max_children_reached >= 1 and len(s.busy) >= 2,
            "max children reached, read on pm.status_listen",
        )
        reserved.close()
        assert during.pool == "www"
        assert [p.uri for p in during.busy[:2]] == ["/sleep.php?s=30", "/sleep.php?s=30"]
        assert during.idle == 0 and during.listen_queue_len >= 0
    finally:
        poller.close()
    assert pending is not None
    await async_wait_for(pending.done, what="the waiting request is cut by close()")


@pytest.mark.fpm
@pytest.mark.parametrize("fpm", [{"status_path": None}], indirect=True)
async def test_a_pool_without_status_path_says_how_to_set_one(fpm: FpmServer) -> None:
    sink = MemorySink()
    poller = FpmPoller(fpm.target, sink, pool="www", **FAST)
    assert await poller.poll_once() is None
    poller.close()
    assert last(sink) == (
        "not-status",
        "the pool has no status page at /fpm-status (php-fpm answered 404: File not found.; "
        "Primary script unknown)",
        "set pm.status_path = /fpm-status in pool www and reload php-fpm",
    )
    assert poller.delay == 2 * poller.interval  # backing off


@pytest.mark.fpm
async def test_a_file_that_is_no_status_path_is_access_denied(fpm: FpmServer) -> None:
    # an existing file without .php: security.limit_extensions refuses it
    sink = MemorySink()
    poller = FpmPoller(f"unix:{fpm.socket}:{fpm.conf_path}", sink, **FAST)
    assert await poller.poll_once() is None
    poller.close()
    status, message, hint = last(sink)
    assert status == "not-status"
    assert message.startswith(f"php-fpm refused {fpm.conf_path} with 'Access denied.'")
    assert "security.limit_extensions" in message
    assert hint == f"set pm.status_path = {fpm.conf_path} in pool www and reload php-fpm"


@pytest.mark.fpm
async def test_hostile_query_strings_arrive_cleaned(fpm: FpmServer) -> None:
    sink = MemorySink()
    poller = FpmPoller(fpm.target, sink, **FAST)
    fpm.hold(1, 3, query="s=3&x=\x1b[31m\u202e\x07" + "y" * 3000)
    try:
        got = await sample_where(
            poller, lambda s: [p for p in s.busy if "sleep" in p.uri], "the hostile request"
        )
    finally:
        poller.close()
    (proc,) = [p for p in got.busy if "sleep" in p.uri]
    assert proc.uri.startswith("/sleep.php?s=3&x=\\x1b[31m<U+202E>\\x07yyy")
    assert "\x1b" not in proc.uri and "\u202e" not in proc.uri


# -- failures ------------------------------------------------------------------------------------


async def test_missing_socket_says_start_php_fpm_and_backs_off() -> None:
    sink = MemorySink()
    sock = "/nonexistent/run/php/php8.2-fpm.sock"
    poller = FpmPoller(f"unix:{sock}:/fpm-status", sink, interval=1.0, max_backoff=3.0)
    for _ in range(3):
        assert await poller.poll_once() is None
    assert last(sink) == (
        "missing",
        f"no such socket {sock}: is php-fpm running? `systemctl status php8.2-fpm`",
        "start it (systemctl start php8.2-fpm), or give the pool's listen socket",
    )
    assert len(sink.states) == 1  # said once
    assert poller.delay == 3.0  # 2, 4, capped at 3


async def test_a_socket_nobody_listens_on_is_refused() -> None:
    d = Path(tempfile.mkdtemp(prefix="lamptop-fpm-stale-"))
    try:
        stale = d / "www.sock"
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(stale))  # bound, never listening: what a crashed php-fpm leaves
            sink = MemorySink()
            await FpmPoller(f"unix:{stale}", sink, **FAST).poll_once()
        assert last(sink)[:2] == (
            "refused",
            f"connection refused on {stale}: the socket is there but no php-fpm listens on it "
            "(stopped or crashed)",
        )
        plain = d / "notes.txt"
        plain.write_bytes(b"x")  # noqa: ASYNC240 (a test's own temp file)
        await FpmPoller(f"unix:{plain}", sink, **FAST).poll_once()
        assert last(sink)[:2] == ("error", f"{plain} is not a socket")
    finally:
        shutil.rmtree(d)


async def test_tcp_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = MemorySink()
    await FpmPoller(f"tcp:127.0.0.1:{port}:/fpm-status", sink, **FAST).poll_once()
    assert last(sink)[:2] == (
        "refused",
        f"connection refused on 127.0.0.1:{port}: is php-fpm running and listening there?",
    )


def _poll_state(target: str) -> list[str]:
    sink = MemorySink()
    asyncio.run(FpmPoller(target, sink, **FAST).poll_once())  # type: ignore[arg-type]
    return list(last(sink))


@pytest.mark.fpm
def test_permission_denied_on_the_socket_says_who_may_connect(fpm: FpmServer) -> None:
    need_root("give the socket to www-data and poll as nobody")
    status, message, hint = as_ordinary_user(_poll_state, fpm.target)
    assert status == "unreadable"
    assert message.startswith(f"permission denied on {fpm.socket} (www-data:www-data 0660)")
    assert "listen.owner, listen.group and listen.mode" in message
    assert hint == (
        "run lamptop as root or as a member of group www-data "
        "(sudo usermod -aG www-data $USER, then log in again)"
    )


@pytest.mark.parametrize(
    ("body", "ctype", "words", "hint"),
    [
        ((FIXTURES / "fpm_status/www_html_full.html").read_bytes(), "text/html",
         "(an HTML page, not JSON)", "give the URL the web server hands"),
        ((FIXTURES / "fpm_status/www_plain.txt").read_bytes(), "text/plain",
         "(the plain-text status page, not its JSON (?json))", "the web server does not pass"),
        (b'{"status": "green"}', "application/json", "(JSON, but not PHP-FPM's status page",
         "give the URL the web server hands"),
    ],
    ids=["html", "text", "other-json"],
)  # fmt: skip
async def test_pages_that_are_not_the_json_status(
    local_server: Callable[..., LocalServer], body: bytes, ctype: str, words: str, hint: str
) -> None:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        send(handler, 200, body, Content_Type=ctype)

    server = local_server(respond)
    sink = MemorySink()
    poller = FpmPoller(f"http://127.0.0.1:{server.port}/fpm-status", sink, **FAST)
    assert await poller.poll_once() is None
    poller.close()
    status, message, got_hint = last(sink)
    assert status == "not-status" and words in message and got_hint.startswith(hint)
    assert server.seen[0][0] == "/fpm-status?json&full"


async def test_a_bad_target_is_an_error_state_with_its_words_cleaned() -> None:
    sink = MemorySink()
    poller = FpmPoller("ftp://\x1b[31mx\u202e/fpm-status", sink)
    assert await poller.poll_once() is None
    status, message, hint = last(sink)
    assert status == "error" and "is not a PHP-FPM status target" in message
    assert "\x1b" not in message and "\u202e" not in message
    assert hint == "fix --fpm-status or [fpm] status"


async def test_run_polls_until_cancelled() -> None:
    sink = MemorySink()
    poller = FpmPoller("unix:/nonexistent/x.sock", sink, interval=0.05, max_backoff=0.05)
    task = asyncio.create_task(poller.run())
    await async_wait_for(lambda: sink.states, what="a state")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert last(sink)[0] == "missing" and os.path.basename(sink.states[0].target) == "fpm-status"
