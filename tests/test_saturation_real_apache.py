"""The status feed through a long saturation of a real Apache.

prefork with four workers and the default MaxKeepAliveRequests (100), flooded by three times
as many clients as workers, each request holding its worker for a second: a new connection
waits seconds in the listen queue. Over more than 100 polls, with at least one keep-alive
rollover, a sample must still arrive at least every 3 s.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from console.core.recorder import Recorder
from console.sources.status.poll import StatusPoller
from tests.support.apache_server import ApacheServer, require_tool, wait_busy

pytestmark = pytest.mark.apache

WORKERS = 4


@pytest.mark.parametrize("apache", [{"mpm": "prefork", "max_workers": WORKERS}], indirect=True)
async def test_samples_keep_coming_through_a_long_saturation(apache: ApacheServer) -> None:
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
