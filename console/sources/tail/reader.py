"""One open log file: its identity, how far it was read, and the helpers that open and check it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from console.sources.tail.lines import LineSplitter

#: How many of the last bytes read are kept, to tell a rewritten file from a grown one.
CHECK = 1024

Ident = tuple[int, int]
"""A file's identity: ``(st_dev, st_ino)``."""


class AsyncFile(Protocol):
    """The part of an aiofiles binary file the tail uses."""

    async def read(self, size: int = -1, /) -> bytes: ...
    async def seek(self, offset: int, whence: int = 0, /) -> int: ...
    async def close(self) -> None: ...
    def fileno(self) -> int: ...


def file_id(st: os.stat_result) -> Ident:
    return (st.st_dev, st.st_ino)


async def close_quietly(f: AsyncFile) -> None:
    try:
        await f.close()
    except OSError:
        pass


def rewritten(r: Reader) -> bool:
    """Whether the last bytes read are gone (the file was truncated, then written again)."""
    n = len(r.last)
    return n > 0 and os.pread(r.file.fileno(), n, r.offset - n) != r.last


def readlink(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def nonblocking(path: str, flags: int) -> int:
    # Opening a FIFO that raced into the path must not hang the thread; files ignore the flag.
    return os.open(path, flags | os.O_NONBLOCK)


class Reader:
    """One open file: its identity, how far it has been read, and its unfinished line."""

    __slots__ = ("file", "ident", "offset", "lines", "grown", "mtime", "last")

    def __init__(self, file: AsyncFile, ident: Ident, offset: int, max_line: int, now: float):
        self.file = file
        self.ident = ident
        self.offset = offset
        self.mtime = -1
        self.last = b""
        """The last bytes read (up to ``CHECK``), to tell a rewritten file from a grown one."""
        self.lines = LineSplitter(max_line)
        self.grown = now
        """Monotonic time it last grew (or was rotated away); the grace period counts from it."""
