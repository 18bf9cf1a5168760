"""The ssh link's times over a real sshd: how long a host takes to come up, how long a line
takes from a remote Apache to the console's hub, and how long a host takes to come back after
its remote lamptop was killed.

It starts the two hosts of the tests (tests/support/ssh_hosts.py: a private sshd on
127.0.0.1, two users each with an Apache and this tree's lamptop; needs root), then, ``--runs``
times: a fleet of both (headless: engine, hub, links, as ``lamptop --remote fleet-a --remote
fleet-b --no-local`` runs them) from start until both links are up; one request to fleet-a's
Apache until its access line is in the hub; the remote lamptop of fleet-a killed until its link
is up again (back-off first try after 1 s, as shipped). Median and worst of each.

    sudo .venv/bin/python bench/ssh_link.py --runs 5
    sudo .venv/bin/python bench/ssh_link.py --quick --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from console.commands.remote import build_fleet, fleet_engine  # noqa: E402
from console.core.config import load  # noqa: E402
from console.core.recorder import Recorder  # noqa: E402
from tests.support.ssh_hosts import TwoHosts, two_hosts  # noqa: E402


async def _until(pred: object, limit: float = 60.0) -> float:
    start = time.monotonic()
    while not pred():  # type: ignore[operator]
        if time.monotonic() - start > limit:
            raise SystemExit("timed out")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def one_run(hosts: TwoHosts, conf: Path, n: int) -> tuple[float, float, float]:
    cfg = load(str(conf))
    hub = Recorder(reorder=0.0)
    fleet, links = build_fleet(cfg, hub, local_name="bench")
    by = {link.host.name: link for _, link in links}
    t0 = time.monotonic()
    task = asyncio.create_task(fleet_engine(cfg, hub, links).run())
    try:
        await _until(lambda: all(h.link.status == "up" for h in fleet.hosts))
        up = time.monotonic() - t0
        mark = f"/bench-{n}-{time.time_ns()}"
        t1 = time.monotonic()
        await asyncio.to_thread(requests.get, hosts.hosts["fleet-a"].apache.url + mark[1:])
        await _until(lambda: any(mark in r.text for r in hub.snapshot().records))
        line = time.monotonic() - t1
        ups = by["fleet-a"].ups
        t2 = time.monotonic()
        hosts.kill_remote("fleet-a")
        await _until(lambda: by["fleet-a"].ups > ups)
        back = time.monotonic() - t2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return up, line, back


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="one run")
    ap.add_argument("--json", metavar="FILE", help="write the figures there too")
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
    with two_hosts() as hosts, tempfile.TemporaryDirectory(prefix="lamptop-bench-") as tmp:
        conf = Path(tmp) / "console.toml"
        conf.write_text(hosts.config_toml("fleet-a", "fleet-b"))
        results = [asyncio.run(one_run(hosts, conf, n)) for n in range(args.runs)]
    out = {}
    for i, name in enumerate(("both hosts up", "a line to the hub", "back after a kill")):
        values = [r[i] for r in results]
        out[name] = {"median_ms": statistics.median(values) * 1000, "worst_ms": max(values) * 1000}
        print(
            f"{name:<20} median {statistics.median(values) * 1000:7.0f} ms   "
            f"worst {max(values) * 1000:7.0f} ms   ({len(values)} runs)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"ssh_link": out, "runs": args.runs}, indent=2))


if __name__ == "__main__":
    main()
