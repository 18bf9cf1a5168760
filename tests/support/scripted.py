"""A scripted incident for console tests: fixed times, three logs, mod_status and memory.

Everything is deterministic: the same call gives the same records, samples and states, so
snapshot tests and assertions do not depend on the machine or the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core.clock import Clock, ManualClock
from console.core.events import (
    LogRecord,
    ProcInfo,
    ServiceMem,
    SourceState,
    StatusSample,
    SystemSample,
    Worker,
)
from console.core.recorder import Recorder
from console.sources.engine import supervised

T0 = datetime(2025, 3, 14, 13, 2, 0, tzinfo=UTC)
MB = 1024 * 1024
STATUS_URL = "http://127.0.0.1/server-status"
CLIENTS = ("203.0.113.7", "198.51.100.23", "192.0.2.44", "203.0.113.99")
URLS = ("/", "/report.php", "/favicon.ico", "/login.php", "/api/items")


fixed_clock = ManualClock(T0)
"""A clock stopped at T0 (no test moves it)."""


def access(i: int, ts: datetime, status: int, url: str, client: str, pid: int) -> LogRecord:
    line = f'{client} - - [14/Mar/2025:13:01:00 +0000] "GET {url} HTTP/1.1" {status} 5120'
    return LogRecord(
        ts=ts,
        source="access",
        kind="apache-access",
        level="error" if status >= 500 else "info",
        text=f'{client} "GET {url} HTTP/1.1" {status} 5120 {0.2 + (i % 7) * 1.3:.1f}s',
        fields={
            "client": client,
            "method": "GET",
            "url": url,
            "status": status,
            "bytes": 5120,
            "pid": pid,
            "duration_ms": 200 + (i % 7) * 1300,
        },
        raw=line,
    )


def apache_error(ts: datetime, pid: int, client: str, text: str, level: str = "error") -> LogRecord:
    return LogRecord(
        ts=ts,
        source="apache",
        kind="apache-error",
        level=level,  # type: ignore[arg-type]
        text=text,
        fields={"module": "php", "pid": pid, "client": f"{client}:51234"},
        raw=f"[Fri Mar 14 13:01:00.000000 2025] [php:{level}] [pid {pid}] {text}",
    )


def php_fatal(ts: datetime) -> LogRecord:
    return LogRecord(
        ts=ts,
        source="php",
        kind="php-error",
        level="error",
        text="PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted "
        "(tried to allocate 20480 bytes) in /var/www/html/report.php on line 88",
        lines=(
            "PHP Stack trace:",
            "PHP   1. {main}() /var/www/html/report.php:0",
            "PHP   2. build_report($rows = 48211) /var/www/html/report.php:31",
            "PHP   3. array_merge() /var/www/html/report.php:88",
        ),
        fields={"file": "/var/www/html/report.php", "line": 88, "type": "Fatal error"},
        raw="[14-Mar-2025 13:01:00 UTC] PHP Fatal error:  Allowed memory size ...",
    )


def records() -> list[LogRecord]:
    """About 80 records over the two minutes before T0: mostly 200s, some 404s and 500s."""
    out: list[LogRecord] = []
    start = T0 - timedelta(seconds=120)
    for i in range(60):
        ts = start + timedelta(seconds=2 * i)
        status = 500 if i % 9 == 4 else 404 if i % 7 == 3 else 200
        url = "/report.php" if status == 500 else URLS[i % len(URLS)]
        if status == 404:
            url = "/favicon.ico"
        client = CLIENTS[i % len(CLIENTS)]
        pid = 2101 + i % 12
        out.append(access(i, ts, status, url, client, pid))
        if status == 500:
            out.append(php_fatal(ts - timedelta(milliseconds=300)))
            out.append(
                apache_error(
                    ts - timedelta(milliseconds=200),
                    pid,
                    client,
                    "AH01071: Got error 'PHP message: PHP Fatal error:  Allowed memory size "
                    "exhausted in /var/www/html/report.php on line 88'",
                )
            )
        if i % 20 == 10:
            out.append(
                apache_error(
                    ts,
                    pid,
                    client,
                    "AH00485: scoreboard is full, not at MaxRequestWorkers",
                    level="warn",
                )
            )
    return out


def workers() -> tuple[Worker, ...]:
    rows = []
    for n in range(14):
        pid = 2101 + n
        busy = n < 11
        request = (
            "GET /report.php?month=2025-02 HTTP/1.1" if n % 3 != 2 else "GET /api/items HTTP/1.1"
        )
        rows.append(
            Worker(
                slot=f"{n}-0",
                pid=pid,
                mode=("W" if n % 4 else "R") if busy else "_",
                cpu=1.5 * n,
                seconds=float(48 - 4 * n) if busy else 0.0,
                req_ms=0.0,
                client=CLIENTS[n % len(CLIENTS)],
                vhost="shop.example.com:443",
                request=request if busy else "GET /favicon.ico HTTP/1.1",
            )
        )
    rows.append(
        Worker(
            "14-0",
            2115,
            "W",
            0.0,
            0.0,
            0.0,
            "127.0.0.1",
            "localhost",
            "GET /server-status?auto HTTP/1.1",
        )
    )
    return tuple(rows)


SCOREBOARD = "RWWWRWWWRWWW_W___KK_" + "." * 130


def status_sample(ts: datetime, accesses: int, kbytes: float) -> StatusSample:
    counts: dict[str, int] = {}
    for ch in SCOREBOARD:
        counts[ch] = counts.get(ch, 0) + 1
    busy = sum(v for k, v in counts.items() if k not in "_.")
    return StatusSample(
        ts=ts,
        url=STATUS_URL,
        fields={"ServerName": "web1", "Total Accesses": accesses, "Total kBytes": kbytes},
        scoreboard=SCOREBOARD,
        counts=counts,
        workers=workers(),
        server_version="Apache/2.4.62 (Debian)",
        mpm="prefork",
        uptime=3 * 86400 + 4 * 3600 + 12 * 60,
        total_accesses=accesses,
        total_kbytes=kbytes,
        busy=busy,
        idle=counts.get("_", 0),
        limit=len(SCOREBOARD),
        extended=True,
    )


def system_sample(i: int, n: int) -> SystemSample:
    """Sample ``i`` of ``n``: memory climbing from 55 % to 92 %, swap starting to fill."""
    ts = T0 - timedelta(seconds=n - 1 - i)
    total = 985 * MB
    used = int(total * (0.55 + 0.37 * i / max(1, n - 1)))
    swap = int(max(0, i - n * 0.6) * 2 * MB)
    scanned = i % 5 == 0 or i == n - 1
    apache = int((250 + 500 * i / n) * MB)
    return SystemSample(
        ts=ts,
        mem_total=total,
        mem_used=used,
        mem_available=total - used,
        swap_total=512 * MB,
        swap_used=swap,
        load1=3.2 + i / n,
        load5=2.8,
        load15=1.9,
        cpu_percent=78.0,
        cpu_count=2,
        services=(
            ServiceMem("apache", apache, 15),
            ServiceMem("mysql", 180 * MB, 1),
        )
        if scanned
        else (),
        top=tuple(
            ProcInfo(
                2101 + k,
                "apache2",
                "/usr/sbin/apache2 -k start",
                (140 - 9 * k) * MB,
                growth=(90 - 8 * k) * MB,
            )
            for k in range(6)
        )
        if scanned
        else (),
        rss_by_pid={2101 + k: (140 - 9 * k) * MB for k in range(15)},
        self_rss=38 * MB,
        self_cpu=1.2,
        scanned=scanned,
    )


def states(status_ok: bool = True) -> list[SourceState]:
    out = [
        SourceState(T0, "access", "apache-access", "ok", target="/var/log/apache2/access.log"),
        SourceState(T0, "apache", "apache-error", "ok", target="/var/log/apache2/error.log"),
        SourceState(T0, "php", "php-error", "ok", target="/var/log/php/error.log"),
        SourceState(T0, "system", "system", "ok"),
    ]
    if status_ok:
        out.append(SourceState(T0, "mod_status", "mod-status", "ok", target=STATUS_URL))
    else:
        out.append(
            SourceState(
                T0,
                "mod_status",
                "mod-status",
                "timeout",
                message=f"{STATUS_URL} did not answer within 2 s",
                target=STATUS_URL,
            )
        )
    return out


def scripted_recorder(
    *,
    status_ok: bool = True,
    system_samples: int = 180,
    clock: Clock = fixed_clock,
) -> Recorder:
    """A recorder holding the whole scripted incident, released (at the fixed clock by default)."""
    recorder = Recorder(clock=clock)
    for name in ("access", "apache", "php"):
        recorder.register(name)
    recorder.add_records(records())
    recorder.release(force=True)
    recorder.add_status(status_sample(T0 - timedelta(seconds=13), 120_000, 880_000.0))
    recorder.add_status(status_sample(T0 - timedelta(seconds=12), 120_014, 880_061.0))
    for i in range(system_samples):
        recorder.add_system(system_sample(i, system_samples))
    for state in states(status_ok):
        recorder.set_state(state)
    return recorder


@dataclass
class FakePlan:
    status_url: str | None = STATUS_URL


class ScriptedEngine:
    """Stands in for :class:`console.sources.engine.Engine`: its runners feed the recorder live."""

    def __init__(self, recorder: Recorder, *, crash_after: float | None = None) -> None:
        self.recorder = recorder
        self.plan = FakePlan()
        self.crash_after = crash_after

    def supervised(self) -> list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]]:
        return supervised(self.runners(), self.recorder, self.recorder.clock)

    def runners(self) -> list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]]:
        out: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = [("access", self._access)]
        if self.crash_after is not None:
            out.append(("php", self._crashing))
        return out

    async def _access(self) -> None:
        i = 0
        while True:
            await asyncio.sleep(0.1)
            now = datetime.now(UTC)
            self.recorder.add_records(
                [access(i, now, 500 if i % 13 == 0 else 200, URLS[i % 5], CLIENTS[i % 4], 2101)]
            )
            i += 1

    async def _crashing(self) -> None:
        await asyncio.sleep(self.crash_after or 0.0)
        raise RuntimeError("parser blew up")
