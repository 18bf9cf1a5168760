"""The built-in incident of ``lamptop demo``, played through lamptop's real code paths.

A :class:`DemoScenario` simulates one small Apache 2.4 prefork + mod_php + MariaDB server on a
1 GiB machine. Its logs are real files in a work directory (combined access log, Apache error
log, PHP error_log, MariaDB slow log) that lamptop's tails follow; a :class:`DemoServer` on
127.0.0.1 answers ``/server-status?auto`` and the ExtendedStatus page for lamptop's status
poller; a :class:`DemoSystem` stands in for the psutil sampler. One story clock drives all
three: :class:`DemoSystem` steps the scenario, so logs, pages and memory always agree.

The story loops every :data:`LOOP` seconds of story time (story time = wall time x speed):

``calm`` (0-28 s)
    a few requests a second to the shop; scoreboard mostly ``_`` with one or two ``W``.
``build-up`` (28-42 s)
    a dashboard with a caching bug requests ``/report.php?month=...`` again and again: the
    report cannot write its cache file (a PHP warning says so), so every request runs the
    month's GROUP BY again. Workers fill with it and each child grows.
``outage`` (42-100 s)
    all 20 workers (``MaxRequestWorkers``) serve report.php, Apache logs AH00161, most
    requests die of PHP's memory limit (500), the slow log fills with 2-8 s queries, memory
    nears 95 % and the machine swaps.
``recovery`` (100-140 s)
    the dashboard is stopped; workers drain, a graceful restart replaces the bloated
    children and memory falls.

Timestamps come from ``clock`` (UTC). The Apache error log and the slow log carry no zone, so
the demo's config sets ``timezone = "UTC"``. With an injected clock that does not move, time
advances by ``dt / speed`` per step, so a fixed seed and clock give byte-identical files.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psutil

from console.config import Config, LogSpec
from console.demo_pages import (
    CULPRIT,
    MIB,
    NOT_FOUND,
    SLOW_HEADER,
    VHOST,
    PageInfo,
    Request,
    Row,
    Traffic,
    access_line,
    error_line,
    php_entry,
    render_auto,
    render_html,
    slow_entry,
)
from console.events import ProcInfo, ServiceMem, SourceState, SourceStatus, SystemSample
from console.sources import Sink

#: Seconds of story time of one loop, and where each phase begins within it.
LOOP = 140.0
BUILD_UP_AT = 28.0
OUTAGE_AT = 42.0
RECOVERY_AT = 100.0
GRACEFUL_AT = 112.0

LIMIT = 20
"""``MaxRequestWorkers`` (prefork): the scoreboard's length."""
MIN_SPARE, MAX_SPARE, START_SERVERS = 5, 10, 5
QUEUE_TIMEOUT = 30.0
"""Seconds a connection waits in the listen queue before its client gives up."""
PARENT_PID, MYSQL_PID = 1187, 902
MEM_TOTAL = SWAP_TOTAL = 1024 * MIB
OTHER = 170 * MIB
"""Kernel, sshd, journald and the rest of the machine."""
SHARED = 9 * MIB
"""Pages of libphp and the opcache every child has resident."""
PARENT_RSS = 11 * MIB
MYSQL_BASE = 148 * MIB
PRIVATE_CAP = 32 * MIB
"""The most a child keeps between requests (glibc does not give it back)."""
#: What the parent writes to the error log on a graceful restart.
_GRACEFUL = (
    ("mpm_prefork", "notice", "AH00171: Graceful restart requested, doing restart"),
    (
        "mpm_prefork",
        "notice",
        "AH00163: Apache/2.4.71 (Debian) configured -- resuming normal operations",
    ),
    ("mpm_prefork", "info", "AH00164: Server built: 2026-11-12T08:58:41"),
    ("core", "notice", "AH00094: Command line: '/usr/sbin/apache2'"),
)
_OTHERS = (
    (431, "systemd-journald", "/lib/systemd/systemd-journald", 21 * MIB),
    (712, "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", 9 * MIB),
)


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class _Slot:
    """One scoreboard slot and the child process in it."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.pid: int | None = None
        self.generation = 0
        self.mode = "."
        self.acc = [0, 0, 0]  # this connection / this child / this slot
        self.cpu = 0.0
        self.started = 0.0  # story time the most recent request began
        self.req_ms = self.dur_ms = 0
        self.conn_bytes = self.child_bytes = self.slot_bytes = 0
        self.client = self.vhost = self.request = ""
        self.private = 0.0  # bytes the child keeps between requests
        self.born_rss = 0
        self.current: Request | None = None
        self.token = 0  # changes with every state change; stale events compare it

    def private_at(self, t: float) -> float:
        """Private bytes at story time ``t``: report.php's arrays grow after its query."""
        req = self.current
        if req is None or req.peak <= 0 or t <= req.started + req.query:
            return self.private
        php = max(1e-3, req.duration - req.query)
        return self.private + req.peak * min(1.0, (t - req.started - req.query) / php)


class DemoScenario:
    """The simulated server: a state machine stepped in story seconds."""

    def __init__(
        self,
        workdir: Path,
        *,
        seed: int = 1,
        speed: float = 1.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.paths: dict[str, Path] = {
            "access": self.workdir / "access.log",
            "error": self.workdir / "error.log",
            "php": self.workdir / "php_errors.log",
            "slow": self.workdir / "mariadb-slow.log",
        }
        self.seed, self.speed = seed, speed
        self.culprit = CULPRIT
        self.counts = dict.fromkeys(self.paths, 0)
        """Entries written so far, per file (a PHP trace or a slow query counts once)."""
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.t = 0.0
        """Story seconds since the start."""
        self.now = _aware(self._clock())
        """Wall time of the most recent step (aware UTC)."""
        self._t0, self._span, self._w0 = 0.0, 0.0, self.now
        self.traffic = Traffic(self._rng, self.now)
        self._restart = self.now - timedelta(seconds=7000 + self._rng.randint(0, 3000))
        self._config_gen, self._mpm_gen = 4, 3
        self._cpu = [0.9, 0.3, 11.2, 1.4]
        self._slots = [_Slot(i) for i in range(LIMIT)]
        self._next_pid = 24100 + self._rng.randint(0, 800)
        self._queue: deque[Request] = deque()
        self._events: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._pending: dict[str, list[str]] = {k: [] for k in self.paths}
        self._slow_second: int | None = None
        self._slow_db = ""
        self._queries = 0
        self._maxed = False
        self._spawn_rate = 1
        self._load = [0.21, 0.24, 0.19]
        self._cpu_pct = 5.0
        self._swap = 0.0
        self._history()
        for path in self.paths.values():
            path.write_bytes(b"")
        self._pending["slow"].extend(SLOW_HEADER)
        self._flush()
        self._push(self._rng.uniform(0.1, 0.9), "tick", None)
        self._push(0.0, "arrive", ("site", False))
        self._push(0.0, "arrive", ("report", False))
        self._schedule_loop(0)

    # -- public -------------------------------------------------------------------------------

    @property
    def phase(self) -> str:
        """``calm``, ``build-up``, ``outage`` or ``recovery``."""
        return phase_at(self.t)

    def preroll(self, seconds: float) -> None:
        """Play ``seconds`` of story at once, stamped as if they had just happened."""
        back = timedelta(seconds=seconds / self.speed)
        with self._lock:
            self.now -= back
            self._restart -= back
        self.step(seconds)

    def step(self, dt: float) -> None:
        """Advance the story by ``dt`` seconds; append what happened to the log files."""
        if dt < 0:
            raise ValueError("dt must not be negative")
        with self._lock:
            w0, w1 = self.now, _aware(self._clock())
            if w1 <= w0:
                w1 = w0 + timedelta(seconds=dt / self.speed)
            self._t0, self._span, self._w0, self.now = self.t, dt, w0, w1
            end = self.t + dt
            while self._events and self._events[0][0] <= end:
                when, _, kind, arg = heapq.heappop(self._events)
                self.t = max(self.t, when)
                getattr(self, "_on_" + kind)(arg)
            self.t = end
            self._flush()

    def status_auto(self) -> str:
        """``/server-status?auto`` now."""
        with self._lock:
            return render_auto(self._page_info(self._poll_slot()))

    def status_html(self) -> str:
        """``/server-status`` (ExtendedStatus On) now."""
        with self._lock:
            poll = self._poll_slot()
            return render_html(self._page_info(poll), self._rows(poll))

    def system_sample(self, now: datetime | None = None) -> SystemSample:
        """Memory, swap, load and processes of the simulated machine now."""
        with self._lock:
            return self._system(now or self.now)

    # -- time and events ----------------------------------------------------------------------

    def _push(self, when: float, kind: str, arg: Any) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, kind, arg))

    def _wall(self) -> datetime:
        """Wall time of the current story instant, spread evenly over the step."""
        if self._span <= 0:
            return self.now
        frac = min(1.0, max(0.0, (self.t - self._t0) / self._span))
        return self._w0 + (self.now - self._w0) * frac

    def _schedule_loop(self, n: int) -> None:
        base = n * LOOP
        self._push(base + RECOVERY_AT, "recovery", None)
        self._push(base + GRACEFUL_AT + self._rng.random(), "graceful", None)
        self._push(base + LOOP, "loop", n + 1)

    def _on_loop(self, n: int) -> None:
        self._schedule_loop(n)

    def _on_arrive(self, arg: tuple[str, bool]) -> None:
        stream, real = arg
        rate = self._rate(stream)
        if real and rate > 0:
            if stream == "site":
                self._queue.append(self.traffic.site(self.t))
            else:
                self._queue.append(self.traffic.report(self.t))
            self._dispatch()
        rate = self._rate(stream)
        if rate > 0:
            self._push(self.t + self._rng.expovariate(rate), "arrive", (stream, True))
        else:
            self._push(self.t + 1.0, "arrive", (stream, False))

    def _rate(self, stream: str) -> float:
        if stream == "site":
            return 3.6
        pos = self.t % LOOP
        if pos < BUILD_UP_AT or pos >= RECOVERY_AT:
            return 0.0
        if pos < OUTAGE_AT:
            return 0.6 + 3.6 * (pos - BUILD_UP_AT) / (OUTAGE_AT - BUILD_UP_AT)
        return 4.5

    def _on_tick(self, _: None) -> None:
        self._maintain()
        while self._queue and self.t - self._queue[0].arrived > QUEUE_TIMEOUT:
            self._queue.popleft()
        self._update_load()
        self._push(self.t + 1.0, "tick", None)

    def _on_recovery(self, _: None) -> None:
        # The dashboard is closed: its queued connections go away with it.
        self._queue = deque(r for r in self._queue if not r.report)

    def _on_graceful(self, _: None) -> None:
        w = self._wall()
        for i, (module, level, message) in enumerate(_GRACEFUL):
            w += timedelta(microseconds=self._rng.randint(20_000, 60_000) if i == 1 else 5 + i)
            self._error(w, module, level, message)
        self._config_gen += 1
        self._mpm_gen += 1
        self._maxed = False
        self._spawn_rate = 1
        for slot in self._slots:
            if slot.pid is None:
                continue
            if slot.mode == "W":
                slot.mode = "G"
                slot.token += 1
            else:
                self._exit(slot)
        for slot in [s for s in self._slots if s.pid is None][:START_SERVERS]:
            self._spawn(slot)

    # -- workers ------------------------------------------------------------------------------

    def _history(self) -> None:
        """Nine children that have served for a while, and three slots whose child was reaped."""
        rng = self._rng
        for slot in self._slots[:12]:
            self._spawn(slot)
            served = rng.randint(1200, 2600)
            req = self.traffic.site(0.0)
            slot.acc = [0, rng.randint(150, 900), served]
            slot.dur_ms = served * rng.randint(90, 160)
            slot.slot_bytes = served * rng.randint(7000, 11000)
            slot.child_bytes = slot.acc[1] * rng.randint(7000, 11000)
            slot.cpu = slot.acc[1] * 0.004
            slot.req_ms = int(req.duration * 1000)
            slot.started = -rng.uniform(0.0, 6.0)
            slot.client, slot.vhost, slot.request = req.client, VHOST, req.line
            if slot.index >= 9:
                slot.generation -= 1
                self._exit(slot)

    def _spawn(self, slot: _Slot) -> None:
        slot.pid = self._next_pid
        self._next_pid += self._rng.randint(1, 4)
        slot.generation = self._mpm_gen
        slot.mode = "_"
        slot.acc[0] = slot.acc[1] = 0
        slot.cpu = 0.0
        slot.conn_bytes = slot.child_bytes = 0
        slot.private = self._rng.uniform(3.6, 5.2) * MIB
        slot.born_rss = int(SHARED + slot.private)
        slot.current = None
        slot.token += 1

    def _exit(self, slot: _Slot) -> None:
        self._cpu[2] += slot.cpu * 0.1
        slot.pid = None
        slot.mode = "."
        slot.acc[0] = slot.acc[1] = 0
        slot.cpu = 0.0
        slot.conn_bytes = slot.child_bytes = 0
        slot.current = None
        slot.token += 1

    def _idle(self) -> list[_Slot]:
        return [
            s
            for s in self._slots
            if s.pid is not None and s.mode == "_" and s.generation == self._mpm_gen
        ]

    def _maintain(self) -> None:
        """Prefork's idle server maintenance, once a second."""
        idle = self._idle()
        free = [s for s in self._slots if s.pid is None]
        if len(idle) > MAX_SPARE:
            self._exit(idle[-1])
            self._spawn_rate = 1
        elif len(idle) < MIN_SPARE:
            if not free:
                if not self._maxed:
                    self._maxed = True
                    self._error(
                        self._wall(),
                        "mpm_prefork",
                        "error",
                        "AH00161: server reached MaxRequestWorkers setting, consider raising"
                        " the MaxRequestWorkers setting",
                    )
                self._spawn_rate = 1
                return
            n = min(self._spawn_rate, len(free))
            if self._spawn_rate >= 8:
                total = LIMIT - len(free)
                self._error(
                    self._wall(),
                    "mpm_prefork",
                    "info",
                    "AH00162: server seems busy, (you may need to increase StartServers, or"
                    f" Min/MaxSpareServers), spawning {n} children, there are {len(idle)} idle,"
                    f" and {total} total children",
                )
            for slot in free[:n]:
                self._spawn(slot)
            self._spawn_rate = min(32, self._spawn_rate * 2)
            self._dispatch()
        else:
            self._spawn_rate = 1

    def _dispatch(self) -> None:
        while self._queue:
            idle = self._idle()
            if not idle:
                return
            req = self._queue.popleft()
            if self.t - req.arrived <= QUEUE_TIMEOUT:
                self._start(self._rng.choice(idle), req)

    def _start(self, slot: _Slot, req: Request) -> None:
        req.started, req.wall = self.t, self._wall()
        if req.report:
            pressure = min(1.0, self._swap / (256 * MIB))
            self.traffic.plan_report(req, self._queries, self.phase, pressure)
            self._queries += 1
        slot.mode, slot.current, slot.started = "W", req, self.t
        slot.client, slot.vhost, slot.request = req.client, VHOST, req.line[:63]
        slot.token += 1
        if req.sql:
            self._push(self.t + min(req.query, req.duration), "query", (slot, req))
        self._push(self.t + req.duration, "done", (slot, req))

    def _on_query(self, arg: tuple[_Slot, Request]) -> None:
        _, req = arg
        if req.report:
            self._queries -= 1
        if req.outcome == "gone":
            return
        end = self._wall()
        second = int(end.timestamp())
        entry = self.traffic.slow_entry(req, end, self._swap > 0)
        self._pending["slow"].extend(
            slow_entry(entry, time_line=second != self._slow_second, use_db=self._slow_db != "shop")
        )
        self._slow_second, self._slow_db = second, "shop"
        self.counts["slow"] += 1

    def _on_done(self, arg: tuple[_Slot, Request]) -> None:
        slot, req = arg
        if slot.current is not req:
            return
        w = self._wall()
        assert req.wall is not None
        self._write(
            "access",
            access_line(
                req.client, req.wall, req.line, req.status, req.size, req.referer, req.agent
            ),
        )
        for label, message, trace in req.php:
            self._pending["php"].extend(php_entry(w, label, message, trace))
            self.counts["php"] += 1
        if req.error is not None and slot.pid is not None:
            module, level, message = req.error
            self._error(w, module, level, message, slot.pid, f"{req.client}:{req.port}")
        ms = int(round(req.duration * 1000))
        slot.acc = [n + 1 for n in slot.acc]
        slot.req_ms = ms
        slot.dur_ms += ms
        slot.conn_bytes += req.size
        slot.child_bytes += req.size
        slot.slot_bytes += req.size
        slot.cpu += req.cpu
        self._cpu[0] += req.cpu * 0.87
        self._cpu[1] += req.cpu * 0.13
        if req.peak > 0:
            slot.private = min(PRIVATE_CAP, slot.private + req.peak * 0.35)
        else:
            slot.private = min(7 * MIB, slot.private + self._rng.uniform(0, 0.12) * MIB)
        slot.current = None
        slot.token += 1
        if slot.generation != self._mpm_gen:
            self._exit(slot)
        elif req.keepalive > 0:
            slot.mode = "K"
            self._push(self.t + req.keepalive, "keepalive", (slot, slot.token))
        else:
            slot.mode = "_"
            slot.acc[0] = slot.conn_bytes = 0
        self._dispatch()

    def _on_keepalive(self, arg: tuple[_Slot, int]) -> None:
        slot, token = arg
        if slot.token != token or slot.mode != "K":
            return
        slot.acc[0] = slot.conn_bytes = 0
        if slot.generation != self._mpm_gen:
            self._exit(slot)
        else:
            slot.mode = "_"
            slot.token += 1
        self._dispatch()

    # -- output -------------------------------------------------------------------------------

    def _write(self, name: str, line: str) -> None:
        self._pending[name].append(line)
        self.counts[name] += 1

    def _error(
        self,
        when: datetime,
        module: str,
        level: str,
        message: str,
        pid: int = PARENT_PID,
        client: str | None = None,
    ) -> None:
        self._write("error", error_line(when, module, level, pid, message, client))

    def _flush(self) -> None:
        failed: OSError | None = None
        for name, lines in self._pending.items():
            if lines:
                try:
                    with self.paths[name].open("a", encoding="utf-8", newline="\n") as fh:
                        fh.write("\n".join(lines) + "\n")
                except OSError as exc:  # the lines are lost, as a full disk loses them
                    failed = exc
                lines.clear()
        if failed is not None:
            raise failed

    # -- pages and memory ---------------------------------------------------------------------

    def _poll_slot(self) -> int | None:
        """The idle child that serves the status request itself (none when all are busy)."""
        idle = self._idle()
        return idle[int(self.t * 7) % len(idle)].index if idle else None

    def _page_info(self, poll: int | None) -> PageInfo:
        slots = self._slots
        board = "".join("W" if s.index == poll else s.mode for s in slots)
        u, sy, cu, cs = self._cpu
        return PageInfo(
            now=self.now,
            restart=self._restart,
            config_generation=self._config_gen,
            mpm_generation=self._mpm_gen,
            uptime=max(1, int((self.now - self._restart).total_seconds())),
            load=(self._load[0], self._load[1], self._load[2]),
            accesses=sum(s.acc[2] for s in slots),
            kbytes=sum(s.slot_bytes for s in slots) // 1024,
            duration_ms=sum(s.dur_ms for s in slots),
            cpu=(round(u, 2), round(sy, 2), round(cu, 2), round(cs, 2)),
            scoreboard=board,
        )

    def _rows(self, poll: int | None) -> list[Row]:
        rows = []
        for s in self._slots:
            if s.acc[2] == 0 and s.mode in "_." and s.index != poll:
                continue
            alive = s.pid is not None
            row = Row(
                slot=s.index,
                generation=s.generation,
                pid=s.pid,
                acc=(s.acc[0], s.acc[1], s.acc[2]),
                mode=s.mode,
                cpu=s.cpu if alive else 0.0,
                ss=max(0, int(self.t - s.started)) if alive else 0,
                req_ms=0 if s.mode == "W" else s.req_ms,
                dur_ms=s.dur_ms,
                conn_kb=s.conn_bytes / 1024,
                child_mb=s.child_bytes / MIB,
                slot_mb=s.slot_bytes / MIB,
                client=s.client,
                vhost=s.vhost,
                request=s.request,
            )
            if s.index == poll:
                line = "GET /server-status HTTP/1.1"
                row = replace(row, mode="W", ss=0, req_ms=0, client="127.0.0.1", request=line)
                row = replace(row, vhost="localhost:80", acc=(0, *row.acc[1:]), conn_kb=0.0)
            rows.append(row)
        return rows

    def _demand(self) -> tuple[dict[int, float], float, float]:
        """Bytes each apache child wants resident, what mariadbd wants, and the excess."""
        children = {s.pid: SHARED + s.private_at(self.t) for s in self._slots if s.pid is not None}
        mysql = MYSQL_BASE + self._queries * 5 * MIB
        procs = PARENT_RSS + sum(children.values()) + mysql
        excess = max(0.0, procs - (0.955 * MEM_TOTAL - OTHER - sum(o[3] for o in _OTHERS)))
        return children, mysql, excess

    def _busy_cpu(self) -> float:
        """Cores' worth of work: PHP in the children, report queries in mariadbd."""
        work = self._queries * 0.8
        for s in self._slots:
            req = s.current
            if req is not None and s.mode in "WG" and self.t >= req.started + req.query:
                work += 0.9 if req.report else 0.3
        return work

    def _update_load(self) -> None:
        _, _, excess = self._demand()
        running = sum(1 for s in self._slots if s.mode in "WG") + (3 if excess else 0)
        for i, period in enumerate((60.0, 300.0, 900.0)):
            e = math.exp(-1.0 / period)
            self._load[i] = self._load[i] * e + running * (1 - e)
        target = min(100.0, 3.0 + 50.0 * self._busy_cpu())
        self._cpu_pct = 0.5 * self._cpu_pct + 0.5 * target
        if excess >= self._swap:
            self._swap = excess
        else:
            self._swap = max(excess, self._swap * 0.97 - 0.5 * MIB)

    def _system(self, now: datetime) -> SystemSample:
        children, mysql, excess = self._demand()
        wanted = PARENT_RSS + sum(children.values()) + mysql
        scale = 1.0 - excess / wanted
        busy = max(1.0, self._busy_cpu())
        rss = {pid: int(b * scale) for pid, b in children.items()}
        rss[PARENT_PID] = int(PARENT_RSS * scale)
        rss[MYSQL_PID] = int(mysql * scale)
        apache2, mysql_cpu = "/usr/sbin/apache2 -k start", min(190.0, 1.0 + 80.0 * self._queries)
        table = [
            (
                s.pid,
                "apache2",
                apache2,
                s.born_rss,
                min(99.0, 180.0 / busy) if s.mode in "WG" else 0,
            )
            for s in self._slots
            if s.pid is not None
        ]
        table.append((PARENT_PID, "apache2", apache2, PARENT_RSS, 0.1))
        table.append((MYSQL_PID, "mariadbd", "/usr/sbin/mariadbd", MYSQL_BASE, mysql_cpu))
        procs = [
            ProcInfo(pid, name, cmd, rss[pid], rss[pid] - base, round(cpu, 1))
            for pid, name, cmd, base, cpu in table
        ]
        procs.extend(ProcInfo(pid, name, cmd, size) for pid, name, cmd, size in _OTHERS)
        procs.sort(key=lambda p: p.rss, reverse=True)
        apache = sum(v for k, v in rss.items() if k != MYSQL_PID)
        # Under pressure the kernel reclaims and refills caches: used memory hovers.
        hover = 3 * MIB * math.sin(self.t / 3.0) if excess else 0.0
        used = int(OTHER + sum(o[3] for o in _OTHERS) + wanted * scale + hover)
        swap = int(max(excess, self._swap))
        return SystemSample(
            ts=now,
            mem_total=MEM_TOTAL,
            mem_used=used,
            mem_available=MEM_TOTAL - used,
            swap_total=SWAP_TOTAL,
            swap_used=min(SWAP_TOTAL, swap),
            load1=round(self._load[0], 2),
            load5=round(self._load[1], 2),
            load15=round(self._load[2], 2),
            cpu_percent=round(self._cpu_pct, 1),
            cpu_count=2,
            services=(
                ServiceMem("apache", apache, len(children) + 1),
                ServiceMem("mysql", rss[MYSQL_PID], 1),
            ),
            top=tuple(procs[:10]),
            rss_by_pid=rss,
            scanned=True,
        )


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 16), b""))


def phase_at(t: float) -> str:
    """The phase of the story at story time ``t``."""
    pos = t % LOOP
    if pos < BUILD_UP_AT:
        return "calm"
    if pos < OUTAGE_AT:
        return "build-up"
    if pos < RECOVERY_AT:
        return "outage"
    return "recovery"


class DemoServer:
    """A threaded HTTP server on 127.0.0.1 answering like mod_status from a scenario."""

    def __init__(self, scenario: DemoScenario) -> None:
        self.scenario = scenario
        self.url: str | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Listen on a free loopback port; returns the status URL."""
        if self.url is not None:
            return self.url
        scenario = self.scenario

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def version_string(self) -> str:
                return "Apache/2.4.71 (Debian)"

            def do_GET(self) -> None:
                self._answer(body=True)

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def _answer(self, body: bool) -> None:
                parts = urlsplit(self.path)
                ctype = "text/html; charset=ISO-8859-1"
                if parts.path.rstrip("/") != "/server-status":
                    code, text = 404, NOT_FOUND
                elif "auto" in parse_qs(parts.query, keep_blank_values=True):
                    code, text = 200, scenario.status_auto()
                    ctype = "text/plain; charset=ISO-8859-1"
                else:
                    code, text = 200, scenario.status_html()
                data = text.encode("latin-1", "replace")
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the console owns the terminal

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="lamptop-demo-status", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}/server-status"
        return self.url

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.url = None


class DemoSystem:
    """The memory source of the demo: steps the scenario and reports its machine.

    Every ``interval / speed`` seconds it delivers a :class:`SystemSample` to the sink;
    between samples it steps the scenario a few times a second so that log lines arrive
    spread out. lamptop's own RSS and CPU are read from the real process.
    """

    def __init__(
        self,
        scenario: DemoScenario,
        sink: Sink,
        *,
        interval: float = 1.0,
        name: str = "system",
        tick: float = 0.25,
    ) -> None:
        self.scenario, self.sink = scenario, sink
        self.interval, self.name, self.tick = interval, name, tick
        self._sent: tuple[str, str] | None = None

    def _state(self, status: SourceStatus, message: str) -> None:
        if (status, message) != self._sent:
            self._sent = (status, message)
            self.sink.set_state(
                SourceState(
                    ts=self.scenario.now,
                    source=self.name,
                    kind="system",
                    status=status,
                    message=message,
                    target="simulated machine (demo)",
                )
            )

    async def run(self) -> None:
        scenario = self.scenario
        me = psutil.Process()
        me.cpu_percent(None)
        loop = asyncio.get_running_loop()
        period = self.interval / scenario.speed
        last = loop.time()
        due = last
        while True:
            now = loop.time()
            try:
                # After a suspend, play at most half a minute instead of the whole gap.
                scenario.step(min(30.0, (now - last) * scenario.speed))
            except OSError as exc:  # the work directory went away or filled up
                self._state("error", f"cannot write the demo's logs: {exc}")
            else:
                self._state("ok", "")
            last = now
            if now >= due:
                sample = scenario.system_sample()
                try:
                    sample = replace(
                        sample, self_rss=int(me.memory_info().rss), self_cpu=me.cpu_percent(None)
                    )
                except psutil.Error:
                    pass
                self.sink.add_system(sample)
                due = max(due + period, now)
            await asyncio.sleep(max(0.0, min(self.tick, due - loop.time())))


class Demo:
    """The whole demo: work directory, scenario and status server, as a context manager."""

    def __init__(
        self,
        *,
        seed: int = 1,
        speed: float = 1.0,
        workdir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        start_at: float = 0.0,
    ) -> None:
        self._own = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="lamptop-demo-")) if workdir is None else workdir
        )
        try:
            self.scenario = DemoScenario(self.workdir, seed=seed, speed=speed, clock=clock)
            if start_at > 0:
                self.scenario.preroll(start_at)
        except BaseException:
            if self._own:
                shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        self.server = DemoServer(self.scenario)
        self.url: str | None = None
        self._interval = 1.0

    def __enter__(self) -> Demo:
        self.url = self.server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.stop()
        self.url = None
        if self._own:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def config(self, base: Config) -> Config:
        """``base`` watching the demo: its four logs and its status URL, nothing discovered.

        The logs are read from their first line (a preroll may have written more than
        ``backfill_lines``), and their zone-less times are read as UTC.
        """
        if self.url is None:
            raise RuntimeError("Demo.config() needs the demo started: use it in a with block")
        self._interval = base.system_interval
        p = self.scenario.paths
        logs = (
            LogSpec(path=str(p["access"]), kind="apache-access", name="access"),
            LogSpec(path=str(p["error"]), kind="apache-error", name="apache"),
            LogSpec(path=str(p["php"]), kind="php-error", name="php"),
            LogSpec(path=str(p["slow"]), kind="mysql-slow", name="mysql-slow"),
        )
        return replace(
            base,
            logs=logs,
            discover=False,
            status_url=self.url,
            status_user=None,
            status_password=None,
            timezone="UTC",
            backfill_lines=max(base.backfill_lines, *(_count_lines(path) for path in p.values())),
        )

    def system_source(self, sink: Sink) -> DemoSystem:
        """The simulated memory source; it also steps the story."""
        return DemoSystem(self.scenario, sink, interval=self._interval)
