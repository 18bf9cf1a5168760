"""What ``lamptop record --metrics`` costs: one scrape, and the CPU per line with and without.

* ``scrape``: ``lamptop record --metrics`` next to a captured mod_status page (served on
  loopback by :class:`measure.StatusServer`, 90 % busy, with its worker table) and a log
  written at ``--rate`` lines/s; ``/metrics`` is scraped ``--scrapes`` times one after the
  other, and each answer timed from the request to the last byte (median, 95th percentile,
  worst; bytes per answer). In-process, over full rings (900 status and system samples, 20,000
  records), the event loop's share of one scrape (:func:`read_state`) and the thread's
  (writing the families) are timed apart.
* ``cpu``: ``/usr/bin/time`` around ``lamptop record --duration D`` following logs written at
  ``--rate`` lines/s, without ``--metrics`` and with it (scraped every second, fifteen times
  more often than Prometheus's default), in turns: user + system CPU seconds per 1,000 lines.

    python3 bench/metrics_cost.py                  # both, 5,000 lines/s, 20 s per run
    python3 bench/metrics_cost.py --only scrape --scrapes 500
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from measure import StatusServer, gen_cmd, lamptop_cmd, lamptop_env  # noqa: E402

NO_RULES = "".join(
    f"[rules.{r}]\nenabled = false\n"
    for r in ("log_trouble", "http_5xx_burst", "workers_near_limit")
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def record_args(tmp: Path, status_url: str, metrics: str | None) -> list[str]:
    config = tmp / "config.toml"
    config.write_text(NO_RULES)
    args = [*lamptop_cmd(), "--config", str(config), "record", "--no-discover"]
    args += ["--log", f"{tmp / 'access.log'}=apache-access", "--log", f"{tmp / 'error.log'}"]
    args += ["--status", status_url, "--snapshot-dir", str(tmp / "snap")]
    return args + (["--metrics", metrics] if metrics else [])


def scrape_bench(rate: float, scrapes: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as d, StatusServer("prefork/auto_090.txt") as status:
        tmp = Path(d)
        port = free_port()
        url = f"http://127.0.0.1:{port}/metrics"
        gen = subprocess.Popen(
            gen_cmd(tmp / "access.log", tmp / "error.log", rate, 3600), stdout=subprocess.DEVNULL
        )
        proc = subprocess.Popen(
            record_args(tmp, status.url, f"127.0.0.1:{port}"),
            env=lamptop_env(),
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if "lamptop_apache_workers" in requests.get(url, timeout=5).text:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            times, sizes = [], []
            session = requests.Session()
            for _ in range(scrapes):
                t0 = time.perf_counter()
                body = session.get(url, timeout=10).content
                times.append((time.perf_counter() - t0) * 1000)
                sizes.append(len(body))
        finally:
            proc.terminate()
            gen.terminate()
            proc.wait(30)
            gen.wait(30)
    times.sort()
    return {
        "scrapes": scrapes,
        "rate": rate,
        "ms_median": round(statistics.median(times), 2),
        "ms_p95": round(times[int(len(times) * 0.95) - 1], 2),
        "ms_max": round(times[-1], 2),
        "bytes": int(statistics.median(sizes)),
        **in_process(),
    }


def in_process(rounds: int = 200) -> dict[str, object]:
    """The loop's share (read_state) and the thread's (families written out), full rings."""
    from prometheus_client import CollectorRegistry, generate_latest

    from console.core.clock import ManualClock
    from console.core.events import SystemSample, make_record
    from console.incident.metrics_families import LamptopCollector
    from console.incident.metrics_state import MetricsTally, read_state
    from console.parsing.modstatus import build_sample

    base = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "status" / "prefork"
    auto, html = (base / "auto_090.txt").read_text(), (base / "html_090.html")
    t0 = datetime(2026, 11, 26, 15, tzinfo=UTC)
    clock = ManualClock(t0)
    from console.core.recorder import Recorder

    rec = Recorder(clock=clock)
    tally = MetricsTally()
    rec.subscribe(tally)
    page = html.read_text() if html.exists() else None
    for i in range(900):
        ts = t0 + timedelta(seconds=i)
        rec.add_status(build_sample(ts, "http://127.0.0.1/server-status", auto, page))
        rec.add_system(SystemSample(ts, 8 << 30, 6 << 30, 2 << 30, 0, 0, 1.0, 1.0, 1.0, 50.0))
    rec.add_records(
        [make_record(t0, "access", "apache-access", "info", f"GET /{i}") for i in range(20_000)]
    )
    clock.set(t0 + timedelta(seconds=900))
    rec.release(force=True)
    t = time.perf_counter()
    for _ in range(rounds):
        state = read_state(rec, tally)
    loop_ms = (time.perf_counter() - t) * 1000 / rounds
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LamptopCollector(lambda: state))
    t = time.perf_counter()
    for _ in range(rounds):
        generate_latest(registry)
    write_ms = (time.perf_counter() - t) * 1000 / rounds
    return {"loop_ms": round(loop_ms, 3), "write_ms": round(write_ms, 3)}


def cpu_run(rate: float, duration: float, metrics: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d, StatusServer("prefork/auto_090.txt") as status:
        tmp = Path(d)
        port = free_port()
        url = f"http://127.0.0.1:{port}/metrics"
        args = record_args(tmp, status.url, f"127.0.0.1:{port}" if metrics else None)
        timed = ["/usr/bin/time", "-f", "%U %S", *args, "--duration", str(duration + 3)]
        proc = subprocess.Popen(
            timed, env=lamptop_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        time.sleep(1.5)
        stop = threading.Event()

        def scraper() -> None:
            while not stop.wait(1.0):
                try:
                    requests.get(url, timeout=5)
                except requests.RequestException:
                    pass

        thread = threading.Thread(target=scraper, daemon=True)
        if metrics:
            thread.start()
        gen = subprocess.run(
            gen_cmd(tmp / "access.log", tmp / "error.log", rate, duration),
            capture_output=True,
            text=True,
            check=True,
        )
        _, err = proc.communicate(timeout=duration + 60)
        stop.set()
        written = json.loads(gen.stdout)
        user, system = (float(x) for x in err.strip().splitlines()[-1].split())
        lines = written["access_lines"] + written["error_lines"]
        return {
            "metrics": metrics,
            "lines": lines,
            "cpu_s": round(user + system, 2),
            "cpu_ms_per_1000_lines": round((user + system) * 1e6 / lines, 3),
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", choices=("scrape", "cpu"))
    p.add_argument("--rate", type=float, default=5000.0, help="access lines per second")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per CPU run")
    p.add_argument("--scrapes", type=int, default=300)
    p.add_argument("--turns", type=int, default=2, help="CPU runs of each kind, in turns")
    args = p.parse_args(argv)
    out: dict[str, object] = {}
    if args.only in (None, "scrape"):
        out["scrape"] = scrape_bench(args.rate, args.scrapes)
        print(json.dumps(out["scrape"]), flush=True)
    if args.only in (None, "cpu"):
        runs = []
        for _ in range(args.turns):
            for metrics in (False, True):
                runs.append(cpu_run(args.rate, args.duration, metrics))
                print(json.dumps(runs[-1]), flush=True)
        out["cpu"] = runs
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
