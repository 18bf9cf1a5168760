"""Log records: one entry of one log, eager or lazy (its text and fields made when first read).

Part of :mod:`console.core.events`, which re-exports everything here: import from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

Level = Literal["debug", "info", "notice", "warn", "error", "crit", "unparsed"]


#: Makes a lazy record's ``text`` and ``fields`` from the record (its ``raw`` line).
Expander = Callable[["LogRecord"], tuple[str, Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One entry of one log: a line, or a line and the continuation lines that belong to it.

    A record may be *lazy* (:func:`make_lazy_record`): its time, level, source and raw line
    are set when it is read, its ``text`` and ``fields`` are made from ``raw`` by
    :attr:`expand` the first time either is read, then kept (until :func:`fold`). Every
    other record has ``expand`` None. Both kinds read, compare, copy and pickle the same.
    """

    ts: datetime
    """When it happened: the time written in the entry (aware UTC), else its arrival time."""
    source: str
    """The name of the source that read it (e.g. ``apache-access``, or a label from the config)."""
    kind: str
    """The log format (one of :data:`LOG_KINDS`)."""
    level: Level
    """Severity, normalised; ``unparsed`` when no format matched."""
    text: str
    """A one-line summary to show in a list."""
    lines: tuple[str, ...] = ()
    """Continuation lines (stack traces, query text, dumps) in order; the first line is not here."""
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Parsed fields (status, client, url, pid, query_time...). Treat as read-only."""
    raw: str = ""
    """The first line exactly as read (decoded), for ``unparsed`` records the whole text."""
    ts_from_line: bool = True
    """False when the entry had no time of its own and ``ts`` is its arrival time."""
    seq: int = 0
    """Arrival order, set by the recorder; breaks ties between records of the same time."""
    expand: Expander | None = field(default=None, init=False, repr=False, compare=False)
    """For a lazy record, what makes ``text`` and ``fields`` from ``raw``; else None. Not an
    argument: a record built by ``LogRecord(...)`` or ``dataclasses.replace`` has its text and
    fields, and None here (so a redacted copy never makes them again from the raw line)."""

    if not TYPE_CHECKING:  # for type checkers every attribute is declared above

        def __getattr__(self, name: str) -> Any:
            # Reached only when a slot is empty: the text or fields of a lazy record, not made
            # yet or folded. Both are made together and the one asked for is returned as made
            # (another thread may fold them again at any time: never read back from the slot).
            if name == "text" or name == "fields":
                expand = self.expand
                if expand is not None:
                    text, fields = expand(self)
                    _set_text(self, text)
                    _set_fields(self, fields)
                    return text if name == "text" else fields
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle and copy as a plain record (text and fields made, no ``expand``)."""
        return (
            make_record,
            (self.ts, self.source, self.kind, self.level, self.text, self.lines, self.fields)
            + (self.raw, self.ts_from_line, self.seq),
        )


class Backfill(list[LogRecord]):
    """A batch of records read from a log's history: the lines it already held when lamptop
    started following it. Sources hand it over like any batch; the recorder files it at once
    (in time order among what it holds) instead of waiting its reorder window, which is there
    to interleave live lines of several sources."""

    __slots__ = ()


_new = object.__new__
_slot = vars(LogRecord)
_set_ts, _set_source, _set_kind, _set_level, _set_text = (
    _slot[name].__set__ for name in ("ts", "source", "kind", "level", "text")
)
_set_lines, _set_fields, _set_raw, _set_from_line, _set_seq = (
    _slot[name].__set__ for name in ("lines", "fields", "raw", "ts_from_line", "seq")
)
_set_expand = _slot["expand"].__set__
_del_text, _del_fields = _slot["text"].__delete__, _slot["fields"].__delete__


def make_record(
    ts: datetime,
    source: str,
    kind: str,
    level: Level,
    text: str,
    lines: tuple[str, ...] = (),
    fields: Mapping[str, Any] | None = None,
    raw: str = "",
    ts_from_line: bool = True,
    seq: int = 0,
) -> LogRecord:
    """``LogRecord(...)`` of the same values, built two to three times faster.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, ten calls
    by name; the parsers make one record per line read (tens of thousands a second when a
    server is busy), so they build it here, setting each slot through its descriptor.
    """
    rec: LogRecord = _new(LogRecord)
    _set_ts(rec, ts)
    _set_source(rec, source)
    _set_kind(rec, kind)
    _set_level(rec, level)
    _set_text(rec, text)
    _set_lines(rec, lines)
    _set_fields(rec, {} if fields is None else fields)
    _set_raw(rec, raw)
    _set_from_line(rec, ts_from_line)
    _set_seq(rec, seq)
    _set_expand(rec, None)
    return rec


def make_lazy_record(
    ts: datetime,
    source: str,
    kind: str,
    level: Level,
    raw: str,
    expand: Expander,
    ts_from_line: bool = True,
) -> LogRecord:
    """A record whose ``text`` and ``fields`` ``expand(record)`` makes when first read.

    What a parser knows cheaply (time, level, source) is set now; the rest costs nothing until
    someone reads it: most records of a busy access log are counted, filed in the ring and
    dropped from it without anyone reading their fields. ``expand`` must make, from ``raw``,
    exactly what an eager parse of the line gives: callers cannot tell the two apart.
    """
    rec: LogRecord = _new(LogRecord)
    _set_ts(rec, ts)
    _set_source(rec, source)
    _set_kind(rec, kind)
    _set_level(rec, level)
    _set_lines(rec, ())
    _set_raw(rec, raw)
    _set_from_line(rec, ts_from_line)
    _set_seq(rec, 0)
    _set_expand(rec, expand)
    return rec


def fold(records: Iterable[LogRecord]) -> None:
    """Drop the text and fields made for lazy records, to be made again when next read.

    After a bundle was written every record of its window has them: without this the ring
    would hold them all until the records drop out of it.
    """
    for rec in records:
        if rec.expand is not None:
            try:
                _del_text(rec)
            except AttributeError:  # not made (or folded meanwhile by another thread)
                pass
            try:
                _del_fields(rec)
            except AttributeError:
                pass
