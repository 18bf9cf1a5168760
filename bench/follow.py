"""Follow cost: lamptop and the usual tools following an access log (and an error log at a
tenth of its rate) written at 0, 100, 1,000 and 10,000 lines/s.

Per tool and rate, measured over the time the generator writes (``--duration``, 30 s):

* ``cpu``: user + system CPU over wall time of the tool's process tree, % of one core;
* ``rss``: peak resident memory of the tree, MB;
* ``lag``: how far behind the newest line the tool is while the load runs, median and worst.
  ``lamptop record``: from its stats file (``LAMPTOP_STATS_FILE``): the wall time of each line
  minus the write time in the URL of the newest record in its ring. It includes the recorder's
  0.5 s reorder window, which is by design. TUIs: the time of a screen capture minus the newest
  write time visible on screen (polled once a second through ``tmux capture-pane``);
* ``catch-up``: after the last line is written, how long until the tool has it: the stats file
  counts every line (``record``), the end marker ``/bench/end/N`` is on screen (lamptop TUI),
  or the tool's read offset in the access log reaches the end of the file (peers, read from
  ``/proc/PID/fdinfo``); ``behind`` is the bytes left unread at the end of the load;
* ``lost``: lines written minus records counted (``record`` only), which must be 0.

The tmux server's own CPU (it renders what a TUI draws) is shown apart, in ``tmux cpu``.

    python3 bench/follow.py                      # the whole matrix, 30 s per cell
    python3 bench/follow.py --quick              # 3 s per cell, lamptop record only
    python3 bench/follow.py --tools record,tui --rates 1000 --duration 10
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import (  # noqa: E402
    Sampler,
    StatusServer,
    Tmux,
    dump,
    gen_cmd,
    lamptop_cmd,
    lamptop_env,
    median,
    watch_args,
)

RATES = (0, 100, 1000, 10000)
T_RE = re.compile(r"t=(\d{9,11}\.\d+)")


@dataclass
class Tool:
    name: str
    kind: str
    """``record``, ``tui`` (lamptop in tmux) or ``peer`` (another program in tmux)."""
    argv: Callable[[str, str], list[str]] | None = None
    """For peers: the command, given the access and error log paths."""
    exe: str = ""
    """The program that must be installed."""
    reads_error_log: bool = True

    def available(self) -> bool:
        return not self.exe or shutil.which(self.exe) is not None or Path(self.exe).exists()


def toolong_exe() -> str:
    for cand in (os.environ.get("BENCH_TOOLONG", ""), "/tmp/toolong-venv/bin/tl"):
        if cand and Path(cand).exists():
            return cand
    return shutil.which("tl") or "tl"


def tools() -> dict[str, Tool]:
    return {
        "record": Tool("lamptop record", "record"),
        "tui": Tool("lamptop (TUI)", "tui"),
        "multitail": Tool("multitail", "peer", lambda a, e: ["multitail", a, e], "multitail"),
        "lnav": Tool("lnav", "peer", lambda a, e: ["lnav", a, e], "lnav"),
        "goaccess": Tool(
            "goaccess",
            "peer",
            lambda a, e: ["goaccess", a, "--log-format=COMBINED"],
            "goaccess",
            reads_error_log=False,
        ),
        "apachetop": Tool(
            "apachetop", "peer", lambda a, e: ["apachetop", "-f", a], "apachetop", False
        ),
        "toolong": Tool("toolong", "peer", lambda a, e: [toolong_exe(), a, e], toolong_exe()),
    }


@dataclass
class Result:
    tool: str
    rate: int
    duration: float
    cpu_pct: float | None = None
    peak_rss_mb: float | None = None
    lag_median_s: float | None = None
    lag_max_s: float | None = None
    catchup_s: float | None = None
    """Seconds after the last write until the tool had everything; None: not within the wait."""
    behind_mb: float | None = None
    """Access log bytes not yet read when the load stopped (peers and lamptop), MB."""
    written: int = 0
    received: int | None = None
    lost: int | None = None
    tmux_cpu_pct: float | None = None
    tmux_own: bool = True
    """The tmux figure is the server alone (older results included the pane's program)."""
    note: str = ""
    lags: list[float] = field(default_factory=list)


# -- reading what a tool has read ----------------------------------------------------------------
def read_offsets(pids: list[int], path: str) -> list[int]:
    """File positions of every descriptor of these processes open on ``path``."""
    real = os.path.realpath(path)
    out = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != real:
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                    for line in fh:
                        if line.startswith("pos:"):
                            out.append(int(line.split()[1]))
            except OSError:
                continue
    return out


def behind_bytes(pids: list[int], path: str) -> int | None:
    """Bytes of ``path`` the tool has not read (by its furthest read offset); None when it
    holds no descriptor on it or never moves its offset (it reads with pread or mmap)."""
    offs = read_offsets(pids, path)
    if not offs or max(offs) == 0:
        return None
    return max(os.path.getsize(path) - max(offs), 0)


def screen_lag(text: str, now: float) -> float | None:
    stamps = [float(m) for m in T_RE.findall(text)]
    return now - max(stamps) if stamps else None


GOACCESS_TOTAL = re.compile(r"Total Requests\s+([\d,]+)")


def goaccess_total(text: str) -> int | None:
    m = GOACCESS_TOTAL.search(text)
    return int(m.group(1).replace(",", "")) if m else None


def peer_lag(
    screen: str, now: float, start: float, rate: float, pids: list[int], access: Path
) -> float | None:
    """Seconds behind the writer, from what a TUI shows: the newest ``t=`` on screen; else
    goaccess's request total; else the read offset in the access log (bytes / byte rate)."""
    total = goaccess_total(screen)
    if total is not None:
        return max(rate * (now - start) - total, 0.0) / rate
    lag = screen_lag(screen, now)
    if lag is not None:
        return lag
    behind = behind_bytes(pids, str(access))
    size = access.stat().st_size
    if behind is None or size == 0:
        return None
    return behind / (size / max(now - start, 1e-3))


def read_stats(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def url_time(url: object) -> float | None:
    if not isinstance(url, str):
        return None
    m = T_RE.search(url)
    return float(m.group(1)) if m else None


# -- one cell of the matrix ----------------------------------------------------------------------
def _wait(cond: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def run_one(
    tool: Tool,
    rate: int,
    duration: float,
    *,
    status_url: str | None,
    catchup_wait: float = 30.0,
    workdir: str | None = None,
    settle: float = 1.5,
    extra_args: tuple[str, ...] = (),
) -> Result:
    res = Result(tool.name, rate, duration)
    tmp = Path(tempfile.mkdtemp(prefix="lamptop-bench-", dir=workdir))
    access, error = tmp / "access.log", tmp / "error.log"
    access.touch()
    error.touch()
    stats = tmp / "stats.jsonl"
    snapdir = tmp / "snapshots"
    proc: subprocess.Popen[bytes] | None = None
    tmux: Tmux | None = None
    try:
        base = watch_args(access, error, snapdir, status_url)
        base += extra_args
        if tool.kind == "record":
            env = lamptop_env(LAMPTOP_STATS_FILE=str(stats))
            log = open(tmp / "record.out", "wb")  # noqa: SIM115
            proc = subprocess.Popen(
                [*lamptop_cmd(), "record", *base, "--bundle-on-exit"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp,
            )
            pids = [proc.pid]
            if not _wait(lambda: len(read_stats(stats)) >= 1, 20):
                res.note = "did not start"
                return res
        elif tool.kind == "tui":
            tmux = Tmux("tui", [*lamptop_cmd(), *base], env=lamptop_env(), cwd=str(tmp))
            pids = [tmux.pane_pid]
            if not _wait(lambda: "logs" in tmux.capture() and "workers" in tmux.capture(), 20):
                res.note = "no first screen"
                return res
        else:
            assert tool.argv is not None
            tmux = Tmux(tool.name, tool.argv(str(access), str(error)), cwd=str(tmp))
            pids = [tmux.pane_pid]
        time.sleep(settle)  # let start-up settle; it is not what is measured
        sampler = Sampler(pids).start()
        # the tmux server alone: the program in the pane is its child, measured above
        tsampler = Sampler([tmux.server_pid], descendants=False).start() if tmux else None
        gen = subprocess.Popen(
            gen_cmd(access, error, rate, duration),
            stdout=subprocess.PIPE,
        )
        lags: list[float] = []
        t_start = next_look = time.time()
        while gen.poll() is None:
            time.sleep(0.1)
            if time.time() < next_look:
                continue
            next_look += 1.0
            if tmux is not None and rate > 0:
                lag = peer_lag(tmux.capture(), time.time(), t_start, rate, _tree(pids), access)
                if lag is not None:
                    lags.append(lag)
        out, _ = gen.communicate()
        g = json.loads(out)
        usage = sampler.stop()
        res.cpu_pct = round(usage.cpu_pct, 2)
        res.peak_rss_mb = round(usage.peak_rss_mb, 1)
        if tsampler is not None:
            res.tmux_cpu_pct = round(tsampler.stop().cpu_pct, 2)
        res.written = int(g["access_lines"]) + int(g["error_lines"])
        end_t = float(g["end"])
        tree_pids = _tree(pids)
        behind = behind_bytes(tree_pids, str(access))
        res.behind_mb = round(behind / 1e6, 2) if behind is not None else None

        want_access = int(g["access_lines"]) + 1  # the end marker
        want_error = int(g["error_lines"])
        if tool.kind == "record":
            for doc in read_stats(stats):
                t_url = url_time(doc.get("url"))
                if t_url is not None and g["start"] <= float(doc["t"]) <= end_t:  # type: ignore[arg-type]
                    lags.append(float(doc["t"]) - t_url)  # type: ignore[arg-type]

            def caught() -> bool:
                docs = read_stats(stats)
                if not docs:
                    return False
                c = docs[-1]["counts"]
                return c.get("access", 0) >= want_access and c.get("apache", 0) >= want_error  # type: ignore[union-attr]

            ok = _wait(caught, catchup_wait, 0.02)
        elif tool.kind == "tui":
            marker = f"/bench/end/{g['access_lines']}"
            assert tmux is not None
            ok = _wait(lambda: marker in tmux.capture(), catchup_wait, 0.05)
        else:
            assert tmux is not None
            marker = f"/bench/end/{g['access_lines']}"

            def peer_done() -> bool:
                screen = tmux.capture()
                if marker in screen:
                    return True
                total = goaccess_total(screen)
                if total is not None:
                    return total >= want_access
                return behind_bytes(_tree(pids), str(access)) == 0

            total = goaccess_total(tmux.capture())
            if behind is None and total is not None:
                per_line = access.stat().st_size / max(want_access, 1)
                res.behind_mb = round(max(want_access - total, 0) * per_line / 1e6, 2)
            ok = _wait(peer_done, catchup_wait, 0.05)
        # for record the stats file is written once a second: catch-up is known to +-1 s there
        res.catchup_s = round(max(time.time() - end_t, 0.0), 2) if ok else None
        if not ok and tool.kind != "peer":
            res.note = (res.note + f"; not caught up after {catchup_wait:.0f} s").strip("; ")
        if not ok and tool.kind == "peer":
            left = behind_bytes(_tree(pids), str(access))
            total = goaccess_total(tmux.capture()) if tmux else None
            if left is not None:
                res.note = f"still {left / 1e6:.1f} MB behind {catchup_wait:.0f} s after the load"
            elif total is not None:
                res.note = (
                    f"{want_access - total:,} lines unread {catchup_wait:.0f} s after the load"
                )
            else:
                res.note = f"end of the log not on screen {catchup_wait:.0f} s after the load"
        if lags:
            res.lags = [round(x, 3) for x in lags]
            res.lag_median_s = round(median(lags) or 0.0, 3)
            res.lag_max_s = round(max(lags), 3)
        if tool.kind == "record" and proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            docs = read_stats(stats)
            counts = docs[-1]["counts"] if docs else {}
            got = int(counts.get("access", 0)) + int(counts.get("apache", 0))  # type: ignore[union-attr]
            res.received = got
            res.lost = want_access + want_error - got
            # cross-check with the bundle saved on exit
            for snap in snapdir.glob("*-exit/snapshot.json"):
                doc = json.loads(snap.read_text())
                bc = doc.get("counts") or {}
                if bc and sum(int(bc.get(k, 0)) for k in ("access", "apache")) != got:
                    res.note = (res.note + "; bundle counts differ from stats").strip("; ")
        return res
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if tmux is not None:
            tmux.kill()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def _tree(pids: list[int]) -> list[int]:
    from measure import tree

    out: list[int] = []
    for p in pids:
        out.extend(tree(p))
    return out


def run(
    names: list[str] | None = None,
    rates: tuple[int, ...] = RATES,
    duration: float = 30.0,
    repeat: int = 1,
    *,
    catchup_wait: float = 30.0,
    log: Callable[[str], None] = print,
    extra_args: tuple[str, ...] = (),
    label: str = "",
) -> list[dict[str, object]]:
    """Run the matrix; return one dict per (tool, rate, repeat). Missing tools are skipped."""
    all_tools = tools()
    chosen = names or list(all_tools)
    results: list[dict[str, object]] = []
    with StatusServer() as status:
        for key in chosen:
            tool = all_tools[key]
            if not tool.available():
                log(f"skip {tool.name}: {tool.exe} is not installed")
                results.append({"tool": tool.name, "skipped": f"{tool.exe} not installed"})
                continue
            for rate in rates:
                for i in range(repeat):
                    r = run_one(
                        tool,
                        rate,
                        duration,
                        status_url=status.url if tool.kind != "peer" else None,
                        catchup_wait=catchup_wait,
                        extra_args=extra_args if tool.kind != "peer" else (),
                    )
                    r.tool += label
                    d = asdict(r)
                    d["repeat"] = i
                    results.append(d)
                    log(summary(r))
                    sys.stdout.flush()
    return results


def summary(r: Result) -> str:
    def f(v: object, unit: str = "") -> str:
        return "-" if v is None else f"{v}{unit}"

    return (
        f"{r.tool:16} {r.rate:>6}/s cpu {f(r.cpu_pct, '%'):>7} rss {f(r.peak_rss_mb, 'MB'):>8} "
        f"lag {f(r.lag_median_s, 's')} (max {f(r.lag_max_s, 's')}) catch-up {f(r.catchup_s, 's')} "
        f"behind {f(r.behind_mb, 'MB')} lost {f(r.lost)} tmux {f(r.tmux_cpu_pct, '%')} {r.note}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tools", help=f"comma-separated, of: {','.join(tools())} (default: all)")
    p.add_argument("--rates", help="comma-separated lines/s (default: 0,100,1000,10000)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of load per cell")
    p.add_argument("--repeat", type=int, default=1, help="runs per cell (medians are quoted)")
    p.add_argument("--quick", action="store_true", help="lamptop record, 1,000 lines/s, 3 s")
    p.add_argument("--json", metavar="FILE", help="write the results here")
    p.add_argument(
        "--lamptop-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for lamptop (repeatable), e.g. --lamptop-arg=--config=FILE",
    )
    args = p.parse_args(argv)
    names = args.tools.split(",") if args.tools else None
    rates = tuple(int(x) for x in args.rates.split(",")) if args.rates else RATES
    duration = args.duration
    catchup = 30.0
    if args.quick:
        names = names or ["record"]
        rates = tuple(int(x) for x in args.rates.split(",")) if args.rates else (1000,)
        duration = min(duration, 3.0)
        catchup = 10.0
    results = run(
        names,
        rates,
        duration,
        args.repeat,
        catchup_wait=catchup,
        extra_args=tuple(args.lamptop_arg),
    )
    if args.json:
        dump(results, args.json)
    lost = [r for r in results if r.get("lost")]
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
