"""When the poller reads the mod_status HTML page again, and the worker table it reuses between.

Unit tests of :class:`TableCache` over captured pages, the poller against a loopback server that
counts what it is asked, and against a real Apache: idle, and with a request stuck in a worker.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from console.core.events import StatusSample, Worker
from console.parsing.modstatus import build_sample, parse_html
from console.sources.status.poll import HINT_EXTENDED, StatusPoller
from console.sources.status.table import TableCache, WorkerTable, activity
from tests.support.apache_server import ApacheServer, hold_workers
from tests.support.helpers import MemorySink
from tests.support.local_http import FAST, LocalServer, Responder, send
from tests.support.paths import FIXTURES

STATUS = FIXTURES / "status"
AUTO = (STATUS / "prefork/auto_090.txt").read_text(encoding="latin-1")
HTML = (STATUS / "prefork/html_090.html").read_text(encoding="latin-1")
TS = datetime(2026, 11, 26, 15, 5, 17, tzinfo=UTC)


def auto(accesses: int = 9357, scoreboard: str = "_CW_.C..............", **keys: int) -> str:
    """The captured ``?auto`` page with Total Accesses, the scoreboard and other keys set."""
    text = re.sub(r"(?m)^Total Accesses: \d+$", f"Total Accesses: {accesses}", AUTO)
    text = re.sub(r"(?m)^Scoreboard: .*$", f"Scoreboard: {scoreboard}", text)
    for key, value in keys.items():
        text += f"{key}: {value}\n"
    return text


def sample(text: str) -> StatusSample:
    return build_sample(TS, "http://127.0.0.1/server-status", text)


def worker(slot: str, mode: str, seconds: float, request: str) -> Worker:
    return Worker(slot, 100, mode, 0.0, seconds, 0.0, "10.0.0.1", "shop:80", request)


def cache_with_table(read_at: float = 100.0) -> TableCache:
    cache = TableCache("/server-status", max_age=5.0, slack=0.5)
    assert cache.stale(sample(auto(100)), now=read_at)
    cache.counted()
    workers, processes, info = parse_html(HTML)
    cache.keep(WorkerTable(workers, processes, bool(info["extended"]), "", read_at))
    return cache


# -- when to read the page again -----------------------------------------------------------------


def test_first_poll_reads_the_page_and_a_quiet_one_does_not() -> None:
    cache = cache_with_table()
    # Our ?auto and our HTML request of the poll before: two requests counted, nothing else.
    assert not cache.stale(sample(auto(102)), now=101.0)
    # Only our ?auto since then.
    assert not cache.stale(sample(auto(103)), now=102.0)


def test_someone_elses_request_reads_the_page() -> None:
    cache = cache_with_table()
    assert cache.stale(sample(auto(103)), now=101.0)  # two of ours and one more


def test_own_html_request_is_counted_only_when_answered() -> None:
    cache = cache_with_table()
    assert not cache.stale(sample(auto(101)), now=101.0)  # HTML not counted yet: fine
    assert cache.stale(sample(auto(103)), now=102.0)  # one ?auto of ours, and one more


def test_scoreboard_counts_move_the_page_but_positions_do_not() -> None:
    cache = cache_with_table()
    # Under event the status request lands on another slot each poll: same counts.
    assert not cache.stale(sample(auto(102, "C_W_.C..............")), now=101.0)
    assert cache.stale(sample(auto(103, "C_WW.C..............")), now=102.0)


def test_connection_and_process_counts_move_the_page() -> None:
    cache = cache_with_table()
    assert cache.stale(sample(auto(102, ConnsTotal=3)), now=101.0)
    assert not cache.stale(sample(auto(103, ConnsTotal=3)), now=102.0)
    assert cache.stale(sample(auto(104, ConnsTotal=3, ConnsAsyncKeepAlive=1)), now=103.0)


def test_restart_moves_the_page() -> None:
    cache = cache_with_table()
    assert cache.stale(sample(auto(1)), now=101.0)


def test_table_is_read_again_when_old() -> None:
    cache = cache_with_table(read_at=100.0)
    assert not cache.stale(sample(auto(102)), now=104.0)
    # Polls come a second apart: the one nearest five seconds reads it (slack 0.5 s).
    assert cache.stale(sample(auto(103)), now=104.6)


def test_forget_reads_the_page_next_time() -> None:
    cache = cache_with_table()
    cache.forget()
    assert cache.table is None
    assert cache.stale(sample(auto(102)), now=101.0)
    assert cache.current(101.0) == WorkerTable()


def test_without_total_accesses_counts_still_decide() -> None:
    """ExtendedStatus Off: no Total Accesses in ``?auto``; the scoreboard still moves it."""
    cache = TableCache("/server-status")
    off = re.sub(r"(?m)^Total Accesses: \d+\n", "", AUTO)
    assert cache.stale(sample(off), now=0.0)
    cache.keep(WorkerTable(read_at=0.0, hint=HINT_EXTENDED))
    assert not cache.stale(sample(off), now=1.0)
    assert cache.stale(sample(off.replace("_CW_.C", "_CWW.C")), now=2.0)


def test_activity_ignores_what_moves_every_second() -> None:
    a = sample(auto(100))
    b = sample(AUTO.replace("ServerUptimeSeconds: 228", "ServerUptimeSeconds: 229"))
    assert activity(a) == activity(b)
    assert activity(a) != activity(sample(auto(100, "_CW_CC..............")))


# -- the table handed on in between ----------------------------------------------------------------


def test_reused_table_ages_every_request_but_our_own() -> None:
    cache = TableCache("/server-status")
    stuck = worker("1-0", "W", 40.0, "GET /report.php HTTP/1.1")
    idle = worker("2-0", "_", 3.0, "GET / HTTP/1.1")
    ours = worker("3-0", "W", 0.0, "GET /server-status?auto HTTP/1.1")
    cache.keep(WorkerTable((stuck, idle, ours), (), True, "", read_at=10.0))
    later = cache.current(now=13.4)
    assert [w.seconds for w in later.workers] == [43.0, 6.0, 0.0]
    assert later.workers[0].request == stuck.request and later.workers[0].mode == "W"
    assert later.extended and later.read_at == 10.0
    assert cache.table is not None and cache.table.workers[0].seconds == 40.0  # kept as read
    assert cache.current(now=10.0).workers == (stuck, idle, ours)


# -- the poller ------------------------------------------------------------------------------------


@pytest.fixture
def serve() -> Iterator[Callable[[Responder], LocalServer]]:
    servers: list[LocalServer] = []

    def start(respond: Responder) -> LocalServer:
        servers.append(LocalServer(respond))
        return servers[-1]

    yield start
    for srv in servers:
        srv.close()


class CountingPages:
    """A status server whose Total Accesses grows by ``others`` per poll besides lamptop's own."""

    def __init__(self, others: int = 0) -> None:
        self.others = others
        self.total = 9000
        self.paths: list[str] = []

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        self.paths.append(handler.path)
        if handler.path.endswith("?auto"):
            self.total += self.others
            body = auto(self.total).encode("latin-1")
        else:
            body = HTML.encode("latin-1")
        self.total += 1  # Apache counts each request, this one too
        send(handler, 200, body, Content_Type="text/plain; charset=ISO-8859-1")

    @property
    def html_reads(self) -> int:
        return sum(1 for p in self.paths if not p.endswith("?auto"))


async def polls(poller: StatusPoller, n: int) -> list[StatusSample]:
    out = []
    for _ in range(n):
        s = await poller.poll_once()
        assert s is not None
        out.append(s)
    return out


async def test_quiet_server_page_read_once_and_workers_on_every_sample(
    serve: Callable[[Responder], LocalServer],
) -> None:
    pages = CountingPages()
    srv = serve(pages)
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", MemorySink(), **FAST)
    samples = await polls(poller, 6)
    poller.close()
    assert pages.html_reads == 1
    assert len(pages.paths) == 7
    assert all(s.extended and len(s.workers) == len(samples[0].workers) > 0 for s in samples)
    ts = [s.ts for s in samples]
    assert ts == sorted(ts) and len(set(ts)) == 6  # every sample is dated when it was taken


async def test_busy_server_page_read_every_poll(
    serve: Callable[[Responder], LocalServer],
) -> None:
    pages = CountingPages(others=3)
    srv = serve(pages)
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", MemorySink(), **FAST)
    samples = await polls(poller, 7)
    poller.close()
    # One request a poll (the first reads both, to have a table at once): ?auto sees the
    # counters move, the next poll reads the page instead, whose summary has them too.
    assert len(pages.paths) == 7 + 1
    assert [p.endswith("?auto") for p in pages.paths] == [True, False] + [True, False] * 3
    assert all(s.workers for s in samples)  # every sample has the table, fresh or reused
    assert [s.total_kbytes is None for s in samples] == [False] + [False, True] * 3


async def test_page_read_again_when_old(serve: Callable[[Responder], LocalServer]) -> None:
    pages = CountingPages()
    srv = serve(pages)
    opts: dict[str, Any] = {**FAST, "interval": 0.1}
    poller = StatusPoller(
        f"http://127.0.0.1:{srv.port}/server-status", MemorySink(), table_max_age=0.3, **opts
    )
    for _ in range(4):
        await poller.poll_once()
        await asyncio.sleep(0.2)
    poller.close()
    assert pages.html_reads >= 2
    assert len(pages.paths) <= 4 + 1  # the page instead of ?auto, not besides it


async def test_failed_poll_reads_the_page_again(
    serve: Callable[[Responder], LocalServer],
) -> None:
    pages = CountingPages()
    fail = {"now": False}

    def respond(handler: BaseHTTPRequestHandler) -> None:
        if fail["now"]:
            send(handler, 500, b"oops")
        else:
            pages(handler)

    srv = serve(respond)
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink, **FAST)
    await polls(poller, 2)
    fail["now"] = True
    assert await poller.poll_once() is None
    fail["now"] = False
    await polls(poller, 1)
    poller.close()
    assert pages.html_reads == 2
    assert [s.status for s in sink.states] == ["ok", "http-error", "ok"]


async def test_html_failure_is_not_reused(serve: Callable[[Responder], LocalServer]) -> None:
    """A page that could not be read is not a table: each poll tries again, and says why."""
    pages = CountingPages()

    def respond(handler: BaseHTTPRequestHandler) -> None:
        if handler.path.endswith("?auto"):
            pages(handler)
        else:
            pages.paths.append(handler.path)
            send(handler, 403, b"no")

    srv = serve(respond)
    sink = MemorySink()
    poller = StatusPoller(f"http://127.0.0.1:{srv.port}/server-status", sink, **FAST)
    samples = await polls(poller, 3)
    poller.close()
    assert pages.html_reads == 3
    assert all(s.workers == () and not s.extended for s in samples)
    assert [s.status for s in sink.states] == ["ok"]
    assert sink.states[0].hint.startswith("worker table unavailable: HTTP 403")


# -- a real Apache -------------------------------------------------------------------------------


def status_page_reads(apache: ApacheServer) -> int:
    text = apache.access_log.read_text(encoding="utf-8", errors="replace")
    return text.count('"GET /server-status HTTP/1.1"')


@pytest.mark.apache
@pytest.mark.parametrize("apache", ["prefork", "event"], indirect=True)
async def test_idle_apache_page_read_rarely(apache: ApacheServer) -> None:
    poller = StatusPoller(apache.status_url, MemorySink(), **FAST)
    samples = [await poller.poll_once() for _ in range(3)]
    await asyncio.sleep(0.3)  # Apache may start a spare process at first
    base = status_page_reads(apache)
    samples += [await poller.poll_once() for _ in range(6)]
    poller.close()
    await asyncio.sleep(0.3)  # the access log is written when a request ends
    assert all(s is not None and s.extended and s.workers for s in samples)
    assert status_page_reads(apache) - base <= 1


@pytest.mark.apache
async def test_stuck_request_keeps_counting_up(apache: ApacheServer) -> None:
    """A worker on one long request and no other traffic: its SS rises with every sample."""
    poller = StatusPoller(apache.status_url, MemorySink(), **FAST)
    line = "GET /cgi-bin/sleep?8 HTTP/1.1"
    (thread,) = hold_workers(apache, 1, 8)
    try:
        seen: list[float] = []
        # for as long as the request runs (not for a guessed time)
        while thread.is_alive() and (not seen or seen[-1] - seen[0] < 2):
            s = await poller.poll_once()
            assert s is not None
            seen += [w.seconds for w in s.workers if w.request == line and w.mode == "W"]
            await asyncio.sleep(0.25)
    finally:
        poller.close()  # the request is cut when the fixture stops Apache: no need to wait
    assert seen and seen[-1] - seen[0] >= 2, seen
    assert seen == sorted(seen)
