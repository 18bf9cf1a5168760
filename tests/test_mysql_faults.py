"""The MySQL source when things go wrong: each failure in words with its fix, and recovery."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from console.core.events import SourceState
from console.core.text import is_clean
from console.sources.mysql.poll import MysqlPoller
from tests.support.apache_server import free_port
from tests.support.helpers import MemorySink
from tests.support.mariadb_server import MariaDB
from tests.support.need import need_root
from tests.support.users import as_ordinary_user
from tests.support.wait import async_wait_for

pytestmark = pytest.mark.mysql


async def failed_once(target: str, **kw: Any) -> SourceState:
    """Poll once; the poll must fail; its state."""
    sink = MemorySink()
    p = MysqlPoller(target, sink, **kw)
    try:
        assert await p.poll_once() is None
        assert p.delay == 2 * p.interval  # backing off
    finally:
        p.close()
    assert sink.mysql == []
    state = sink.states[-1]
    assert state.kind == "mysql" and is_clean(state.message) and is_clean(state.hint)
    return state


async def test_access_denied_names_the_user_and_where_a_password_goes(mariadb: MariaDB) -> None:
    user = mariadb.create_user(process=True, password="right")
    state = await failed_once(mariadb.target, user=user.name, password="wrong-pw")
    assert state.status == "auth"
    assert f"access denied for user '{user.name}'" in state.message
    assert "picked from --mysql-user / [mysql] user" in state.message
    assert "with the password from [mysql] password / LAMPTOP_MYSQL_PASSWORD" in state.message
    assert "~/.my.cnf" in state.hint and "LAMPTOP_MYSQL_PASSWORD" in state.hint
    assert "CREATE USER 'lamptop'@'localhost'" in state.hint
    assert "GRANT PROCESS ON *.* TO 'lamptop'@'localhost'" in state.hint
    assert "wrong-pw" not in state.message + state.hint
    bare = await failed_once(mariadb.target, user=user.name)
    assert "without a password" in bare.message


async def test_a_password_put_in_my_cnf_works_without_a_restart(
    mariadb: MariaDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = mariadb.create_user(process=True, password="cnf-pw")
    monkeypatch.setenv("HOME", str(tmp_path))
    cnf = tmp_path / ".my.cnf"
    cnf.write_text(f"[client]\nuser = {user.name}\n")
    cnf.chmod(0o600)
    sink = MemorySink()
    p = MysqlPoller(mariadb.target, sink)
    try:
        assert await p.poll_once() is None
        assert sink.states[-1].status == "auth"
        assert "picked from ~/.my.cnf:2 user" in sink.states[-1].message
        cnf.write_text(f"[client]\nuser = {user.name}\npassword = cnf-pw\n")
        assert await p.poll_once() is not None
        assert sink.states[-1].status == "ok" and p.delay == p.interval
    finally:
        p.close()


async def test_a_missing_socket_asks_whether_mariadb_runs(tmp_path: Path) -> None:
    state = await failed_once(f"unix:{tmp_path}/mysqld.sock", origin="mysql/my.cnf:15 socket")
    assert state.status == "missing"
    assert state.message == (
        f"no MySQL socket at {tmp_path}/mysqld.sock (from mysql/my.cnf:15 socket): "
        "is MariaDB running?"
    )
    assert "systemctl status mariadb" in state.hint and "[mysqld] socket" in state.hint


async def test_a_refused_port_and_a_dead_socket(tmp_path: Path) -> None:
    port = free_port()
    state = await failed_once(f"mysql://root@127.0.0.1:{port}")
    assert state.status == "refused"
    assert f"127.0.0.1:{port}" in state.message and "is MariaDB running" in state.message
    assert "bind-address" in state.hint
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(stale))  # a socket file nobody listens on: left by a server that stopped
        dead = await failed_once(f"unix:{stale}")
    assert dead.status == "refused" and "nothing answers on the socket" in dead.message


def _poll_as_nobody(target: str) -> list[str]:
    sink = MemorySink()
    p = MysqlPoller(target, sink, user="root")
    try:
        asyncio.run(p.poll_once())
    finally:
        p.close()
    state = sink.states[-1]
    return [state.status, state.message, state.hint]


def test_permission_denied_on_the_socket(mariadb: MariaDB) -> None:
    need_root("poll as another user than the server's")
    # the server's directory is private (mkdtemp: 0700): an ordinary user cannot reach it
    status, message, hint = as_ordinary_user(_poll_as_nobody, mariadb.target)
    assert status == "unreadable"
    assert f"permission denied on the socket {mariadb.socket}" in message
    assert "sudo" in hint and "mysql://" in hint


@contextlib.contextmanager
def silent_server(greeting: bytes = b"") -> Iterator[int]:
    """A TCP port that accepts connections and says ``greeting``, then nothing (with no
    greeting: an overloaded server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn = listener.accept()[0]
                held.append(conn)
                conn.sendall(greeting)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


async def test_a_server_that_does_not_answer_is_a_timeout_and_the_poll_waits() -> None:
    with silent_server() as port:
        sink = MemorySink()
        p = MysqlPoller(
            f"mysql://root@127.0.0.1:{port}",
            sink,
            connect_timeout=0.2,
            read_timeout=0.2,
            stall_timeout=1.0,
        )
        try:
            assert await p.poll_once() is None
            first = sink.states[-1]
            assert first.status == "timeout" and "still waiting" in first.message
            assert p.delay == p.interval  # the answer is collected by the next poll

            async def given_up() -> bool:
                await p.poll_once()
                return "still waiting" not in sink.states[-1].message

            while not await given_up():
                pass
            last = sink.states[-1]
            assert last.status == "timeout"
            assert f"no answer within 1s from 127.0.0.1:{port}" in last.message
        finally:
            p.close()


NOT_MYSQL = "does not answer like a MySQL server"


@pytest.mark.parametrize(
    ("greeting", "words"),
    [
        (b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", NOT_MYSQL),
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", NOT_MYSQL),
        (b"\x08\x00\x00\x00\x0aZZ\x1b[2J!", NOT_MYSQL),  # protocol 10, then nonsense
        (b"\x01\x00\x00\x00\x0a", NOT_MYSQL),  # protocol 10, and nothing more
        (b"\x05\x00\x00\x00\xff\x1b[2J", "said: MySQL error 23323: 2J"),  # an error packet
    ],
)
async def test_a_service_that_is_not_mysql_is_named_as_such(greeting: bytes, words: str) -> None:
    with silent_server(greeting) as port:
        state = await failed_once(
            f"mysql://root@127.0.0.1:{port}", connect_timeout=0.5, read_timeout=0.5, stall_timeout=1
        )
    assert state.status == "error"
    assert state.message.startswith(f"127.0.0.1:{port} ") and words in state.message


async def test_closing_ends_a_poll_that_waits(tmp_path: Path) -> None:
    with silent_server() as port:
        sink = MemorySink()
        p = MysqlPoller(
            f"mysql://root@127.0.0.1:{port}", sink, connect_timeout=0.2, read_timeout=0.2
        )
        assert await p.poll_once() is None and "still waiting" in sink.states[-1].message
        p.close()
        # the connection was still being opened: the thread closes it once it gives up,
        # and the next poll waits for that thread instead of starting a second one
        assert await p.poll_once() is None
        assert p.connection_id is None
        p.close()


async def test_the_source_survives_a_restart_of_the_server(fresh_mariadb: MariaDB) -> None:
    sink = MemorySink()
    p = MysqlPoller(fresh_mariadb.target, sink, user="root", interval=0.5)
    try:
        assert await p.poll_once() is not None
        fresh_mariadb.restart()
        assert await p.poll_once() is None
        gone = sink.states[-1]
        assert gone.status == "error"
        assert "the server closed lamptop's connection" in gone.message
        assert "connecting again" in gone.message
        assert p.delay == 1.0
        back = await p.poll_once()
        assert back is not None and back.questions_per_s is None  # a new connection
        assert sink.states[-1].status == "ok" and p.delay == 0.5
        assert p.connects == 2
    finally:
        p.close()


async def test_a_server_that_is_down_is_polled_until_it_is_back(fresh_mariadb: MariaDB) -> None:
    sink = MemorySink()
    p = MysqlPoller(fresh_mariadb.target, sink, user="root", interval=0.05, max_backoff=0.2)
    task = asyncio.create_task(p.run())
    try:
        await async_wait_for(lambda: sink.mysql, what="a first sample")
        fresh_mariadb.stop()
        await async_wait_for(
            lambda: sink.states[-1].status == "missing", what="the socket gone", why=sink.states
        )
        assert p.delay > p.interval
        fresh_mariadb.start()
        count = len(sink.mysql)
        await async_wait_for(lambda: len(sink.mysql) > count, what="samples again")
        assert sink.states[-1].status == "ok"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def fill(server: MariaDB, user: Any) -> list[pymysql.Connection[Any]]:
    """Open connections as ``user`` until the server says there are too many."""
    held: list[pymysql.Connection[Any]] = []
    while True:
        try:
            held.append(server.connect(user))
        except pymysql.err.OperationalError as exc:
            assert exc.args[0] == 1040, exc
            return held
        assert len(held) <= server.max_connections, "the server never said too many"


async def test_at_max_connections_the_held_connection_still_reads(fresh_mariadb: MariaDB) -> None:
    watcher = fresh_mariadb.create_user(process=True, password="w")
    app = fresh_mariadb.create_user()
    sink = MemorySink()
    p = MysqlPoller(fresh_mariadb.target, sink, user=watcher.name, password="w")
    held: list[pymysql.Connection[Any]] = []
    try:
        assert await p.poll_once() is not None
        held = fill(fresh_mariadb, app)
        full = await p.poll_once()
        assert full is not None, sink.states[-1]
        assert full.connected >= full.max_connections == fresh_mariadb.max_connections
        ids = {int(c.thread_id()) for c in held}
        assert ids <= {t.id for t in full.threads}
        assert sum(t.user == app.name for t in full.threads) == len(held)
        # a newcomer is refused, and told why and how lamptop gets in anyway
        state = await failed_once(fresh_mariadb.target, user=watcher.name, password="w")
        assert state.status == "refused" and "too many connections" in state.message
        assert "CONNECTION ADMIN" in state.hint and "sudo" in state.hint
        # as the hint says: root still gets the connection MariaDB keeps for an admin
        admin = MysqlPoller(fresh_mariadb.target, MemorySink(), user="root")
        try:
            assert await admin.poll_once() is not None
        finally:
            admin.close()
    finally:
        p.close()
        for conn in held:
            conn.close()


async def test_a_killed_connection_is_opened_again(mariadb: MariaDB) -> None:
    sink = MemorySink()
    p = MysqlPoller(mariadb.target, sink, user="root")
    try:
        assert await p.poll_once() is not None
        first = p.connection_id
        mariadb.query(f"KILL {first}")
        assert await p.poll_once() is None
        assert "closed lamptop's connection" in sink.states[-1].message
        assert await p.poll_once() is not None
        assert p.connection_id not in (None, first)
    finally:
        p.close()
