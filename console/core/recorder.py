"""The recorder: bounded rings of everything the sources saw, and immutable snapshots of them.

The recorder is mutated only on the event loop (sources call it there). Log records of all
sources interleave by the time written in them: new records wait in a short reorder window
and are then released into the ring in time order, so that a 500 in the access log sits next
to the PHP fatal of the same second even when the two files were read a moment apart. A log's
history (a :class:`~console.core.events.Backfill` batch, read at start) has nothing to wait for:
it goes into the ring at once, in its place by time among what the ring already holds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, Protocol

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.events import Backfill, LogRecord, SourceState, StatusSample, SystemSample
from console.core.stack import FpmSample, MysqlSample

if TYPE_CHECKING:
    from console.core.fleet import HostShot

#: Default ring sizes: about 10 minutes of samples at 1 Hz, and the last 20,000 log records.
DEFAULT_RECORDS = 20_000
DEFAULT_SAMPLES = 900
DEFAULT_STATES = 1_000
#: PHP-FPM samples: one per pool per poll, so room for a few pools.
FPM_PER_SAMPLE = 4


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the recorder holds at one instant. Immutable: safe to keep and to draw."""

    taken_at: datetime
    """When the snapshot was taken (aware UTC)."""
    records: tuple[LogRecord, ...]
    """Released log records, oldest first, interleaved by time."""
    status: tuple[StatusSample, ...]
    """mod_status samples, oldest first."""
    system: tuple[SystemSample, ...]
    """System samples, oldest first."""
    states: Mapping[str, SourceState]
    """The latest state of every source, by source name."""
    state_history: tuple[SourceState, ...] = ()
    """Every state change, oldest first."""
    sources: tuple[str, ...] = ()
    """Source names in the order they were registered (the order of the source keys 1..9)."""
    counts: Mapping[str, int] = field(default_factory=dict)
    """Records received per source since start."""
    rates: Mapping[str, float] = field(default_factory=dict)
    """Records per second per source, over the last few seconds."""
    total: int = 0
    """Records received since start, all sources (the highest ``seq`` handed out)."""
    dropped: int = 0
    """Records that fell out of the ring because it was full."""
    fpm: tuple[FpmSample, ...] = ()
    """PHP-FPM pool samples, oldest first (every pool's, interleaved)."""
    mysql: tuple[MysqlSample, ...] = ()
    """MySQL/MariaDB samples, oldest first."""
    hosts: tuple[HostShot, ...] = ()
    """With several hosts (:mod:`console.core.fleet`): every host in order, each remote one
    with its own samples; empty for one host. The records and states above are every host's."""

    @property
    def latest_status(self) -> StatusSample | None:
        return self.status[-1] if self.status else None

    @property
    def latest_system(self) -> SystemSample | None:
        return self.system[-1] if self.system else None

    @property
    def latest_fpm(self) -> tuple[FpmSample, ...]:
        """The newest sample of every pool, in the order the pools were first seen."""
        latest: dict[tuple[str, str], FpmSample] = {}
        for sample in self.fpm[-64:]:
            latest[(sample.source, sample.pool)] = sample
        return tuple(latest.values())

    @property
    def latest_mysql(self) -> MysqlSample | None:
        return self.mysql[-1] if self.mysql else None

    def window(self, start: datetime, end: datetime | None = None) -> Snapshot:
        """The part of this snapshot between ``start`` and ``end`` (inclusive), its records in
        the order of the times written in their lines.

        The ring holds records in the order they were released: a line written when its
        request ended (an access line carries the request's start) or a slow query (its start
        too) can come seconds after lines of later times. A bundle puts each in its place.
        """
        stop = end or self.taken_at

        def inside(ts: datetime) -> bool:
            return start <= ts <= stop

        return replace(
            self,
            records=tuple(sorted((r for r in self.records if inside(r.ts)), key=_order)),
            status=tuple(s for s in self.status if inside(s.ts)),
            system=tuple(s for s in self.system if inside(s.ts)),
            fpm=tuple(s for s in self.fpm if inside(s.ts)),
            mysql=tuple(s for s in self.mysql if inside(s.ts)),
            hosts=tuple(h.window(start, stop) for h in self.hosts),
        )


class RecorderListener(Protocol):
    """What a recorder tells its subscribers, one method per event, on the event loop."""

    def on_records(self, batch: tuple[LogRecord, ...]) -> None:
        """Records released into the ring, in time order."""
        ...

    def on_status(self, sample: StatusSample) -> None:
        """A mod_status sample was taken."""
        ...

    def on_system(self, sample: SystemSample) -> None:
        """A system sample was taken."""
        ...

    def on_state(self, state: SourceState) -> None:
        """A source's state changed (its status or its message)."""
        ...

    def on_fpm(self, sample: FpmSample) -> None:
        """A PHP-FPM pool's status was read."""
        ...

    def on_mysql(self, sample: MysqlSample) -> None:
        """A MySQL/MariaDB server was polled."""
        ...


class Listener:
    """A :class:`RecorderListener` that ignores every event: subclass it and override the
    events you need."""

    def on_records(self, batch: tuple[LogRecord, ...]) -> None:
        pass

    def on_status(self, sample: StatusSample) -> None:
        pass

    def on_system(self, sample: SystemSample) -> None:
        pass

    def on_state(self, state: SourceState) -> None:
        pass

    def on_fpm(self, sample: FpmSample) -> None:
        pass

    def on_mysql(self, sample: MysqlSample) -> None:
        pass


class Recorder:
    """Owns the rings. Implements the :class:`console.sources.Sink` protocol.

    ``reorder`` is how long a record waits before release, so that records of other sources
    with the same time can join it in order. ``clock`` is the mode's one :class:`Clock`.
    """

    def __init__(
        self,
        *,
        max_records: int = DEFAULT_RECORDS,
        max_samples: int = DEFAULT_SAMPLES,
        max_states: int = DEFAULT_STATES,
        reorder: float = 0.5,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.records: deque[LogRecord] = deque(maxlen=max_records)
        self.status: deque[StatusSample] = deque(maxlen=max_samples)
        self.system: deque[SystemSample] = deque(maxlen=max_samples)
        self.fpm: deque[FpmSample] = deque(maxlen=max_samples * FPM_PER_SAMPLE)
        self.mysql: deque[MysqlSample] = deque(maxlen=max_samples)
        self.state_history: deque[SourceState] = deque(maxlen=max_states)
        self.states: dict[str, SourceState] = {}
        self.sources: list[str] = []
        self.counts: dict[str, int] = {}
        self.reorder = timedelta(seconds=reorder)
        self.clock = clock
        self._pending: deque[tuple[datetime, list[LogRecord]]] = deque()
        """Batches waiting for their reorder window, with their arrival time, oldest first."""
        self._seq = 0
        self._dropped = 0
        self._rate_marks: deque[tuple[float, dict[str, int]]] = deque(maxlen=16)
        self._listeners: list[RecorderListener] = []

    # -- registration ---------------------------------------------------------------------
    def register(self, name: str) -> None:
        """Declare a source so it gets a stable place (and number key) before it has data."""
        if name not in self.counts:
            self.sources.append(name)
            self.counts[name] = 0

    def subscribe(self, listener: RecorderListener) -> None:
        """Tell ``listener`` of every released record batch, sample and state change."""
        self._listeners.append(listener)

    # -- the Sink protocol ----------------------------------------------------------------
    def add_records(self, records: Sequence[LogRecord]) -> None:
        """Number the records; a :class:`Backfill` goes into the ring now, others wait."""
        if not records:
            return
        now = self.clock.now()
        seq = self._seq
        counts = self.counts
        stamp = _stamp_seq
        stamped: list[LogRecord] = []
        add = stamped.append
        for rec in records:
            seq += 1
            name = rec.source
            if name not in counts:
                self.register(name)
            counts[name] += 1
            if rec.seq:  # stamped before (another recorder, a bundle): copy, never renumber
                rec = replace(rec, seq=seq)
            else:
                stamp(rec, seq)
            add(rec)
        self._seq = seq
        if type(records) is Backfill:
            stamped.sort(key=_order)
            self._file(stamped, merge=True)
        else:
            self._pending.append((now, stamped))

    def add_status(self, sample: StatusSample) -> None:
        self.status.append(sample)
        for listener in self._listeners:
            listener.on_status(sample)

    def add_system(self, sample: SystemSample) -> None:
        self.system.append(sample)
        for listener in self._listeners:
            listener.on_system(sample)

    def add_fpm(self, sample: FpmSample) -> None:
        self.fpm.append(sample)
        for listener in self._listeners:
            listener.on_fpm(sample)

    def add_mysql(self, sample: MysqlSample) -> None:
        self.mysql.append(sample)
        for listener in self._listeners:
            listener.on_mysql(sample)

    def set_state(self, state: SourceState) -> None:
        self.register(state.source)
        previous = self.states.get(state.source)
        self.states[state.source] = state
        if previous is None or previous.status != state.status or previous.message != state.message:
            self.state_history.append(state)
            for listener in self._listeners:
                listener.on_state(state)

    # -- release and snapshot ---------------------------------------------------------------
    def release(self, *, force: bool = False) -> int:
        """Move records whose reorder wait is over into the ring, in time order.

        Returns how many were released. ``force`` releases everything (at exit, in tests).
        """
        pending = self._pending
        if not pending:
            return 0
        cutoff = self.clock.now() - self.reorder
        batch: list[LogRecord] = []
        # Batches wait in arrival order: release from the front while their wait is over.
        while pending and (force or pending[0][0] <= cutoff):
            batch += pending.popleft()[1]
        if not batch:
            return 0
        batch.sort(key=_order)
        self._file(batch)
        return len(batch)

    def _file(self, batch: list[LogRecord], *, merge: bool = False) -> None:
        """Append records sorted by time to the ring and tell the listeners.

        With ``merge`` (history), records older than the newest in the ring go in their place
        by time: the ring's newer end is taken off and sorted again together with them, so
        that the history of a log read a moment after another's still interleaves with it.
        """
        ring = self.records
        into = batch
        if merge and batch and ring and _order(ring[-1]) > (first := _order(batch[0])):
            later: list[LogRecord] = []
            while ring and _order(ring[-1]) > first:
                later.append(ring.pop())
            into = sorted(later + batch, key=_order)
        overflow = len(ring) + len(into) - (ring.maxlen or 0)
        if overflow > 0:
            self._dropped += overflow
        ring.extend(into)
        released = tuple(batch)
        for listener in self._listeners:
            listener.on_records(released)

    @property
    def total(self) -> int:
        return self._seq

    @property
    def dropped(self) -> int:
        """Records that fell out of the ring because it was full, since start."""
        return self._dropped

    def rates(self) -> dict[str, float]:
        """Records per second per source over the last few seconds."""
        now = self.clock.monotonic()
        marks = self._rate_marks
        if not marks or now - marks[-1][0] >= 1.0:
            marks.append((now, dict(self.counts)))
        while len(marks) > 2 and now - marks[1][0] > 5.0:
            marks.popleft()
        first_t, first_counts = marks[0]
        span = now - first_t
        if span <= 0.0:
            return {name: 0.0 for name in self.counts}
        return {
            name: (count - first_counts.get(name, 0)) / span for name, count in self.counts.items()
        }

    def snapshot(self) -> Snapshot:
        """Release what is due and return an immutable view of every ring."""
        self.release()
        return Snapshot(
            taken_at=self.clock.now(),
            records=tuple(self.records),
            status=tuple(self.status),
            system=tuple(self.system),
            states=dict(self.states),
            state_history=tuple(self.state_history),
            sources=tuple(self.sources),
            counts=dict(self.counts),
            rates=self.rates(),
            total=self._seq,
            dropped=self._dropped,
            fpm=tuple(self.fpm),
            mysql=tuple(self.mysql),
        )


#: Sets ``LogRecord.seq`` on a record that has none yet, without rebuilding the record.
#:
#: ``dataclasses.replace`` would run the frozen ``__init__`` again (ten ``object.__setattr__``
#: calls) for every line read, only to change one number: at 10,000 lines/s that was about a
#: fifth of ``lamptop record``'s busy time. Setting the slot directly is safe: a record with
#: ``seq == 0`` comes straight from a parser and nothing else holds it yet: it is stamped once,
#: before it enters the pending list, and never changes after that. Records are not hashable
#: (``fields`` is a dict), so no set or dict key can go stale either. The slot's descriptor is
#: called directly: that is all ``object.__setattr__`` would do, minus the name lookup.
_stamp_seq: Callable[[LogRecord, int], None] = vars(LogRecord)["seq"].__set__


#: Release order: time, then arrival (``operator.attrgetter`` runs in C, per record).
_order: Callable[[LogRecord], tuple[datetime, int]] = attrgetter("ts", "seq")
