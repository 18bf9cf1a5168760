"""The plain values that flow from sources to the recorder and on to the screen and bundles.

Every value here is a frozen dataclass. Timestamps are timezone-aware UTC. Nothing in this
module does I/O or imports Textual: these types are the only contract between collecting and
drawing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from console.core.logrecord import (
    Backfill,
    Expander,
    Level,
    LogRecord,
    fold,
    make_lazy_record,
    make_record,
)

__all__ = [
    "LEVEL_RANK",
    "LOG_KINDS",
    "NEW_PROCESS",
    "Backfill",
    "Expander",
    "Level",
    "LogRecord",
    "ProcInfo",
    "ProcessRow",
    "ServerChild",
    "ServiceMem",
    "SourceState",
    "SourceStatus",
    "StatusSample",
    "SystemSample",
    "Worker",
    "fold",
    "make_lazy_record",
    "make_record",
    "normalize_level",
]


#: Severity order used by level filters; ``unparsed`` sorts with ``info`` so that a "warnings
#: and above" filter hides it but the default view shows it.
LEVEL_RANK: Mapping[str, int] = {
    "debug": 0,
    "info": 1,
    "unparsed": 1,
    "notice": 2,
    "warn": 3,
    "error": 4,
    "crit": 5,
}

#: Every log kind lamptop reads (``lamptop parse`` also reads ``mod-status`` pages).
LOG_KINDS: tuple[str, ...] = (
    "apache-access",
    "apache-error",
    "php-error",
    "php-fpm",
    "php-fpm-slow",
    "mysql-slow",
    "mysql-error",
    "mysql-general",
    "php-fpm-access",
)


def normalize_level(word: str) -> Level:
    """Map the level words that Apache, PHP, php-fpm and MySQL write to lamptop's levels."""
    w = word.strip().lower()
    if w.startswith("trace") or w == "debug":
        return "debug"
    if w in ("info", "information", "deprecated", "strict", "system"):
        return "info"
    if w in ("notice", "note"):
        return "notice"
    if w in ("warn", "warning", "alert_user"):
        return "warn"
    if w in ("error", "err", "fatal error", "parse error", "fatal", "recoverable fatal error"):
        return "error"
    if w in ("crit", "critical", "alert", "emerg", "emergency"):
        return "crit"
    return "info"


@dataclass(frozen=True, slots=True)
class Worker:
    """One row of mod_status's ExtendedStatus worker table."""

    slot: str
    """Server slot as Apache prints it (``0-3`` = process 0, thread 3)."""
    pid: int | None
    """OS process id serving the slot, None when the slot has no process."""
    mode: str
    """Scoreboard character of the slot (``W``, ``K``, ``_`` ...)."""
    cpu: float
    """CPU seconds used by the slot's process."""
    seconds: float
    """Seconds since the most recent request on the slot began (SS)."""
    req_ms: float
    """Milliseconds the most recent request took, or has taken so far."""
    client: str
    """Client address."""
    vhost: str
    """Virtual host serving the request."""
    request: str
    """The request line (``GET /report.php HTTP/1.1``)."""
    protocol: str = ""
    """Protocol column when Apache prints one (``http/1.1``)."""
    accesses: int = 0
    """Requests served by this slot's connection (the Acc column's first figure)."""


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One row of the event MPM's per-process table on the status page."""

    slot: int
    pid: int | None
    stopping: str
    conns_total: int
    conns_accepting: str
    threads_busy: int
    threads_graceful: int
    threads_idle: int
    async_wait_io: int | None = None
    async_writing: int = 0
    async_keep_alive: int = 0
    async_closing: int = 0


@dataclass(frozen=True, slots=True)
class StatusSample:
    """What one poll of mod_status said."""

    ts: datetime
    """When the poll completed (aware UTC)."""
    url: str
    """The URL polled, without credentials."""
    fields: Mapping[str, Any]
    """Every ``?auto`` key as given (numbers parsed, unknown keys kept)."""
    scoreboard: str
    """The scoreboard string, one character per slot."""
    counts: Mapping[str, int]
    """Count of each scoreboard character, counted from :attr:`scoreboard` itself."""
    workers: tuple[Worker, ...] = ()
    """ExtendedStatus worker rows (empty when the HTML page was not read)."""
    processes: tuple[ProcessRow, ...] = ()
    """Event MPM per-process rows."""
    server_version: str = ""
    mpm: str = ""
    uptime: float | None = None
    total_accesses: int | None = None
    total_kbytes: float | None = None
    busy: int = 0
    """Busy slots counted from the scoreboard (W R K D C L G S I)."""
    idle: int = 0
    """Idle slots counted from the scoreboard (``_``)."""
    limit: int = 0
    """Usable slots: the scoreboard length (``.`` slots can still be started)."""
    extended: bool = False
    """True when the worker table was present (ExtendedStatus On)."""


@dataclass(frozen=True, slots=True)
class ServiceMem:
    """Memory of one service: all its processes together."""

    name: str
    """``apache``, ``mysql`` or ``php-fpm``."""
    rss: int
    """Bytes resident, summed over its processes."""
    procs: int
    """Number of processes."""


@dataclass(frozen=True, slots=True)
class ServerChild:
    """One Apache child process as ``/proc`` shows it: what is still known of the workers when
    the status page cannot be had."""

    pid: int
    state: str
    """The kernel's state letter: ``R`` running, ``S`` sleeping, ``D`` waiting on the disk."""
    rss: int
    """Resident bytes."""
    cpu: float | None
    """CPU use since the previous scan, in percent of one core; None for a new process."""
    age: float
    """Seconds since it was started (forked)."""


@dataclass(frozen=True, slots=True)
class ProcInfo:
    """One process in the top-by-memory list."""

    pid: int
    name: str
    cmdline: str
    rss: int
    """Bytes resident now."""
    growth: int = 0
    """Bytes gained since lamptop first saw this process (negative when it shrank)."""
    cpu: float = 0.0
    """CPU percent of one core since the previous scan."""
    new: bool = False
    """Born while lamptop watched, in the last :data:`NEW_PROCESS` seconds: first seen after
    its first scan, already holding memory, so ``growth`` (from its first reading) says little."""


#: How long a process born while lamptop watched counts as new (:attr:`ProcInfo.new`), in seconds.
NEW_PROCESS = 300.0


@dataclass(frozen=True, slots=True)
class SystemSample:
    """One reading of the machine's memory, swap, load and processes."""

    ts: datetime
    mem_total: int
    mem_used: int
    """Bytes used: total minus available."""
    mem_available: int
    swap_total: int
    swap_used: int
    load1: float
    load5: float
    load15: float
    cpu_percent: float
    """Machine CPU busy percent since the previous sample (all cores, 0-100)."""
    cpu_count: int = 1
    services: tuple[ServiceMem, ...] = ()
    """Per-service RSS; empty between process scans (see :attr:`scanned`)."""
    top: tuple[ProcInfo, ...] = ()
    """Top processes by RSS, from the most recent process scan."""
    rss_by_pid: Mapping[int, int] = field(default_factory=dict)
    """RSS in bytes of every process of a watched service, from the most recent scan."""
    self_rss: int = 0
    """lamptop's own RSS in bytes."""
    self_cpu: float = 0.0
    """lamptop's own CPU percent of one core."""
    scanned: bool = False
    children: tuple[ServerChild, ...] = ()
    """Apache's processes, from the latest scan (see :class:`ServerChild`)."""
    """True when this sample comes with a fresh process scan."""


SourceStatus = Literal[
    "ok",
    "waiting",
    "missing",
    "unreadable",
    "error",
    "refused",
    "timeout",
    "http-error",
    "auth",
    "not-status",
    "stopped",
]


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a source can see right now, in words a person can act on."""

    ts: datetime
    source: str
    """Source name (same as :attr:`LogRecord.source`)."""
    kind: str
    """Log kind, or ``mod-status`` / ``system``."""
    status: SourceStatus
    message: str = ""
    """What is wrong, in plain words; empty when ``ok``."""
    hint: str = ""
    """How to fix it, when lamptop knows (``add your user to the adm group``)."""
    target: str = ""
    """The path or URL the source watches."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"
