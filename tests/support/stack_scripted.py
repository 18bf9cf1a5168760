"""PHP-FPM and MySQL samples for the panes and the join, and the scripted incident's PHP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.core.recorder import Recorder
from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread
from tests.support.scripted import T0


def fpm_process(pid: int, uri: str = "/", duration: float = 0.0, **kw: Any) -> FpmProcess:
    """A process running ``GET uri`` for ``duration`` seconds (``state="Idle"`` for an idle one)."""
    values: dict[str, Any] = {
        "state": "Running",
        "started": 0.0,
        "requests": 1,
        "method": "GET",
        "script": "/var/www/html" + uri.split("?")[0],
    }
    values.update(kw)
    return FpmProcess(pid=pid, duration=duration, uri=uri, **values)


def fpm_sample(
    processes: tuple[FpmProcess, ...] = (), ts: datetime = T0, pool: str = "www", **kw: Any
) -> FpmSample:
    busy = sum(1 for p in processes if p.busy)
    values: dict[str, Any] = {
        "source": f"php-fpm:{pool}",
        "target": "unix:/run/php/php8.2-fpm.sock:/fpm-status",
        "process_manager": "dynamic",
        "start_time": 0.0,
        "accepted": 100,
        "listen_queue": 0,
        "max_listen_queue": 0,
        "listen_queue_len": 4096,
        "idle": len(processes) - busy,
        "active": busy,
        "total": len(processes),
        "max_active": busy,
        "max_children_reached": 0,
        "slow_requests": 0,
    }
    values.update(kw)
    return FpmSample(ts=ts, pool=pool, processes=processes, **values)


def mysql_thread(
    id: int, info: str = "", time: float = 0.0, host: str = "localhost", **kw: Any
) -> MysqlThread:
    values: dict[str, Any] = {
        "user": "app",
        "db": "shop",
        "command": "Query" if info else "Sleep",
        "state": "User sleep" if info else "",
    }
    values.update(kw)
    return MysqlThread(id=id, host=host, time=time, info=info, **values)


def mysql_sample(
    threads: tuple[MysqlThread, ...] = (), ts: datetime = T0, **kw: Any
) -> MysqlSample:
    values: dict[str, Any] = {
        "source": "mysql",
        "target": "unix:/run/mysqld/mysqld.sock",
        "version": "10.11.19-MariaDB-0+deb12u1",
        "max_connections": 60,
        "status": {"Threads_connected": len(threads) + 1, "Threads_running": 1},
    }
    values.update(kw)
    return MysqlSample(ts=ts, threads=threads, **values)


def add_stack(recorder: Recorder, *, at: datetime = T0) -> None:
    """The scripted incident's PHP side: pool www at max_children, each child on report.php
    and its slow query (the first three over TCP, the rest over the socket)."""
    from datetime import timedelta

    from console.core.events import SourceState

    procs, threads = [], []
    for n in range(8):
        seconds = 48.0 - 4 * n
        tcp = ((51000 + n, "127.0.0.1:3306"),) if n < 3 else ()
        procs.append(fpm_process(3100 + n, "/report.php?month=2025-02", seconds, tcp=tcp))
        host = f"127.0.0.1:{51000 + n}" if n < 3 else "localhost"
        sql = f"SELECT customer_id, SUM(total) FROM orders WHERE month = '2025-02' /* {n} */"
        threads.append(mysql_thread(900 + n, sql, seconds - 0.5, host=host, state="Sending data"))
    threads.append(mysql_thread(950, "", 300.0, user="backup", command="Sleep"))
    for i, ts in enumerate((at - timedelta(seconds=30), at - timedelta(seconds=12))):
        recorder.add_fpm(
            fpm_sample(
                tuple(procs),
                ts,
                max_children=8,
                max_children_reached=3 + 2 * i,
                listen_queue=4 * i,
                slow_requests=10 + 6 * i,
            )
        )
        status = {
            "Threads_connected": 55 + i,
            "Threads_running": 9,
            "Slow_queries": 40 + 9 * i,
            "Questions": 1000 + 500 * i,
            "Innodb_row_lock_current_waits": 2,
        }
        recorder.add_mysql(
            mysql_sample(tuple(threads), ts, status=status, questions_per_s=27.8 if i else None)
        )
    for source, kind, target in (
        ("php-fpm:www", "php-fpm-status", "unix:/run/php/php8.2-fpm.sock:/fpm-status"),
        ("mysql", "mysql", "unix:/run/mysqld/mysqld.sock"),
    ):
        recorder.set_state(SourceState(at, source, kind, "ok", target=target))
