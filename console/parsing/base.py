"""The parser contract: decoded lines in, :class:`~console.core.events.LogRecord` out.

Parsers are pure: no I/O, no clock. A tail feeds them the lines it read together with the
arrival time; a parser of a multi-line format holds the entry it is building until the next
entry starts or the caller flushes it (the tail flushes after a short quiet spell).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from console.core.events import Level, LogRecord, make_record

from .timeutil import local_zone

#: Longest text kept for the one-line summary of a record; the full text stays in ``raw``.
SUMMARY_MAX = 2000
#: Continuation lines one entry keeps (a PHP stack trace, a slow query); more are counted.
MAX_ENTRY_LINES = 2000
#: Characters of continuation lines one entry keeps.
MAX_ENTRY_CHARS = 256 * 1024
#: Parsers keep one string per distinct value of fields that repeat from line to line (user
#: agents, methods, modules...), so that a ring of records holds each once; this many distinct
#: values at most, then they start over (checked once per batch of lines). Bounded, unlike
#: ``sys.intern``, and forgotten with the parser.
SHARED_MAX = 4096


class Parser:
    """Base of every log parser. Subclasses set :attr:`kind` and implement :meth:`feed`."""

    kind: ClassVar[str] = ""

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        self.source = source or self.kind
        """Name stamped on every record."""
        self.zone = zone or local_zone()
        """Zone for timestamps written without one."""

    def feed(self, lines: Iterable[str], arrival: datetime) -> list[LogRecord]:
        """Parse complete lines (no trailing newline); return the records they complete."""
        raise NotImplementedError

    def flush(self, arrival: datetime) -> list[LogRecord]:
        """Return the entry being built, if any (end of input, or a quiet spell)."""
        return []

    @property
    def pending(self) -> bool:
        """True while an entry is being built and more lines may still join it."""
        return False

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        """How well these sample lines fit this format, 0.0 to 1.0 (for kind detection)."""
        return 0.0

    def record(
        self,
        ts: datetime,
        level: Level,
        text: str,
        *,
        lines: tuple[str, ...] = (),
        fields: Mapping[str, Any] | None = None,
        raw: str = "",
        ts_from_line: bool = True,
    ) -> LogRecord:
        """A record of this parser's source and kind; ``text`` is cut to :data:`SUMMARY_MAX`."""
        return make_record(
            ts, self.source, self.kind, level, text[:SUMMARY_MAX], lines, fields, raw, ts_from_line
        )

    def unparsed(self, line: str, arrival: datetime) -> LogRecord:
        """A record for a line that matches nothing: kept whole, stamped with arrival time."""
        return make_record(
            arrival,
            self.source,
            self.kind,
            "unparsed",
            line[:SUMMARY_MAX],
            raw=line,
            ts_from_line=False,
        )


class LineParser(Parser):
    """A format where every entry is exactly one line."""

    def parse_line(self, line: str, arrival: datetime) -> LogRecord:
        raise NotImplementedError

    def feed(self, lines: Iterable[str], arrival: datetime) -> list[LogRecord]:
        parse = self.parse_line
        return [parse(line, arrival) for line in lines if line]


class MultilineParser(Parser):
    """A format where an entry starts on a recognisable line and may run on.

    Subclasses implement :meth:`is_start` and :meth:`build`. Lines before the first start
    line (a tail that begins mid-entry) become ``unparsed`` records, never dropped.
    """

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(source, zone=zone)
        self._first: str | None = None
        self._cont: list[str] = []
        self._arrival: datetime | None = None
        self._room = MAX_ENTRY_CHARS
        """Characters the entry's continuation lines may still take."""
        self._cut = 0
        """Continuation lines past the bounds, counted and thrown away."""

    def is_start(self, line: str) -> bool:
        raise NotImplementedError

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        """Turn one entry into records (usually one)."""
        raise NotImplementedError

    def keep_continuation(self, line: str) -> bool:
        """Whether a non-start line joins the entry; blank lines are kept unless overridden."""
        return True

    def feed(self, lines: Iterable[str], arrival: datetime) -> list[LogRecord]:
        out: list[LogRecord] = []
        for line in lines:
            if self.is_start(line):
                if self._first is not None:
                    out.extend(self._emit())
                self._first = line
                self._cont = []
                self._arrival = arrival
                self._room, self._cut = MAX_ENTRY_CHARS, 0
            elif self._first is not None:
                if self.keep_continuation(line):
                    if len(self._cont) < MAX_ENTRY_LINES and len(line) <= self._room:
                        self._cont.append(line)
                        self._room -= len(line)
                    else:
                        self._cut += 1
            elif line.strip():
                out.append(self.unparsed(line, arrival))
        return out

    def _emit(self) -> list[LogRecord]:
        first, cont, arrival = self._first, self._cont, self._arrival
        self._first, self._cont, self._arrival = None, [], None
        assert first is not None and arrival is not None
        while cont and not cont[-1].strip():
            cont.pop()
        if self._cut:
            cont.append(f"…[cut: {self._cut:,} more lines]")
            self._cut = 0
        return self.build(first, cont, arrival)

    def flush(self, arrival: datetime) -> list[LogRecord]:
        if self._first is None:
            return []
        return self._emit()

    @property
    def pending(self) -> bool:
        return self._first is not None
