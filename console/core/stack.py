"""The P and the M of LAMP, live: what one poll of a PHP-FPM pool's status page or of a MySQL
or MariaDB server said.

Plain frozen values, like :mod:`console.core.events`: the contract between the PHP-FPM and
MySQL sources, the recorder, the panes, the rules and the bundles. Timestamps are aware UTC;
every string came from a stranger (a request URI, a query) and was cleaned by the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

#: PHP-FPM process states that hold a request (``Idle`` is the only one that does not).
FPM_BUSY_STATES = frozenset(
    {"Running", "Reading headers", "Getting request informations", "Finishing", "Ending"}
)


@dataclass(frozen=True, slots=True)
class FpmProcess:
    """One process of a pool, as the status page's ``full`` listing shows it."""

    pid: int
    state: str
    """``Idle``, ``Running``, ``Reading headers``, ``Finishing`` ..."""
    started: float
    """When the process was started (Unix time)."""
    requests: int
    """Requests this process has served."""
    duration: float
    """Seconds the current request has run (the last request's, when idle)."""
    method: str
    uri: str
    """The request URI with its query string, as PHP-FPM saw it."""
    script: str
    """The script's path (``-`` when none)."""
    user: str = "-"
    content_length: int = 0
    cpu: float = 0.0
    """CPU percent of the last request (0 while one is running)."""
    memory: int = 0
    """Peak bytes of the last request (0 while one is running)."""
    tcp: tuple[tuple[int, str], ...] = ()
    """(local port, remote ``address:port``) of the process's established TCP connections,
    read from ``/proc`` while it is busy: how its MySQL thread is found."""

    @property
    def busy(self) -> bool:
        return self.state in FPM_BUSY_STATES


@dataclass(frozen=True, slots=True)
class FpmSample:
    """One poll of one pool's status page (``?json&full``)."""

    ts: datetime
    source: str
    """The source's name (``php-fpm:www``)."""
    target: str
    """Where it was read, credentials masked (``unix:/run/php/php8.2-fpm.sock:/fpm-status``)."""
    pool: str
    process_manager: str
    """``static``, ``dynamic`` or ``ondemand``."""
    start_time: float
    """When the pool started (Unix time)."""
    accepted: int
    """Requests accepted since the pool started."""
    listen_queue: int
    """Requests waiting for a free process now."""
    max_listen_queue: int
    listen_queue_len: int
    """The socket's backlog size."""
    idle: int
    active: int
    total: int
    max_active: int
    max_children_reached: int
    """How many times the pool hit ``pm.max_children`` since it started."""
    slow_requests: int
    processes: tuple[FpmProcess, ...] = ()
    max_children: int | None = None
    """``pm.max_children`` from the pool's config, when discovery read it."""

    @property
    def busy(self) -> tuple[FpmProcess, ...]:
        """Processes holding a request, longest first (the status request itself included)."""
        return tuple(sorted((p for p in self.processes if p.busy), key=lambda p: -p.duration))


@dataclass(frozen=True, slots=True)
class MysqlThread:
    """One row of ``SHOW FULL PROCESSLIST``."""

    id: int
    user: str
    host: str
    """``localhost`` (socket) or ``address:port`` (TCP)."""
    db: str
    command: str
    """``Query``, ``Sleep``, ``Connect``, ``Binlog Dump`` ..."""
    time: float
    """Seconds in the current command (MariaDB's ``Time`` column, or ``TIME_MS`` / 1000)."""
    state: str
    info: str
    """The statement running, cleaned and bounded; empty when none."""

    @property
    def running(self) -> bool:
        """Running a statement (not sleeping, not a daemon, not the replication dump)."""
        return self.command not in ("Sleep", "Daemon", "Binlog Dump", "Binlog Dump GTID") and bool(
            self.info
        )


#: The ``SHOW GLOBAL STATUS`` counters a sample keeps.
MYSQL_STATUS_KEYS = (
    "Threads_connected",
    "Threads_running",
    "Max_used_connections",
    "Questions",
    "Slow_queries",
    "Aborted_connects",
    "Aborted_clients",
    "Connections",
    "Innodb_row_lock_current_waits",
    "Uptime",
)


@dataclass(frozen=True, slots=True)
class MysqlSample:
    """One poll of a MySQL or MariaDB server."""

    ts: datetime
    source: str
    """The source's name (``mysql``)."""
    target: str
    """``unix:/run/mysqld/mysqld.sock`` or ``mysql://user@host:3306``."""
    version: str
    """The server's version string (``10.11.19-MariaDB-0+deb12u1``)."""
    max_connections: int
    status: Mapping[str, int] = field(default_factory=dict)
    """Counters of :data:`MYSQL_STATUS_KEYS` the server gave."""
    threads: tuple[MysqlThread, ...] = ()
    """The processlist, lamptop's own connection left out; longest running first."""
    questions_per_s: float | None = None
    """Statements per second since the previous poll; None on the first."""
    truncated: int = 0
    """Processlist rows left out because there were too many."""

    @property
    def connected(self) -> int:
        return int(self.status.get("Threads_connected", 0))

    @property
    def running(self) -> tuple[MysqlThread, ...]:
        """Threads running a statement, longest first."""
        return tuple(sorted((t for t in self.threads if t.running), key=lambda t: -t.time))
