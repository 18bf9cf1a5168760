"""Async producers: log tails, the mod_status poller and the system sampler.

A source never raises for an expected failure (missing file, refused connection, HTML where
text was expected): it reports a :class:`~console.events.SourceState` to its sink, backs off
and keeps trying. Sources hand everything they read to a :class:`Sink`, which in the running
program is the :class:`~console.recorder.Recorder`, on the event loop's thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from console.events import LogRecord, SourceState, StatusSample, SystemSample


class Sink(Protocol):
    """Where sources deliver what they read. Called on the event loop only."""

    def add_records(self, records: Sequence[LogRecord]) -> None: ...

    def add_status(self, sample: StatusSample) -> None: ...

    def add_system(self, sample: SystemSample) -> None: ...

    def set_state(self, state: SourceState) -> None: ...
