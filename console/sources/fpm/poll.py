"""Poll a PHP-FPM pool's status page (``?json&full``) and hand :class:`FpmSample` values on.

The same shape as the mod_status poller (:mod:`console.sources.status.poll`): the blocking read
runs in a thread (:func:`asyncio.to_thread`), so a pool that never answers cannot stall the
event loop; a request with no answer after ``connect_timeout + read_timeout`` is not given up
but kept, and collected by a later poll (when every child is busy, it waits in the pool's
queue, and a new one would only queue behind it); failures become
:class:`~console.core.events.SourceState` values in words a person can act on, the poller backs
off (interval doubled per failure, up to ``max_backoff``) and keeps trying.

The sample's process list leaves out the row of the child serving lamptop's own request (busy,
its URI on the status path); the pool's counters stay as php-fpm wrote them, that request
included.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.stack import FpmSample
from console.core.text import bound, clean
from console.parsing.fpm_status import NotFpmStatus, parse_fpm_status
from console.sources import Poller, Sink, StateReporter
from console.sources.fpm.fetch import PageReader
from console.sources.fpm.target import BadTarget, FpmTarget, parse_target
from console.sources.fpm.words import busy_hint, status_path_hint
from console.sources.status.http import PollFailure
from console.sources.system.sockets import TcpTable, php_fpm_tcp

KIND = "php-fpm-status"


class FpmPoller(Poller):
    """Polls one pool's status page and hands :class:`FpmSample` values to a sink."""

    def __init__(
        self,
        target: str,
        sink: Sink,
        *,
        name: str = "php-fpm",
        interval: float = 1.0,
        max_children: int | None = None,
        pool: str | None = None,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        queue_timeout: float = 30.0,
        max_backoff: float = 10.0,
        auth: tuple[str, str] | None = None,
        verify: bool = True,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sink = sink
        self.name = name
        self.interval = interval
        self.max_children = max_children
        self.pool = pool
        """The pool's name: from discovery, then from the pages read."""
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_backoff = max(max_backoff, interval)
        self.clock = clock
        self.delay = interval
        """Seconds until the next poll: the interval, or longer while failing."""
        self.target: FpmTarget | None = None
        self._bad = ""
        """Why the target cannot be used (it is not one), else empty."""
        try:
            self.target = parse_target(target)
        except BadTarget as exc:
            self._bad = str(exc)
        shown = clean(bound(str(self.target) if self.target is not None else target, 1000))
        self.shown = shown
        """The target as shown and recorded: no password, cleaned."""
        self._report = StateReporter(sink, name, KIND, shown, clock)
        self._make_reader = partial(
            PageReader,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            queue_timeout=queue_timeout,
            auth=auth,
            verify=verify,
        )
        self._reader = self._new_reader()
        self._tcp = TcpTable()
        """The busy children's TCP connections, read again at most every few seconds."""
        self._pending: asyncio.Future[FpmSample] | None = None
        """The poll still waiting for its answer, kept across :meth:`poll_once` calls."""

    # -- the loop ------------------------------------------------------------------------------

    async def poll_once(self) -> FpmSample | None:
        """Read and parse once; deliver the sample or the failure to the sink.

        Waits at most ``connect_timeout + read_timeout``; a request with no answer by then
        keeps waiting (up to ``queue_timeout``) and a later call collects it.
        """
        reader = self._reader
        if reader is None:
            self.delay = self.max_backoff
            self._report("error", self._bad, "fix --fpm-status or [fpm] status")
            return None
        if self._pending is None:
            future = asyncio.ensure_future(asyncio.to_thread(self._poll_blocking, reader))
            future.add_done_callback(_retrieve)
            self._pending = future
        pending = self._pending
        done, _ = await asyncio.wait({pending}, timeout=self.connect_timeout + self.read_timeout)
        if not done:
            self.delay = self.interval  # no back-off: the answer is collected on a later call
            who = f"pool {self.pool}" if self.pool else reader.target.where
            self._report(
                "timeout",
                f"no answer within {self.read_timeout:g}s from {who}: every child may be busy "
                "(pm.max_children reached); still waiting",
                busy_hint(self.pool),
            )
            return None
        self._pending = None
        try:
            sample = pending.result()
        except PollFailure as failure:
            self.delay = min(self.max_backoff, max(self.delay, self.interval) * 2)
            self._report(failure.status, failure.message, failure.hint)
            return None
        self.delay = self.interval
        if self.pool != sample.pool:
            self.pool = reader.pool = sample.pool
        self._report("ok", "", "")
        self.sink.add_fpm(sample)
        return sample

    def close(self) -> None:
        """End a request still waiting (its outcome is dropped) and let go of connections;
        a later :meth:`run` (a restart after a bug) starts afresh."""
        if self._reader is not None:
            self._reader.close()
            self._reader = self._new_reader()
        self._pending = None

    def _new_reader(self) -> PageReader | None:
        if self.target is None:
            return None
        reader = self._make_reader(self.target)
        reader.pool = self.pool
        return reader

    # -- in the worker thread ------------------------------------------------------------------

    def _poll_blocking(self, reader: PageReader) -> FpmSample:
        page = reader.read()
        target = reader.target
        try:
            sample = parse_fpm_status(
                page,
                ts=self.clock.now(),
                source=self.name,
                target=self.shown,
                max_children=self.max_children,
            )
        except NotFpmStatus as exc:
            raise PollFailure(
                "not-status",
                f"not PHP-FPM's JSON status page ({exc}) at {self.shown}",
                _not_status_hint(exc.what, target, self.pool),
            ) from exc
        own = tuple(p for p in sample.processes if p.busy and _path(p.uri) == target.path)
        if own:
            kept = tuple(p for p in sample.processes if p not in own)
            sample = replace(sample, processes=kept)
        return with_connections(sample, self._tcp)


#: Seconds a request runs before its connections are looked up: a short one is gone before
#: anyone reads the join, a long one is what the join is for.
JOIN_AFTER = 1.0


def with_connections(sample: FpmSample, table: TcpTable | None = None) -> FpmSample:
    """The sample with the TCP connections of each process busy for :data:`JOIN_AFTER` s or
    more, when it runs here (a MySQL thread names its client's port: this is how a request is
    joined to its query)."""
    busy = [p.pid for p in sample.processes if p.busy and p.duration >= JOIN_AFTER]
    found = php_fpm_tcp(busy, table=table) if busy else {}
    if not found:
        return sample
    procs = tuple(replace(p, tcp=found[p.pid]) if p.pid in found else p for p in sample.processes)
    return replace(sample, processes=procs)


def _not_status_hint(what: str, target: FpmTarget, pool: str | None) -> str:
    if what in ("text", "xml", "openmetrics") and not target.fastcgi:
        return "the web server does not pass the query (?json&full) on to php-fpm"
    if what in ("html", "json", "empty") and not target.fastcgi:
        return (
            "give the URL the web server hands to the pool's pm.status_path "
            "(http://127.0.0.1/fpm-status), or the pool's socket: unix:/run/php/...sock:/fpm-status"
        )
    return status_path_hint(target.path, pool)


def _path(uri: str) -> str:
    return uri.split("?", 1)[0]


def _retrieve(future: asyncio.Future[FpmSample]) -> None:
    """Mark a poll's outcome as seen, so one dropped at close is not logged as never
    retrieved."""
    if not future.cancelled():
        future.exception()
