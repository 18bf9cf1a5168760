"""The one clock: wall time (aware UTC) and a monotonic count of seconds.

Each mode builds one :class:`Clock` where it is assembled (the console, ``record``, ``demo``)
and hands it to whatever needs the time: the recorder, the sources, the incident watch, the
app. Tests hand a :class:`ManualClock` instead and move it by hand. Nothing else reads
``datetime.now`` or ``time.monotonic`` for lamptop's own bookkeeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where lamptop reads the time."""

    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for intervals and deadlines)."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK: Clock = SystemClock()
"""The clock of a running lamptop."""


class ManualClock:
    """A clock that moves only when told (``advance``, ``set``): for tests and replays.

    Its monotonic seconds follow its wall time, so both move together.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._start = start.astimezone(UTC)
        self._now = self._start

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return (self._now - self._start).total_seconds()

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
