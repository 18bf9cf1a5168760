"""The stream a remote lamptop sends (``lamptop record --stream``): versioned JSON lines.

One JSON object a line, UTF-8, ``\\n`` after each. The first line is the header
(:class:`StreamHeader`), then objects with a type key ``t``:

* ``records``: a batch of log records (``r``: a list), in the compact form of
  :func:`record_to_wire` (short keys, defaults left out, no raw line);
* ``status``, ``system``, ``fpm``, ``mysql``: one sample, in the form snapshot.json holds it
  (:mod:`console.core.serialize`) with the fields equal to their defaults left out;
* ``state``: a source's state; ``alert``: a rule fired (and later, its bundle's path);
* ``heartbeat``: nothing happened, the link is alive; ``dropped``: records the sender cut
  because of its rate bound.

docs/stream.md describes it for people. Both directions live here (the header and records) and
in :mod:`console.core.wire_events` (the other lines, and ``decode`` for any of them), so that
what is written is what is read. The reading side trusts nothing: every value is checked
(:mod:`console.core.check`), every string cleaned (:func:`~console.core.text.clean`), every
size bounded; a value that fails a check raises :class:`~console.core.check.Invalid`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from console.core.check import Invalid, as_list, as_obj, as_text, as_time, fail, get
from console.core.events import (
    LEVEL_RANK,
    Level,
    LogRecord,
    make_record,
)
from console.core.serialize import (
    _convert,
)
from console.core.text import bound, clean, clean_value, mask_secrets
from console.core.timefmt import iso

STREAM_VERSION = 1
"""The format's version, in the header's ``lamptop_stream``. Readers refuse another."""
HEARTBEAT = 2.0
"""Seconds between the sender's heartbeats: a reader hearing nothing for several of them can
tell a dead link from a quiet host."""
MAX_LINE = 4 * 1024 * 1024
"""Longest line read (bytes); a longer one is skipped and counted."""
MAX_BATCH = 10_000
"""Records in one ``records`` object."""
MAX_TEXT = 65_536
"""Characters kept of a record's text or of one of its continuation lines."""
MAX_ENTRY_LINES = 2_000
"""Continuation lines kept of one record."""
MAX_FIELDS = 64
"""Parsed fields kept of one record."""
MAX_NAME = 200
"""Characters of a source name, kind or rule name."""
MAX_SOURCES = 1_000
"""Source names in a header."""

_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False, default=_convert
).encode


def dumps(obj: Any) -> str:
    """One object as one compact JSON line (no newline)."""
    return _encode(obj)


# -- the header ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamHeader:
    """The stream's first line: who is sending, and in which format."""

    stream: int
    """The format's version (:data:`STREAM_VERSION`)."""
    version: str
    """The sending lamptop's version."""
    hostname: str
    """The sending host's own name."""
    started: datetime | None = None
    """When the sender started."""
    sources: tuple[str, ...] = ()
    """The sender's sources, in its order (the order of their keys)."""


class StreamFormatError(Exception):
    """The stream cannot be read at all (no header, another format version), in words."""


def header_line(h: StreamHeader) -> str:
    doc: dict[str, Any] = {"lamptop_stream": h.stream, "version": h.version, "hostname": h.hostname}
    if h.started is not None:
        doc["started"] = iso(h.started)
    doc["sources"] = list(h.sources)
    return dumps(doc)


def read_header(line: bytes | str) -> StreamHeader:
    """The header from the stream's first line; :class:`StreamFormatError` when it is none,
    or when it is of another version (saying which side to upgrade)."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict) or "lamptop_stream" not in doc:
        shown = clean(mask_secrets(bound(text.strip(), 80)))
        raise StreamFormatError(f"not a lamptop stream (its first line: {shown!r})")
    version = doc["lamptop_stream"]
    sender = bound(clean(str(doc.get("version", "?"))), 40)
    if not isinstance(version, int) or isinstance(version, bool):
        raise StreamFormatError(f"not a lamptop stream (format {clean(repr(version))[:20]})")
    if version > STREAM_VERSION:
        raise StreamFormatError(
            f"the remote lamptop {sender} sends stream format {version}, this lamptop reads "
            f"{STREAM_VERSION}: upgrade lamptop here"
        )
    if version < STREAM_VERSION:
        raise StreamFormatError(
            f"the remote lamptop {sender} is older (stream format {version}, this lamptop reads "
            f"{STREAM_VERSION}): upgrade lamptop on that host"
        )
    try:
        started = as_time(doc["started"], "started") if doc.get("started") else None
        names = as_list(get(doc, "sources", "", []), "sources", MAX_SOURCES)
        return StreamHeader(
            stream=version,
            version=sender,
            hostname=bound(clean(as_text(get(doc, "hostname", "", ""), "hostname")), 253),
            started=started,
            sources=tuple(
                name(as_text(s, f"sources[{i}]"), f"sources[{i}]") for i, s in enumerate(names)
            ),
        )
    except Invalid as exc:
        raise StreamFormatError(f"a damaged stream header: {exc}") from None


# -- times ----------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_LATEST = 253_402_300_799  # 9999-12-31T23:59:59Z


def wire_time(ts: datetime) -> int | float:
    """A time as seconds since the epoch: whole when it falls on a second, else to the
    microsecond (a shortest float that reads back exactly)."""
    us = (ts - _EPOCH) // _US
    seconds, frac = divmod(us, 1_000_000)
    return seconds if not frac else us / 1_000_000


def time_from_wire(v: Any, where: str) -> datetime:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise fail(where, "a time in seconds", v)
    if not 0 <= v <= _LATEST:
        raise Invalid(where, f"a time out of range ({v!r:.30})")
    whole = int(v)
    return _EPOCH + timedelta(seconds=whole, microseconds=round((v - whole) * 1_000_000))


# -- records ---------------------------------------------------------------------------------


def record_to_wire(rec: LogRecord) -> dict[str, Any]:
    """``{"ts": time, "s": source, "k": kind, "l": level, "x": text, "c": [lines],
    "f": {fields}, "a": 0}``: ``k`` left out when the kind is the source's name, ``l`` when
    ``info``, ``c`` and ``f`` when empty, ``a`` (the time is the arrival's) unless so. The raw
    line is not sent (a bundle keeps none either): the reader takes the text for it."""
    d: dict[str, Any] = {"ts": wire_time(rec.ts), "s": rec.source}
    if rec.kind != rec.source:
        d["k"] = rec.kind
    if rec.level != "info":
        d["l"] = rec.level
    d["x"] = rec.text
    if rec.lines:
        d["c"] = rec.lines
    if rec.fields:
        d["f"] = rec.fields
    if not rec.ts_from_line:
        d["a"] = 0
    return d


def records_line(records: Sequence[LogRecord]) -> str:
    return dumps({"t": "records", "r": [record_to_wire(r) for r in records]})


def name(text: str, where: str) -> str:
    if not text:
        raise Invalid(where, "empty")
    return clean(bound(text, MAX_NAME))


_PLAIN = (str, int, float, bool, type(None))


def _fields(v: Any, where: str) -> dict[str, Any]:
    d = as_obj(v, where)
    out: dict[str, Any] = {}
    for k, x in d.items():
        if len(out) >= MAX_FIELDS:
            break
        key = clean(bound(k, MAX_NAME))
        if isinstance(x, str):
            out[key] = clean(bound(x, MAX_TEXT))
        elif isinstance(x, _PLAIN):
            if isinstance(x, float) and not math.isfinite(x):
                continue
            out[key] = x
        else:  # a list or an object: kept as read, cleaned, its size bounded by the line's
            try:
                out[key] = clean_value(x, 28)
            except ValueError:
                raise Invalid(f"{where}.{key}", "nested too deeply") from None
    return out


def record_from_wire(v: Any, where: str) -> LogRecord:
    """One record of a ``records`` batch, checked, cleaned and bounded."""
    d = as_obj(v, where)
    source = name(as_text(get(d, "s", where), f"{where}.s"), f"{where}.s")
    kind = d.get("k")
    kind = source if kind is None else name(as_text(kind, f"{where}.k"), f"{where}.k")
    level = d.get("l", "info")
    if level not in LEVEL_RANK:
        raise fail(f"{where}.l", f"one of {', '.join(LEVEL_RANK)}", level)
    text = clean(bound(as_text(get(d, "x", where), f"{where}.x"), MAX_TEXT))
    lines: tuple[str, ...] = ()
    if "c" in d:
        c = as_list(d["c"], f"{where}.c", 1 << 20)[:MAX_ENTRY_LINES]
        lines = tuple(
            clean(bound(as_text(x, f"{where}.c[{i}]"), MAX_TEXT)) for i, x in enumerate(c)
        )
    return make_record(
        time_from_wire(get(d, "ts", where), f"{where}.ts"),
        source,
        kind,
        cast(Level, level),
        text,
        lines,
        _fields(d["f"], f"{where}.f") if "f" in d else {},
        text,
        d.get("a", 1) != 0,
    )
