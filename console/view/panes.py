"""What the panes draw, worked out from a snapshot before it reaches them: pure view models.

The app builds these from the snapshot it shows and hands them to the widgets, which only lay
them out at their size and colour them. Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from console.core.events import ProcInfo, SystemSample
from console.view.filters import LogFilter
from console.view.metrics import ServiceTrend, buckets, scanned, service_trends

#: How far back the memory sparklines reach, in samples (seconds at the default 1 Hz).
MEMORY_SPAN = 300


def ratio(used: int, total: int) -> float:
    """``used`` over ``total``; 0.0 when the total is unknown."""
    return used / total if total > 0 else 0.0


@dataclass(frozen=True, slots=True)
class MemoryModel:
    """The memory pane: memory and swap now and over the last minutes, services, top processes."""

    mem_used: int
    mem_total: int
    swap_used: int
    swap_total: int
    minutes: int
    """How far back the history reaches, in whole minutes (at least 1)."""
    mem_history: tuple[float, ...]
    """Used memory over total, one value per sample, oldest first."""
    swap_history: tuple[float, ...]
    """Used swap over total, one value per sample, oldest first."""
    trends: tuple[ServiceTrend, ...]
    """Memory of each service, with how it moved over the last minute."""
    top: tuple[ProcInfo, ...]
    """The processes using the most memory, from the latest process scan that listed any."""
    seconds: float = 0.0
    """How far back the history reaches, in seconds."""

    @property
    def span(self) -> str:
        """How far back the sparklines reach, in words: ``last 40 s``, ``last 5 min``."""
        if self.seconds < 60:
            return f"last {max(1, round(self.seconds))} s"
        return f"last {self.minutes} min"

    @property
    def mem_ratio(self) -> float:
        return ratio(self.mem_used, self.mem_total)

    @property
    def swap_ratio(self) -> float:
        return ratio(self.swap_used, self.swap_total)

    def mem_columns(self, width: int) -> list[float]:
        """The memory history in at most ``width`` columns (the highest value of each run)."""
        return buckets(self.mem_history, width)

    def swap_columns(self, width: int) -> list[float]:
        """The swap history in at most ``width`` columns (the highest value of each run)."""
        return buckets(self.swap_history, width)


def memory_model(samples: Sequence[SystemSample]) -> MemoryModel | None:
    """The memory pane's figures from system samples (oldest first); None before the first."""
    if not samples:
        return None
    now = samples[-1]
    recent = samples[-MEMORY_SPAN:]
    seconds = (recent[-1].ts - recent[0].ts).total_seconds()
    minutes = max(1, round(seconds / 60))
    return MemoryModel(
        mem_used=now.mem_used,
        mem_total=now.mem_total,
        swap_used=now.swap_used,
        swap_total=now.swap_total,
        minutes=minutes,
        mem_history=tuple(ratio(s.mem_used, s.mem_total) for s in recent),
        swap_history=tuple(ratio(s.swap_used, s.swap_total) for s in recent),
        trends=service_trends(samples),
        top=next((s.top for s in reversed(scanned(samples)) if s.top), ()),
        seconds=seconds,
    )


@dataclass(frozen=True, slots=True)
class PaneTitles:
    """What the borders of the log pane and the workers pane say."""

    logs: str
    logs_sub: str
    workers: str
    workers_sub: str


def pane_titles(
    log_filter: LogFilter,
    *,
    shown: int,
    total: int,
    following: bool,
    in_flight: int,
    suspect: str = "",
    tiny: bool = False,
    cramped: bool = False,
) -> PaneTitles:
    """Titles from what the console shows: the filter, how many records pass it of how many,
    whether the log pane follows the newest, the requests in flight (or, in trouble, the
    likely culprit: ``suspect``, see :mod:`console.view.suspects`); on small terminals
    (``tiny``: too short, ``cramped``: too narrow) which panes are hidden and the room they need.
    """
    hidden = "workers+memory need 20 rows" if tiny else ""
    logs = " · ".join(t for t in ("logs", log_filter.describe(), hidden) if t)
    where = "following" if following else "paused · end follows"
    return PaneTitles(
        logs=logs,
        logs_sub=f"{shown:,} of {total:,} · {where}",
        workers="workers · memory needs 60 cols" if cramped else "workers",
        workers_sub=suspect or (f"{in_flight} in flight" if in_flight else ""),
    )
