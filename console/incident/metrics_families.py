"""A :class:`MetricsState` as Prometheus metric families, every name starting ``lamptop_``.

Imported only by ``lamptop record --metrics`` (it loads ``prometheus_client``). The families
are built per scrape by :class:`LamptopCollector` from one state read on the event loop; the
library writes them in the text format Prometheus asks for (0.0.4, or OpenMetrics by the
``Accept`` header) and escapes label values (quotes, backslashes, newlines).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence

import psutil
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from console import __version__
from console.core.stack import MYSQL_STATUS_KEYS
from console.incident.metrics_state import MetricsState, label

#: Scoreboard characters and the state each stands for (Apache's own words, shortened).
SLOT_STATES: tuple[tuple[str, str], ...] = (
    ("_", "waiting"),
    ("S", "starting"),
    ("R", "reading"),
    ("W", "sending"),
    ("K", "keepalive"),
    ("D", "dns"),
    ("C", "closing"),
    ("L", "logging"),
    ("G", "graceful"),
    ("I", "idle_cleanup"),
    (".", "open"),
)
_KNOWN = {ch for ch, _ in SLOT_STATES}

#: ``SHOW GLOBAL STATUS`` counters exported as Prometheus counters (name, help).
_MYSQL_COUNTERS = (
    ("Questions", "questions", "Statements the server ran (its Questions counter)."),
    ("Slow_queries", "slow_queries", "Queries slower than long_query_time."),
    ("Aborted_connects", "aborted_connects", "Failed attempts to connect."),
    ("Connections", "connections", "Connection attempts, failed or not."),
)
assert all(key in MYSQL_STATUS_KEYS for key, _, _ in _MYSQL_COUNTERS)


def _gauge(name: str, doc: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"lamptop_{name}", doc, labels=list(labels))


def _counter(name: str, doc: str, labels: Sequence[str] = ()) -> CounterMetricFamily:
    return CounterMetricFamily(f"lamptop_{name}", doc, labels=list(labels))


def _one(name: str, doc: str, value: float) -> GaugeMetricFamily:
    family = _gauge(name, doc)
    family.add_metric([], value)
    return family


def apache(state: MetricsState) -> Iterator[Metric]:
    """Workers by state and the limit, traffic, requests in flight by script."""
    s = state.status
    if s is None:
        return
    workers = _gauge(
        "apache_workers",
        "Apache worker slots by scoreboard state (they sum to lamptop_apache_workers_limit).",
        ["state"],
    )
    for ch, name in SLOT_STATES:
        workers.add_metric([name], s.counts.get(ch, 0))
    other = sum(n for ch, n in s.counts.items() if ch not in _KNOWN)
    if other:
        workers.add_metric(["other"], other)
    yield workers
    yield _one(
        "apache_workers_limit",
        "Apache worker slots: the scoreboard's length (MaxRequestWorkers, or ServerLimit x "
        "ThreadsPerChild).",
        s.limit,
    )
    yield _one("apache_workers_busy", "Apache worker slots serving a connection.", s.busy)
    yield _one("apache_workers_idle", "Apache worker slots waiting for a connection.", s.idle)
    if s.total_accesses is not None:
        total = _counter("apache_requests", "Requests Apache served since it started.")
        total.add_metric([], s.total_accesses)
        yield total
    if state.rates is not None:
        yield _one(
            "apache_requests_per_second",
            "Requests per second between the last status polls.",
            state.rates.requests,
        )
    inflight = _gauge(
        "apache_inflight_requests",
        "Requests being served now, by script (the busiest scripts, the rest as 'other'; "
        "needs ExtendedStatus On).",
        ["script"],
    )
    oldest = _gauge(
        "apache_inflight_oldest_seconds",
        "How long the oldest request in flight of each script has run.",
        ["script"],
    )
    for script in state.scripts:
        inflight.add_metric([script.name], script.count)
        oldest.add_metric([script.name], script.oldest)
    yield inflight
    yield oldest


def system(state: MetricsState) -> Iterator[Metric]:
    """Memory, swap, load and the memory of each service."""
    s = state.system
    if s is None:
        return
    yield _one("memory_total_bytes", "Memory of the machine.", s.mem_total)
    yield _one("memory_used_bytes", "Memory used: total minus available.", s.mem_used)
    yield _one("memory_available_bytes", "Memory available to new work.", s.mem_available)
    yield _one("swap_total_bytes", "Swap space.", s.swap_total)
    yield _one("swap_used_bytes", "Swap in use.", s.swap_used)
    yield _one("load1", "Load average over 1 minute.", s.load1)
    yield _one(
        "cpu_busy_ratio",
        "Machine CPU busy since the previous reading, 0 to 1.",
        s.cpu_percent / 100,
    )
    rss = _gauge(
        "service_rss_bytes", "Resident memory of each service, all its processes.", ["service"]
    )
    procs = _gauge("service_processes", "Processes of each service.", ["service"])
    for mem in state.services:
        rss.add_metric([label(mem.name)], mem.rss)
        procs.add_metric([label(mem.name)], mem.procs)
    yield rss
    yield procs


def logs(state: MetricsState) -> Iterator[Metric]:
    """Lines and errors per log source, counted and per second; source up or down."""
    lines = _counter("log_lines", "Log entries read, per source.", ["source"])
    errors = _counter("log_errors", "Log entries of level error or crit, per source.", ["source"])
    line_rate = _gauge("log_lines_per_second", "Log entries per second, per source.", ["source"])
    error_rate = _gauge(
        "log_errors_per_second", "Log entries of level error or crit per second.", ["source"]
    )
    for name, n in sorted(state.lines.items()):
        shown = label(name)
        lines.add_metric([shown], n)
        errors.add_metric([shown], state.errors.get(name, 0))
        line_rate.add_metric([shown], state.line_rates.get(name, 0.0))
        error_rate.add_metric([shown], state.error_rates.get(name, 0.0))
    yield from (lines, errors, line_rate, error_rate)
    up = _gauge(
        "source_up",
        "1 when a source reads what it should, 0 when not (the reason is on lamptop's output).",
        ["source", "kind"],
    )
    for st in state.states:
        up.add_metric([label(st.source), label(st.kind)], 1 if st.ok else 0)
    yield up
    dropped = _counter("records_dropped", "Records that fell out of the full ring.")
    dropped.add_metric([], state.dropped)
    yield dropped


def incidents(state: MetricsState) -> Iterator[Metric]:
    """Rules that fired and bundles written."""
    fires = _counter("rule_fires", "Times each spike rule fired.", ["rule"])
    for rule, n in sorted(state.fires.items()):
        fires.add_metric([label(rule)], n)
    yield fires
    bundles = _counter("bundles_written", "Snapshot bundles written.")
    bundles.add_metric([], state.bundles)
    yield bundles
    failed = _counter("bundle_failures", "Snapshot bundles that could not be written.")
    failed.add_metric([], state.bundle_failures)
    yield failed


def stack(state: MetricsState) -> Iterator[Metric]:
    """PHP-FPM pools and the MySQL/MariaDB server, when those sources run."""
    if state.fpm:
        names = ["source", "pool"]
        procs = _gauge(
            "fpm_processes", "PHP-FPM processes of each pool by state.", [*names, "state"]
        )
        limit = _gauge(
            "fpm_max_children", "A pool's pm.max_children, when its config was read.", names
        )
        queue = _gauge("fpm_listen_queue", "Requests waiting for a free PHP-FPM process.", names)
        reached = _counter(
            "fpm_max_children_reached", "Times a pool hit pm.max_children since it started.", names
        )
        slow = _counter("fpm_slow_requests", "Requests slower than request_slowlog_timeout.", names)
        accepted = _counter("fpm_accepted_connections", "Requests a pool accepted.", names)
        for p in state.fpm:
            keys = [label(p.source), label(p.pool)]
            procs.add_metric([*keys, "active"], p.active)
            procs.add_metric([*keys, "idle"], p.idle)
            if p.max_children is not None:
                limit.add_metric(keys, p.max_children)
            queue.add_metric(keys, p.listen_queue)
            reached.add_metric(keys, p.max_children_reached)
            slow.add_metric(keys, p.slow_requests)
            accepted.add_metric(keys, p.accepted)
        yield from (procs, limit, queue, reached, slow, accepted)
    m = state.mysql
    if m is None:
        return
    for key, name, doc in (
        ("Threads_connected", "mysql_threads_connected", "Client connections open."),
        ("Threads_running", "mysql_threads_running", "Threads running a statement."),
    ):
        if key in m.status:
            yield _one(name, doc, m.status[key])
    yield _one("mysql_max_connections", "The server's max_connections.", m.max_connections)
    running = [t.time for t in m.threads if t.running]
    yield _one(
        "mysql_longest_query_seconds",
        "How long the longest statement running now has run (0 when none).",
        max(running, default=0.0),
    )
    for key, name, doc in _MYSQL_COUNTERS:
        if key in m.status:
            family = _counter(f"mysql_{name}", doc)
            family.add_metric([], m.status[key])
            yield family


def itself() -> Iterator[Metric]:
    """lamptop's own version, CPU time and memory."""
    info = _gauge("build_info", "The lamptop version serving these metrics.", ["version"])
    info.add_metric([__version__], 1)
    yield info
    times = os.times()
    cpu = _counter("process_cpu_seconds", "CPU time lamptop itself used (user and system).")
    cpu.add_metric([], times.user + times.system)
    yield cpu
    try:
        rss = int(psutil.Process().memory_info().rss)
    except psutil.Error:
        return
    yield _one("process_resident_memory_bytes", "lamptop's own resident memory.", rss)


def families(state: MetricsState) -> Iterator[Metric]:
    """Every family of one scrape."""
    for part in (apache, system, logs, incidents, stack):
        yield from part(state)
    yield from itself()


class LamptopCollector(Collector):
    """Reads a fresh :class:`MetricsState` at each scrape (``read`` is called on the HTTP
    server's thread and gets the state from the event loop)."""

    def __init__(self, read: Callable[[], MetricsState]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        return list(families(self.read()))

    def describe(self) -> Iterable[Metric]:
        return ()  # registering must not scrape
