"""Poll a MySQL or MariaDB server: who is connected, what runs, and how busy it is.

Each poll reads the processlist (MariaDB's ``information_schema.PROCESSLIST`` with sub-second
``TIME_MS``; ``SHOW FULL PROCESSLIST`` on MySQL), the ``SHOW GLOBAL STATUS`` counters of
:data:`~console.core.stack.MYSQL_STATUS_KEYS`, and, at connect and then every minute, the
version, ``max_connections`` and whether lamptop's user may see every thread (PROCESS). It
hands a :class:`~console.core.stack.MysqlSample` to the sink.

The work is blocking (PyMySQL) and runs in a thread (:func:`asyncio.to_thread`) over one
connection kept open across polls (:class:`~console.sources.mysql.session.MysqlSession`): a
server at max_connections still answers it. A poll with no answer within ``connect_timeout +
read_timeout`` is not abandoned: the state says the server does not answer, and a later call
collects the answer (the connection's own socket timeout, ``stall_timeout``, ends it at last).
Failures become states in words with their fix (:mod:`~console.sources.mysql.failure`); the
poller backs off (interval doubled per failure, up to ``max_backoff``) and keeps trying,
reading the credentials again each time it connects, so a fix takes effect without a restart.
"""

from __future__ import annotations

import asyncio
import struct
import time
from dataclasses import dataclass

import pymysql

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.mysqltarget import MysqlTarget, TargetError, parse_target
from console.core.stack import MysqlSample
from console.discover.mycnf import Login, pick_login, read_client_cnf
from console.sources import Poller, Sink, StateReporter
from console.sources.mysql.failure import (
    CONNECTION_ERRORS,
    Attempt,
    MysqlFailure,
    code_of,
    explain,
    not_mysql,
)
from console.sources.mysql.processlist import MAX_THREADS
from console.sources.mysql.session import MysqlSession

KIND = "mysql"
#: Seconds between readings of the version, max_connections and the user's grants.
VARIABLES_EVERY = 60.0

Polled = tuple[MysqlSample, str]
"""A poll's sample and the hint to show with it."""


@dataclass
class _Reading:
    """The ``Questions`` counter at one poll, for the rate at the next."""

    at: float
    """``time.monotonic()`` when it was read."""
    questions: int
    own: int
    """Statements lamptop had sent on its connection by then (they count in ``Questions``)."""
    uptime: int


class MysqlPoller(Poller):
    """Polls one MySQL/MariaDB server and hands :class:`MysqlSample` values to a sink."""

    def __init__(
        self,
        target: str,
        sink: Sink,
        *,
        name: str = "mysql",
        interval: float = 2.0,
        user: str | None = None,
        password: str | None = None,
        origin: str = "",
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        stall_timeout: float = 30.0,
        max_backoff: float = 10.0,
        max_threads: int = MAX_THREADS,
        variables_every: float = VARIABLES_EVERY,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sink = sink
        self.name = name
        self.interval = interval
        self.user = user
        """The user given by flag or config; None: the option files', else the login name."""
        self._password = password
        self.origin = origin
        """Where the target was learned, for messages."""
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.stall_timeout = max(stall_timeout, read_timeout)
        self.max_backoff = max(max_backoff, interval)
        self.max_threads = max_threads
        self.variables_every = variables_every
        self.clock = clock
        self.delay = interval
        """Seconds until the next poll: the interval, or longer while failing."""
        self.target: MysqlTarget | None = None
        self._bad_target = ""
        try:
            self.target = parse_target(target)
            shown = self.target.shown
        except TargetError as exc:
            self._bad_target = str(exc)
            shown = "?"
        self._report = StateReporter(sink, name, KIND, shown, clock)
        self._session: MysqlSession | None = None
        self._login: Login | None = None
        self._pending: asyncio.Future[Polled] | None = None
        self._variables_at = 0.0
        self._version = ""
        self._max_connections = 0
        self._sees_all: bool | None = None
        self._last: _Reading | None = None
        self.connects = 0
        """Connections opened (a reconnect after a failure counts)."""
        self._closed = False
        """:meth:`close` was called: the thread closes what it opened."""

    @property
    def login(self) -> Login | None:
        """The user and password of the last connection attempt, and how they were picked."""
        return self._login

    @property
    def connection_id(self) -> int | None:
        """The server's id of lamptop's connection (left out of the processlist); None
        while not connected."""
        session = self._session
        return session.own_id if session is not None else None

    @property
    def shown(self) -> str:
        """The target as shown in states and samples."""
        return self._report.target

    # -- the loop ------------------------------------------------------------------------------

    async def poll_once(self) -> MysqlSample | None:
        """Poll once; deliver the sample, or the failure as a state, to the sink.

        Waits at most ``connect_timeout + read_timeout``; a poll still waiting then is kept
        and collected by a later call (the state says the server does not answer).
        """
        self._closed = False
        if self.target is None:
            self.delay = self.max_backoff
            self._report("error", self._bad_target, "fix --mysql or [mysql] server")
            return None
        if self._pending is None:
            future = asyncio.ensure_future(asyncio.to_thread(self._poll_blocking))
            future.add_done_callback(_retrieve)
            self._pending = future
        pending = self._pending
        done, _ = await asyncio.wait({pending}, timeout=self.connect_timeout + self.read_timeout)
        if not done:
            self.delay = self.interval
            self._report(
                "timeout",
                f"no answer within {self.connect_timeout + self.read_timeout:g}s from "
                f"{self.target.where}: the server may be overloaded; still waiting",
            )
            return None
        self._pending = None
        try:
            sample, hint = pending.result()
        except MysqlFailure as failure:
            self.delay = min(self.max_backoff, max(self.delay, self.interval) * 2)
            self._report(failure.status, failure.message, failure.hint)
            return None
        self.delay = self.interval
        self._report("ok", "", hint)
        self.sink.add_mysql(sample)
        return sample

    def close(self) -> None:
        """Close the connection. A poll still at work in its thread ends at once (its read is
        cut, or its new connection closed as soon as it is open) and stays pending: the next
        :meth:`poll_once`, if any, collects it before it starts another, so that two threads
        never share the connection."""
        self._closed = True
        session, pending = self._session, self._pending
        if pending is not None and not pending.done():
            if session is not None:
                session.cut()  # the read fails now, and the thread drops the session
            return
        self._pending = None
        self._drop()

    # -- in the worker thread ------------------------------------------------------------------

    def _poll_blocking(self) -> Polled:
        """Connect if needed, then read; every error is a :class:`MysqlFailure`."""
        try:
            return self._poll_session()
        finally:
            if self._closed:  # closed while this ran: nobody will use the connection
                self._drop()

    def _poll_session(self) -> Polled:
        assert self.target is not None
        attempt = Attempt(
            self.target, self._login, self.origin, self.connect_timeout, self.stall_timeout
        )
        try:
            session = self._session or self._connect()
            attempt = Attempt(
                self.target, session.login, self.origin, self.connect_timeout, self.stall_timeout
            )
            return self._read(session)
        except MysqlFailure:
            raise
        except (pymysql.err.MySQLError, OSError) as exc:
            failure = explain(exc, attempt)
            if self._session is not None and (
                code_of(exc) in CONNECTION_ERRORS
                or code_of(exc) >= 2000
                or not isinstance(exc, pymysql.err.MySQLError)
            ):
                self._drop()
            raise failure from exc

    def _connect(self) -> MysqlSession:
        assert self.target is not None
        cnf = read_client_cnf()
        login = pick_login(
            url_user=self.target.user,
            cfg_user=self.user,
            cfg_password=self._password,
            cnf=cnf,
        )
        self._login = login
        attempt = Attempt(self.target, login, self.origin, self.connect_timeout, self.stall_timeout)
        try:
            session = self._open(login)
        except (pymysql.err.MySQLError, OSError) as exc:
            raise explain(exc, attempt) from exc
        except (struct.error, IndexError, ValueError) as exc:  # a greeting PyMySQL cannot read
            raise not_mysql(exc, attempt) from exc
        self._variables_at = 0.0
        self._sees_all = None
        return session

    def _open(self, login: Login) -> MysqlSession:
        assert self.target is not None
        session = MysqlSession.open(
            self.target,
            login,
            connect_timeout=self.connect_timeout,
            stall_timeout=self.stall_timeout,
        )
        self.connects += 1
        self._session = session
        self._last = None
        return session

    def _renew(self, old: MysqlSession) -> MysqlSession:
        """A new connection in place of ``old``, which was opened before its user got the
        PROCESS privilege (a connection keeps the global privileges it logged in with); the
        old one stays when the server lets nobody new in."""
        try:
            fresh = self._open(old.login)
        except (pymysql.err.MySQLError, OSError):
            return old
        old.close()
        self._version, self._max_connections = fresh.variables()
        return fresh

    def _drop(self) -> None:
        session, self._session = self._session, None
        self._last = None
        if session is not None:
            session.close()

    def _read(self, session: MysqlSession) -> Polled:
        now = time.monotonic()
        if not self._variables_at or now - self._variables_at >= self.variables_every:
            self._version, self._max_connections = session.variables()
            sees_all = session.sees_all()
            if sees_all and self._sees_all is False:
                session = self._renew(session)
            self._sees_all = sees_all
            self._variables_at = now
        threads, truncated = session.processlist(self.max_threads)
        ts = self.clock.now()
        status = session.status()
        read_at = time.monotonic()
        rate = self._rate(status, session.statements, read_at)
        sample = MysqlSample(
            ts=ts,
            source=self.name,
            target=self.shown,
            version=self._version,
            max_connections=self._max_connections,
            status=status,
            threads=threads,
            questions_per_s=rate,
            truncated=truncated,
        )
        return sample, self._hint(session, sample)

    def _rate(self, status: dict[str, int], own: int, at: float) -> float | None:
        """Statements a second since the last poll, lamptop's own left out; None on the
        first poll of a connection and after the server restarted (``Uptime`` went back)."""
        questions, uptime = status.get("Questions"), status.get("Uptime", 0)
        if questions is None:
            self._last = None
            return None
        last, self._last = self._last, _Reading(at, questions, own, uptime)
        if last is None or uptime < last.uptime or at <= last.at:
            return None
        others = (questions - last.questions) - (own - last.own)
        return max(0, others) / (at - last.at)

    def _hint(self, session: MysqlSession, sample: MysqlSample) -> str:
        hints: list[str] = []
        user = session.login.user
        others = any(t.user != user for t in sample.threads)
        if self._sees_all is False and not others:
            hints.append(
                f"only the threads of user '{user}' are shown: it lacks the PROCESS "
                f"privilege; GRANT PROCESS ON *.* TO '{user}'@'localhost' (lamptop "
                "reconnects within a minute to use it)"
            )
        hints.extend(session.login.warnings)
        return "; ".join(hints)


def _retrieve(future: asyncio.Future[Polled]) -> None:
    """Take a finished poll's exception, so that one nobody collects (the poller was closed
    meanwhile) is not reported as never retrieved."""
    if not future.cancelled():
        future.exception()
