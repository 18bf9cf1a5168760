"""Poll Apache's mod_status: ``URL?auto`` for the counters, the HTML page for in-flight requests.

One :class:`~console.sources.status.http.StatusConnection` does the HTTP, always through
:func:`asyncio.to_thread`, so a server that accepts and never answers (the usual state of a
saturated Apache) cannot stall the event loop; a request still waiting after the read timeout
is kept, not abandoned, and collected by a later poll. Failures become
:class:`~console.core.events.SourceState` values in words a person can act on, the poller backs
off (interval doubled per failure, up to ``max_backoff``) and keeps trying.

A poll makes one request: ``?auto``, or, when the worker table can have changed (the
``?auto`` counters moved) or is 5 s old, the HTML page instead, whose summary carries the
counters too; the polls in between reuse its worker table (see
:mod:`console.sources.status.table`). Every request counts against the connection's
``MaxKeepAliveRequests`` and, on a saturated server, against the listen queue.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

import urllib3

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.events import SourceStatus, StatusSample
from console.parsing.modstatus import (
    QUIET_MODES,
    NotModStatus,
    build_sample,
    read_page,
)
from console.sources import Poller, Sink, StateReporter
from console.sources.status.http import (
    HINT_NOT_STATUS,
    PollFailure,
    StatusConnection,
    split_url,
)
from console.sources.status.table import MAX_AGE, TableCache, WorkerTable

KIND = "mod-status"
#: Requests left on a keep-alive connection when the next one is opened beside it. The spare
#: costs nothing while it waits in the listen queue (it holds no worker), and takes over as soon
#: as it has an answer: a wide margin only ends the old connection a little early, while at one
#: or two requests a poll it leaves the spare 20 to 40 polls to get through a long queue.
SPARE_AT = 40

Polled = tuple[StatusSample, str]
"""A poll's sample and the hint to show with it."""

HINT_EXTENDED = "ExtendedStatus On (in the Apache config) shows the in-flight requests"


class StatusPoller(Poller):
    """Polls one mod_status URL and hands :class:`StatusSample` values to a sink."""

    def __init__(
        self,
        url: str,
        sink: Sink,
        *,
        name: str = "mod_status",
        interval: float = 1.0,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        auth: tuple[str, str] | None = None,
        verify: bool = True,
        extended: bool = True,
        max_backoff: float = 10.0,
        table_max_age: float = MAX_AGE,
        queue_timeout: float = 30.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        clean, url_auth = split_url(url)
        self.url = clean
        """The status page URL, without credentials and without ``?auto``."""
        self.sink = sink
        self.name = name
        self.interval = interval
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.queue_timeout = max(queue_timeout, read_timeout)
        """How long a request may wait for a worker before it is given up: when every worker
        is busy, a new connection waits in the listen queue, and giving up only puts the next
        try at the back of that queue."""
        self.verify = verify
        self.extended = extended
        """Also fetch the HTML page for the worker table."""
        self.max_backoff = max(max_backoff, interval)
        if not verify:
            # The user chose to trust this server (status_verify = false): a warning per poll
            # written to stderr would only scribble over the screen.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._auth = auth if auth is not None else url_auth
        parts = urlsplit(self.url)
        self._auto_url = f"{self.url}{'&' if parts.query else '?'}auto"
        self._conn: StatusConnection | None = None
        self._report = StateReporter(sink, self.name, KIND, self.url, clock)
        self.clock = clock
        self.delay = interval
        """Seconds until the next poll: the interval, or longer while failing."""
        self._pending: asyncio.Future[Polled] | None = None
        """The poll still waiting for its answer, kept across :meth:`poll_once` calls."""
        self._page_next = False
        """The next poll reads the HTML page instead of ``?auto``: the counters moved."""
        self._book = threading.Lock()
        """Held while the table cache and the flags above change (see :meth:`_poll_blocking`)."""
        self._last_auto: StatusSample | None = None
        self.rollovers = 0
        """How many times a spare connection took over from one the server was closing."""
        self._spare: tuple[StatusConnection, asyncio.Future[Polled]] | None = None
        """The next connection, opened before the server closes the current one, and its
        first poll."""
        # The last worker table: the HTML page is read again only when it can have changed,
        # or when it is ``table_max_age`` seconds old.
        self._tables = TableCache(parts.path or "/", max_age=table_max_age, slack=interval / 2)

    # -- the loop ------------------------------------------------------------------------------

    async def poll_once(self) -> StatusSample | None:
        """Fetch and parse once; deliver the sample or the failure to the sink.

        Waits at most ``connect_timeout + read_timeout``. A request with no answer by then is
        not given up: the state says the server does not answer, and the request keeps its
        place in the server's queue until ``queue_timeout``; a later call collects its answer.

        When the server says the connection is near its last request (``MaxKeepAliveRequests``),
        the next connection is opened beside it, so that it waits its turn in the queue while
        the current one still answers; it takes over once it has an answer.
        """
        spare = self._spare
        if spare is not None and spare[1].done():
            self._spare = None
            conn, done = spare
            if done.exception() is None:
                self._take_over(conn)
                return self._deliver(done)
            conn.close()  # the spare got nowhere: the current connection goes on
        conn = self._connection()
        left = conn.remaining
        if self._spare is None and left is not None and 0 < left <= SPARE_AT:
            spare_conn = self._new_connection()
            self._spare = (spare_conn, self._start(spare_conn))
        if left == 0 and self._pending is None and self._spare is not None:
            # the server closed this connection with its last answer: the spare is further
            # ahead in the queue than a new connection would be
            waiting = self._spare[1]
            if await self._answered(waiting):
                return await self.poll_once()
            return None
        if self._pending is None:
            self._pending = self._start(conn)
        pending = self._pending
        if not await self._answered(pending):
            return None
        self._pending = None
        return self._deliver(pending)

    async def _answered(self, future: asyncio.Future[Polled]) -> bool:
        """Whether ``future`` has its outcome within ``connect + read timeout``; if not, the
        state says so, and the request goes on waiting for a later call."""
        done, _ = await asyncio.wait({future}, timeout=self.connect_timeout + self.read_timeout)
        if done:
            return True
        self.delay = self.interval  # no back-off: the answer is collected on a later call
        self._state(
            "timeout",
            f"no answer within {self.read_timeout:g}s: "
            "the server may be saturated (all workers busy); still waiting",
            "",
        )
        return False

    def _deliver(self, done: asyncio.Future[Polled]) -> StatusSample | None:
        try:
            sample, hint = done.result()
        except PollFailure as failure:
            with self._book:
                self._tables.forget()
                self._page_next = False
            self.delay = self._keep(min(self.max_backoff, max(self.delay, self.interval) * 2))
            self._state(failure.status, failure.message, failure.hint)
            return None
        self.delay = self._keep(self.interval)
        self._state("ok", "", hint)
        self.sink.add_status(sample)
        return sample

    def _keep(self, delay: float) -> float:
        """``delay``, shortened to poll again before the server drops the connection lamptop
        holds (``KeepAliveTimeout``): under saturation a new one waits in the queue."""
        conn = self._conn
        idle = conn.idle_timeout if conn is not None and conn.remaining else None
        return min(delay, max(idle - 0.5, 0.5)) if idle is not None else delay

    def _start(self, conn: StatusConnection) -> asyncio.Future[Polled]:
        future = asyncio.ensure_future(asyncio.to_thread(self._poll_blocking, conn))
        future.add_done_callback(_retrieve)
        return future

    def _take_over(self, conn: StatusConnection) -> None:
        """``conn`` (the spare) replaces the current connection."""
        old, pending = self._conn, self._pending
        if old is not None:
            if pending is not None and not pending.done():
                old.cut()
            old.close()
        self._conn, self._pending = conn, None
        self.rollovers += 1

    def close(self) -> None:
        spare_conn, spare = self._spare or (None, None)
        for conn, future in ((self._conn, self._pending), (spare_conn, spare)):
            if conn is None:
                continue
            if future is not None and not future.done():
                conn.cut()  # the waiting request ends now; its outcome is dropped
            conn.close()
        self._conn = self._pending = self._spare = None

    def _connection(self) -> StatusConnection:
        if self._conn is None:
            self._conn = self._new_connection()
        return self._conn

    def _new_connection(self) -> StatusConnection:
        return StatusConnection(
            self.url,
            auth=self._auth,
            verify=self.verify,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            queue_timeout=self.queue_timeout,
        )

    def _state(self, status: SourceStatus, message: str, hint: str) -> None:
        self._report(status, message, hint)

    # -- in the worker thread ----------------------------------------------------------------

    def _poll_blocking(self, conn: StatusConnection) -> Polled:
        """One poll, one request: ``?auto``, or the HTML page when its table is due (the page
        carries the scoreboard and the counters too). Every request counts against the
        connection's ``MaxKeepAliveRequests`` and, under saturation, against the queue.

        A spare connection's first poll runs beside the current one's: what they share (the
        table cache, the page-next flag) is changed under a lock, never held over the network.
        """
        with self._book:
            last = self._last_auto
            page = self.extended and self._page_next and last is not None
            if page:
                self._page_next = False
        if page and last is not None:
            return self._poll_page(conn, last)
        auto_text = conn.get(self._auto_url)
        try:
            sample = build_sample(self.clock.now(), self.url, auto_text)
        except NotModStatus as exc:
            what = "got HTML" if "HTML" in str(exc) else "unrecognised text"
            raise PollFailure(
                "not-status", f"not a mod_status page ({what})", HINT_NOT_STATUS
            ) from exc
        if not self.extended:
            return sample, ""
        tables = self._tables
        with self._book:
            self._last_auto = sample
            stale = tables.stale(sample)
            now = stale and tables.table is None  # nothing to show yet: read it at once
            if stale and not now:
                self._page_next = True  # the next poll reads the page instead of ?auto
            table = tables.current()
        if now:
            table = self._read_table(conn)  # a second request, once
        sample = replace(
            sample,
            ts=self.clock.now(),
            workers=table.workers,
            processes=table.processes,
            extended=table.extended,
        )
        return sample, table.hint

    def _poll_page(self, conn: StatusConnection, last: StatusSample) -> Polled:
        """The HTML page alone: its summary and scoreboard for the counters, its table for the
        workers. Traffic in bytes is not on it (rounded to 0.1 MB): ``total_kbytes`` is None,
        and the keys only ``?auto`` has are carried from the last ``?auto`` sample."""
        try:
            auto_text, table = self._page(conn)
            sample = build_sample(self.clock.now(), self.url, auto_text)
        except NotModStatus as exc:
            raise PollFailure(
                "not-status", "not a mod_status page (its HTML page)", HINT_NOT_STATUS
            ) from exc
        sample = replace(
            sample,
            fields={**last.fields, **sample.fields},
            workers=table.workers,
            processes=table.processes,
            extended=table.extended,
            total_kbytes=None,
        )
        return sample, table.hint

    def _read_table(self, conn: StatusConnection) -> WorkerTable:
        """The worker table alone (a failure leaves the sample without it, and says why)."""
        try:
            return self._page(conn)[1]
        except PollFailure as failure:
            return WorkerTable(hint=f"worker table unavailable: {failure.message}")
        except NotModStatus:
            return WorkerTable(hint="worker table unavailable: the HTML page is not mod_status's")

    def _page(self, conn: StatusConnection) -> tuple[str, WorkerTable]:
        """Fetch and parse the HTML page once: its summary as ``?auto`` text, and its worker
        table, kept for the polls that reuse it. Samples are kept for 15 minutes, one a
        second: they keep the rows of the slots at work; idle and open slots say nothing the
        scoreboard does not, and on a 150-slot server they are most of the table."""
        tables = self._tables
        try:
            html_text = conn.get(self.url)
            with self._book:
                tables.counted()
            read_at = time.monotonic()
            auto_text, workers, processes, extended = read_page(html_text)
        except (PollFailure, NotModStatus):
            with self._book:
                tables.forget()
            raise
        busy = tuple(w for w in workers if w.mode not in QUIET_MODES)
        table = WorkerTable(busy, processes, extended, "" if extended else HINT_EXTENDED, read_at)
        with self._book:
            tables.keep(table)
        return auto_text, table


def _retrieve(future: asyncio.Future[Polled]) -> None:
    """Take a finished poll's exception, so that one nobody collects (the poller was closed
    meanwhile) is not reported as never retrieved."""
    if not future.cancelled():
        future.exception()
