"""A real MariaDB server (Debian's ``/usr/sbin/mariadbd``) on loopback, for integration tests.

Every instance lives in a fresh temp directory: its datadir (made by ``mariadb-install-db``),
its socket, pid file and error log; it listens on 127.0.0.1 on a free port and reads no
option file (``--no-defaults``: /etc/mysql is never read), so tests can run in parallel and
never touch the system's server. root logs in without a password over the socket or TCP.

* ``mariadb``: one server per pytest process (one per xdist worker), shared by the tests of
  that process; each test makes its own users (:meth:`MariaDB.create_user`, unique names) and
  stops its own background queries, so the tests stay independent.
* :func:`running_mariadb`: a private server for a test that restarts it or fills it up.

When ``mariadbd`` is missing the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pytest

from tests.support.apache_server import free_port
from tests.support.need import unavailable
from tests.support.orphans import die_with_parent, end_process
from tests.support.wait import wait_for

MARIADBD = Path(os.environ.get("LAMPTOP_TEST_MARIADBD", "/usr/sbin/mariadbd"))
INSTALL_DB = "mariadb-install-db"
#: Small buffers: a test server holds a few users and no data.
SIZING = ("--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M")

_names = itertools.count(1)


def require_mariadb() -> None:
    if not MARIADBD.exists() or shutil.which(INSTALL_DB) is None:
        unavailable(f"{MARIADBD} and {INSTALL_DB} (Debian mariadb-server) are not installed")


@dataclass(frozen=True)
class User:
    """A user of a test server (host ``localhost``: socket and 127.0.0.1 alike)."""

    name: str
    password: str | None = None


@dataclass
class MariaDB:
    """One private MariaDB instance: its files, its port, start/stop, and root's queries."""

    root: Path
    port: int
    max_connections: int = 100
    proc: subprocess.Popen[bytes] | None = None
    _installed: bool = False
    _background: list[Background] = field(default_factory=list)

    @property
    def socket(self) -> Path:
        return self.root / "mysqld.sock"

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def tmpdir(self) -> Path:
        """The server's own tmpdir: mariadbd removes the temporary tables it finds in its
        tmpdir when it starts, so servers sharing /tmp (the install of another test worker)
        would delete each other's."""
        return self.root / "tmp"

    @property
    def error_log(self) -> Path:
        return self.root / "error.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "mysqld.pid"

    @property
    def target(self) -> str:
        """``unix:`` target of its socket."""
        return f"unix:{self.socket}"

    def tcp_target(self, user: str | None = None) -> str:
        return f"mysql://{user + '@' if user else ''}127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- process ---------------------------------------------------------------------------

    def install(self) -> None:
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        user = ["--user=root"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [
                INSTALL_DB,
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--tmpdir={self.tmpdir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *user,
                *SIZING,
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{INSTALL_DB} failed: {done.stdout!r} {done.stderr!r}")
        self._installed = True

    def start(self, timeout: float = 60.0) -> None:
        """Start the server (installing its datadir the first time) and wait until root can
        log in over the socket."""
        if self.running:
            return
        if not self._installed:
            self.install()
        args = [
            str(MARIADBD),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--pid-file={self.pid_file}",
            f"--log-error={self.error_log}",
            "--skip-networking=0",
            "--bind-address=127.0.0.1",
            f"--port={self.port}",
            f"--tmpdir={self.tmpdir}",
            f"--max-connections={self.max_connections}",
            "--skip-name-resolve",
            *SIZING,
        ]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"mariadbd exited at start:\n{self.error_tail()}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mariadbd did not answer within {timeout}s\n{self.error_tail()}")

    def _answers(self) -> bool:
        try:
            self.connect().close()
            return True
        except pymysql.MySQLError:
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait until its socket is gone."""
        for job in list(self._background):
            job.stop()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        end_process(proc, timeout, group=False)
        self.socket.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def error_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- SQL -------------------------------------------------------------------------------

    def connect(self, user: User | None = None, **kw: Any) -> pymysql.Connection[Any]:
        """A connection over the socket (root by default)."""
        who = user or User("root")
        return pymysql.connect(
            unix_socket=str(self.socket),
            user=who.name,
            password=who.password or "",
            connect_timeout=5,
            autocommit=True,
            **kw,
        )

    def query(self, sql: str, args: Sequence[Any] | None = None) -> tuple[Any, ...]:
        """Run ``sql`` as root; its rows."""
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return tuple(cur.fetchall())

    def create_user(
        self,
        *,
        process: bool = False,
        password: str | None = None,
        name: str | None = None,
        grants: Sequence[str] = (),
    ) -> User:
        """A new user at ``localhost`` with a unique name (or ``name``); with the PROCESS
        privilege when ``process``; ``grants`` are more privileges ON *.*."""
        name = name or f"u{os.getpid()}_{next(_names)}_{uuid.uuid4().hex[:6]}"
        self.query("CREATE USER %s@'localhost' IDENTIFIED BY %s", (name, password or ""))
        privileges = (["PROCESS"] if process else []) + list(grants)
        if privileges:
            self.query(f"GRANT {', '.join(privileges)} ON *.* TO %s@'localhost'", (name,))
        return User(name, password)

    def create_database(self, name: str | None = None, *, users: Sequence[User] = ()) -> str:
        """A new database (unique name, or ``name``) that ``users`` may use."""
        name = name or f"db_{uuid.uuid4().hex[:10]}"
        quoted = f"`{name.replace('`', '``')}`"
        self.query(f"CREATE DATABASE {quoted}")
        for user in users:
            self.query(f"GRANT ALL ON {quoted}.* TO %s@'localhost'", (user.name,))
        return name

    def run_query_in_background(
        self, sql: str, *, user: User | None = None, db: str | None = None
    ) -> Background:
        """``sql`` run by another connection (a thread of its own) until it ends or
        :meth:`Background.stop` kills it; stopped at the latest with the server."""
        job = Background(self, sql, user, db)
        job.start()
        self._background.append(job)
        return job

    def thread_ids(self) -> set[int]:
        return {int(row[0]) for row in self.query("SELECT ID FROM information_schema.PROCESSLIST")}


class Background:
    """One statement run by a connection of its own, in a thread."""

    def __init__(self, server: MariaDB, sql: str, user: User | None, db: str | None) -> None:
        self.server = server
        self.sql = sql
        self.conn = server.connect(user, database=db) if db else server.connect(user)
        self.id = int(self.conn.thread_id())
        """The connection's id (the processlist's ``ID``)."""
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        # running once the server lists it with its statement
        wait_for(self._listed, what=f"the background query on connection {self.id}")

    def _listed(self) -> bool:
        if self.error is not None:
            raise AssertionError(f"the background query failed: {self.error!r}")
        rows = self.server.query(
            "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = %s", (self.id,)
        )
        return bool(rows and rows[0][0])

    def _run(self) -> None:
        try:
            # as bytes: a lone surrogate (``\udcff``) is sent as the byte it stands for, so a
            # test can send a statement that is not UTF-8
            self.conn.query(self.sql.encode("utf-8", "surrogateescape"))
        except BaseException as exc:  # noqa: BLE001 (a killed query ends this way)
            self.error = exc

    def stop(self) -> None:
        """Kill the connection (if still there) and wait for the thread."""
        if self.server.running:
            with contextlib.suppress(pymysql.MySQLError):
                self.server.query(f"KILL {self.id}")
        self._thread.join(timeout=30)
        with contextlib.suppress(Exception):
            self.conn.close()
        if self in self.server._background:
            self.server._background.remove(self)


@contextlib.contextmanager
def running_mariadb(max_connections: int = 100) -> Iterator[MariaDB]:
    """A private server in its own temp directory; stopped and removed after."""
    require_mariadb()
    # a short path: a Unix socket's path is limited to 107 bytes
    root = Path(tempfile.mkdtemp(prefix="lamptop-mdb-", dir="/tmp"))
    server: MariaDB | None = None
    try:
        for attempt in range(3):
            server = MariaDB(root=root, port=free_port(), max_connections=max_connections)
            server._installed = attempt > 0
            try:
                server.start()
                break
            except RuntimeError:
                # another test may have taken the port between choosing and binding it
                if attempt == 2 or "already in use" not in server.error_tail():
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    """A MariaDB shared by the tests of this pytest process (one per xdist worker)."""
    with running_mariadb() as server:
        yield server


@pytest.fixture
def fresh_mariadb() -> Iterator[MariaDB]:
    """A MariaDB of this test's own, to restart or to fill up."""
    with running_mariadb(max_connections=10) as server:  # MariaDB allows no fewer
        yield server
