"""Snapshot latency with full rings.

* ``bundle``: in this process, a :class:`~console.core.recorder.Recorder` filled to its default
  sizes (20,000 log records from generated access and error lines, 900 mod_status samples with
  worker tables, 900 system samples with process lists, all inside the 5-minute window), then
  ``recorder.snapshot()`` and ``write_bundle()`` timed together: what a key press or a rule
  costs, without the screen. Median of ``--runs``.
* ``key``: the console in tmux, its log ring filled past 20,000 records by the generator at
  10,000 lines/s; then the key ``s`` is sent and the time until the bundle directory is
  complete (renamed from ``.partial``, ``snapshot.json`` in it) is taken. The status and system
  rings hold only the seconds the console ran, not 900 samples. Median of ``--runs`` presses.

    python3 bench/snapshot.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen  # noqa: E402
from measure import (  # noqa: E402
    ROOT,
    StatusServer,
    Tmux,
    dump,
    gen_cmd,
    lamptop_cmd,
    lamptop_env,
    median,
    watch_args,
)

sys.path.insert(0, str(ROOT))


def full_recorder():  # type: ignore[no-untyped-def]
    from console.core.events import ProcInfo, ServiceMem, SystemSample
    from console.core.recorder import DEFAULT_RECORDS, DEFAULT_SAMPLES, Recorder
    from console.parsing import make_parser
    from console.parsing.modstatus import build_sample

    rec = Recorder()
    now = time.time()
    lines = gen.Lines(3)
    span = 240.0  # seconds the records cover, inside the default 300 s window
    n_access = DEFAULT_RECORDS * 10 // 11
    n_error = DEFAULT_RECORDS - n_access
    arrival = datetime.now(UTC)
    acc = make_parser("apache-access", "access")
    err = make_parser("apache-error", "apache")
    a_lines = [lines.access(now - span + i * span / n_access, i) for i in range(n_access)]
    e_lines = [lines.error(now - span + i * span / n_error, i) for i in range(n_error)]
    rec.add_records(acc.feed(a_lines, arrival) + acc.flush(arrival))
    rec.add_records(err.feed(e_lines, arrival) + err.flush(arrival))
    rec.release(force=True)
    base = ROOT / "tests" / "fixtures" / "status" / "prefork"
    auto = (base / "auto_090.txt").read_text(encoding="latin-1")
    html = (base / "html_090.html").read_text(encoding="latin-1")
    t0 = datetime.now(UTC) - timedelta(seconds=DEFAULT_SAMPLES)
    for i in range(DEFAULT_SAMPLES):
        ts = t0 + timedelta(seconds=i)
        rec.add_status(build_sample(ts, "http://127.0.0.1/server-status", auto, html))
        top = tuple(
            ProcInfo(1000 + j, "apache2", "/usr/sbin/apache2 -k start", 40_000_000 + j * 1000)
            for j in range(10)
        )
        rec.add_system(
            SystemSample(
                ts=ts,
                mem_total=1 << 30,
                mem_used=(700 << 20) + i * 1000,
                mem_available=(300 << 20),
                swap_total=0,
                swap_used=0,
                load1=3.0,
                load5=2.5,
                load15=2.0,
                cpu_percent=95.0,
                cpu_count=2,
                services=(ServiceMem("apache", 600 << 20, 20), ServiceMem("mysql", 200 << 20, 1)),
                top=top,
                rss_by_pid={1000 + j: 40_000_000 for j in range(20)},
                scanned=i % 5 == 0,
            )
        )
    return rec


def bundle_latency(runs: int = 5) -> dict[str, object]:
    from console.incident.bundle import write_bundle
    from console.incident.rules import Trigger

    rec = full_recorder()
    times = []
    sizes = []
    tmp = Path(tempfile.mkdtemp(prefix="lamptop-snap-"))
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            snap = rec.snapshot()
            path = write_bundle(snap, Trigger("key", snap.taken_at), tmp, window=300.0)
            times.append(time.perf_counter() - t0)
            sizes.append(sum(f.stat().st_size for f in path.iterdir()))
            shutil.rmtree(path)
        records = len(rec.records)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "records": records,
        "status": len(rec.status),
        "system": len(rec.system),
        "seconds": [round(t, 3) for t in times],
        "median_s": median(times),
        "bundle_mb": round((median(sizes) or 0) / 1e6, 1),
    }


def _bundles(d: Path) -> set[str]:
    if not d.exists():
        return set()
    return {
        p.name for p in d.iterdir() if not p.name.startswith(".") and (p / "snapshot.json").exists()
    }


def key_latency(runs: int = 3, fill_rate: int = 10_000, fill_s: float = 2.5) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="lamptop-snapkey-"))
    access, error = tmp / "access.log", tmp / "error.log"
    access.touch()
    error.touch()
    snapdir = tmp / "snapshots"
    times: list[float] = []
    note = ""
    with StatusServer() as status:
        cmd = [*lamptop_cmd(), *watch_args(access, error, snapdir, status.url)]
        tmux = Tmux("snap", cmd, env=lamptop_env(), cwd=str(tmp))
        try:
            deadline = time.monotonic() + 20
            while "logs" not in tmux.capture() and time.monotonic() < deadline:
                time.sleep(0.05)
            out = subprocess.run(
                gen_cmd(access, error, fill_rate, fill_s),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            import json

            marker = f"/bench/end/{json.loads(out)['access_lines']}"
            deadline = time.monotonic() + 30
            while marker not in tmux.capture() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)
            for i in range(runs):
                if i:
                    tmux.keys("space")  # back to live, then save again
                    time.sleep(1.5)
                before = _bundles(snapdir)
                t0 = time.monotonic()
                tmux.keys("s")
                new: set[str] = set()
                while time.monotonic() - t0 < 20:
                    new = {n for n in _bundles(snapdir) - before if n.endswith("key")}
                    if new:
                        break
                    time.sleep(0.005)
                if new:
                    times.append(time.monotonic() - t0)
                else:
                    note = "no bundle within 20 s"
                time.sleep(1.0)
        finally:
            tmux.kill()
            shutil.rmtree(tmp, ignore_errors=True)
    return {"seconds": [round(t, 3) for t in times], "median_s": median(times), "note": note}


def run(runs: int = 5, quick: bool = False) -> dict[str, object]:
    return {
        "bundle": bundle_latency(2 if quick else runs),
        "key": key_latency(1 if quick else 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    res = run(args.runs, args.quick)
    b, k = res["bundle"], res["key"]
    print(
        f"bundle with full rings: {b['median_s']:.3f} s median "  # type: ignore[index]
        f"({b['records']} records, {b['status']} status, {b['system']} system; "  # type: ignore[index]
        f"{b['bundle_mb']} MB)"
    )  # type: ignore[index]
    print(f"console key s to bundle complete: {k['median_s']} s median {k['seconds']} {k['note']}")  # type: ignore[index]
    if args.json:
        dump(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
