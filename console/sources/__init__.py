"""Async producers: log tails, the mod_status poller and the system sampler.

A source never raises for an expected failure (missing file, refused connection, HTML where
text was expected): it reports a :class:`~console.core.events.SourceState` to its sink, backs off
and keeps trying. Sources hand everything they read to a :class:`Sink`, which in the running
program is the :class:`~console.core.recorder.Recorder`, on the event loop's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.events import (
    LogRecord,
    SourceState,
    SourceStatus,
    StatusSample,
    SystemSample,
)
from console.core.stack import FpmSample, MysqlSample
from console.core.text import bound, clean, mask_secrets


class Sink(Protocol):
    """Where sources deliver what they read. Called on the event loop only."""

    def add_records(self, records: Sequence[LogRecord]) -> None: ...

    def add_status(self, sample: StatusSample) -> None: ...

    def add_system(self, sample: SystemSample) -> None: ...

    def add_fpm(self, sample: FpmSample) -> None: ...

    def add_mysql(self, sample: MysqlSample) -> None: ...

    def set_state(self, state: SourceState) -> None: ...


class Poller:
    """Base of the pollers (mod_status, PHP-FPM, MySQL): :meth:`run` calls :meth:`poll_once`
    every :attr:`delay` seconds (a poll's own time counted in) until cancelled, then
    :meth:`close`. A poller sets ``delay`` after each poll: its interval, or longer to back
    off after a failure."""

    delay: float = 1.0

    async def poll_once(self) -> object:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of connections and of any poll still waiting."""

    async def run(self) -> None:
        """Poll until cancelled."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                started = loop.time()
                await self.poll_once()
                await asyncio.sleep(max(0.0, self.delay - (loop.time() - started)))
        finally:
            self.close()


class StateReporter:
    """Tells a sink what a source can see, only when that changes (no state spam per poll)."""

    def __init__(
        self, sink: Sink, source: str, kind: str, target: str = "", clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.sink = sink
        self.clock = clock
        self.source = source
        self.kind = kind
        self.target = target
        self.last: SourceState | None = None
        """The state sent most recently."""

    def __call__(self, status: SourceStatus, message: str = "", hint: str = "") -> None:
        # messages quote what servers and files said (reason phrases, Location, paths)
        message, hint = _said(message), _said(hint)
        last = self.last
        if last is not None and (last.status, last.message, last.hint) == (status, message, hint):
            return
        self.last = SourceState(
            self.clock.now(), self.source, self.kind, status, message, hint, self.target
        )
        self.sink.set_state(self.last)


def _said(text: str) -> str:
    """Outside words in a state message: cleaned, secrets masked, one bounded line."""
    return clean(mask_secrets(bound(text, 1000))) if text else text
