"""Follow one log file across rotation and hand its lines to a parser.

A round is one ``os.stat`` of the path, and a read only when the file moved. On Linux the tail
sleeps between rounds until inotify says its name changed in its directory (``wake.py``), and
rounds stay ``poll_interval`` apart while lines stream in; elsewhere, or where inotify cannot
serve the path, it polls every ``poll_interval``. A quiet file costs a round every
``idle_poll`` seconds with inotify (the check that events come), one per ``poll_interval``
without. New bytes are read with
aiofiles, one ``chunk_size`` chunk per open file per round (:attr:`FileTail.behind` says
come straight back), split on ``\\n`` and decoded as UTF-8 with ``errors="replace"``; a trailing
``\\r`` is stripped and NUL bytes read as U+FFFD, like any other byte that is not text. A line
is delivered once its newline arrives. A line longer than ``max_line`` keeps its first
``max_line`` characters plus `` …[cut: N bytes]``; while it is being written at most
``max_line`` bytes of it are held.

Where reading starts: at start, the last ``backfill_lines`` lines (read backwards in blocks);
in a file that was missing at start or that replaced the one being read (rename + create,
delete + recreate, a rotated symlink target), at byte 0; in a file unreadable at start, at
the size it had then; in the target of a re-pointed symlink (it may be old and large), at its
last ``backfill_lines`` lines.

Rotation: when the path stops naming the file being read (identity ``(st_dev, st_ino)``), that
file stays open and is drained until it has not grown for ``rotate_grace`` seconds. Apache,
MariaDB and php-fpm write to the old inode until they reopen, and requests in flight across a
graceful land there after the new file already has newer lines.

Limits:

* copytruncate keeps the inode. A size below our offset restarts reading at byte 0, and so do
  bytes already read that are no longer there (truncated and written again between two polls:
  whenever the mtime moves, up to 1 KiB already read is read again to check); a rewrite that
  leaves those bytes identical is not seen. Lines written after our last read and before the
  truncate exist only in the copy, which is not looked for (about one poll of log).
* A rotated-away file quiet for ``rotate_grace`` seconds is closed; later writes to it are lost.
* One parser serves old and new file; an entry is assumed not to straddle the two.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Literal, cast

import aiofiles

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.events import Backfill, LogRecord, SourceState, SourceStatus
from console.parsing.apache_access import is_own_request
from console.parsing.base import Parser
from console.sources import Sink, StateReporter
from console.sources.tail.lines import owner_text, permission_hint
from console.sources.tail.reader import (
    CHECK,
    AsyncFile,
    Ident,
    Reader,
    close_quietly,
    file_id,
    readlink,
    rewritten,
)
from console.sources.tail.reader import (
    nonblocking as _nonblocking,
)
from console.sources.tail.wake import Wake

"""What a NUL byte reads as."""
_BLOCK = 1 << 16
_MAX_BACKOFF = 5.0

_Start = tuple[Literal["backfill", "zero", "resume"], Ident, int]
"""How to start the next file opened: last lines, byte 0, or at (identity, size) if it matches."""
_BACKFILL: _Start = ("backfill", (0, 0), 0)
_ZERO: _Start = ("zero", (0, 0), 0)


class FileTail:
    """Follow ``path`` across rotation; feed its lines to ``parser``; deliver to ``sink``."""

    def __init__(
        self,
        path: str | Path,
        parser: Parser,
        sink: Sink,
        *,
        name: str | None = None,
        backfill_lines: int = 200,
        poll_interval: float = 0.25,
        rotate_grace: float = 30.0,
        max_line: int = 65536,
        chunk_size: int = 1 << 20,
        flush_after: float = 1.0,
        clock: Clock = SYSTEM_CLOCK,
        inotify: bool = True,
        idle_poll: float = 2.0,
    ) -> None:
        self.path = Path(path)
        self.parser, self.sink = parser, sink
        self.name = name or parser.source
        self.backfill_lines, self.poll_interval = backfill_lines, poll_interval
        self.rotate_grace, self.flush_after = rotate_grace, flush_after
        self.max_line, self.chunk_size = max_line, chunk_size
        self.wake = Wake(self.path, inotify=inotify)
        """What ends the sleep between two rounds: inotify, or the poll timer."""
        self.idle_poll = idle_poll
        """With inotify, the longest sleep of a quiet file: the round that checks events come."""
        self.rounds = 0
        """Rounds run by :meth:`run`."""
        self.lines_read = 0
        """Lines read, backfill included."""
        self.bytes_read = 0
        """Bytes read, backfill included."""
        self.clock = clock
        """Arrival times, the grace period and the quiet spell."""
        self._report = StateReporter(sink, self.name, parser.kind, str(self.path), clock)
        self._access = parser.kind == "apache-access"
        """The last state reported to the sink."""
        self._cur: Reader | None = None
        self._old: list[Reader] = []
        self._start: _Start = _BACKFILL
        self._opened = False
        self._link: str | None = None
        self._last_data: float | None = None
        self._behind = self._trouble = False
        self._history = False
        self._failures = 0

    @property
    def behind(self) -> bool:
        """True when the last round stopped at its read budget with more bytes waiting."""
        return self._behind

    @property
    def draining(self) -> int:
        """How many rotated-away files are still open and being drained."""
        return len(self._old)

    async def run(self) -> None:
        """Read in rounds until cancelled. I/O errors become states and a backoff, never
        exceptions."""
        loop = asyncio.get_running_loop()
        wake, woke, mark = self.wake, None, 0
        try:
            while True:
                started, before, cur = loop.time(), self.bytes_read, self._cur
                self.rounds += 1
                try:
                    await self.poll_once()
                except OSError as exc:
                    self._set("error", f"{self.path}: {exc.strerror or exc}")
                    self._failures += 1
                if self._cur is not cur and self._cur is not None:
                    wake.aim()  # another file: a symbolic link's new target is watched too
                if woke is False and self.bytes_read > before and wake.events == mark:
                    # the timer found bytes that no event announced, neither while it slept
                    # nor during the read (a write just as the timer ran out): poll from now on
                    wake.deaf()
                woke = None
                delay = self.poll_interval
                if self._behind:
                    delay = 0.0
                elif self._failures and self._cur is None and not self._old:
                    delay = min(delay * 2.0 ** min(self._failures, 8), _MAX_BACKOFF)
                elif not self._failures and not self._old and wake.mode == "inotify":
                    mark = wake.events
                    woke = await wake.wait(delay, self._quiet_for())
                    if woke:  # a burst of writes is read in one round, not one per write
                        await asyncio.sleep(max(0.0, started + delay - loop.time()))
                    continue
                await asyncio.sleep(delay)
        finally:
            wake.close()
            if pending := self.parser.flush(self.clock.now()):
                self.sink.add_records(pending)
            await self.aclose()

    def _quiet_for(self) -> float:
        """How long a quiet file may sleep: ``idle_poll``, or until an entry still being
        built is due to be flushed."""
        if not self.parser.pending or self._last_data is None:
            return self.idle_poll
        due = self._last_data + self.flush_after - self.clock.monotonic()
        return max(0.0, min(self.idle_poll, due))

    async def aclose(self) -> None:
        """Close every open file (the tail can be polled again afterwards)."""
        readers = ([self._cur] if self._cur else []) + self._old
        self._cur, self._old = None, []
        for r in readers:
            await close_quietly(r.file)

    async def poll_once(self) -> None:
        """One round: check the path's identity, drain rotated files, read new bytes."""
        now = self.clock.monotonic()
        self._behind = self._trouble = False
        lines: list[str] = []
        st = self._resolve()
        cur = self._cur
        if cur is not None and (st is None or file_id(st) != cur.ident):
            cur.grown = now
            self._old.append(cur)
            self._cur = None
        for r in list(self._old):
            await self._drain_old(r, now, lines)
        if st is not None:
            if self._cur is None:
                await self._attach(st, now)
            if self._cur is not None:
                await self._read(self._cur, st, now, lines)
                if not self._trouble:
                    self._set("ok")
        bad = self.state is not None and self.state.status in ("error", "unreadable")
        self._failures = self._failures + 1 if self._trouble and bad else 0

        arrival = self.clock.now()
        records: list[LogRecord] = []
        if lines or self._last_data is None:
            self._last_data = now
        if lines:
            self.lines_read += len(lines)
            records = self.parser.feed(lines, arrival)
            if self._access:  # lamptop's own status polls: not counted, not shown, not saved
                records = [r for r in records if not is_own_request(r)]
        elif self.parser.pending and now - self._last_data >= self.flush_after:
            records = self.parser.flush(arrival)
        if records:
            self.sink.add_records(Backfill(records) if self._history else records)
        self._history = False

    def _resolve(self) -> os.stat_result | None:
        """Stat the path; on anything but a regular file, report why and return None."""
        p = self.path
        try:
            st = os.stat(p)
        except FileNotFoundError:
            self._never_there()
            if target := readlink(p):
                self._set("missing", f"{p} is a symbolic link to {target}, which does not exist")
            elif self._cur is not None or self._old:
                self._set("waiting", f"{p} was moved or deleted; reading the old file meanwhile")
            else:
                self._set("missing", f"{p} does not exist; waiting for it to appear")
            return None
        except PermissionError:
            msg = f"cannot reach {p}: permission denied on a directory above it"
            self._set("unreadable", msg, f"check each directory's permissions: namei -l {p}")
            return None
        except OSError as exc:
            self._set("error", f"{p}: {exc.strerror or exc}")
            return None
        if stat.S_ISREG(st.st_mode):
            return st
        self._never_there()
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        self._set("error", f"{p} is {what}, not a log file", "give the path of a log file")
        return None

    def _never_there(self) -> None:
        # A file that shows up after the start was written entirely after it: read it whole.
        if not self._opened and self._start is _BACKFILL:
            self._start = _ZERO

    async def _attach(self, st: os.stat_result, now: float) -> None:
        """Open the file the path names now and decide where to start reading it."""
        for r in self._old:
            if r.ident == file_id(st):  # moved back: carry on where that file was left
                self._old.remove(r)
                self._cur = r
                return
        link = readlink(self.path)
        how, ident0, size0 = self._start
        if self._opened and link != self._link:
            how = "backfill"  # re-pointed symlink: the new target may be old and large
        try:
            f = await self._open(self.path)
        except PermissionError:
            if how == "backfill" and not self._opened:
                self._start = ("resume", file_id(st), st.st_size)
            msg = f"cannot read {self.path}: permission denied ({owner_text(st)})"
            self._set("unreadable", msg, permission_hint(self.path, st))
            return
        except FileNotFoundError:
            return  # gone between stat and open: the next round says so
        except OSError as exc:
            self._set("error", f"cannot open {self.path}: {exc.strerror or exc}")
            return
        try:
            fst = os.fstat(f.fileno())
            ident, offset = file_id(fst), 0
            if how == "backfill":
                offset = await self._find_start(f, fst.st_size, self.backfill_lines)
                self._history = True  # what this round reads was there before: no reorder wait
            elif how == "resume" and ident == ident0 and fst.st_size >= size0:
                offset = await self._find_start(f, size0, 0)
            await f.seek(offset)
            self._cur = Reader(f, ident, offset, self.max_line, now)
        except OSError as exc:
            self._set("error", f"cannot read {self.path}: {exc.strerror or exc}")
            return
        finally:
            if self._cur is None:  # failed or cancelled while positioning: do not leak the fd
                await close_quietly(f)
        self._link, self._opened, self._start = link, True, _ZERO

    async def _open(self, path: Path) -> AsyncFile:
        """Open ``path`` for reading (a hook: tests make it raise ``PermissionError``)."""
        f = await aiofiles.open(path, "rb", buffering=0, opener=_nonblocking)
        return cast(AsyncFile, f)

    async def _find_start(self, f: AsyncFile, end: int, n: int) -> int:
        """Offset where the last ``n`` complete lines before ``end`` begin.

        Reads backwards in blocks and stops after ``(n + 1) * max_line`` bytes, so a huge file
        (or one without newlines) is never read whole; it then starts at the earliest line
        boundary seen, or at ``end`` when there was none.
        """
        need, pos, earliest = n + 1, end, -1
        limit = max(end - need * self.max_line, 0)
        while pos > limit:
            size = min(_BLOCK, pos - limit)
            pos -= size
            await f.seek(pos)
            block = await f.read(size)
            i = len(block)
            while need and (i := block.rfind(b"\n", 0, i)) >= 0:
                earliest, need = pos + i, need - 1
            if not need:
                return earliest + 1
        return 0 if pos == 0 else (earliest + 1 if earliest >= 0 else end)

    async def _read(self, r: Reader, st: os.stat_result, now: float, out: list[str]) -> bool:
        """Read one chunk of ``r`` if the file moved; True when bytes came in."""
        size = st.st_size
        try:
            if st.st_mtime_ns != r.mtime or size < r.offset:
                r.mtime = st.st_mtime_ns
                if size < r.offset or rewritten(r):  # copytruncate: start over
                    out.extend(r.lines.end())
                    await r.file.seek(0)
                    r.offset, r.last = 0, b""
            if size <= r.offset:
                return False
            data = await r.file.read(self.chunk_size)
        except OSError as exc:
            self._set("error", f"reading {self.path} failed: {exc.strerror or exc}")
            return False
        if not data:
            return False
        r.offset += len(data)
        r.last = (r.last + data[-CHECK:])[-CHECK:]
        r.grown = now
        self.bytes_read += len(data)
        out.extend(r.lines.feed(data))
        self._behind = self._behind or r.offset < size
        return True

    async def _drain_old(self, r: Reader, now: float, out: list[str]) -> None:
        try:
            st: os.stat_result | None = os.fstat(r.file.fileno())
        except OSError:
            st = None
        if st is not None and await self._read(r, st, now, out):
            return
        if st is None or now - r.grown >= self.rotate_grace:
            out.extend(r.lines.end())
            self._old.remove(r)
            await close_quietly(r.file)

    def _set(self, status: SourceStatus, message: str = "", hint: str = "") -> None:
        """Report a state, only when it differs from the last one."""
        self._trouble = self._trouble or status != "ok"
        self._report(status, message, hint)

    @property
    def state(self) -> SourceState | None:
        """The last state sent."""
        return self._report.last
