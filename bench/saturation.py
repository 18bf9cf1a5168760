"""The status feed through a long saturation: the largest gap between mod_status samples.

A real prefork Apache (Debian's apache2, started on 127.0.0.1 from a temp dir, default
keep-alive settings: MaxKeepAliveRequests 100, KeepAliveTimeout 5) with MaxRequestWorkers 10
is flooded by three times as many clients as workers, each asking for a CGI that holds its
worker for a second, so a new connection waits seconds in the listen queue. lamptop's status
poller runs meanwhile, in this process, into a recorder; the gaps between the samples it
delivers are the figure (goal: none over 3 s).

    .venv/bin/python bench/saturation.py --seconds 300 --json out.json

Needs ``apache2`` and ``ab`` (apache2-utils). Traffic goes to 127.0.0.1 only, for
``--seconds`` and no longer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.core.recorder import Recorder  # noqa: E402
from console.sources.status.poll import StatusPoller  # noqa: E402
from tests.support.apache_server import ApacheServer, free_port  # noqa: E402


async def watch(url: str, seconds: float) -> tuple[list[float], list[str], int]:
    """Poll ``url`` for ``seconds``; the sample times (monotonic), the states and workers seen."""
    recorder = Recorder(reorder=0)
    poller = StatusPoller(url, recorder, interval=1.0)
    task = asyncio.create_task(poller.run())
    times: list[float] = []
    seen = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(0.05)
        while len(recorder.status) > seen:
            times.append(time.monotonic())
            seen += 1
            if seen > recorder.status.maxlen - 10:  # type: ignore[operator]
                recorder.status.clear()
                seen = 0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    poller.close()
    states = [f"{s.status}: {s.message}" for s in recorder.state_history]
    busiest = max((len(s.workers) for s in recorder.status), default=0)
    return times, states, busiest


def run(seconds: float, workers: int, clients: int, hold: int) -> dict[str, object]:
    if shutil.which("apache2") is None and not Path("/usr/sbin/apache2").exists():
        raise SystemExit("saturation: needs Debian's apache2 and ab (apache2-utils)")
    base = Path(tempfile.mkdtemp(prefix="lamptop-saturation-"))
    server = ApacheServer(root=base, port=free_port(), max_workers=workers)
    server.start()
    flood = None
    try:
        flood = subprocess.Popen(
            [
                "ab",
                "-q",
                "-c",
                str(clients),
                "-t",
                str(int(seconds) + 5),
                "-s",
                "60",
                "-n",
                "10000000",
                f"{server.sleep_url}?{hold}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(2)  # the queue fills
        times, states, busiest = asyncio.run(watch(server.status_url, seconds))
    finally:
        if flood is not None:
            flood.kill()
            flood.wait()
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return {
        "seconds": seconds,
        "workers": workers,
        "clients": clients,
        "hold_s": hold,
        "samples": len(times),
        "largest_gap_s": round(max(gaps), 2) if gaps else None,
        "gaps_over_3s": sum(1 for g in gaps if g > 3.0),
        "most_worker_rows": busiest,
        "states": states[:20],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--workers", type=int, default=10)
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--hold", type=int, default=1, help="seconds each request holds a worker")
    ap.add_argument("--quick", action="store_true", help="a 20 s smoke run")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    seconds = 20.0 if args.quick else args.seconds
    result = run(seconds, args.workers, args.clients, args.hold)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
