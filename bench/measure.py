"""CPU and memory of a process and its children, read from ``/proc``, plus shared helpers.

CPU is user + system time over wall time, in percent of one core (100 = one core busy). The
time of a process tree is, for every live process in it, ``utime + stime + cutime + cstime``
(``/proc/PID/stat``): children that already exited and were waited for are in their parent's
``c*time``, so nothing is counted twice or lost. Memory is resident set size: the sum of
``VmRSS`` over the tree, sampled, and each process's own high-water mark ``VmHWM``; the peak
reported is the larger of the sampled sum and the largest ``VmHWM``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project's root (``bench/..``)."""
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- /proc ------------------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: split after the last ')'
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of one process, in seconds (0 when gone)."""
    f = _stat_fields(pid)
    if f is None:
        return 0.0
    # fields after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / TICK


def children_map() -> dict[int, list[int]]:
    """ppid -> [pid] of every process."""
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        f = _stat_fields(int(name))
        if f is not None:
            kids.setdefault(int(f[1]), []).append(int(name))
    return kids


def tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def status_kb(pid: int, key: str) -> int:
    """A ``kB`` line of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``), in kB; 0 when gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class Usage:
    """What a :class:`Sampler` saw over its window."""

    wall: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    rss_mb: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since start, tree RSS in MB) samples."""

    @property
    def cpu_pct(self) -> float:
        return 100.0 * self.cpu_s / self.wall if self.wall > 0 else 0.0

    def rss_at(self, seconds: float) -> float:
        """Tree RSS of the sample nearest to ``seconds`` into the window."""
        if not self.rss_mb:
            return 0.0
        return min(self.rss_mb, key=lambda s: abs(s[0] - seconds))[1]


class Sampler:
    """Samples a process tree in a thread; :meth:`start` and :meth:`stop` bound the window.

    ``pids`` are roots: each is measured with its descendants (a tmux pane's shell and the
    program in it, a tool and the ``tail`` it forks). CPU is measured between ``start`` and
    ``stop`` only, so a program's start-up is left out when ``start`` is called after it.
    """

    def __init__(
        self, pids: Sequence[int], interval: float = 0.25, *, descendants: bool = True
    ) -> None:
        self.roots = list(pids)
        self.descendants = descendants
        self.interval = interval
        self.usage = Usage()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu0 = 0.0
        self._t0 = 0.0

    def _pids(self) -> list[int]:
        if not self.descendants:
            return list(self.roots)
        kids = children_map()
        out: list[int] = []
        for root in self.roots:
            todo = [root]
            while todo:
                p = todo.pop()
                if p not in out:
                    out.append(p)
                    todo.extend(kids.get(p, ()))
        return out

    def _cpu(self, pids: Iterable[int]) -> float:
        return sum(cpu_seconds(p) for p in pids)

    def _sample(self) -> None:
        pids = self._pids()
        rss = sum(status_kb(p, "VmRSS") for p in pids) / 1024
        hwm = max((status_kb(p, "VmHWM") for p in pids), default=0) / 1024
        u = self.usage
        u.rss_mb.append((time.monotonic() - self._t0, rss))
        u.peak_rss_mb = max(u.peak_rss_mb, rss, hwm)

    def start(self) -> Sampler:
        self._t0 = time.monotonic()
        self._cpu0 = self._cpu(self._pids())
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> Usage:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        u = self.usage
        u.wall = time.monotonic() - self._t0
        u.cpu_s = max(self._cpu(self._pids()) - self._cpu0, 0.0)
        return u


# -- running lamptop --------------------------------------------------------------------------
def lamptop_cmd() -> list[str]:
    """How to start lamptop: the ``lamptop`` next to this Python, else ``python -m``."""
    exe = Path(sys.executable).with_name("lamptop")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("lamptop")
    if found:
        return [found]
    return [sys.executable, "-m", "console.cli"]


def watch_args(access: Path, error: Path, snapdir: Path, status_url: str | None) -> list[str]:
    """lamptop's arguments to watch the generated access and error logs (and a status URL)."""
    args = ["--no-discover", "--log", f"{access}=apache-access", "--log", f"{error}=apache-error"]
    args += ["--snapshot-dir", str(snapdir)]
    return args + (["--status", status_url] if status_url else [])


def gen_cmd(access: Path, error: Path, rate: float, duration: float) -> list[str]:
    """The generator (``gen.py``) writing both logs at ``rate`` lines/s for ``duration`` s."""
    gen = Path(__file__).resolve().parent / "gen.py"
    args = ["--access", str(access), "--error", str(error), "--rate", str(rate)]
    return [sys.executable, str(gen), *args, "--duration", str(duration)]


def lamptop_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TERM", "xterm-256color")
    # a fresh config home: no user config file changes what is measured
    env["XDG_CONFIG_HOME"] = env.get("BENCH_XDG_CONFIG_HOME", "/nonexistent-lamptop-bench")
    env.update(extra)
    return env


# -- a mod_status page on loopback --------------------------------------------------------------
class StatusServer:
    """Serves a captured mod_status page (``?auto`` and HTML) on 127.0.0.1, in a thread.

    It answers HTTP/1.1 and keeps the connection open between requests, as Apache does with
    ``KeepAlive On``, so a poller that reuses its connection is measured doing so (an HTTP/1.0
    server would make every poll open a new connection and charge that to the poller).
    """

    def __init__(self, sample: str = "prefork/auto_090.txt") -> None:
        base = ROOT / "tests" / "fixtures" / "status"
        auto = (base / sample).read_bytes()
        html_path = base / sample.replace("auto_", "html_").replace(".txt", ".html")
        html = html_path.read_bytes() if html_path.exists() else b"<html></html>"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                body = auto if "auto" in self.path else html
                ctype = "text/plain" if body is auto else "text/html"
                self.send_response(200)
                self.send_header("Content-Type", f"{ctype}; charset=ISO-8859-1")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Keep-Alive", "timeout=5, max=100000")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/server-status"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StatusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- tmux on a private socket --------------------------------------------------------------------
class Tmux:
    """One detached tmux session on a socket of its own (never touches a user's sessions)."""

    _count = 0

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        width: int = 120,
        height: int = 40,
        cwd: str | None = None,
    ) -> None:
        Tmux._count += 1
        self.socket = f"lamptop-bench-{os.getpid()}-{Tmux._count}"
        self.name = name
        command = " ".join(_quote(c) for c in cmd)
        args = ["new-session", "-d", "-s", name, "-x", str(width), "-y", str(height)]
        if cwd:
            args += ["-c", cwd]
        # the pane's program gets exactly this environment (a new server inherits ours)
        self._run(*args, command, env=env)
        self.pane_pid = int(self._run("display-message", "-p", "-t", name, "#{pane_pid}").strip())
        self.server_pid = int(self._run("display-message", "-p", "#{pid}").strip())

    def _run(self, *args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout

    def capture(self) -> str:
        try:
            return self._run("capture-pane", "-p", "-t", self.name)
        except subprocess.CalledProcessError:
            return ""

    def keys(self, *keys: str) -> None:
        self._run("send-keys", "-t", self.name, *keys)

    def alive(self) -> bool:
        try:
            os.kill(self.pane_pid, 0)
            return True
        except OSError:
            return False

    def kill(self) -> None:
        try:
            self._run("kill-server")
        except subprocess.CalledProcessError:
            pass
        for _ in range(100):  # wait for the server to go, then remove its socket file
            try:
                os.kill(self.server_pid, 0)
            except OSError:
                break
            time.sleep(0.02)
        path = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.socket
        try:
            path.unlink()
        except OSError:
            pass


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


# -- figures ----------------------------------------------------------------------------------
def median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def machine() -> dict[str, object]:
    """Cores, memory, CPU model, kernel, Python and Textual versions, date."""
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        textual = version("textual")
    except Exception:  # noqa: BLE001
        textual = "not installed"
    return {
        "host": socket.gethostname(),
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "textual": textual,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def dump(obj: object, path: str | None) -> None:
    text = json.dumps(obj, indent=1, default=str)
    if path:
        Path(path).write_text(text + "\n")
    else:
        print(text)
