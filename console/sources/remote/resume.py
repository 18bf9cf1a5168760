"""No record twice when a link comes back.

A remote ``record --stream`` starts by reading the end of each log (its backfill), so a link
that comes back re-sends lines the hub already holds. Records on the wire carry their time
(``ts``), no sequence number, so :class:`Resume` keeps, per source of the host, the newest
time seen and the texts of the records at that very time. On each new connection
(:meth:`Resume.reconnected`) every source starts *catching up*: a record older than the newest
seen is skipped, one at that time is skipped when its text was seen, and the first record that
is neither ends the catching up of its source (from then on everything passes: a log's lines
are not strictly in time order, an access log writes a request when it ends).

A line with no time of its own takes its arrival time on the remote, which a backfill read
again makes new: those are told apart by their text instead, among the last
:data:`UNTIMED_KEPT` such texts of the source.

The first connection skips nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.fleet import RemoteAlert
from console.core.stack import FpmSample, MysqlSample
from console.sources.remote.stream import StreamSink

MAX_AT_NEWEST = 256
"""Texts kept per source for the records at its newest time."""
UNTIMED_KEPT = 512
"""Texts kept per source of the latest records that had no time of their own."""


@dataclass
class _Seen:
    newest: datetime | None = None
    texts: set[str] = field(default_factory=set)
    catching_up: bool = False
    untimed_catching_up: bool = False
    untimed: deque[str] = field(default_factory=lambda: deque(maxlen=UNTIMED_KEPT))
    untimed_set: set[str] = field(default_factory=set)

    def note_untimed(self, text: str) -> None:
        if text in self.untimed_set:
            return
        if len(self.untimed) == self.untimed.maxlen:
            self.untimed_set.discard(self.untimed[0])
        self.untimed.append(text)
        self.untimed_set.add(text)


class Resume:
    """A sink in front of a host's sink that drops what a new connection sends again."""

    def __init__(self, sink: StreamSink) -> None:
        self.sink = sink
        self.seen: dict[str, _Seen] = {}
        self.skipped = 0
        """Records dropped as already seen, over every connection."""

    def reconnected(self) -> None:
        """A new connection begins: every source catches up again."""
        for seen in self.seen.values():
            seen.catching_up = seen.untimed_catching_up = True

    def _keep(self, rec: LogRecord) -> bool:
        seen = self.seen.get(rec.source)
        if seen is None:
            seen = self.seen[rec.source] = _Seen()
        if not rec.ts_from_line:
            if seen.untimed_catching_up:
                if rec.text in seen.untimed_set:
                    self.skipped += 1
                    return False
                seen.untimed_catching_up = False
            seen.note_untimed(rec.text)
            return True
        if seen.newest is None:
            seen.newest, seen.texts = rec.ts, {rec.text}
            return True
        if seen.catching_up:
            if rec.ts < seen.newest or (rec.ts == seen.newest and rec.text in seen.texts):
                self.skipped += 1
                return False
            seen.catching_up = False
        if rec.ts > seen.newest:
            seen.newest = rec.ts
            seen.texts = {rec.text}
        elif rec.ts == seen.newest and len(seen.texts) < MAX_AT_NEWEST:
            seen.texts.add(rec.text)
        return True

    # -- the sink ------------------------------------------------------------------------------

    def add_records(self, records: Sequence[LogRecord]) -> None:
        kept = [r for r in records if self._keep(r)]
        if kept:
            self.sink.add_records(kept)

    def register(self, name: str) -> None:
        self.sink.register(name)

    def add_alert(self, alert: RemoteAlert) -> None:
        self.sink.add_alert(alert)

    def add_status(self, sample: StatusSample) -> None:
        self.sink.add_status(sample)

    def add_system(self, sample: SystemSample) -> None:
        self.sink.add_system(sample)

    def add_fpm(self, sample: FpmSample) -> None:
        self.sink.add_fpm(sample)

    def add_mysql(self, sample: MysqlSample) -> None:
        self.sink.add_mysql(sample)

    def set_state(self, state: SourceState) -> None:
        self.sink.set_state(state)
