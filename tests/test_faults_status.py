"""mod_status faults that need a whole process or a slow peer: a saturated real Apache
(MaxRequestWorkers 2, both held by slow requests) and a server that drips one byte a second.

The others (refused, stopped and restarted, 401, 403, 404, redirect, a page that is not
mod_status, garbage, a self-signed certificate) are in tests/test_status_real_apache.py and
tests/test_engine_real_apache.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.core.config import Config, LogSpec
from console.core.recorder import Recorder
from console.sources.engine import Engine
from console.sources.plan import make_plan
from console.sources.status.poll import StatusPoller
from tests.support.apache_server import ApacheServer, hold_workers, wait_busy
from tests.support.helpers import MemorySink
from tests.support.paths import ROOT
from tests.support.wait import async_wait_for

SATURATED = pytest.mark.parametrize("apache", [{"mpm": "prefork", "max_workers": 2}], indirect=True)
NO_ANSWER = "no answer within 2s: the server may be saturated (all workers busy); still waiting"


class Ticker:
    """Counts event-loop turns every ``every`` seconds: the loop is responsive if it counts."""

    def __init__(self, every: float = 0.05) -> None:
        self.every, self.ticks = every, 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.ticks += 1


@pytest.mark.apache
@SATURATED
async def test_saturated_apache_says_no_answer_in_time_and_stays_responsive(
    apache: ApacheServer, tmp_path: Path
) -> None:
    """Both workers of a MaxRequestWorkers 2 Apache run an 8 s request; the status request
    waits in the listen queue. The engine says "no answer" (its 2 s read timeout) while the
    requests still hold the workers, the loop keeps turning and a log keeps being read
    meanwhile; once the requests end, it is ok."""
    other = tmp_path / "app.log"
    other.write_bytes(b"")
    threads = hold_workers(apache, 2, 8)
    await asyncio.to_thread(wait_busy, apache, 2)
    cfg = Config(
        discover=False,
        status_url=apache.status_url,
        logs=(LogSpec(str(other), kind="php-error"),),
        status_interval=0.5,
    )
    recorder = Recorder(reorder=0.05)
    engine = Engine(cfg, recorder, make_plan(cfg))
    ticker = Ticker()
    task = asyncio.create_task(engine.run())
    try:
        said = None
        held_then = False
        ticks_then = 0
        read_while_blind = False
        n = 0
        deadline = time.monotonic() + 90  # generous: the requests end after 8 s
        while time.monotonic() < deadline:
            n += 1
            with other.open("a") as w:
                w.write(f"[26-Nov-2026 15:06:30 UTC] PHP Notice: tick {n}\n")
            await asyncio.sleep(0.1)
            recorder.release(force=True)
            state = recorder.states.get("mod_status")
            if said is None and state is not None and state.status == "timeout":
                said = state
                held_then = all(t.is_alive() for t in threads)
                ticks_then = ticker.ticks
            if said is not None and not read_while_blind:
                texts = [r.text for r in recorder.snapshot().records]
                read_while_blind = any(f"tick {n - 1}" in t for t in texts)
            if said is not None and state is not None and state.status == "ok":
                break
        assert said is not None, f"never said no answer: {recorder.states}"
        assert said.message == NO_ANSWER
        # said while the slow requests still held both workers, not once they had ended
        assert held_then, "'no answer' came only after the slow requests ended"
        # the status request waited 2 s: a free loop turns dozens of times meanwhile, a loop
        # blocked by the request once or twice
        assert ticks_then >= 5, f"the event loop stalled ({ticks_then} turns)"
        assert read_while_blind, "the log was not read while the status page hung"
        final = recorder.states["mod_status"]
        assert final.status == "ok", f"did not recover after the slow requests: {final}"
    finally:
        task.cancel()
        ticker.task.cancel()
        await asyncio.gather(task, ticker.task, return_exceptions=True)
        for t in threads:
            await asyncio.to_thread(t.join, 40)


@pytest.mark.apache
@SATURATED
def test_lamptop_record_on_a_saturated_apache(apache: ApacheServer, tmp_path: Path) -> None:
    """The real command: `lamptop record` prints the timeout as a state change while the slow
    requests hold the workers, then ok once they end; it is stopped (SIGINT) after that."""
    threads = hold_workers(apache, 2, 8)
    wait_busy(apache, 2)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "record", "--no-discover"]
        + ["--status", apache.status_url, "--duration", "120"]  # ends by itself at worst
        + ["--snapshot-dir", str(tmp_path / "snaps")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    said: list[str] = []
    held_then = False
    try:
        for line in proc.stdout:  # one line per state change, after a time stamp
            text = line.rstrip("\n").split(" ", 1)[1]
            if not text.startswith("source mod_status:"):
                continue
            if not said:
                held_then = all(t.is_alive() for t in threads)
            said.append(text)
            if text == "source mod_status: ok":
                break
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for t in threads:
            t.join(40)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert said[:1] == [f"source mod_status: timeout: {NO_ANSWER}"], (said, rest)
    assert held_then, "the timeout was said only after the slow requests ended"
    assert said[-1] == "source mod_status: ok", (said, rest)


# -- a server that drips its answer ----------------------------------------------------------


DRIP_ALL = 60.0
"""Far less than dripping a whole answer takes (a byte a second, about 400 bytes)."""


@pytest.fixture
def dripping() -> Iterator[tuple[int, list[float]]]:
    """A loopback server that answers one byte a second (headers included, when asked by the
    path ``/drip-all``; else the headers at once and the body dripped). Yields its port and the
    times its connections were cut by the client."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    cut: list[float] = []
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            request = conn.recv(4096)
            body = b"Total Accesses: 1\nScoreboard: W_\n" * 10
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            data = head + body
            if b"/drip-all" not in request:
                conn.sendall(head)
                data = body
            for i in range(len(data)):
                if stop.is_set():
                    return
                try:
                    conn.sendall(data[i : i + 1])
                except OSError:
                    cut.append(time.monotonic())
                    return
                time.sleep(1.0)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], cut
    stop.set()
    listener.close()


@pytest.mark.parametrize(
    ("path", "final"),
    [
        # the headers at once, the body dripped: the answer began, and gets 0.5 + 2 x 1.5 s
        ("/server-status", "the answer did not finish within 3.5s"),
        # nothing complete ever arrives: waited on like a queued request, then given up
        ("/drip-all", "no answer within 1.5s"),
    ],
)
async def test_a_server_dripping_one_byte_a_second_is_cut_at_the_deadline(
    dripping: tuple[int, list[float]], path: str, final: str
) -> None:
    """No single read waits longer than the read timeout, so only a total deadline ends it.
    Meanwhile each poll returns after connect + read timeout saying there is no answer yet, and
    the loop keeps turning; the connection is then closed by lamptop."""
    port, cut = dripping
    sink = MemorySink()
    poller = StatusPoller(
        f"http://127.0.0.1:{port}{path}",
        sink,
        connect_timeout=0.5,
        read_timeout=1.5,
        queue_timeout=1.5,
    )
    ticker = Ticker()
    started = time.monotonic()
    assert await poller.poll_once() is None
    first = sink.last_state()
    assert first is not None and first.message.endswith("(all workers busy); still waiting")
    while (state := sink.last_state()) is not None and state.message.endswith("still waiting"):
        assert time.monotonic() - started < DRIP_ALL, "never cut"
        assert await poller.poll_once() is None
    took = time.monotonic() - started
    ticker.task.cancel()
    assert state is not None and state.status == "timeout"
    assert state.message == f"{final}: the server may be saturated (all workers busy)"
    # Not before the deadline; and cut by it, not by the end of the answer (about 400 s of
    # dripping away): the upper bound is only there to tell the two apart.
    assert 3.4 <= took < DRIP_ALL, f"took {took:.1f} s"
    # a free loop turns about 70 times in 3.5 s, a loop blocked by the request once or twice
    assert ticker.ticks >= 5, f"the event loop stalled ({ticker.ticks} turns)"
    # The next poll starts afresh (the cut connection is not reused)
    assert await poller.poll_once() is None
    poller.close()
    await async_wait_for(
        lambda: len(cut) >= 2, what="the dripping connections to be closed by the client"
    )
