"""The demo's PHP-FPM pool and MariaDB server, read from the same story as its Apache.

PHP runs in php-fpm behind the demo's Apache: each Apache child has one PHP-FPM child of pool
``www`` (``pm = static``, ``pm.max_children`` = MaxRequestWorkers), which runs the PHP request
its Apache child is proxying. :class:`FpmPool` renders the pool's ``/fpm-status?json&full`` page
(the demo's HTTP server answers it, and lamptop's real PHP-FPM poller reads it); its counters,
``max children reached`` and ``slow requests``, count as php-fpm counts them.
:func:`processlist` is what MariaDB's processlist shows of the report queries running and the
connections PHP holds, for the demo's MySQL source (:class:`console.demo.DemoMysql`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from console.core.events import SourceState
from console.core.stack import MysqlSample, MysqlThread
from console.demo.memory import FPM_PID_OFFSET
from console.demo.prefork import Slot
from console.demo.traffic import _REPORT_SQL, _SEARCH_SQL, MIB, Request
from console.sources import Sink

if TYPE_CHECKING:
    from console.demo.story import DemoScenario

DOCROOT = "/var/www/html"
#: php-fpm's request_slowlog_timeout in the demo's pool, seconds.
SLOWLOG_TIMEOUT = 5.0
MAX_CONNECTIONS = 60


def is_php(req: Request) -> bool:
    path = req.path.split("?", 1)[0]
    return path.endswith(".php") or path == "/"


class FpmPool:
    """Pool ``www``: one child per Apache slot, with php-fpm's counters."""

    def __init__(self, started: datetime) -> None:
        self.started = started
        self.reached = 0
        self.slow = 0
        self.accepted = 0
        self._full = False
        self._slow_seen: set[int] = set()

    def page(self, slots: list[Slot], t: float, now: datetime, queued: int) -> str:
        """``/fpm-status?json&full`` at story time ``t``."""
        procs = []
        busy = 0
        for s in slots:
            if s.pid is None:
                continue
            req = s.current
            running = req is not None and s.mode in "WG" and is_php(req)
            if running and req is not None:
                busy += 1
                seconds = max(0.0, t - req.started)
                if seconds >= SLOWLOG_TIMEOUT and id(req) not in self._slow_seen:
                    self._slow_seen.add(id(req))
                    self.slow += 1
                procs.append(_process(s, req, seconds, now, running=True))
            else:
                procs.append(_process(s, None, s.req_ms / 1000, now, running=False))
        total = len(procs)
        full = total > 0 and busy >= len(slots)
        if full and not self._full:
            self.reached += 1
        self._full = full
        self.accepted = max(self.accepted, sum(s.acc[2] for s in slots))
        if len(self._slow_seen) > 10_000:
            self._slow_seen.clear()
        pool = {
            "pool": "www",
            "process manager": "static",
            "start time": int(self.started.timestamp()),
            "start since": int((now - self.started).total_seconds()),
            "accepted conn": self.accepted,
            "listen queue": queued if full else 0,
            "max listen queue": queued,
            "listen queue len": 511,
            "idle processes": total - busy,
            "active processes": busy,
            "total processes": total,
            "max active processes": busy,
            "max children reached": self.reached,
            "slow requests": self.slow,
            "processes": procs,
        }
        return json.dumps(pool)


def _process(
    s: Slot, req: Request | None, seconds: float, now: datetime, *, running: bool
) -> dict[str, object]:
    assert s.pid is not None
    path = req.path if req is not None else "/index.php"
    script = path.split("?", 1)[0]
    if script == "/":
        script = "/index.php"
    return {
        "pid": s.pid + FPM_PID_OFFSET,
        "state": "Running" if running else "Idle",
        "start time": int(now.timestamp()) - 600,
        "start since": 600,
        "requests": s.acc[1],
        "request duration": int(seconds * 1_000_000),
        "request method": req.method if req is not None else "GET",
        "request uri": path,
        "content length": 0,
        "user": "-",
        "script": DOCROOT + script,
        "last request cpu": 0.0 if running else 12.5,
        "last request memory": 0 if running else int(2 * MIB + s.private * 0.2),
    }


def processlist(slots: list[Slot], t: float) -> list[MysqlThread]:
    """The report and search queries running now, and the connections PHP holds idle."""
    out = []
    for s in slots:
        req = s.current
        if req is None or s.mode not in "WG" or not req.sql or not req.thread:
            continue
        seconds = max(0.0, t - req.started)
        if seconds < req.query:
            sql = _REPORT_SQL if req.sql == "report" else _SEARCH_SQL
            term = req.path.rsplit("=", 1)[-1]
            info = sql.format(start="2026-11-01", end="2026-12-01", term=term)
            state = "Sending data" if seconds > 0.5 else "Opening tables"
            out.append(
                MysqlThread(req.thread, "app", "localhost", "shop", "Query", seconds, state, info)
            )
        else:
            out.append(
                MysqlThread(
                    req.thread, "app", "localhost", "shop", "Sleep", seconds - req.query, "", ""
                )
            )
    return out


def mysql_sample(
    threads: list[MysqlThread], now: datetime, questions: int, qps: float | None, slow: int
) -> MysqlSample:
    running = sum(1 for th in threads if th.running)
    status = {
        "Threads_connected": len(threads) + 2,
        "Threads_running": running + 1,
        "Max_used_connections": max(len(threads) + 2, 23),
        "Questions": questions,
        "Slow_queries": slow,
        "Aborted_connects": 0,
        "Connections": questions // 6,
        "Innodb_row_lock_current_waits": 0,
        "Uptime": 86_400 * 3,
    }
    return MysqlSample(
        ts=now,
        source="mysql",
        target="simulated MariaDB (demo)",
        version="10.11.19-MariaDB-0+deb12u1",
        max_connections=MAX_CONNECTIONS,
        status=status,
        threads=tuple(sorted(threads, key=lambda th: -th.time)),
        questions_per_s=qps,
    )


class DemoMysql:
    """The demo's MySQL source: the story's processlist, every ``interval`` story seconds."""

    def __init__(
        self, scenario: DemoScenario, sink: Sink, *, interval: float = 2.0, name: str = "mysql"
    ) -> None:
        self.scenario, self.sink, self.interval, self.name = scenario, sink, interval, name

    async def run(self) -> None:
        scenario = self.scenario
        loop = asyncio.get_running_loop()
        last: tuple[float, int] | None = None
        self.sink.set_state(
            SourceState(scenario.now, self.name, "mysql", "ok", target="simulated MariaDB (demo)")
        )
        while True:
            sample = scenario.mysql_sample()
            now = loop.time()
            questions = int(sample.status.get("Questions", 0))
            if last is not None and now > last[0]:
                qps = max(0.0, (questions - last[1]) / ((now - last[0]) * scenario.speed))
                sample = replace(sample, questions_per_s=qps)
            last = (now, questions)
            self.sink.add_mysql(sample)
            await asyncio.sleep(self.interval / scenario.speed)
