"""One connection to a MySQL or MariaDB server, kept open across polls (blocking: run it in a
thread).

A server at ``max_connections`` refuses every new connection but still answers the ones it
has, so lamptop connects once and keeps that connection, opening a new one only after a
failure. Every read has a socket timeout; :meth:`MysqlSession.cut` ends a read that waits, from
another thread. Text comes as bytes (PyMySQL's ``use_unicode=False``): the processlist may hold
statements that are not UTF-8, which a decoding driver would fail on; ``DECIMAL`` columns
(``TIME_MS``) come as floats.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import pymysql
import pymysql.cursors
from pymysql.constants import FIELD_TYPE
from pymysql.converters import conversions

from console.core.mysqltarget import MysqlTarget
from console.core.stack import MYSQL_STATUS_KEYS, MysqlThread
from console.discover.mycnf import Login
from console.sources.mysql.failure import code_of
from console.sources.mysql.processlist import (
    MARIADB_QUERY,
    MAX_INFO,
    MAX_THREADS,
    SHOW_QUERY,
    from_mariadb,
    from_show,
    text,
)

CONVERSIONS: dict[Any, Any] = dict(conversions)
CONVERSIONS[FIELD_TYPE.DECIMAL] = CONVERSIONS[FIELD_TYPE.NEWDECIMAL] = float
#: Errors of :data:`MARIADB_QUERY` on a server that is not MariaDB: no ``TIME_MS`` column, no
#: window functions, no such table.
NOT_MARIADB = frozenset({1054, 1064, 1109, 1146})
STATUS_QUERY = "SHOW GLOBAL STATUS WHERE Variable_name IN ({})".format(
    ", ".join(f"'{key}'" for key in MYSQL_STATUS_KEYS)
)
VARIABLES_QUERY = "SELECT @@version, @@max_connections"
_GLOBAL_GRANT = re.compile(r"GRANT\s+(.+?)\s+ON\s+\*\.\*\s+TO\s", re.IGNORECASE | re.DOTALL)


def grants_process(lines: Iterable[str]) -> bool:
    """Whether ``SHOW GRANTS`` lines give the PROCESS privilege (``ALL PRIVILEGES`` or
    ``PROCESS`` on ``*.*``), without which the processlist shows the user's own threads only."""
    for line in lines:
        found = _GLOBAL_GRANT.match(line.strip())
        if found is None:
            continue
        privileges = {p.strip().upper() for p in found.group(1).split(",")}
        if privileges & {"ALL", "ALL PRIVILEGES", "PROCESS"}:
            return True
    return False


class MysqlSession:
    """An open connection, and what lamptop learned about the server through it."""

    def __init__(self, conn: pymysql.connections.Connection[Any], login: Login) -> None:
        self.conn = conn
        self.login = login
        self.own_id = int(conn.thread_id())  # type: ignore[no-untyped-call]
        """This connection's id: its row is left out of the processlist."""
        self.statements = 0
        """Statements sent on this connection (each counts in the server's ``Questions``)."""
        self.mariadb = True
        """Whether :data:`MARIADB_QUERY` works; False after it failed once (MySQL)."""
        self._sock: socket.socket | None = getattr(conn, "_sock", None)

    @classmethod
    def open(
        cls,
        target: MysqlTarget,
        login: Login,
        *,
        connect_timeout: float,
        stall_timeout: float,
    ) -> MysqlSession:
        """Connect and log in; raises PyMySQL's errors (see :func:`failure.explain`)."""
        where: dict[str, Any] = (
            {"unix_socket": target.socket}
            if target.socket is not None
            else {"host": target.host, "port": target.port}
        )
        conn = pymysql.connections.Connection(
            **where,
            user=login.user,
            password=login.password or "",
            connect_timeout=connect_timeout,
            read_timeout=stall_timeout,
            write_timeout=stall_timeout,
            charset="utf8mb4",
            use_unicode=False,
            conv=CONVERSIONS,
            autocommit=True,
            program_name="lamptop",
        )
        return cls(conn, login)

    # -- statements ----------------------------------------------------------------------------

    def rows(self, sql: str) -> tuple[tuple[Any, ...], ...]:
        self.statements += 1
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return tuple(cur.fetchall())

    def variables(self) -> tuple[str, int]:
        """The server's version and ``max_connections``."""
        rows = self.rows(VARIABLES_QUERY)
        version, limit = rows[0] if rows else ("", 0)
        try:
            max_connections = int(limit)
        except (TypeError, ValueError):
            max_connections = 0
        return text(version), max_connections

    def sees_all(self) -> bool | None:
        """Whether this user may see every thread (PROCESS); None when it cannot be told."""
        try:
            rows = self.rows("SHOW GRANTS")
        except pymysql.err.MySQLError as exc:
            if code_of(exc) >= 2000:  # the connection, not the statement
                raise
            return None
        return grants_process(text(row[0], 4000) for row in rows if row)

    def processlist(self, cap: int = MAX_THREADS) -> tuple[tuple[MysqlThread, ...], int]:
        """The threads but this connection, running statements first and longest first, at
        most ``cap``; and how many were left out."""
        if self.mariadb:
            try:
                return from_mariadb(self.rows(MARIADB_QUERY % (MAX_INFO + 1, cap)))
            except pymysql.err.MySQLError as exc:
                if code_of(exc) not in NOT_MARIADB:
                    raise
                self.mariadb = False
        self.statements += 1
        with self.conn.cursor(pymysql.cursors.SSCursor) as cur:
            cur.execute(SHOW_QUERY)
            return from_show(_rows(cur), self.own_id, cap)

    def status(self) -> dict[str, int]:
        """The counters of :data:`~console.core.stack.MYSQL_STATUS_KEYS` the server has."""
        out: dict[str, int] = {}
        for row in self.rows(STATUS_QUERY):
            name, value = text(row[0]), row[1]
            if isinstance(value, bytes):
                value = value.decode("ascii", errors="replace")
            with contextlib.suppress(TypeError, ValueError):
                out[name] = int(value)
        return {key: out[key] for key in MYSQL_STATUS_KEYS if key in out}

    # -- ending --------------------------------------------------------------------------------

    def cut(self) -> None:
        """End a read that waits, now, from another thread (its caller gets an error)."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Say goodbye if the connection still works; close it in any case."""
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 (a dead connection cannot say goodbye)
            force_close = getattr(self.conn, "_force_close", None)
            if force_close is not None:
                with contextlib.suppress(Exception):
                    force_close()


def _rows(cur: pymysql.cursors.SSCursor) -> Iterable[Sequence[Any]]:
    while (row := cur.fetchone()) is not None:
        yield row
