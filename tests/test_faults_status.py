"""mod_status faults that need a whole process or a slow peer: a saturated real Apache
(MaxRequestWorkers 2, both held by slow requests) and a server that drips one byte a second.

The others (refused, stopped and restarted, 401, 403, 404, redirect, a page that is not
mod_status, garbage, a self-signed certificate) are in tests/test_status_real_apache.py and
tests/test_engine_real_apache.py.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
import requests

from console.core.config import Config, LogSpec
from console.core.recorder import Recorder
from console.sources.engine import Engine, make_plan
from console.sources.status.poll import StatusPoller
from tests.support.apache_server import ApacheServer
from tests.support.helpers import MemorySink
from tests.support.paths import ROOT

SATURATED = pytest.mark.parametrize("apache", [{"mpm": "prefork", "max_workers": 2}], indirect=True)
NO_ANSWER = "no answer within 2s: the server may be saturated (all workers busy)"


class Ticker:
    """Counts event-loop turns every ``every`` seconds: the loop is responsive if it counts."""

    def __init__(self, every: float = 0.05) -> None:
        self.every, self.ticks = every, 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.ticks += 1


def hold_workers(apache: ApacheServer, n: int, seconds: int) -> list[threading.Thread]:
    """``n`` requests to the sleeping CGI, each holding a worker for ``seconds``."""

    def get() -> None:
        try:
            requests.get(f"{apache.sleep_url}?{seconds}", timeout=seconds + 20)
        except requests.RequestException:
            pass

    threads = [threading.Thread(target=get, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def wait_busy(apache: ApacheServer, n: int, within: float = 5.0) -> None:
    """Wait until ``n`` sleeping CGIs of this Apache run (the status page cannot be asked:
    it would wait in the queue like any request once the workers are taken)."""
    script = str(apache.root / "cgi-bin" / "sleep")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        running = 0
        for proc in psutil.process_iter(["cmdline"]):
            if script in (proc.info.get("cmdline") or []):
                running += 1
        if running >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{n} workers never became busy")


@pytest.mark.apache
@SATURATED
async def test_saturated_apache_says_no_answer_in_time_and_stays_responsive(
    apache: ApacheServer, tmp_path: Path
) -> None:
    """Both workers of a MaxRequestWorkers 2 Apache run a 6 s request; the status request
    waits in the listen queue. The engine says "no answer" within its 2 s read timeout, the
    loop keeps turning and a log keeps being read meanwhile; once the requests end, it is ok."""
    other = tmp_path / "app.log"
    other.write_bytes(b"")
    threads = hold_workers(apache, 2, 6)
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
    started = time.monotonic()
    task = asyncio.create_task(engine.run())
    try:
        said_at = None
        read_while_blind = False
        n = 0
        while time.monotonic() - started < 12:
            n += 1
            with other.open("a") as w:
                w.write(f"[26-Nov-2026 15:06:30 UTC] PHP Notice: tick {n}\n")
            await asyncio.sleep(0.1)
            recorder.release(force=True)
            state = recorder.states.get("mod_status")
            if said_at is None and state is not None and state.status == "timeout":
                said_at = time.monotonic() - started
                assert state.message == NO_ANSWER
                ticks_then = ticker.ticks
            if said_at is not None and not read_while_blind:
                texts = [r.text for r in recorder.snapshot().records]
                read_while_blind = any(f"tick {n - 1}" in t for t in texts)
            if said_at is not None and state is not None and state.status == "ok":
                break
        assert said_at is not None, f"never said no answer: {recorder.states}"
        # connect (accepted by the kernel at once) + the 2 s read timeout + thread hand-off
        assert said_at < 3.5, f"'no answer' took {said_at:.1f} s"
        assert ticks_then >= int(said_at / 0.05) * 0.6, "the event loop stalled"
        assert read_while_blind, "the log was not read while the status page hung"
        final = recorder.states["mod_status"]
        assert final.status == "ok", f"did not recover after the slow requests: {final}"
    finally:
        task.cancel()
        ticker.task.cancel()
        await asyncio.gather(task, ticker.task, return_exceptions=True)
        for t in threads:
            await asyncio.to_thread(t.join, 20)


@pytest.mark.apache
@SATURATED
def test_lamptop_record_on_a_saturated_apache(apache: ApacheServer, tmp_path: Path) -> None:
    """The real command: `lamptop record` prints the timeout as a state change, then ok."""
    threads = hold_workers(apache, 2, 5)
    wait_busy(apache, 2)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    out = subprocess.run(
        [sys.executable, "-m", "console.cli", "record", "--no-discover"]
        + ["--status", apache.status_url, "--duration", "10"]
        + ["--snapshot-dir", str(tmp_path / "snaps")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    for t in threads:
        t.join(20)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    lines = [line.split(" ", 1)[1] for line in out.stdout.splitlines()]
    said = [line for line in lines if line.startswith("source mod_status:")]
    assert said[0] == f"source mod_status: timeout: {NO_ANSWER}", out.stdout
    assert "source mod_status: ok" in said[1:], out.stdout


# -- a server that drips its answer ----------------------------------------------------------


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


@pytest.mark.parametrize("path", ["/server-status", "/drip-all"])
async def test_a_server_dripping_one_byte_a_second_is_cut_at_the_deadline(
    dripping: tuple[int, list[float]], path: str
) -> None:
    """No single read waits longer than the read timeout, so only a total deadline ends it:
    connect + 2 x read timeout (here 0.5 + 2 x 1.5 = 3.5 s), then the connection is closed."""
    port, cut = dripping
    sink = MemorySink()
    poller = StatusPoller(
        f"http://127.0.0.1:{port}{path}", sink, connect_timeout=0.5, read_timeout=1.5
    )
    ticker = Ticker()
    started = time.monotonic()
    result = await poller.poll_once()
    took = time.monotonic() - started
    ticker.task.cancel()
    assert result is None
    state = sink.last_state()
    assert state is not None and state.status == "timeout"
    assert state.message == (
        "the answer did not finish within 3.5s: the server may be saturated (all workers busy)"
    )
    assert 3.4 <= took < 5.0, f"took {took:.1f} s"
    assert ticker.ticks >= int(took / 0.05) * 0.6
    # The next poll starts afresh (the cut connection is not reused) and is cut again.
    again = time.monotonic()
    assert await poller.poll_once() is None
    assert time.monotonic() - again < 5.0
    poller.close()
    await asyncio.to_thread(_wait_for, lambda: len(cut) >= 2, 4.0)
    assert len(cut) >= 2, "the dripping connections were not closed by the client"


def _wait_for(cond: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.1)
