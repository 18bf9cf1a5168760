"""Standard output written without ever blocking the event loop, for ``record --stream``.

The stream's reader is an ssh connection across a network: it may be slow, stuck or gone.
On a pipe, a socket or a terminal, :class:`OutPipe` writes through asyncio's pipe transport,
whose buffer it bounds (:meth:`OutPipe.write` says False when full, and the caller drops what
it could not send); the transport notices a reader that went away (EPIPE, or the pipe's end
closed) and :attr:`OutPipe.closed` is set. A regular file (``record --stream > web1.jsonl``)
takes plain writes: a disk does not stall the way a peer does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from typing import TextIO

LIMIT = 8 * 1024 * 1024
"""Bytes held for a slow reader before writes are refused."""


class _Watch(asyncio.BaseProtocol):
    def __init__(self, closed: asyncio.Event) -> None:
        self.closed = closed

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


class OutPipe:
    """A file descriptor (stdout) as a bounded, non-blocking byte sink."""

    def __init__(self, fd: int = 1, *, limit: int = LIMIT) -> None:
        self.fd = fd
        self.limit = limit
        self.closed = asyncio.Event()
        """Set when the reader went away (or :meth:`close` was called)."""
        self.refused = 0
        """Writes refused because the buffer was full."""
        self._transport: asyncio.WriteTransport | None = None
        self._plain: int | None = None
        """The descriptor written with plain writes (a regular file)."""

    async def open(self) -> None:
        mode = os.fstat(self.fd).st_mode
        if stat.S_ISREG(mode):
            self._plain = self.fd
            return
        loop = asyncio.get_running_loop()
        # a copy of the descriptor: the transport closes its own, stdout stays valid
        pipe = os.fdopen(os.dup(self.fd), "wb", buffering=0)
        try:
            self._transport, _ = await loop.connect_write_pipe(lambda: _Watch(self.closed), pipe)
        except (ValueError, OSError):  # neither pipe, socket nor terminal
            pipe.close()
            self._plain = self.fd

    @property
    def buffered(self) -> int:
        t = self._transport
        return t.get_write_buffer_size() if t is not None and not t.is_closing() else 0

    def write(self, data: bytes) -> bool:
        """Send ``data``; False when it was not (the reader is behind by :attr:`limit`, or
        gone)."""
        if self.closed.is_set():
            return False
        if self._plain is not None:
            try:
                os.write(self._plain, data)
            except OSError:  # a full disk, a closed descriptor: the stream cannot go on
                self.closed.set()
                return False
            return True
        t = self._transport
        if t is None or t.is_closing():
            return False
        if t.get_write_buffer_size() + len(data) > self.limit:
            self.refused += 1
            return False
        t.write(data)
        return True

    async def close(self, drain: float = 2.0) -> None:
        """Let what is buffered go out (for at most ``drain`` seconds), then close."""
        t = self._transport
        if t is not None and not t.is_closing():
            t.close()  # the transport writes out its buffer, then closes
            try:
                async with asyncio.timeout(drain):
                    await self.closed.wait()
            except TimeoutError:
                t.abort()
        self.closed.set()


class QuietText:
    """A text stream (stderr) whose writes never raise: over ssh it goes away with stdout,
    and a last line about stopping must not become a traceback."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError):
            return self.inner.write(text)
        return 0

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.inner.flush()


def quiet_exit_streams() -> None:
    """After the stream: stdout pointed at /dev/null (nothing more goes there), and stderr too
    when its reader is gone, so that the interpreter's own flush at exit cannot fail on them
    and print a BrokenPipeError."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            os.dup2(null, 2)
    finally:
        os.close(null)
