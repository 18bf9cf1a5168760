"""Build PHP-FPM and MySQL samples for tests of what is drawn and joined from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
