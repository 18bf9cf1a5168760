"""Small pieces for tail tests: a parser that echoes lines, numbered lines and what they become."""

from __future__ import annotations

from datetime import datetime

from console.core.events import LogRecord
from console.parsing.base import LineParser
from tests.support.helpers import MemorySink


class EchoParser(LineParser):
    """One record per line, the line as its text."""

    kind = "test"

    def parse_line(self, line: str, arrival: datetime) -> LogRecord:
        return LogRecord(
            ts=arrival, source=self.source, kind=self.kind, level="info", text=line, raw=line
        )


def texts(sink: MemorySink) -> list[str]:
    """The text of every record the sink was given, in order."""
    return [r.text for r in sink.records]


def numbered(a: int, b: int, tag: str = "line") -> bytes:
    """Lines ``tag a`` to ``tag b`` (inclusive), each ending in a newline."""
    return b"".join(f"{tag} {i}\n".encode() for i in range(a, b + 1))


def expect(a: int, b: int, tag: str = "line") -> list[str]:
    """The texts :class:`EchoParser` makes of :func:`numbered` ``(a, b, tag)``."""
    return [f"{tag} {i}" for i in range(a, b + 1)]
