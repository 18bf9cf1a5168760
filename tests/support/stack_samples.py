"""PHP-FPM and MySQL samples for the rules, bundle and report tests: built by hand, or from a
status page PHP-FPM really wrote (``tests/fixtures/fpm_status``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread
from tests.support.paths import FIXTURES

T0 = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
FPM_STATUS = FIXTURES / "fpm_status"
WWW_TARGET = "unix:/run/php/php8.2-fpm.sock:/fpm-status"


def fpm_from_page(
    path: Path, ts: datetime, *, target: str = WWW_TARGET, max_children: int | None = 8
) -> FpmSample:
    """The sample a ``?json&full`` page of PHP-FPM stands for (durations are microseconds)."""
    d = json.loads(path.read_text())
    procs = tuple(
        FpmProcess(
            pid=p["pid"],
            state=p["state"],
            started=float(p["start time"]),
            requests=p["requests"],
            duration=p["request duration"] / 1e6,
            method=p["request method"],
            uri=p["request uri"],
            script=p["script"],
            user=p["user"],
            content_length=p["content length"],
            cpu=float(p["last request cpu"]),
            memory=p["last request memory"],
        )
        for p in d["processes"]
    )
    return FpmSample(
        ts=ts,
        source=f"php-fpm:{d['pool']}",
        target=target,
        pool=d["pool"],
        process_manager=d["process manager"],
        start_time=float(d["start time"]),
        accepted=d["accepted conn"],
        listen_queue=d["listen queue"],
        max_listen_queue=d["max listen queue"],
        listen_queue_len=d["listen queue len"],
        idle=d["idle processes"],
        active=d["active processes"],
        total=d["total processes"],
        max_active=d["max active processes"],
        max_children_reached=d["max children reached"],
        slow_requests=d["slow requests"],
        processes=procs,
        max_children=max_children,
    )


def saturated_www() -> list[FpmSample]:
    """The www pool pushed to pm.max_children (8), one poll a second: it reaches the limit at
    the fourth page, and its slow requests climb from 22 to 42."""
    pages = sorted(FPM_STATUS.glob("www_saturated_json_full_*.json"))[:10]
    return [fpm_from_page(p, T0 + timedelta(seconds=i)) for i, p in enumerate(pages)]


def proc(
    pid: int, uri: str = "/index.php", seconds: float = 1.0, *, state: str = "Running", **kw: Any
) -> FpmProcess:
    fields: dict[str, Any] = {
        "started": 1795705716.0,
        "requests": 3,
        "method": "GET",
        "script": "/var/www/webapp" + uri.split("?", 1)[0],
        **kw,
    }
    return FpmProcess(pid=pid, state=state, duration=seconds, uri=uri, **fields)


def fpm(
    sec: float,
    *,
    pool: str = "www",
    active: int = 2,
    idle: int = 2,
    queue: int = 0,
    reached: int = 0,
    slow: int = 0,
    started: float = 1795705716.0,
    processes: tuple[FpmProcess, ...] = (),
    max_children: int | None = 8,
    target: str = WWW_TARGET,
) -> FpmSample:
    return FpmSample(
        ts=T0 + timedelta(seconds=sec),
        source=f"php-fpm:{pool}",
        target=target,
        pool=pool,
        process_manager="dynamic",
        start_time=started,
        accepted=100,
        listen_queue=queue,
        max_listen_queue=queue,
        listen_queue_len=511,
        idle=idle,
        active=active,
        total=active + idle,
        max_active=active,
        max_children_reached=reached,
        slow_requests=slow,
        processes=processes,
        max_children=max_children,
    )


def thread(
    tid: int,
    seconds: float,
    info: str = "SELECT SLEEP(60)",
    *,
    user: str = "shop",
    db: str = "shop",
    command: str = "Query",
    host: str = "localhost",
    state: str = "User sleep",
) -> MysqlThread:
    return MysqlThread(
        id=tid,
        user=user,
        host=host,
        db=db,
        command=command,
        time=seconds,
        state=state,
        info=info,
    )


def mysql(
    sec: float,
    *,
    connected: int = 5,
    max_connections: int = 151,
    threads: tuple[MysqlThread, ...] = (),
    status: Mapping[str, int] | None = None,
    source: str = "mysql",
    qps: float | None = 12.5,
) -> MysqlSample:
    counters = {
        "Threads_connected": connected,
        "Threads_running": sum(1 for t in threads if t.running) + 1,
        "Max_used_connections": connected,
        "Questions": 1000 + int(sec) * 10,
        "Slow_queries": 0,
        "Aborted_connects": 0,
        "Aborted_clients": 0,
        "Connections": 50,
        "Innodb_row_lock_current_waits": 0,
        "Uptime": 3600 + int(sec),
        **(status or {}),
    }
    return MysqlSample(
        ts=T0 + timedelta(seconds=sec),
        source=source,
        target="unix:/run/mysqld/mysqld.sock",
        version="10.11.19-MariaDB-0+deb12u1",
        max_connections=max_connections,
        status=counters,
        threads=tuple(sorted(threads, key=lambda t: -t.time)),
        questions_per_s=qps,
    )
