"""Figures the console shows, computed from samples: pure functions, no I/O, no clock.

Rates come from the difference between two mod_status samples (``Total Accesses`` and
``Total kBytes`` are counters since Apache started); trends compare a service's memory now
with what it was a minute ago; the in-flight list joins the ExtendedStatus worker table with
the memory of each worker's process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from console.core.events import SourceState, StatusSample, SystemSample
from console.parsing.modstatus import QUIET_MODES, request_path

#: Scoreboard characters of slots that are not serving anything.


@dataclass(frozen=True, slots=True)
class Rates:
    """Traffic between two status samples."""

    requests: float
    """Requests per second."""
    kbytes: float
    """Kilobytes sent per second."""
    seconds: float
    """Length of the interval the rates cover."""


def request_rates(previous: StatusSample | None, current: StatusSample | None) -> Rates | None:
    """Requests/s and kB/s between two samples; None when they cannot tell.

    None when a sample is missing, lacks the counters, the interval is not positive, or a
    counter went backwards (Apache restarted between the two polls). The interval is the
    longer of the polls' times and Apache's own uptimes: an answer collected late from a
    saturated server (see the status poller) is stamped when it was read, not when Apache
    wrote it, and the next poll may follow it within milliseconds.
    """
    if previous is None or current is None:
        return None
    seconds = (current.ts - previous.ts).total_seconds()
    if previous.uptime is not None and current.uptime is not None:
        seconds = max(seconds, current.uptime - previous.uptime)
    if seconds <= 0:
        return None
    a0, a1 = previous.total_accesses, current.total_accesses
    if a0 is None or a1 is None or a1 < a0:
        return None
    k0, k1 = previous.total_kbytes, current.total_kbytes
    kbytes = 0.0 if k0 is None or k1 is None or k1 < k0 else (k1 - k0) / seconds
    return Rates(requests=(a1 - a0) / seconds, kbytes=kbytes, seconds=seconds)


def latest_rates(samples: Sequence[StatusSample]) -> Rates | None:
    """:func:`request_rates` of the last two samples, kB/s from the last two that count bytes:
    a sample read from the HTML page alone has requests but no exact byte count."""
    if len(samples) < 2:
        return None
    last = samples[-1]
    # the newest sample at least a second older: two answers read moments apart say nothing
    older = [s for s in samples[-12:-1] if (last.ts - s.ts).total_seconds() >= 1.0]
    rates = request_rates(older[-1] if older else samples[-2], last)
    if rates is None or samples[-1].total_kbytes is not None:
        return rates
    counted = [s for s in samples[-12:] if s.total_kbytes is not None][-2:]
    bytes_rates = request_rates(*counted) if len(counted) == 2 else None
    return replace(rates, kbytes=bytes_rates.kbytes if bytes_rates is not None else 0.0)


def human_bytes(n: float | None) -> str:
    """``870M``, ``1.2G``, ``512K``: short, for tight columns; ``-`` when unknown."""
    if n is None:
        return "-"
    sign = "-" if n < 0 else ""
    value = abs(float(n))
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            if unit == "B":
                return f"{sign}{int(value)}B"
            if value < 10:
                return f"{sign}{value:.1f}{unit}"
            return f"{sign}{value:.0f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float | None) -> str:
    """``45s``, ``12m03s``, ``3h05m``, ``4d07h``; ``-`` when unknown."""
    if seconds is None or seconds < 0 or not math.isfinite(seconds):
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def saturation(sample: StatusSample) -> float:
    """Busy slots over usable slots, 0.0 to 1.0 (0.0 when the scoreboard is empty)."""
    if sample.limit <= 0:
        return 0.0
    return min(1.0, sample.busy / sample.limit)


@dataclass(frozen=True, slots=True)
class InFlight:
    """A request being served now, with the memory of the process serving it."""

    slot: str
    pid: int | None
    mode: str
    seconds: float
    client: str
    vhost: str
    request: str
    rss: int | None
    """Resident bytes of the worker's process, when the last process scan saw it."""
    host: str = ""
    """The host's short tag, when the rows of several hosts are listed together."""

    @property
    def path(self) -> str:
        """The URL path of the request line (no query string), or ``""``."""
        return request_path(self.request)


def in_flight(
    sample: StatusSample | None,
    rss_by_pid: Mapping[int, int] | None = None,
    *,
    exclude_path: str = "",
) -> tuple[InFlight, ...]:
    """Workers serving a request now, oldest request first.

    A worker counts when its mode is not idle or open and it has a request line. Requests
    for ``exclude_path`` (the status page lamptop itself polls) are left out.
    """
    if sample is None:
        return ()
    rss_by_pid = rss_by_pid or {}
    rows = []
    for w in sample.workers:
        if w.mode in QUIET_MODES or not w.mode or not w.request or w.request == "NULL":
            continue
        if exclude_path and request_path(w.request) == exclude_path:
            continue
        rss = rss_by_pid.get(w.pid) if w.pid is not None else None
        rows.append(InFlight(w.slot, w.pid, w.mode, w.seconds, w.client, w.vhost, w.request, rss))
    rows.sort(key=lambda r: (-r.seconds, r.slot))
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class ServiceTrend:
    """A service's memory now and how it moved over the trend window."""

    name: str
    rss: int
    procs: int
    delta: int
    """Bytes gained (negative: lost) since the oldest scan inside the window."""

    @property
    def arrow(self) -> str:
        """``↑`` growing, ``↓`` shrinking, ``→`` steady (within 5 % and 8 MiB)."""
        threshold = max(8 * 1024 * 1024, self.rss * 0.05)
        if self.delta > threshold:
            return "↑"
        if self.delta < -threshold:
            return "↓"
        return "→"


def scanned(samples: Sequence[SystemSample]) -> list[SystemSample]:
    """The samples that came with a process scan (they hold services and top processes)."""
    return [s for s in samples if s.scanned or s.services or s.top]


def service_trends(
    samples: Sequence[SystemSample], window: float = 60.0
) -> tuple[ServiceTrend, ...]:
    """Per-service RSS from the latest scan, with the change since ``window`` seconds before."""
    scans = scanned(samples)
    if not scans:
        return ()
    latest = scans[-1]
    oldest = latest
    for s in reversed(scans):
        if (latest.ts - s.ts).total_seconds() > window:
            break
        oldest = s
    before = {m.name: m.rss for m in oldest.services}
    return tuple(
        ServiceTrend(m.name, m.rss, m.procs, m.rss - before.get(m.name, m.rss))
        for m in latest.services
    )


def buckets(values: Sequence[float], width: int) -> list[float]:
    """Shrink ``values`` to at most ``width`` columns, each the max of its run (oldest first)."""
    if width <= 0 or not values:
        return []
    n = len(values)
    if n <= width:
        return list(values)
    out = []
    for i in range(width):
        start = i * n // width
        stop = max(start + 1, (i + 1) * n // width)
        out.append(max(values[start:stop]))
    return out


def problems(states: Iterable[SourceState]) -> tuple[SourceState, ...]:
    """States that are not ``ok``, in a stable order (by source name)."""
    return tuple(sorted((s for s in states if not s.ok), key=lambda s: s.source))


def status_state(states: Mapping[str, SourceState]) -> SourceState | None:
    """The state of the mod_status source, if it reported one."""
    for state in states.values():
        if state.kind == "mod-status":
            return state
    return None
