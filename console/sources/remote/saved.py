"""A stream saved to a file (``lamptop record --stream > web1.jsonl``), read back for
``lamptop open``: replayed into one recorder, like a bundle of that host.

The file may come from anyone, like a bundle: it is read only when it is a regular file, never
through a symlink, without blocking; every line goes through the stream's reader
(:class:`~console.sources.remote.stream.StreamDecoder`: checked, cleaned, bounded). A file
larger than :data:`MAX_TAIL` is read from its header and then its last :data:`MAX_TAIL`
bytes: the recorder's rings keep only the newest anyway.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from console.core.clock import ManualClock
from console.core.fleet import RemoteAlert
from console.core.recorder import Recorder, Snapshot
from console.core.wire import MAX_LINE, StreamHeader
from console.sources.remote.stream import StreamDecoder, StreamError, StreamStats

MAGIC = b'{"lamptop_stream"'
"""How a saved stream begins (the header's first key)."""
MAX_TAIL = 48 * 1024 * 1024
"""Bytes of a saved stream read after its header."""


class SavedStreamError(Exception):
    """The file cannot be opened as a saved stream; the message says why."""


class _Into(Recorder):
    """A recorder that also keeps the alerts a stream carries."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.alerts: list[RemoteAlert] = []

    def add_alert(self, alert: RemoteAlert) -> None:
        for i, a in enumerate(self.alerts[-8:], start=max(len(self.alerts) - 8, 0)):
            if (a.ts, a.rule) == (alert.ts, alert.rule):
                self.alerts[i] = alert
                return
        self.alerts.append(alert)


@dataclass(frozen=True)
class SavedStream:
    snapshot: Snapshot
    header: StreamHeader
    stats: StreamStats
    alerts: Sequence[RemoteAlert] = field(default_factory=tuple)
    skipped_bytes: int = 0
    """Bytes between the header and the part read (a file over :data:`MAX_TAIL`)."""


def looks_like_stream(path: str | Path) -> bool:
    """Whether ``path`` is a file that begins like a saved stream (a bundle is a directory or
    a snapshot.json, which begins otherwise)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, len(MAGIC)) == MAGIC
    except OSError:
        return False
    finally:
        os.close(fd)


def _open(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SavedStreamError(f"{path}: a symlink: not followed") from None
        raise SavedStreamError(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SavedStreamError(f"{path}: not a regular file")
    return fd


def _lines(fd: int, size: int) -> tuple[bytes, list[bytes], int]:
    """The header line, the lines of the part read (the last one may be unfinished) and the
    bytes skipped between them."""
    with os.fdopen(os.dup(fd), "rb") as f:
        header = f.readline(MAX_LINE + 1)
        skipped = 0
        if size - f.tell() > MAX_TAIL:
            skipped = size - MAX_TAIL - f.tell()
            f.seek(size - MAX_TAIL)
            f.readline(MAX_LINE + 1)  # the rest of a line cut in two
        body = f.read(MAX_TAIL + 1)[:MAX_TAIL]
    return header, body.split(b"\n"), skipped


def read_saved_stream(
    path: str | Path, *, max_records: int = 20_000, max_samples: int = 900
) -> SavedStream:
    """Replay the saved stream at ``path`` into a recorder and take its snapshot, as of the
    last moment the stream speaks of."""
    p = Path(path).expanduser()
    fd = _open(p)
    try:
        size = os.fstat(fd).st_size
        header_bytes, lines, skipped = _lines(fd, size)
    except OSError as exc:
        raise SavedStreamError(f"{p}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    clock = ManualClock(datetime.now(UTC))
    into = _Into(max_records=max_records, max_samples=max_samples, reorder=0.0, clock=clock)
    decoder = StreamDecoder(into)
    try:
        header = decoder.read_header(header_bytes.rstrip(b"\n"))
    except StreamError as exc:
        raise SavedStreamError(f"{p}: {exc}") from None
    last = lines.pop() if lines else b""  # after the last newline: empty, or unfinished
    for n, line in enumerate(lines, 1):
        if len(line) > MAX_LINE:
            decoder.stats.too_long += 1
        elif line:
            decoder.line(line)
        if n % 2_000 == 0:
            into.release(force=True)
    if last:
        decoder.stats.malformed += 1  # the recorder was stopped mid-line
    into.release(force=True)
    snap = into.snapshot()
    return SavedStream(
        replace(snap, taken_at=_last_time(snap) or header.started or snap.taken_at),
        header,
        decoder.stats,
        tuple(into.alerts),
        skipped,
    )


def _last_time(snap: Snapshot) -> datetime | None:
    times = [r.ts for r in snap.records[-1:]]
    for samples in (snap.status, snap.system, snap.fpm, snap.mysql, snap.state_history):
        times += [s.ts for s in samples[-1:]]
    return max(times) if times else None
