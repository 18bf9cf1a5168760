"""The scripted incident with a minute of history to rewind through.

:func:`rewind_recorder` holds the scripted records and memory, and one mod_status sample a
second over the last minute before T0 in which the workers fill up: two busy at T0-59 s, all
twenty from T0-20 s on. Each sample says how many workers were busy, so a test reads the
instant shown from the scoreboard. PHP-FPM and MySQL are polled every two seconds, their
busy children and running queries growing the same way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from console.core.events import SourceState, StatusSample, Worker
from console.core.recorder import Recorder
from tests.support.scripted import (
    CLIENTS,
    T0,
    fixed_clock,
    records,
    states,
    status_sample,
    system_sample,
)
from tests.support.stack_scripted import fpm_process, fpm_sample, mysql_sample, mysql_thread

SECONDS = 60
LIMIT = 20


def busy_at(ts: datetime) -> int:
    """How many workers the status sample at ``ts`` shows busy."""
    back = (T0 - ts).total_seconds()
    return max(2, min(LIMIT, round(LIMIT - (back - 20) * 18 / 39)))


def filling_sample(ts: datetime, i: int) -> StatusSample:
    """Status sample ``i`` (a second apart) at ``ts``, :func:`busy_at` workers busy."""
    busy = busy_at(ts)
    base = status_sample(ts, 120_000 + 14 * i, 880_000.0 + 61 * i)
    board = "W" * busy + "_" * (LIMIT - busy) + "." * 130
    workers = tuple(
        Worker(
            slot=f"{n}-0",
            pid=2101 + n,
            mode="W" if n < busy else "_",
            cpu=1.5 * n,
            seconds=float(busy - n) if n < busy else 0.0,
            req_ms=0.0,
            client=CLIENTS[n % len(CLIENTS)],
            vhost="shop.example.com:443",
            request="GET /report.php?month=2025-02 HTTP/1.1" if n % 3 != 2 else "GET /api/items",
        )
        for n in range(LIMIT)
    )
    counts = {"W": busy, "_": LIMIT - busy, ".": 130}
    return replace(
        base,
        scoreboard=board,
        counts={k: v for k, v in counts.items() if v},
        workers=workers,
        busy=busy,
        idle=LIMIT - busy,
        limit=LIMIT + 130,
    )


def rewind_recorder(*, seconds: int = SECONDS, dark: int = 0) -> Recorder:
    """The scripted incident with ``seconds`` of status samples, a second apart, up to T0;
    ``dark``: the status page stopped answering that many seconds before T0 (a timeout then,
    no sample since)."""
    recorder = Recorder(clock=fixed_clock)
    for name in ("access", "apache", "php"):
        recorder.register(name)
    recorder.add_records(records())
    recorder.release(force=True)
    for i in range(180):
        recorder.add_system(system_sample(i, 180))
    for i in range(seconds):
        ts = T0 - timedelta(seconds=seconds - 1 - i)
        if not dark or ts < T0 - timedelta(seconds=dark):
            recorder.add_status(filling_sample(ts, i))
        if i % 2 == 0:
            busy = busy_at(ts) // 2
            procs = tuple(fpm_process(3100 + n, "/report.php", 2.0 * n) for n in range(busy))
            recorder.add_fpm(fpm_sample(procs, ts, max_children=10))
            sql = tuple(mysql_thread(900 + n, f"SELECT {n}", 1.0 * n) for n in range(busy))
            recorder.add_mysql(mysql_sample(sql, ts))
    for state in states():
        recorder.set_state(replace(state, ts=T0 - timedelta(seconds=seconds)))
    if dark:
        url = recorder.states["mod_status"].target
        message = f"{url} did not answer within 2 s"
        timeout = SourceState(T0 - timedelta(seconds=dark), "mod_status", "mod-status", "timeout")
        recorder.set_state(replace(timeout, message=message, target=url))
    for source, kind in (("php-fpm:www", "php-fpm-status"), ("mysql", "mysql")):
        recorder.set_state(SourceState(T0, source, kind, "ok"))
    return recorder
