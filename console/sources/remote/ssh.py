"""One remote host over ssh: run ``lamptop record --stream`` there and read it into the fleet.

:class:`SshLink` runs the system's OpenSSH client (``ssh -T -o BatchMode=yes [-F CONFIG] DEST
-- 'lamptop' record --stream``, built by :func:`console.core.remotes.ssh_argv`): the user's
keys, agent, config and known_hosts, and never a password prompt (``BatchMode``). Its stdout is
the stream (:func:`~console.sources.remote.stream.consume`), its stderr is kept bounded (the
last :data:`STDERR_KEPT` bytes) to say why a link ended (:mod:`console.sources.remote.words`).

The host's :class:`~console.core.fleet.Link` follows it: ``connecting``, ``up`` once the
stream's header is read (with the remote's own hostname and version), ``down`` with the
reason in words and the time of the next try (``retry_at``). A link is tried again after 1,
2, 4 ... up to :data:`MAX_DELAY` seconds; the back-off starts over once a link stayed up for
:data:`STABLE_AFTER` seconds. A down host never stops the others: each link is its own task.

The ssh process runs in a session of its own (Ctrl-C in the terminal is the console's, not
ssh's) and is ended with its process group when the link ends or the task is cancelled, then
awaited, its pipes read to their end: no zombie, no open descriptor left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence
from datetime import timedelta

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.fleet import Fleet, Host, Link, LinkStatus
from console.core.wire import StreamHeader
from console.sources.remote.resume import Resume
from console.sources.remote.stream import IDLE_TIMEOUT, StreamEnd, StreamError, consume
from console.sources.remote.words import link_words

STDERR_KEPT = 4096
"""Bytes of ssh's stderr kept (the last ones)."""
FIRST_DELAY = 1.0
"""Seconds before the first retry."""
MAX_DELAY = 30.0
"""Longest wait between tries."""
STABLE_AFTER = 60.0
"""Seconds up after which a link that drops is retried at once again (after FIRST_DELAY)."""
STOP_GRACE = 2.0
"""Seconds ssh is given to end after SIGTERM before SIGKILL."""


class SshLink:
    """The source of one remote host: its ssh process, its stream, its link's state."""

    def __init__(
        self,
        fleet: Fleet,
        host: Host,
        argv: Sequence[str],
        *,
        clock: Clock = SYSTEM_CLOCK,
        idle_timeout: float = IDLE_TIMEOUT,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        stable_after: float = STABLE_AFTER,
        env: dict[str, str] | None = None,
    ) -> None:
        self.fleet = fleet
        self.host = host
        self.argv = list(argv)
        self.clock = clock
        self.idle_timeout = idle_timeout
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.env = env
        self.resume = Resume(fleet.sink(host))
        self.connections = 0
        """ssh processes started so far."""
        self.ups = 0
        """Streams whose header was read (the link came up)."""
        self.proc: asyncio.subprocess.Process | None = None
        """The ssh process while one runs."""

    # -- the link's state ------------------------------------------------------------------------

    def _set(self, status: LinkStatus, message: str = "", delay: float | None = None) -> None:
        now = self.clock.now()
        old = self.host.link
        retry = now + timedelta(seconds=delay) if delay is not None else None
        link = Link(
            status,
            message,
            since=now,
            retry_at=retry,
            hostname=old.hostname,
            version=old.version,
        )
        self.fleet.set_link(self.host, link)

    def _up(self, header: StreamHeader) -> None:
        self.ups += 1
        self.fleet.set_link(
            self.host,
            Link("up", since=self.clock.now(), hostname=header.hostname, version=header.version),
        )

    # -- running ----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, read, and on any end say why and try again, until cancelled."""
        delay = self.first_delay
        while True:
            self._set("connecting")
            started = self.clock.monotonic()
            words, was_up = await self.once()
            if was_up and self.clock.monotonic() - started >= self.stable_after:
                delay = self.first_delay
            self._set("down", words, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_delay)

    async def once(self) -> tuple[str, bool]:
        """One ssh process from start to end: (why it ended in words, whether it came up)."""
        self.connections += 1
        self.resume.reconnected()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                env=self.env,
            )
        except OSError as exc:
            return f"cannot run {self.argv[0]}: {exc.strerror or exc}", False
        self.proc = proc
        assert proc.stdout is not None and proc.stderr is not None
        tail = bytearray()
        err_task = asyncio.create_task(_keep_tail(proc.stderr, tail))
        ups = self.ups
        stream_error: str | None = None
        end: StreamEnd | None = None
        try:
            try:
                end = await consume(
                    proc.stdout, self.resume, on_header=self._up, idle_timeout=self.idle_timeout
                )
            except StreamError as exc:
                stream_error = str(exc)
            if end is None or end.reason == "eof":
                # the stream's end: ssh is leaving; give it a moment to say why
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), STOP_GRACE)
        finally:
            await _stop(proc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(err_task, STOP_GRACE)
            if not err_task.done():
                err_task.cancel()
            self.proc = None
        was_up = self.ups > ups
        ended = None
        if end is not None:
            ended = f"silent {self.idle_timeout:g}" if end.reason == "silent" else "eof"
        words = link_words(
            proc.returncode if end is None or end.reason == "eof" else None,
            bytes(tail),
            stream_error=stream_error,
            ended=ended,
            was_up=was_up,
        )
        return words, was_up


async def _keep_tail(stream: asyncio.StreamReader, tail: bytearray) -> None:
    """Read ``stream`` to its end, keeping its last :data:`STDERR_KEPT` bytes in ``tail``."""
    while chunk := await stream.read(65536):
        tail += chunk
        if len(tail) > STDERR_KEPT:
            del tail[: len(tail) - STDERR_KEPT]


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """End ``proc`` and its process group (TERM, then KILL), await it and read its stdout to
    its end, so that its pipe closes. Safe to call when it has ended already."""
    if proc.returncode is None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), STOP_GRACE)
        except TimeoutError:
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()
        # what the group left behind, if anything, while its id is still the group's (an ssh
        # that ended long ago is not signalled: its id may be another program's by now)
        _signal_group(proc.pid, signal.SIGKILL)
    if proc.stdout is not None:
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(STOP_GRACE):
                while await proc.stdout.read(65536):
                    pass


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
