"""Reading a remote lamptop's stream (``lamptop record --stream``) into a host's sink.

The stream is a stranger's text: the host at the other end may be compromised. Everything is
checked and cleaned on the way in (:mod:`console.core.wire`): a line longer than
:data:`~console.core.wire.MAX_LINE` is skipped and counted, so is a line that is not JSON or
whose values fail their checks; a type this lamptop does not know is ignored (a newer sender
may add some). None of that ends the stream. What does:

* the header is missing or of another format version: :class:`StreamError`, in words;
* the stream ends (the ssh process's stdout closed): :func:`consume` returns a
  :class:`StreamEnd` saying so, ``truncated`` when its last line had no newline;
* nothing at all arrives for ``idle_timeout`` seconds (the sender writes a heartbeat every
  few seconds, so a quiet host still speaks): the same, with reason ``silent``.

The transport (ssh) calls :func:`consume` on a process's stdout; ``lamptop open`` and the
benchmark feed lines to a :class:`StreamDecoder` themselves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from console.core.check import Invalid
from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.fleet import RemoteAlert
from console.core.stack import FpmSample, MysqlSample
from console.core.text import bound, clean
from console.core.wire import (
    MAX_BATCH,
    MAX_LINE,
    StreamFormatError,
    StreamHeader,
    read_header,
    record_from_wire,
)
from console.core.wire_events import Dropped, Heartbeat, decode
from console.sources import Sink

CHUNK = 1 << 16
"""Bytes read from the stream at a time."""
IDLE_TIMEOUT = 20.0
"""Seconds without a line after which a link counts as dead (the sender's heartbeat is
:data:`console.core.wire.HEARTBEAT`)."""


class StreamSink(Sink, Protocol):
    """What a stream is read into: a :class:`~console.core.fleet.HostSink`, or any sink that
    also takes source names and alerts."""

    def register(self, name: str) -> None: ...

    def add_alert(self, alert: RemoteAlert) -> None: ...


class StreamError(Exception):
    """The stream cannot be read at all; its message says why, in words."""


@dataclass
class StreamStats:
    """What was read so far (live: the caller may look at it while :func:`consume` runs)."""

    lines: int = 0
    """Lines read after the header."""
    bytes: int = 0
    records: int = 0
    """Records delivered."""
    malformed: int = 0
    """Lines (or records of a batch) skipped: not JSON, or a value that failed its check."""
    too_long: int = 0
    """Lines skipped for being longer than the cap."""
    unknown: int = 0
    """Lines of a type this lamptop does not know, ignored."""
    dropped: int = 0
    """Records the sender says it cut to keep its rate bound."""
    heartbeats: int = 0
    last_error: str = ""
    """Why the latest malformed line was skipped (cleaned, bounded)."""
    last_seen: float = field(default=0.0)
    """The event loop's time of the latest line (0 before any)."""


EndReason = Literal["eof", "silent"]


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """How a stream ended, and what was read of it."""

    reason: EndReason
    message: str
    """In words: ``the stream ended``, ``no word from the host for 20 s``."""
    stats: StreamStats
    truncated: bool = False
    """The last line had no newline (the sender died mid-line); it was skipped."""


class StreamDecoder:
    """Lines of a stream in, events into ``sink`` out. Never raises for a bad line after the
    header: it is counted in :attr:`stats`."""

    def __init__(self, sink: StreamSink, stats: StreamStats | None = None) -> None:
        self.sink = sink
        self.stats = stats if stats is not None else StreamStats()
        self.header: StreamHeader | None = None

    def read_header(self, line: bytes) -> StreamHeader:
        """The first line: :class:`StreamError` when it is no header of this format."""
        try:
            header = read_header(line)
        except StreamFormatError as exc:
            raise StreamError(str(exc)) from None
        self.header = header
        for name in header.sources:
            self.sink.register(name)
        return header

    def line(self, line: bytes) -> None:
        """One line after the header, delivered into the sink."""
        stats = self.stats
        stats.lines += 1
        stats.bytes += len(line) + 1
        try:
            obj = json.loads(line)
            if isinstance(obj, dict) and obj.get("t") == "records":
                self._records(obj)
                return
            event = decode(obj)
        except (ValueError, RecursionError, Invalid, OverflowError) as exc:
            self._bad(exc)
            return
        sink = self.sink
        if event is None:
            stats.unknown += 1
        elif isinstance(event, StatusSample):
            sink.add_status(event)
        elif isinstance(event, SystemSample):
            sink.add_system(event)
        elif isinstance(event, FpmSample):
            sink.add_fpm(event)
        elif isinstance(event, MysqlSample):
            sink.add_mysql(event)
        elif isinstance(event, SourceState):
            sink.set_state(event)
        elif isinstance(event, RemoteAlert):
            sink.add_alert(event)
        elif isinstance(event, Heartbeat):
            stats.heartbeats += 1
        elif isinstance(event, Dropped):
            stats.dropped += event.records

    def _records(self, obj: dict[str, Any]) -> None:
        """A batch: each record checked on its own, so one bad record costs only itself."""
        batch = obj.get("r")
        if not isinstance(batch, list):
            raise Invalid("records.r", "expected a list")
        if len(batch) > MAX_BATCH:
            self.stats.malformed += len(batch) - MAX_BATCH
            batch = batch[-MAX_BATCH:]
        records: list[LogRecord] = []
        for i, r in enumerate(batch):
            try:
                records.append(record_from_wire(r, f"records.r[{i}]"))
            except (Invalid, ValueError, OverflowError) as exc:
                self._bad(exc)
        if records:
            self.stats.records += len(records)
            self.sink.add_records(records)

    def _bad(self, exc: BaseException) -> None:
        self.stats.malformed += 1
        self.stats.last_error = clean(bound(str(exc) or type(exc).__name__, 200))


async def _lines(
    stream: asyncio.StreamReader, stats: StreamStats, idle: float | None, max_line: int
) -> AsyncGenerator[tuple[bytes, bool], None]:
    """The stream's lines (without their newline) and whether each was complete; a line longer
    than ``max_line`` is skipped (counted in ``stats.too_long``), never held whole."""
    loop = asyncio.get_running_loop()
    buf = bytearray()
    skipping = False
    while True:
        async with asyncio.timeout(idle):
            chunk = await stream.read(CHUNK)
        if not chunk:
            if buf and not skipping:
                yield bytes(buf), False
            return
        stats.last_seen = loop.time()
        start = 0
        while (nl := chunk.find(b"\n", start)) >= 0:
            piece = chunk[start:nl]
            start = nl + 1
            if skipping:
                skipping = False
            elif len(buf) + len(piece) > max_line:
                stats.too_long += 1
            elif buf:
                buf += piece
                yield bytes(buf), True
            else:
                yield piece, True
            buf.clear()
        rest = chunk[start:]
        if not skipping and rest:
            if len(buf) + len(rest) > max_line:
                stats.too_long += 1
                skipping = True
                buf.clear()
            else:
                buf += rest
        await asyncio.sleep(0)  # a fast stream must not keep the loop from the rest


async def consume(
    stream: asyncio.StreamReader,
    sink: StreamSink,
    *,
    on_header: Callable[[StreamHeader], None] | None = None,
    idle_timeout: float | None = IDLE_TIMEOUT,
    stats: StreamStats | None = None,
    max_line: int = MAX_LINE,
) -> StreamEnd:
    """Read ``stream`` into ``sink`` until it ends.

    ``on_header`` is called with the header once it is read (the transport sets the link's
    hostname and version from it). Raises :class:`StreamError` when the stream has no header
    of this format; returns a :class:`StreamEnd` when the stream ends or stays silent for
    ``idle_timeout`` seconds (None: wait forever). ``stats`` (made when not given) counts
    what was read as it goes.
    """
    decoder = StreamDecoder(sink, stats)
    stats = decoder.stats
    lines = _lines(stream, stats, idle_timeout, max_line)
    try:
        try:
            async for line, complete in lines:
                if decoder.header is None:
                    if stats.too_long:
                        raise StreamError("not a lamptop stream (its first line is too long)")
                    header = decoder.read_header(line)
                    if on_header is not None:
                        on_header(header)
                elif complete:
                    decoder.line(line)
                else:
                    return StreamEnd("eof", "the stream ended mid-line", stats, truncated=True)
        except TimeoutError:
            return StreamEnd("silent", f"no word from the host for {idle_timeout:g} s", stats)
    finally:
        await lines.aclose()
    if decoder.header is None:
        if stats.too_long:
            raise StreamError("not a lamptop stream (its first line is too long)")
        raise StreamError("the stream ended before its header")
    return StreamEnd("eof", "the stream ended", stats)
