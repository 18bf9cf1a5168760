"""Soak: `lamptop record` for a few minutes while every log fault happens at random.

    python -m tests.support.soak_faults [--seconds 180] [--seed 1]

Runs the real command as a subprocess on a numbered access log that log_faults.py
rotates, truncates, deletes, turns into a directory or a dangling link, re-points and chmods
at random; samples lamptop's RSS from /proc each second; stops it with SIGINT; then checks,
from the bundle it saves on exit (its ring and window are made large enough to hold every
record), that every line the OS kept was ingested exactly once, that the source's states came
and went and ended ok, that memory stayed bounded and that nothing printed a traceback.
Prints the figures as JSON; exits 1 when a check fails. tests/test_soak_quick.py runs it
for 20 seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the repository, so that the file runs as a script too
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.log_faults import FaultyWriter, check, number_of  # noqa: E402


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def soak(seconds: float, seed: int = 1, work: Path | None = None) -> dict[str, Any]:
    work = work or Path(tempfile.mkdtemp(prefix="lamptop-soak-"))
    logs, snaps = work / "logs", work / "snaps"
    logs.mkdir(parents=True)
    writer = FaultyWriter(logs, seed=seed, burst=(1, 8), pause=0.02, fault_every=(1.0, 3.0))
    cfg = work / "config.toml"
    cfg.write_text(
        "[recorder]\nmax_records = 1000000\n[snapshot]\nwindow = 86400\n"
        "[system]\ninterval = 1.0\nscan_interval = 5.0\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "xdg"), "XDG_STATE_HOME": str(work)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "record", "--no-discover", "--config", str(cfg)]
        + ["--log", f"{writer.path}=apache-access", "--bundle-on-exit"]
        + ["--snapshot-dir", str(snaps)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out: list[str] = []
    while True:  # started: the log is open
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"lamptop record exited: {proc.stderr.read()}")
        out.append(line)
        if "source access:" in line:
            break
    rss: list[int] = []
    thread = writer.start(seconds)
    while thread.is_alive():
        rss.append(rss_kb(proc.pid))
        thread.join(1.0)
    time.sleep(3.0)  # let the last polls land
    rss.append(rss_kb(proc.pid))
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    out.extend(rest.splitlines(keepends=True))
    bundle = next(snaps.glob("*-exit/snapshot.json"))
    doc = json.loads(bundle.read_text())
    ingested = [
        n
        for r in doc["records"]
        if r["source"] == "access" and (n := number_of(r["fields"].get("url"))) is not None
    ]
    states = [line.split(" ", 1)[1].strip() for line in out if " source access: " in f" {line}"]
    figures: dict[str, Any] = {"seconds": seconds, "seed": seed, "exit": proc.returncode}
    failures: list[str] = []
    try:
        figures.update(check(ingested, writer))
    except AssertionError as exc:
        failures.append(f"exactly once: {exc}")
    figures["faults"] = dict(figures.get("faults") or {})
    figures["counts"] = doc["counts"]
    figures["records_in_bundle"] = len(doc["records"])
    figures["states"] = {s.split(":")[1].strip(): states.count(s) for s in states}
    figures["state_changes"] = len(states)
    figures["last_state"] = states[-1] if states else ""
    half = rss[len(rss) // 2 :] or [0]
    figures["rss_mb"] = {
        "start": round(rss[0] / 1024, 1) if rss else 0,
        "peak": round(max(rss) / 1024, 1) if rss else 0,
        "end": round(rss[-1] / 1024, 1) if rss else 0,
        "second_half_growth": round((max(half) - half[0]) / 1024, 1),
    }
    if proc.returncode != 0:
        failures.append(f"exit code {proc.returncode}")
    if "Traceback" in err or "Traceback" in "".join(out):
        failures.append(f"a traceback was printed: {err[-2000:]}")
    if not states or not states[-1].endswith(": ok"):
        failures.append(f"the source did not end ok: {states[-3:]}")
    if len({s.split(":")[1].strip() for s in states}) < 2:
        failures.append(f"states never changed: {states}")
    if doc["counts"].get("access", 0) != len(
        [r for r in doc["records"] if r["source"] == "access"]
    ):
        failures.append("the bundle does not hold every record (ring or window too small)")
    # memory: the ring grows with the records kept (about a kB each); beyond that, flat
    allowance = 150 + len(doc["records"]) * 2 / 1024
    if rss and max(rss) / 1024 > allowance:
        failures.append(f"RSS peaked at {max(rss) / 1024:.0f} MB (allowed {allowance:.0f} MB)")
    figures["failures"] = failures
    figures["work"] = str(work)
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    figures = soak(args.seconds, args.seed)
    print(json.dumps(figures, indent=1))
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
