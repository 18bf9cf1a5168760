"""Event values from their plain-JSON forms (:mod:`console.core.serialize`), every field checked.

Used by the bundle reader (:mod:`console.incident.bundle_read`) and by the stream's reader
(:mod:`console.core.wire`, for a remote host's samples and states): one decoder for both. The
caller has cleaned the document's strings (``clean_value``) before these run; every field is
checked with an error that names it (:class:`~console.core.check.Invalid`), counts of rows are
bounded, and so is each text of the PHP-FPM and MySQL samples (cut at :data:`MAX_TEXT`, saying
so).
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any, TypeVar, cast, get_args, get_type_hints

from console.core.check import (
    Invalid,
    as_int,
    as_list,
    as_obj,
    as_text,
    as_time,
    count_map,
    fail,
    flat,
    get,
    scalars,
)
from console.core.events import (
    LEVEL_RANK,
    Level,
    LogRecord,
    ProcessRow,
    ProcInfo,
    ServerChild,
    ServiceMem,
    SourceState,
    SourceStatus,
    StatusSample,
    SystemSample,
    Worker,
)
from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread
from console.core.text import bound

SAMPLE_ROWS = 65_536
"""Worker or process rows in one status sample, the scoreboard's own bound."""
MAX_SCOREBOARD = 65_536

SOURCE_STATUSES = frozenset(get_args(get_type_hints(SourceState)["status"]))


def record_from(v: Any, where: str, seq: int) -> LogRecord:
    """One record as snapshot.json holds it (``raw`` is its text: a bundle keeps no raw line)."""
    d = as_obj(v, where)
    level = get(d, "level", where)
    if not isinstance(level, str) or level not in LEVEL_RANK:
        raise fail(f"{where}.level", f"one of {', '.join(LEVEL_RANK)}", level)
    lines = as_list(get(d, "lines", where, []), f"{where}.lines", 100_000)
    text = as_text(get(d, "text", where), f"{where}.text")
    ts_from_line = get(d, "ts_from_line", where, True)
    if not isinstance(ts_from_line, bool):
        raise fail(f"{where}.ts_from_line", "true/false", ts_from_line)
    return LogRecord(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        source=as_text(get(d, "source", where), f"{where}.source"),
        kind=as_text(get(d, "kind", where), f"{where}.kind"),
        level=cast(Level, level),
        text=text,
        lines=tuple(as_text(x, f"{where}.lines[{i}]") for i, x in enumerate(lines)),
        fields=as_obj(get(d, "fields", where, {}), f"{where}.fields"),
        raw=text,
        ts_from_line=ts_from_line,
        seq=seq,
    )


def state_from(v: Any, where: str) -> SourceState:
    """One source state, its status one lamptop knows."""
    d = as_obj(v, where)
    status = get(d, "status", where)
    if not isinstance(status, str) or status not in SOURCE_STATUSES:
        raise fail(f"{where}.status", f"one of {', '.join(sorted(SOURCE_STATUSES))}", status)
    return SourceState(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        source=as_text(get(d, "source", where), f"{where}.source"),
        kind=as_text(get(d, "kind", where, ""), f"{where}.kind"),
        status=cast(SourceStatus, status),
        message=as_text(get(d, "message", where, ""), f"{where}.message"),
        hint=as_text(get(d, "hint", where, ""), f"{where}.hint"),
        target=as_text(get(d, "target", where, ""), f"{where}.target"),
    )


_STATUS_OWN = frozenset({"ts", "fields", "scoreboard", "counts", "workers", "processes"})
_SYSTEM_OWN = frozenset({"ts", "services", "top", "rss_by_pid", "children"})


def status_from(v: Any, where: str) -> StatusSample:
    """One mod_status sample, its scoreboard and rows bounded."""
    d = as_obj(v, where)
    board = as_text(get(d, "scoreboard", where, ""), f"{where}.scoreboard")
    if len(board) > MAX_SCOREBOARD:
        raise Invalid(f"{where}.scoreboard", f"{len(board)} slots, more than {MAX_SCOREBOARD}")
    workers = as_list(get(d, "workers", where, []), f"{where}.workers", SAMPLE_ROWS)
    procs = as_list(get(d, "processes", where, []), f"{where}.processes", SAMPLE_ROWS)
    return StatusSample(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        fields=as_obj(get(d, "fields", where, {}), f"{where}.fields"),
        scoreboard=board,
        counts=count_map(get(d, "counts", where, {}), f"{where}.counts"),
        workers=tuple(flat(Worker, w, f"{where}.workers[{i}]") for i, w in enumerate(workers)),
        processes=tuple(
            flat(ProcessRow, p, f"{where}.processes[{i}]") for i, p in enumerate(procs)
        ),
        **scalars(StatusSample, {"url": "", **d}, where, _STATUS_OWN),
    )


def system_from(v: Any, where: str) -> SystemSample:
    """One system sample, its process lists bounded."""
    d = as_obj(v, where)
    services = as_list(get(d, "services", where, []), f"{where}.services", SAMPLE_ROWS)
    top = as_list(get(d, "top", where, []), f"{where}.top", SAMPLE_ROWS)
    kids = as_list(get(d, "children", where, []), f"{where}.children", SAMPLE_ROWS)
    rss = as_obj(get(d, "rss_by_pid", where, {}), f"{where}.rss_by_pid")
    if len(rss) > SAMPLE_ROWS:
        raise Invalid(f"{where}.rss_by_pid", f"more than {SAMPLE_ROWS} processes")
    by_pid: dict[int, int] = {}
    for k, n in rss.items():
        if not k.isdigit():
            raise fail(f"{where}.rss_by_pid", "process ids as keys", k)
        by_pid[int(k)] = as_int(n, f"{where}.rss_by_pid.{k}")
    return SystemSample(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        services=tuple(
            flat(ServiceMem, s, f"{where}.services[{i}]") for i, s in enumerate(services)
        ),
        top=tuple(flat(ProcInfo, p, f"{where}.top[{i}]") for i, p in enumerate(top)),
        children=tuple(flat(ServerChild, c, f"{where}.children[{i}]") for i, c in enumerate(kids)),
        rss_by_pid=by_pid,
        **scalars(SystemSample, d, where, _SYSTEM_OWN),
    )


MAX_ROWS = 65_536
"""Processes of one pool, or processlist rows of one server, in one sample."""
MAX_STATUS = 1024
"""``SHOW GLOBAL STATUS`` counters in one sample (lamptop keeps ten)."""
MAX_TEXT = 65_536
"""Characters kept of one text (a query, a URI); the rest is cut with a marker."""

_FPM_OWN = frozenset({"ts", "processes"})
_PROCESS_OWN = frozenset({"tcp"})
MAX_TCP = 64
"""TCP connections of one process kept from a bundle."""
_MYSQL_OWN = frozenset({"ts", "status", "threads"})

V = TypeVar("V")


def _checked(value: V, where: str) -> V:
    """``value`` (a flat dataclass) with every text bounded and every number finite."""
    cut: dict[str, Any] = {}
    for f in fields(value):  # type: ignore[arg-type]
        x = getattr(value, f.name)
        if isinstance(x, str) and len(x) > MAX_TEXT:
            cut[f.name] = bound(x, MAX_TEXT)
        elif isinstance(x, float) and not math.isfinite(x):
            raise fail(f"{where}.{f.name}", "a finite number", x)
    return replace(value, **cut) if cut else value  # type: ignore[type-var]


def fpm_from_dict(v: Any, where: str) -> FpmSample:
    """One pool's sample as snapshot.json holds it, checked."""
    d = as_obj(v, where)
    procs = as_list(get(d, "processes", where, []), f"{where}.processes", MAX_ROWS)
    processes = tuple(_process(p, f"{where}.processes[{i}]") for i, p in enumerate(procs))
    sample = FpmSample(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        processes=processes,
        **scalars(FpmSample, d, where, _FPM_OWN),
    )
    return _checked(sample, where)


def _process(v: Any, where: str) -> FpmProcess:
    """One process, its TCP connections (``[[local port, "address:port"], ...]``) checked."""
    d = as_obj(v, where)
    tcp: list[tuple[int, str]] = []
    for i, pair in enumerate(as_list(d.get("tcp", []), f"{where}.tcp", MAX_TCP)):
        at = f"{where}.tcp[{i}]"
        items = as_list(pair, at, 2)
        if len(items) != 2 or not isinstance(items[1], str):
            raise fail(at, "a [port, address] pair", pair)
        tcp.append((as_int(items[0], f"{at}[0]"), bound(items[1], 64)))
    process = FpmProcess(tcp=tuple(tcp), **scalars(FpmProcess, d, where, _PROCESS_OWN))
    return _checked(process, where)


def _counters(v: Any, where: str) -> dict[str, int]:
    d = as_obj(v, where)
    if len(d) > MAX_STATUS:
        raise Invalid(where, f"{len(d)} counters, more than the {MAX_STATUS} lamptop reads")
    return {k: as_int(n, f"{where}.{k}") for k, n in d.items()}


def mysql_from_dict(v: Any, where: str) -> MysqlSample:
    """One server's sample as snapshot.json holds it, checked."""
    d = as_obj(v, where)
    rows = as_list(get(d, "threads", where, []), f"{where}.threads", MAX_ROWS)
    threads = tuple(
        _checked(flat(MysqlThread, t, f"{where}.threads[{i}]"), f"{where}.threads[{i}]")
        for i, t in enumerate(rows)
    )
    sample = MysqlSample(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        status=_counters(get(d, "status", where, {}), f"{where}.status"),
        threads=threads,
        **scalars(MysqlSample, d, where, _MYSQL_OWN),
    )
    return _checked(sample, where)
