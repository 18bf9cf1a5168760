"""The status feed through a long saturation of a real Apache.

prefork with four workers and the default MaxKeepAliveRequests (100), flooded by three times
as many clients as workers, each request holding its worker for a second: a new connection
waits seconds in the listen queue. Over more than 100 polls, with at least one keep-alive
rollover, a sample must still arrive at least every 3 s.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from console.core.recorder import Recorder
from console.incident.bundle import write_bundle
from console.incident.rules import Trigger
from console.sources.status.poll import StatusPoller
from tests.support.apache_server import ApacheServer, require_tool, wait_busy

pytestmark = pytest.mark.apache

WORKERS = 4


@pytest.mark.parametrize("apache", [{"mpm": "prefork", "max_workers": WORKERS}], indirect=True)
async def test_samples_keep_coming_through_a_long_saturation(
    apache: ApacheServer, tmp_path: Path
) -> None:
    ab = require_tool("ab", "apache2-utils")
    recorder = Recorder(reorder=0)
    poller = StatusPoller(apache.status_url, recorder, interval=0.5)
    assert await poller.poll_once() is not None  # lamptop holds its connection first
    flood = await asyncio.create_subprocess_exec(
        ab,
        *("-q", "-c", str(3 * WORKERS), "-t", "150", "-s", "60", "-n", "10000000"),
        f"{apache.sleep_url}?1",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    arrivals: list[float] = []
    try:
        await asyncio.to_thread(wait_busy, apache, WORKERS - 1)  # all but lamptop's own
        polls = 0
        deadline = time.monotonic() + 140
        while (polls < 110 or poller.rollovers < 1) and time.monotonic() < deadline:
            started = time.monotonic()
            before = len(recorder.status)
            await poller.poll_once()
            polls += 1
            if len(recorder.status) > before:
                arrivals.append(time.monotonic())
            await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
        still_flooded = flood.returncode is None
    finally:
        if flood.returncode is None:
            flood.kill()
        await flood.wait()
        poller.close()
    assert still_flooded, "the flood ended early: the test saturated nothing"
    assert polls >= 110 and poller.rollovers >= 1, (polls, poller.rollovers)
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert max(gaps) <= 3.0, f"largest gap {max(gaps):.1f} s over {len(arrivals)} samples"
    busy = [s.busy for s in recorder.status]
    assert max(busy) == WORKERS  # it saw the saturation it lived through
    assert any(len(s.workers) >= WORKERS - 1 for s in recorder.status)
    # the bundle of that moment: the verdict first, naming the script, and the workers' rows
    snap = recorder.snapshot()
    trigger = Trigger("key", snap.status[-1].ts, message="saved by hand")
    path = write_bundle(snap, trigger, tmp_path / "snaps", window=600, host="web1")
    report = (path / "report.md").read_text()
    assert report.splitlines()[2:5] == ["## Likely culprit", "", report.splitlines()[4]]
    assert report.splitlines()[4].startswith("**`/cgi-bin/sleep`**: ")
    assert f"of {WORKERS} workers" in report.splitlines()[4]
    table = report.split("## In-flight requests (oldest first)")[1].split("## ")[0]
    assert table.count("`GET /cgi-bin/sleep?1 HTTP/1.0`") >= WORKERS - 1


async def test_the_next_poll_comes_before_apache_drops_the_connection(apache: ApacheServer) -> None:
    """A poll interval longer than KeepAliveTimeout (2 s in the test config) would let Apache
    close lamptop's connection between polls, and under saturation a new one waits in the
    queue: the poller comes back in time, and knows how many requests the connection has left."""
    recorder = Recorder(reorder=0)
    poller = StatusPoller(apache.status_url, recorder, interval=5.0)
    try:
        assert await poller.poll_once() is not None
        assert poller.delay == 1.5
        conn = poller._conn
        assert conn is not None and conn.idle_timeout == 2.0
        assert conn.remaining is not None and 97 <= conn.remaining <= 100
        left = conn.remaining
        assert await poller.poll_once() is not None
        assert conn.remaining < left and poller._conn is conn  # the same connection, counted down
    finally:
        poller.close()
