"""The story of ``lamptop demo``: :class:`DemoScenario`, a state machine stepped in story seconds.

It simulates one small Apache 2.4 prefork + mod_php + MariaDB server on a 1 GiB machine and
appends what happens to four real files in a work directory: the combined access log, the
Apache error log, PHP's error_log and MariaDB's slow log. Its status pages and its memory are
read from the same state, so logs, pages and memory always agree.

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

import heapq
import random
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.core.events import SystemSample
from console.core.stack import MysqlSample
from console.demo.logs import SLOW_HEADER, access_line, error_line, php_entry, slow_entry
from console.demo.memory import Machine
from console.demo.pages import render_auto, render_html
from console.demo.prefork import GRACEFUL_LOG, PARENT_PID, Scoreboard, Slot
from console.demo.stack import FpmPool, mysql_sample, processlist
from console.demo.traffic import CULPRIT, MIB, VHOST, Request, Traffic

#: Seconds of story time of one loop, and where each phase begins within it.
LOOP = 140.0
BUILD_UP_AT = 28.0
OUTAGE_AT = 42.0
RECOVERY_AT = 100.0
GRACEFUL_AT = 112.0

QUEUE_TIMEOUT = 30.0
"""Seconds a connection waits in the listen queue before its client gives up."""


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


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
        self.board = Scoreboard(self._rng, self.now)
        self.machine = Machine(self.board.slots)
        self.fpm = FpmPool(self.board.restart)
        self._queue: deque[Request] = deque()
        self._events: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._pending: dict[str, list[str]] = {k: [] for k in self.paths}
        self._slow_second: int | None = None
        self._slow_db = ""
        self._queries = 0
        """Report queries running in mariadbd."""
        self.board.history(self.traffic)
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
            self.board.restart -= back
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
            board = self.board
            return render_auto(board.page_info(self.now, self._load(), board.poll_slot(self.t)))

    def status_html(self) -> str:
        """``/server-status`` (ExtendedStatus On) now."""
        with self._lock:
            board = self.board
            poll = board.poll_slot(self.t)
            return render_html(
                board.page_info(self.now, self._load(), poll), board.rows(poll, self.t)
            )

    def system_sample(self, now: datetime | None = None) -> SystemSample:
        """Memory, swap, load and processes of the simulated machine now."""
        with self._lock:
            return self.machine.sample(now or self.now, self.t, self._queries)

    def fpm_status(self) -> str:
        """PHP-FPM pool www's ``/fpm-status?json&full`` now."""
        with self._lock:
            return self.fpm.page(self.board.slots, self.t, self.now, len(self._queue))

    def mysql_sample(self, qps: float | None = None) -> MysqlSample:
        """MariaDB's processlist and counters now (``qps``: Questions/s, from the caller)."""
        with self._lock:
            threads = processlist(self.board.slots, self.t)
            questions = 5 * sum(s.acc[2] for s in self.board.slots)
            return mysql_sample(threads, self.now, questions, qps, self.counts["slow"])

    def _load(self) -> tuple[float, float, float]:
        load = self.machine.load
        return (load[0], load[1], load[2])

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
        said, spawned = self.board.maintain()
        for level, message in said:
            self._error(self._wall(), "mpm_prefork", level, message)
        if spawned:
            self._dispatch()
        while self._queue and self.t - self._queue[0].arrived > QUEUE_TIMEOUT:
            self._queue.popleft()
        self.machine.update(self.t, self._queries)
        self._push(self.t + 1.0, "tick", None)

    def _on_recovery(self, _: None) -> None:
        # The dashboard is closed: its queued connections go away with it.
        self._queue = deque(r for r in self._queue if not r.report)

    def _on_graceful(self, _: None) -> None:
        w = self._wall()
        for i, (module, level, message) in enumerate(GRACEFUL_LOG):
            w += timedelta(microseconds=self._rng.randint(20_000, 60_000) if i == 1 else 5 + i)
            self._error(w, module, level, message)
        self.board.graceful()

    # -- requests -----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while self._queue:
            idle = self.board.idle()
            if not idle:
                return
            req = self._queue.popleft()
            if self.t - req.arrived <= QUEUE_TIMEOUT:
                self._start(self._rng.choice(idle), req)

    def _start(self, slot: Slot, req: Request) -> None:
        req.started, req.wall = self.t, self._wall()
        if req.report:
            pressure = min(1.0, self.machine.swap / (256 * MIB))
            self.traffic.plan_report(req, self._queries, self.phase, pressure)
            self._queries += 1
        slot.mode, slot.current, slot.started = "W", req, self.t
        slot.client, slot.vhost, slot.request = req.client, VHOST, req.line[:63]
        slot.token += 1
        if req.sql:
            self._push(self.t + min(req.query, req.duration), "query", (slot, req))
        self._push(self.t + req.duration, "done", (slot, req))

    def _on_query(self, arg: tuple[Slot, Request]) -> None:
        _, req = arg
        if req.report:
            self._queries -= 1
        if req.outcome == "gone":
            return
        end = self._wall()
        second = int(end.timestamp())
        entry = self.traffic.slow_entry(req, end, self.machine.swap > 0)
        self._pending["slow"].extend(
            slow_entry(entry, time_line=second != self._slow_second, use_db=self._slow_db != "shop")
        )
        self._slow_second, self._slow_db = second, "shop"
        self.counts["slow"] += 1

    def _on_done(self, arg: tuple[Slot, Request]) -> None:
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
        self.board.served(slot, req)
        if slot.generation != self.board.mpm_gen:
            self.board.exit(slot)
        elif req.keepalive > 0:
            slot.mode = "K"
            self._push(self.t + req.keepalive, "keepalive", (slot, slot.token))
        else:
            slot.mode = "_"
            slot.acc[0] = slot.conn_bytes = 0
        self._dispatch()

    def _on_keepalive(self, arg: tuple[Slot, int]) -> None:
        slot, token = arg
        if slot.token != token or slot.mode != "K":
            return
        slot.acc[0] = slot.conn_bytes = 0
        if slot.generation != self.board.mpm_gen:
            self.board.exit(slot)
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
