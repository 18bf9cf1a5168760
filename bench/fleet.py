"""Fleet cost: what one host sends, and how many hosts one console follows.

(a) **Bandwidth**: a real ``lamptop record --stream`` follows ``gen.py``'s access log at
    1,000 lines/s (and its error log at a tenth of that) with a loopback mod_status page, as
    in ``follow.py``; its stdout is counted: bytes/s, bytes per record, lines by type.
(b) **Hosts per console**: N simulated remote hosts (child processes writing a stream of
    pre-encoded record batches, taken from (a), to a pipe at a steady rate, with heartbeats)
    are read by one process through the console's reader (``consume``) into a ``Fleet``'s
    hub, which is released every 0.25 s and snapshotted every 0.5 s as the console's engine
    and screen do, headless. Measured over the window: that process's CPU (% of one core),
    records received against records sent, and whether it kept up (everything received
    within 2 s of the end). N in 1, 2, 5, 10 at 100 and 1,000 lines/s each.

    python3 bench/fleet.py                 # 10 s per cell
    python3 bench/fleet.py --quick         # 3 s per cell
    python3 bench/fleet.py --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from measure import StatusServer, dump, gen_cmd, lamptop_cmd, lamptop_env, watch_args  # noqa: E402

SELF = str(Path(__file__).resolve())
HOSTS = (1, 2, 5, 10)
RATES = (100, 1000)
NO_RULES = "[rules.log_trouble]\nenabled = false\n[rules.http_5xx_burst]\nenabled = false\n"


# -- (a) what one host sends ----------------------------------------------------------------------
def bandwidth(duration: float, workdir: Path, rate: int = 1000) -> dict[str, Any]:
    access, error, snap = workdir / "access.log", workdir / "error.log", workdir / "snap"
    access.touch()
    error.touch()
    config = workdir / "config.toml"
    config.write_text(NO_RULES)
    saved = workdir / "stream.jsonl"
    with StatusServer() as status, saved.open("wb") as keep:
        cmd = [*lamptop_cmd(), "record", "--stream", "--config", str(config)]
        cmd += watch_args(access, error, snap, status.url)
        rec = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=lamptop_env()
        )
        assert rec.stdout is not None
        counted: dict[str, Any] = {"bytes": 0, "marks": []}

        def count() -> None:
            assert rec.stdout is not None
            for line in rec.stdout:
                keep.write(line)
                counted["bytes"] += len(line)
                counted["marks"].append((time.monotonic(), counted["bytes"]))

        reader = threading.Thread(target=count, daemon=True)
        reader.start()
        time.sleep(2.0)  # start-up, backfill, first samples
        t0, b0 = time.monotonic(), counted["bytes"]
        subprocess.run(gen_cmd(access, error, rate, duration), check=True)
        t1, b1 = time.monotonic(), counted["bytes"]
        time.sleep(1.0)
        rec.terminate()
        rec.wait(timeout=30)
        reader.join(timeout=10)
    kinds: dict[str, list[int]] = {}
    records = 0
    for line in saved.read_bytes().splitlines()[1:]:
        d = json.loads(line)
        entry = kinds.setdefault(d.get("t", "?"), [0, 0])
        entry[0] += 1
        entry[1] += len(line) + 1
        if d.get("t") == "records":
            records += len(d["r"])
    rec_bytes = kinds.get("records", [0, 0])[1]
    return {
        "rate": rate,
        "seconds": round(t1 - t0, 2),
        "bytes_per_s": round((b1 - b0) / (t1 - t0)),
        "records": records,
        "bytes_per_record": round(rec_bytes / records, 1) if records else None,
        "by_type": {k: {"lines": n, "bytes": b} for k, (n, b) in sorted(kinds.items())},
        "saved": str(saved),
    }


# -- (b) one console, N hosts ---------------------------------------------------------------------
def feed(source: Path, rate: int, duration: float) -> None:
    """A simulated remote host: the header, then ``rate`` records a second in batches every
    0.25 s, and a heartbeat every 2 s, on stdout."""
    from datetime import UTC, datetime

    from console.core.wire import STREAM_VERSION, StreamHeader, header_line
    from console.core.wire_events import heartbeat_line

    lines = source.read_bytes().splitlines()
    records = [r for x in lines[1:] if b'"t":"records"' in x for r in json.loads(x)["r"]]
    per = max(rate // 4, 1)
    batches = []
    for i in range(0, max(len(records) - per, 1), per):
        chunk = records[i : i + per]
        enc = json.dumps({"t": "records", "r": chunk}, separators=(",", ":"), ensure_ascii=False)
        batches.append(enc.encode() + b"\n")
    out = sys.stdout.buffer
    header = StreamHeader(STREAM_VERSION, "bench", "sim", None, ("apache-access", "apache-error"))
    out.write(header_line(header).encode() + b"\n")
    out.flush()
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < duration:
        out.write(batches[n % len(batches)])
        n += 1
        if n % 8 == 0:
            out.write(heartbeat_line(datetime.now(UTC)).encode() + b"\n")
        out.flush()
        time.sleep(max(start + n * 0.25 - time.monotonic(), 0.0))
    sys.stderr.write(json.dumps({"sent": n * per, "end": time.time()}) + "\n")


async def _console(source: Path, hosts: int, rate: int, duration: float) -> dict[str, Any]:
    from console.core.fleet import Fleet
    from console.core.recorder import Recorder
    from console.sources.remote.stream import consume

    hub = Recorder()
    fleet = Fleet(hub, local_name="console", local=False)
    me = [sys.executable, SELF, "--feed", str(source)]
    procs, reads = [], []
    started: dict[str, float] = {}

    def header_seen(_: object) -> None:
        started["n"] = started.get("n", 0) + 1
        if started["n"] == hosts:  # every host speaks: the window begins
            started["cpu"], started["t"] = time.process_time(), time.monotonic()

    async def read(stream: asyncio.StreamReader, sink: Any) -> tuple[Any, float]:
        end = await consume(stream, sink, idle_timeout=60, on_header=header_seen)
        return end, time.time()

    for i in range(hosts):
        host = fleet.add_remote(f"web{i + 1}")
        p = await asyncio.create_subprocess_exec(
            *me, "--rate", str(rate), "--duration", str(duration),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert p.stdout is not None
        procs.append(p)
        reads.append(asyncio.create_task(read(p.stdout, fleet.sink(host))))

    async def engine() -> None:
        beat = 0
        while True:
            await asyncio.sleep(0.25)
            hub.release()
            beat += 1
            if beat % 2 == 0:
                hub.snapshot()

    ticking = asyncio.create_task(engine())
    done = await asyncio.gather(*reads)
    wall = time.monotonic() - started["t"]
    cpu = time.process_time() - started["cpu"]
    ticking.cancel()
    sent, lag = 0, 0.0
    for p, (_, read_end) in zip(procs, done, strict=True):
        assert p.stderr is not None
        said = json.loads((await p.stderr.read()).decode().strip().splitlines()[-1])
        sent += said["sent"]
        lag = max(lag, read_end - said["end"])
        await p.wait()
    ends = [end for end, _ in done]
    received = sum(e.stats.records for e in ends)
    malformed = sum(e.stats.malformed for e in ends)
    # a console that keeps up has read everything a moment after the last host wrote it
    kept_up = received == sent and lag < 1.0
    return {
        "hosts": hosts,
        "rate_each": rate,
        "lines_per_s": hosts * rate,
        "cpu_pct": round(100.0 * cpu / wall, 1),
        "sent": sent,
        "received": received,
        "malformed": malformed,
        "wall": round(wall, 2),
        "lag_at_end": round(lag, 3),
        "kept_up": kept_up,
    }


def console_cell(source: Path, hosts: int, rate: int, duration: float) -> dict[str, Any]:
    """One cell, in its own process so that its CPU is its own."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--console", str(source)]
    cmd += ["--hosts", str(hosts), "--rate", str(rate), "--duration", str(duration)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=duration + 120)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(duration: float, verbose: bool = False) -> dict[str, Any]:
    """Both parts: {"bandwidth": ..., "console": [cells], "duration": seconds per cell}."""
    say = print if verbose else (lambda *a, **k: None)
    with tempfile.TemporaryDirectory(prefix="lamptop-fleet-") as tmp:
        bw = bandwidth(duration, Path(tmp))
        say(
            f"(a) record --stream at {bw['rate']} lines/s: {bw['bytes_per_s'] / 1024:.0f} KiB/s, "
            f"{bw['bytes_per_record']} bytes/record"
        )
        for kind, v in bw["by_type"].items():
            say(f"    {kind:10} {v['lines']:6} lines {v['bytes'] / 1024:9.1f} KiB")
        cells = []
        say("(b) hosts  lines/s each  total lines/s  console CPU %  received/sent  kept up")
        for rate in RATES:
            for hosts in HOSTS:
                c = console_cell(Path(bw["saved"]), hosts, rate, duration)
                cells.append(c)
                say(
                    f"    {hosts:5}  {rate:12}  {c['lines_per_s']:13}  {c['cpu_pct']:13}  "
                    f"{c['received']:>6}/{c['sent']:<6}  {'yes' if c['kept_up'] else 'NO'}"
                    f" (behind {c['lag_at_end']:.2f} s at the end)"
                )
        bw.pop("saved")
    return {"bandwidth": bw, "console": cells, "duration": duration}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--feed", metavar="STREAM", help=argparse.SUPPRESS)
    p.add_argument("--console", metavar="STREAM", help=argparse.SUPPRESS)
    p.add_argument("--hosts", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--rate", type=int, default=1000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.feed:
        feed(Path(args.feed), args.rate, args.duration)
        return 0
    if args.console:
        res = asyncio.run(_console(Path(args.console), args.hosts, args.rate, args.duration))
        print(json.dumps(res))
        return 0
    duration = 3.0 if args.quick else args.duration
    res = run(duration, verbose=True)
    if args.json:
        dump(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
