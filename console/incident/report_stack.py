"""report.md's PHP-FPM and MySQL/MariaDB sections, and what the verdict says about them.

Each section is left out when the window holds no sample of its kind. The figures are those of
each pool's (each server's) last sample at or before the trigger; counters that count since the
pool or the server started are given with how much they rose over the window. Every value from
outside (a pool's name, a URI, a user, a query) goes in a code span (:mod:`.markdown`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from console.core.recorder import Snapshot
from console.core.stack import FpmSample, MysqlSample
from console.core.text import mask_secrets
from console.incident.markdown import Own, code, mb, md_table, when
from console.incident.stack_figures import (
    at_or_before,
    by_pool,
    counter_rise,
    fpm_at_limit,
    fpm_limit,
    fpm_requests,
    long_queries,
    status_path,
    status_rise,
)
from console.incident.stack_rules import STACK_DEFAULTS
from console.view.holds import Hold, holds

#: PHP requests listed under "Who held what".
HOLDS_SHOWN = 5

#: Busy processes listed per pool, and queries listed per server.
MAX_ROWS = 20
#: Characters of a URI in a table, of a query in a table, and of the longest query below it.
URI_WIDTH, QUERY_WIDTH, QUERY_TEXT = 120, 200, 2000
#: A query running this long at the trigger is named in the verdict (``mysql_long_query``'s).
LONG_QUERY = float(STACK_DEFAULTS["mysql_long_query"]["seconds"])


def _pool_at(samples: Sequence[FpmSample], at: datetime) -> FpmSample:
    return samples[at_or_before(samples, at)]


def _reached(samples: Sequence[FpmSample], at: datetime) -> int:
    """How often the pool hit ``pm.max_children`` in the window up to the trigger."""
    return counter_rise([s for s in samples if s.ts <= at] or samples[:1], _max_reached)


def _max_reached(s: FpmSample) -> int:
    return s.max_children_reached


def _slow(s: FpmSample) -> int:
    return s.slow_requests


def _labels(pools: dict[tuple[str, str], list[FpmSample]]) -> dict[tuple[str, str], str]:
    """Each pool's name, with its source's when two sources have pools of one name."""
    names = [pool for _, pool in pools]
    return {k: k[1] if names.count(k[1]) == 1 else f"{k[0]} {k[1]}" for k in pools}


def _busy_rows(s: FpmSample) -> list[tuple[object, ...]]:
    return [
        (
            p.pid,
            Own(f"{p.duration:.1f}"),
            p.state,
            mask_secrets(f"{p.method} {p.uri}"),
            p.script,
            mb(p.memory) if p.memory else Own("-"),
        )
        for p in fpm_requests(s)[:MAX_ROWS]
    ]


def fpm_section(win: Snapshot, at: datetime) -> list[str]:
    """The "PHP-FPM" section: every pool at the trigger, its busy processes longest first."""
    pools = by_pool(win.fpm)
    if not pools:
        return []
    labels = _labels(pools)
    out = ["## PHP-FPM", ""]
    rows = []
    for key, samples in pools.items():
        s = _pool_at(samples, at)
        rows.append(
            (
                labels[key],
                s.process_manager,
                s.active,
                s.idle,
                s.total,
                s.max_children if s.max_children else Own("-"),
                s.listen_queue,
                Own(f"{s.max_children_reached} (+{counter_rise(samples, _max_reached)})"),
                Own(f"{s.slow_requests} (+{counter_rise(samples, _slow)})"),
                when(s.ts),
            )
        )
    out += md_table(
        (
            "pool",
            "pm",
            "active",
            "idle",
            "total",
            "max_children",
            "listen queue",
            "max children reached (rise)",
            "slow requests (rise)",
            "sample",
        ),
        rows,
    )
    out += [
        "",
        "Figures of each pool's last sample at or before the trigger; rises over the window.",
        "",
    ]
    for key, samples in pools.items():
        s = _pool_at(samples, at)
        name = code(labels[key])
        if fpm_at_limit(s):
            waiting = f", {s.listen_queue} waiting in the listen queue" if s.listen_queue else ""
            out += [
                f"**Pool {name} at its limit:** {s.active} of {fpm_limit(s)} processes busy"
                f"{waiting}.",
                "",
            ]
        out += [f"### Pool {name}: busy processes, longest first", ""]
        busy = _busy_rows(s)
        if busy:
            out += md_table(
                ("pid", "seconds", "state", "request", "script", "last request memory"),
                busy,
                (80, 80, 40, URI_WIDTH, URI_WIDTH),
            )
        else:
            out += ["No request running (the status poll itself left out)."]
        out += [""]
    return out


def _sql(query: str) -> str:
    """A query on one line, its passwords masked (``IDENTIFIED BY '****'``)."""
    return mask_secrets(" ".join(query.split()))


def _query_rows(s: MysqlSample) -> list[tuple[object, ...]]:
    return [
        (t.id, t.user, t.host, t.db or Own("-"), Own(f"{t.time:.0f}"), t.state, _sql(t.info))
        for t in s.running[:MAX_ROWS]
    ]


def _rise(samples: Sequence[MysqlSample], key: str) -> str:
    if not any(key in s.status for s in samples):
        return "-"
    return f"+{status_rise(samples, key)}"


def _server(samples: Sequence[MysqlSample], at: datetime) -> list[str]:
    s = samples[at_or_before(samples, at)]
    st = s.status
    pct = f" ({100 * s.connected / s.max_connections:.0f}%)" if s.max_connections else ""
    qps = "-" if s.questions_per_s is None else f"{s.questions_per_s:.1f}"
    waits = st.get("Innodb_row_lock_current_waits")
    out = [
        f"{code(s.version)} at {code(s.target)}, sample of {when(s.ts)}:",
        "",
        f"- Connections: {s.connected} of {s.max_connections} used{pct}; at most "
        f"{st.get('Max_used_connections', '-')} since the server started.",
        f"- Threads_running: {st.get('Threads_running', '-')}; Questions/s: {qps}.",
        f"- Over the window: Slow_queries {_rise(samples, 'Slow_queries')}, "
        f"Aborted_connects {_rise(samples, 'Aborted_connects')}, "
        f"Aborted_clients {_rise(samples, 'Aborted_clients')}.",
        f"- Row lock waits now: {'-' if waits is None else waits}.",
        "",
        "Longest-running queries at the trigger:",
        "",
    ]
    rows = _query_rows(s)
    if not rows:
        return out + ["No statement running (lamptop's own connection left out).", ""]
    out += md_table(
        ("id", "user", "host", "db", "seconds", "state", "query"),
        rows,
        (80, 80, 80, 80, 80, 80, QUERY_WIDTH),
    )
    first = s.running[0]
    out += ["", f"The longest, query {first.id}: {code(_sql(first.info), QUERY_TEXT)}"]
    if s.truncated:
        out += ["", f"{s.truncated} more processlist rows were left out by the source."]
    return out + [""]


def _servers(win: Snapshot) -> dict[str, list[MysqlSample]]:
    """The samples of each MySQL server, in the order they were first seen."""
    servers: dict[str, list[MysqlSample]] = {}
    for s in win.mysql:
        servers.setdefault(s.source, []).append(s)
    return servers


def mysql_section(win: Snapshot, at: datetime) -> list[str]:
    """The "MySQL/MariaDB" section: connections, counters' rises, longest-running queries."""
    servers = _servers(win)
    if not servers:
        return []
    out = ["## MySQL/MariaDB", ""]
    for source, samples in servers.items():
        if len(servers) > 1:
            out += [f"### {code(source)}", ""]
        out += _server(samples, at)
    return out


def stack_sections(win: Snapshot, at: datetime) -> list[str]:
    """Both sections, in report order (each empty when the window has no such sample)."""
    return fpm_section(win, at) + mysql_section(win, at)


def _fpm_verdict(samples: Sequence[FpmSample], at: datetime) -> str | None:
    s = _pool_at(samples, at)
    reached = _reached(samples, at)
    if not (fpm_at_limit(s) or reached):
        return None
    figures = f"{s.active} of {fpm_limit(s)} busy"
    if s.listen_queue:
        figures += f", {s.listen_queue} waiting"
    if reached:
        times = "once" if reached == 1 else f"{reached} times"
        figures += f", pm.max_children reached {times} in the window"
    requests = fpm_requests(s)
    if requests:
        uri = mask_secrets(requests[0].uri)
        figures += f"; longest {code(uri, 80)} ({requests[0].duration:.0f} s)"
    state = "at its limit" if fpm_at_limit(s) else "reached its limit"
    return f"- PHP-FPM pool {code(s.pool)} {state}: {figures}."


def _mysql_verdict(source: str, samples: Sequence[MysqlSample], at: datetime) -> str | None:
    m = samples[at_or_before(samples, at)]
    long = long_queries(m, LONG_QUERY)
    if not long:
        return None
    t = long[0]
    n = f"{len(long)} queries" if len(long) > 1 else "1 query"
    return (
        f"- {code(source)}: {n} running {LONG_QUERY:.0f} s or more, longest {t.time:.0f} s "
        f"(query {t.id} by {code(t.user)}: {code(_sql(t.info), 80)})."
    )


def holds_at(win: Snapshot, at: datetime) -> tuple[Hold, ...]:
    """Who held what at ``at``: each busy PHP request with its Apache worker and its MySQL
    thread, from the last samples taken at or before it (:mod:`console.view.holds`)."""
    pools = [samples[at_or_before(samples, at)] for samples in by_pool(win.fpm).values()]
    status = win.status[at_or_before(win.status, at)] if win.status else None
    mysql = win.mysql[at_or_before(win.mysql, at)] if win.mysql else None
    scanned = [s for s in win.system if s.rss_by_pid]
    rss = scanned[at_or_before(scanned, at)].rss_by_pid if scanned else None
    own = {status_path(s.target) for s in pools}
    busy = holds(pools, status, mysql, rss)
    return tuple(h for h in busy if h.process.uri.split("?", 1)[0] not in own)


def _hold_line(h: Hold) -> str:
    p = h.process
    parts = [f"{code(mask_secrets(f'{p.method} {p.uri}'), 80)} in PHP-FPM {code(h.pool)}"]
    held = f"pid {p.pid} for {p.duration:.0f} s"
    if h.rss:
        held += f", {mb(h.rss)}"
    parts.append(held)
    if h.client:
        parts.append(f"client {code(h.client)}")
    q = h.query
    if q is not None:
        how = "" if h.exact else " (matched by time: a Unix socket shows no port)"
        what = code(_sql(q.info), 80) if q.info else f"idle {q.command.lower()}"
        parts.append(f"MySQL thread {q.id}, {q.time:.0f} s: {what}{how}")
    return "- " + "; ".join(parts) + "."


def stack_verdict(win: Snapshot, at: datetime) -> list[str]:
    """The verdict's lines about PHP-FPM and MySQL: pools at (or that reached) their limit,
    queries running long at the trigger, and who held what (the longest PHP requests with
    their client and query); none when neither."""
    lines = [_fpm_verdict(samples, at) for samples in by_pool(win.fpm).values()]
    lines += [_mysql_verdict(src, samples, at) for src, samples in _servers(win).items()]
    found = [line for line in lines if line]
    out = ["At the trigger:", "", *found, ""] if found else []
    held = holds_at(win, at)
    if held:
        out += ["Who held what (the longest PHP requests, their client and their query):", ""]
        out += [_hold_line(h) for h in held[:HOLDS_SHOWN]]
        if len(held) > HOLDS_SHOWN:
            out.append(f"- and {len(held) - HOLDS_SHOWN} more.")
        out.append("")
    return out
