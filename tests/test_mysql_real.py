"""The MySQL source against a real MariaDB: threads, counters, rates, privileges, hostile text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from console.core.stack import MYSQL_STATUS_KEYS, MysqlSample, MysqlThread
from console.core.text import is_clean
from console.sources.mysql.poll import MysqlPoller
from tests.support.helpers import MemorySink
from tests.support.mariadb_server import MariaDB, User
from tests.support.wait import TIMEOUT

pytestmark = pytest.mark.mysql


@asynccontextmanager
async def poller(
    target: str, user: User | None = None, **kw: object
) -> AsyncIterator[tuple[MysqlPoller, MemorySink]]:
    sink = MemorySink()
    p = MysqlPoller(
        target,
        sink,
        user=user.name if user else "root",
        password=user.password if user else None,
        **kw,  # type: ignore[arg-type]
    )
    try:
        yield p, sink
    finally:
        p.close()


async def sample(p: MysqlPoller, sink: MemorySink) -> MysqlSample:
    got = await p.poll_once()
    assert got is not None, sink.states[-1] if sink.states else "no state"
    return got


def thread(s: MysqlSample, id: int) -> MysqlThread | None:
    return next((t for t in s.threads if t.id == id), None)


async def until(
    p: MysqlPoller, sink: MemorySink, test: Callable[[MysqlSample], object]
) -> MysqlSample:
    """Poll until a sample passes ``test``."""
    seen: list[MysqlSample] = []

    async def polled() -> MysqlSample | None:
        s = await p.poll_once()
        if s is not None:
            seen.append(s)
        return s if s is not None and test(s) else None

    found: MysqlSample | None = None
    deadline = time.monotonic() + TIMEOUT
    while found is None:
        found = await polled()
        assert time.monotonic() < deadline, (sink.states[-1:], seen[-1:])
        await asyncio.sleep(0.05)
    return found


async def test_a_sleeping_query_shows_with_its_user_db_state_and_growing_time(
    mariadb: MariaDB,
) -> None:
    watcher = mariadb.create_user(process=True, password="w-pass")
    app = mariadb.create_user()
    db = mariadb.create_database(users=[app])
    job = mariadb.run_query_in_background("SELECT SLEEP(30)", user=app, db=db)
    try:
        async with poller(mariadb.target, watcher) as (p, sink):
            first = await sample(p, sink)
            seen = thread(first, job.id)
            assert seen is not None, first.threads
            assert (seen.user, seen.host, seen.db, seen.command) == (
                app.name,
                "localhost",
                db,
                "Query",
            )
            assert seen.state == "User sleep" and seen.info == "SELECT SLEEP(30)"
            assert seen.running and seen in first.running
            later = await until(
                p, sink, lambda s: (t := thread(s, job.id)) is not None and t.time > seen.time
            )
            grown = thread(later, job.id)
            assert grown is not None and grown.time > seen.time
            assert 0 < seen.time < grown.time < 30
            # lamptop's own connection is not in the list
            own = p.connection_id
            assert own is not None and own in mariadb.thread_ids()
            assert thread(later, own) is None
            assert not any("PROCESSLIST" in t.info for t in later.threads)
            assert sink.states[-1].status == "ok" and sink.states[-1].hint == ""
            assert sink.states[-1].kind == "mysql" and sink.states[-1].target == mariadb.target
    finally:
        job.stop()


async def test_counters_limits_and_the_rate_of_statements(mariadb: MariaDB) -> None:
    async with poller(mariadb.target, interval=1.0) as (p, sink):
        first = await sample(p, sink)
        assert set(first.status) == set(MYSQL_STATUS_KEYS)
        assert first.max_connections == mariadb.max_connections
        assert "MariaDB" in first.version
        assert first.questions_per_s is None  # nothing to compare with yet
        assert first.connected >= 1 and first.status["Uptime"] >= 0
        before_idle = time.monotonic()
        idle = await sample(p, sink)
        assert idle.questions_per_s == 0.0  # lamptop's own statements are not counted
        conn = mariadb.connect()
        with conn.cursor() as cur:
            for n in range(50):
                cur.execute("SELECT %s", (n,))
        conn.close()
        busy = await sample(p, sink)
        # the two polls were at most this far apart: 50 statements in it, at the least
        span = time.monotonic() - before_idle
        assert busy.questions_per_s is not None
        assert busy.questions_per_s >= 50 / span
        assert busy.status["Questions"] >= idle.status["Questions"] + 50
        assert busy.status["Connections"] > idle.status["Connections"]
    assert [m.source for m in sink.mysql] == ["mysql"] * 3


async def test_tcp_target_and_the_user_in_the_url(mariadb: MariaDB) -> None:
    async with poller(mariadb.tcp_target("root")) as (p, sink):
        p.user = "ignored-for-the-url-user"
        got = await sample(p, sink)
        assert got.target == f"mysql://root@127.0.0.1:{mariadb.port}"
        assert p.login is not None and p.login.user_from == "the target URL"


async def test_without_process_only_the_users_own_threads_and_a_hint(mariadb: MariaDB) -> None:
    app = mariadb.create_user(password="app-pw")
    other = mariadb.create_user()
    theirs = mariadb.run_query_in_background("SELECT SLEEP(30)", user=other)
    mine = mariadb.run_query_in_background("SELECT SLEEP(31)", user=app)
    try:
        async with poller(mariadb.target, app, variables_every=0.0) as (p, sink):
            got = await sample(p, sink)
            assert thread(got, mine.id) is not None  # what it can see is still published
            assert thread(got, theirs.id) is None
            state = sink.states[-1]
            assert state.status == "ok"
            assert "PROCESS" in state.hint and app.name in state.hint
            assert f"GRANT PROCESS ON *.* TO '{app.name}'@'localhost'" in state.hint
            mariadb.query("GRANT PROCESS ON *.* TO %s@'localhost'", (app.name,))
            granted = await until(p, sink, lambda s: thread(s, theirs.id) is not None)
            assert thread(granted, mine.id) is not None
            assert sink.states[-1].status == "ok" and sink.states[-1].hint == ""
    finally:
        theirs.stop()
        mine.stop()


HOSTILE_SQL = (
    "SELECT SLEEP(30) /* \x1b[2J\x1b[H \x1b]0;owned\x07 \u202egnp.exe\u202c \x9b31m "
    "[bold red]x[/] line\u2028two\r\n next \udcff\udcfe */"
)


async def test_hostile_query_text_and_names_come_out_cleaned(mariadb: MariaDB) -> None:
    evil = mariadb.create_user(name="ev\x1b[31mil\u202e" + "x" * 20)
    job = mariadb.run_query_in_background(HOSTILE_SQL, user=evil)
    try:
        async with poller(mariadb.target) as (p, sink):
            got = await sample(p, sink)
            t = thread(got, job.id)
            assert t is not None
            for value in (t.info, t.user, t.host, t.db, t.state, t.command):
                assert is_clean(value), value
            assert "\\x1b[2J\\x1b[H" in t.info and "<U+202E>gnp.exe" in t.info
            assert "\\x9b31m" in t.info and "<U+2028>" in t.info
            assert "\n" not in t.info and "\r" not in t.info and "two next ?? */" in t.info
            assert t.user == "ev\\x1b[31mil<U+202E>" + "x" * 20
            # the SHOW FULL PROCESSLIST path (MySQL) sends the bytes as they came
            session = p._session
            assert session is not None
            session.mariadb = False
            shown = await sample(p, sink)
            u = thread(shown, job.id)
            assert u is not None and is_clean(u.info) and "\ufffd\ufffd" in u.info
            assert u.time == int(u.time)  # whole seconds there
            assert thread(shown, p.connection_id or 0) is None
    finally:
        job.stop()


async def test_huge_statements_are_cut(mariadb: MariaDB) -> None:
    big = "SELECT SLEEP(30), '" + "z" * 40_000 + "'"
    job = mariadb.run_query_in_background(big)
    try:
        async with poller(mariadb.target) as (p, sink):
            got = await sample(p, sink)
            t = thread(got, job.id)
            assert t is not None and len(t.info) == 16 * 1024 and t.info.endswith("[cut]")
    finally:
        job.stop()


async def test_rows_past_the_cap_are_counted(mariadb: MariaDB) -> None:
    jobs = [mariadb.run_query_in_background(f"SELECT SLEEP({30 + n})") for n in range(4)]
    try:
        async with poller(mariadb.target, max_threads=2) as (p, sink):
            got = await sample(p, sink)
            assert len(got.threads) == 2
            assert got.truncated >= 2
            assert got.threads[0].time >= got.threads[1].time
            assert all(t.running for t in got.threads)
    finally:
        for job in jobs:
            job.stop()


async def test_my_cnf_gives_the_login_and_a_loose_file_is_warned_about(
    mariadb: MariaDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = mariadb.create_user(process=True, password="from-cnf")
    cnf = tmp_path / ".my.cnf"
    cnf.write_text(f"[client]\nuser = {user.name}\npassword = from-cnf\n")
    cnf.chmod(0o644)
    monkeypatch.setenv("HOME", str(tmp_path))
    sink = MemorySink()
    p = MysqlPoller(mariadb.target, sink)  # no user, no password: ~/.my.cnf's
    try:
        await sample(p, sink)
        assert p.login is not None
        assert (p.login.user, p.login.user_from) == (user.name, "~/.my.cnf:2 user")
        assert p.login.password_from == "~/.my.cnf:3 password"
        hint = sink.states[-1].hint
        assert "~/.my.cnf holds a MySQL password and anyone on this machine can read it" in hint
        assert "chmod 600 ~/.my.cnf" in hint and "from-cnf" not in hint
    finally:
        p.close()


async def test_hostile_my_cnf_values_are_cleaned_in_the_message(
    mariadb: MariaDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cnf = tmp_path / ".my.cnf"
    cnf.write_text("[client]\nuser = ev\x1b[31mil\u202e\x07\npassword = \x1b]0;pw\x07\n")
    cnf.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    sink = MemorySink()
    p = MysqlPoller(mariadb.target, sink)
    try:
        assert await p.poll_once() is None
    finally:
        p.close()
    state = sink.states[-1]
    assert state.status == "auth"
    assert is_clean(state.message) and is_clean(state.hint)
    assert "'ev\\x1b[31mil<U+202E>\\x07'" in state.message
    assert "~/.my.cnf:2 user" in state.message and "~/.my.cnf:3 password" in state.message
    assert "]0;pw" not in state.message + state.hint
