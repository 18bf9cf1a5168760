"""What ``lamptop record --metrics`` tells Prometheus, read from the recorder at scrape time.

Nothing here runs per line but :meth:`MetricsTally.on_records`, which counts the error
records of each source (the recorder counts every source's lines already). Everything else is
read when Prometheus asks, on the event loop, from the newest samples in the recorder's rings:
:func:`read_state` builds one :class:`MetricsState`, a frozen value the HTTP thread then turns
into metric families (:mod:`console.incident.metrics_families`).

Label values that come from strangers (the scripts of in-flight requests, pool names) are
cleaned and bounded here, and the in-flight scripts are cut to the busiest ``scripts`` of
them, the rest summed as ``other``: a client choosing URLs cannot make Prometheus store an
unbounded number of series.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from console.core.events import (
    LOG_KINDS,
    LogRecord,
    ServiceMem,
    SourceState,
    StatusSample,
    SystemSample,
)
from console.core.recorder import Listener, Recorder
from console.core.stack import FpmSample, MysqlSample
from console.core.text import bound, clean
from console.incident.rule_base import Trigger
from console.incident.watch import Saved
from console.parsing.modstatus import request_path
from console.view.metrics import Rates, in_flight, latest_rates

T = TypeVar("T")

#: Levels counted as errors per source.
ERROR_LEVELS = frozenset({"error", "crit"})
#: Longest label value taken from outside (a script path, a pool name), in characters.
LABEL_MAX = 120
#: The label value that sums the scripts past the busiest ones.
OTHER = "other"
#: A sample older than this many seconds is not exported: the source stopped answering, and
#: its last figures would say that nothing changed (``lamptop_source_up`` says what happened).
STALE_AFTER = 30.0


def label(text: str) -> str:
    """A label value from outside: control characters made visible, length bounded."""
    return bound(clean(text), LABEL_MAX)


class MetricsTally(Listener):
    """Counts what the recorder does not: error records per source, rule fires by rule and
    bundles written. Mutated on the event loop only (listener calls and the incident watch's
    callbacks); read there by :func:`read_state`."""

    def __init__(self) -> None:
        self.errors: dict[str, int] = {}
        self.fires: dict[str, int] = {}
        self.bundles = 0
        self.bundle_failures = 0
        self._marks: deque[tuple[float, dict[str, int], dict[str, int]]] = deque(maxlen=16)

    def on_records(self, batch: tuple[LogRecord, ...]) -> None:
        errors = self.errors
        bad = ERROR_LEVELS
        for rec in batch:
            if rec.level in bad:
                errors[rec.source] = errors.get(rec.source, 0) + 1

    def on_trigger(self, trigger: Trigger, outcome: str, joined: bool = False) -> None:
        name = trigger.reason
        self.fires[name] = self.fires.get(name, 0) + 1

    def on_saved(self, saved: Saved) -> None:
        if saved.path is not None and saved.error is None:
            self.bundles += 1
        else:
            self.bundle_failures += 1

    def rates(
        self, now: float, lines: Mapping[str, int]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Lines/s and errors/s per source since the oldest mark of the last 5 s (or since the
        previous call, when scrapes are further apart): a mark is kept at most once a second."""
        marks = self._marks
        if not marks or now - marks[-1][0] >= 1.0:
            marks.append((now, dict(lines), dict(self.errors)))
        while len(marks) > 2 and now - marks[1][0] > 5.0:
            marks.popleft()
        t0, lines0, errors0 = marks[0]
        span = now - t0
        if span <= 0.0:
            return {k: 0.0 for k in lines}, {k: 0.0 for k in self.errors}
        line_rates = {k: (v - lines0.get(k, 0)) / span for k, v in lines.items()}
        error_rates = {k: (v - errors0.get(k, 0)) / span for k, v in self.errors.items()}
        return line_rates, error_rates


@dataclass(frozen=True, slots=True)
class Script:
    """Requests in flight for one script (or for every script past the busiest: ``other``)."""

    name: str
    count: int
    oldest: float
    """Seconds the oldest of them has run."""


@dataclass(frozen=True)
class MetricsState:
    """The figures of one scrape: the newest sample of each kind (None when there is none
    younger than :data:`STALE_AFTER`), the counters, the states."""

    taken_at: datetime
    status: StatusSample | None = None
    rates: Rates | None = None
    scripts: tuple[Script, ...] = ()
    system: SystemSample | None = None
    services: tuple[ServiceMem, ...] = ()
    fpm: tuple[FpmSample, ...] = ()
    mysql: MysqlSample | None = None
    states: tuple[SourceState, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict)
    errors: Mapping[str, int] = field(default_factory=dict)
    line_rates: Mapping[str, float] = field(default_factory=dict)
    error_rates: Mapping[str, float] = field(default_factory=dict)
    fires: Mapping[str, int] = field(default_factory=dict)
    bundles: int = 0
    bundle_failures: int = 0
    dropped: int = 0
    """Records that fell out of the ring because it was full."""


def top_scripts(sample: StatusSample | None, limit: int) -> tuple[Script, ...]:
    """Requests in flight grouped by script (the request's path, no query), the ``limit``
    busiest first (ties by name), then the rest summed as ``other``. The status page's own
    requests are left out, as on screen."""
    if sample is None:
        return ()
    own = request_path(f"GET {sample.url}")
    counts: Counter[str] = Counter()
    oldest: dict[str, float] = {}
    for row in in_flight(sample, exclude_path=own):
        name = label(row.path or "-")
        counts[name] += 1
        oldest[name] = max(oldest.get(name, 0.0), row.seconds)
    ranked = sorted(counts, key=lambda n: (-counts[n], n))
    out = [Script(n, counts[n], oldest[n]) for n in ranked[:limit]]
    rest = ranked[limit:]
    if rest:
        out.append(Script(OTHER, sum(counts[n] for n in rest), max(oldest[n] for n in rest)))
    return tuple(out)


def read_state(
    recorder: Recorder,
    tally: MetricsTally,
    *,
    scripts: int = 10,
    stale_after: float = STALE_AFTER,
) -> MetricsState:
    """The figures of one scrape, read from ``recorder`` and ``tally``. Call it on the event
    loop (the recorder's only thread): it reads the rings' newest ends, never a whole ring."""
    now = recorder.clock.now()

    def fresh(ts: datetime) -> bool:
        return (now - ts).total_seconds() <= stale_after

    status = recorder.status[-1] if recorder.status and fresh(recorder.status[-1].ts) else None
    table: StatusSample | None = None
    rates: Rates | None = None
    if status is not None:
        recent = [recorder.status[-i] for i in range(1, min(len(recorder.status), 12) + 1)]
        recent.reverse()
        rates = latest_rates(recent)
        # the newest worker table: while the server is saturated some polls read only counters
        table = next((s for s in reversed(recent) if s.extended and fresh(s.ts)), None)
    system = recorder.system[-1] if recorder.system and fresh(recorder.system[-1].ts) else None
    services: tuple[ServiceMem, ...] = ()
    for sample in _newest(recorder.system, 64):
        if not fresh(sample.ts):
            break
        if sample.scanned or sample.services:
            services = sample.services
            break
    pools: dict[tuple[str, str], FpmSample] = {}
    for pool in reversed(_newest(recorder.fpm, 64)):
        if fresh(pool.ts):
            pools[(pool.source, pool.pool)] = pool
    mysql = recorder.mysql[-1] if recorder.mysql and fresh(recorder.mysql[-1].ts) else None
    states = tuple(sorted(recorder.states.values(), key=lambda s: s.source))
    kinds = {s.source: s.kind for s in states}
    lines = {
        name: n
        for name, n in recorder.counts.items()
        if n or kinds.get(name) in LOG_KINDS or name in tally.errors
    }
    line_rates, error_rates = tally.rates(recorder.clock.monotonic(), lines)
    return MetricsState(
        taken_at=now,
        status=status,
        rates=rates,
        scripts=top_scripts(table, scripts),
        system=system,
        services=services,
        fpm=tuple(pools.values()),
        mysql=mysql,
        states=states,
        lines=lines,
        errors=dict(tally.errors),
        line_rates=line_rates,
        error_rates=error_rates,
        fires=dict(tally.fires),
        bundles=tally.bundles,
        bundle_failures=tally.bundle_failures,
        dropped=recorder.dropped,
    )


def _newest(ring: deque[T], n: int) -> list[T]:
    """The newest ``n`` items of a ring, newest first, without copying the ring."""
    return [ring[-i] for i in range(1, min(len(ring), n) + 1)]
