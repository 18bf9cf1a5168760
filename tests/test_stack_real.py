"""The whole stack for real: Apache event + proxy_fcgi + php-fpm + MariaDB, private instances.

A PHP script run through Apache holds a php-fpm child while its query sleeps in MariaDB; the
three pollers read the three status sources, and the join links the request to its process
(Apache's worker, same URI) and its query (by the TCP port in the processlist's Host, or by
the times over the Unix socket). The PHP-FPM and MySQL rules fire on what the real servers
said.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from console.core.stack import FpmSample, MysqlSample
from console.incident.rules import RuleBook, build_rules
from console.sources.fpm.poll import FpmPoller
from console.sources.mysql.poll import MysqlPoller
from console.sources.status.poll import StatusPoller
from console.view.holds import holds
from tests.support.apache_server import ApacheServer, running_apache
from tests.support.fpm_server import FpmServer, running_fpm
from tests.support.helpers import MemorySink
from tests.support.mariadb_server import MariaDB, running_mariadb
from tests.support.wait import TIMEOUT

pytestmark = [pytest.mark.apache, pytest.mark.fpm, pytest.mark.mysql]

APP_USER, APP_PASSWORD, APP_DB = "app", "app-secret-1", "shop"

QUERY_PHP = """<?php
// Connect to MariaDB over TCP (?via=tcp) or its Unix socket (?via=socket), allocate some
// memory, and run SELECT SLEEP(?s=) there: a PHP request held by its query.
$s = max(0.0, min(30.0, (float) ($_GET['s'] ?? 5)));
if (($_GET['via'] ?? 'tcp') === 'tcp') {
    $db = new mysqli('127.0.0.1', '%(user)s', '%(password)s', '%(db)s', %(port)d);
} else {
    $db = new mysqli('localhost', '%(user)s', '%(password)s', '%(db)s', 0, '%(socket)s');
}
$block = str_repeat('x', 6 * 1024 * 1024);
$db->query("SELECT SLEEP($s) /* lamptop join */");
header('Content-Type: text/plain');
echo 'done ', strlen($block), "\\n";
"""


@dataclass
class Stack:
    apache: ApacheServer
    fpm: FpmServer
    db: MariaDB
    lamptop_user: str
    lamptop_password: str

    def get(self, path: str, answers: list[int]) -> threading.Thread:
        def run() -> None:
            answers.append(requests.get(self.apache.url + path, timeout=60).status_code)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def _stack(max_children: int, max_connections: int = 100) -> Iterator[Stack]:
    with (
        running_mariadb(max_connections=max_connections) as db,
        running_fpm(
            max_children=max_children, status_listen=True, extensions=("mysqlnd", "mysqli")
        ) as fpm,
        running_apache("event", fpm_socket=fpm.socket) as apache,
    ):
        db.root.chmod(0o755)  # php-fpm's children (www-data) reach the socket
        db.query(f"CREATE DATABASE {APP_DB}")
        db.query("CREATE USER %s@'%%' IDENTIFIED BY %s", (APP_USER, APP_PASSWORD))
        db.query("CREATE USER %s@'localhost' IDENTIFIED BY %s", (APP_USER, APP_PASSWORD))
        for host in ("%", "localhost"):
            db.query(f"GRANT ALL ON {APP_DB}.* TO %s@%s", (APP_USER, host))
        me = db.create_user(process=True, password="lamptop-pw-2")
        script = QUERY_PHP % {
            "user": APP_USER,
            "password": APP_PASSWORD,
            "db": APP_DB,
            "port": db.port,
            "socket": db.socket,
        }
        (apache.docroot / "query.php").write_text(script, encoding="utf-8")
        (apache.docroot / "query.php").chmod(0o644)
        yield Stack(apache, fpm, db, me.name, me.password or "")


@pytest.fixture
def stack() -> Iterator[Stack]:
    yield from _stack(max_children=3)


async def until(poll: Callable[[], Any], check: Callable[[Any], object], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    got = None
    while time.monotonic() < deadline:
        got = await poll()
        if got is not None and check(got):
            return got
        await asyncio.sleep(0.2)
    raise AssertionError(f"not reached: {what} (last: {got})")


def _sleeping(sample: MysqlSample, n: int) -> bool:
    return sum(1 for t in sample.running if "lamptop join" in t.info and t.time >= 1) >= n


async def test_a_php_request_is_joined_to_its_apache_worker_and_its_query(stack: Stack) -> None:
    sink = MemorySink()
    fpm = FpmPoller(stack.fpm.status_target, sink, name="php-fpm:www", interval=0.2)
    mysql = MysqlPoller(
        stack.db.target, sink, user=stack.lamptop_user, password=stack.lamptop_password
    )
    status = StatusPoller(stack.apache.status_url, sink, interval=0.2)
    answers: list[int] = []
    threads = [
        stack.get("query.php?via=tcp&s=6", answers),
        stack.get("query.php?via=socket&s=6", answers),
    ]
    try:
        db_sample: MysqlSample = await until(
            mysql.poll_once, lambda s: _sleeping(s, 2), "both queries sleeping in MariaDB"
        )
        pool: FpmSample = await until(
            fpm.poll_once, lambda s: len(s.busy) >= 2, "both PHP requests busy in php-fpm"
        )
        await status.poll_once()
        web = sink.status[-1]
        found = {h.process.uri: h for h in holds([pool], web, db_sample)}
    finally:
        for t in threads:
            t.join(timeout=30)
        fpm.close()
        mysql.close()
    assert answers == [200, 200]
    tcp, sock = found["/query.php?via=tcp&s=6"], found["/query.php?via=socket&s=6"]
    # the request through Apache: its worker, same URI, client 127.0.0.1
    assert tcp.worker is not None and tcp.client == "127.0.0.1"
    assert sock.worker is not None and sock.worker is not tcp.worker
    # the TCP query is found by its port: exactly
    assert tcp.query is not None and tcp.exact, tcp
    assert "SLEEP(6)" in tcp.query.info and tcp.query.user == APP_USER
    assert tcp.query.host.startswith("127.0.0.1:")
    assert any(port == int(tcp.query.host.rsplit(":", 1)[1]) for port, _ in tcp.process.tcp)
    # the socket query has no port: paired by time, and said to be
    assert sock.query is not None and not sock.exact
    assert sock.query.host == "localhost" and sock.query.id != tcp.query.id
    assert "≈mysql" in sock.describe() and "≈" not in tcp.describe()


async def test_php_fpm_rules_fire_when_the_real_pool_fills(stack: Stack) -> None:
    book = RuleBook(build_rules({}))
    sink = MemorySink()
    fpm = FpmPoller(stack.fpm.status_target, sink, name="php-fpm:www", interval=0.2)
    first = await fpm.poll_once()
    assert first is not None and not book.on_fpm(first)
    answers: list[int] = []
    held = [stack.get("sleep.php?s=8", answers) for _ in range(4)]  # one more than children
    fired: list[str] = []
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and "fpm_max_children" not in fired:
            sample = await fpm.poll_once()
            if sample is not None:
                fired += [t.rule or "" for t in book.on_fpm(sample)]
            await asyncio.sleep(0.2)
    finally:
        for t in held:
            t.join(timeout=30)
        fpm.close()
    assert "fpm_max_children" in fired
    trigger = next(t for t in book.fired if t.rule == "fpm_max_children")
    assert "www" in trigger.message and "/sleep.php?s=8" in trigger.message


async def test_mysql_connection_rule_fires_on_the_real_server() -> None:
    with running_mariadb(max_connections=10) as db:
        me = db.create_user(process=True, password="pw-3")
        sink = MemorySink()
        mysql = MysqlPoller(db.target, sink, user=me.name, password=me.password)
        book = RuleBook(build_rules({}))
        first = await mysql.poll_once()
        assert first is not None and not book.on_mysql(first)
        extra = [db.connect() for _ in range(8)]  # 9 of 10 with lamptop's own
        try:
            sample = await until(mysql.poll_once, lambda s: s.connected >= 9, "nine connections")
            fired = book.on_mysql(sample)
        finally:
            for conn in extra:
                conn.close()
            mysql.close()
        assert [t.rule for t in fired] == ["mysql_connections_high"]
        assert "of 10" in fired[0].message or "/10" in fired[0].message, fired[0].message


async def test_mysql_long_query_rule_fires_on_the_real_server() -> None:
    with running_mariadb() as db:
        me = db.create_user(process=True, password="pw-4")
        sink = MemorySink()
        mysql = MysqlPoller(db.target, sink, user=me.name, password=me.password)
        book = RuleBook(build_rules({"mysql_long_query": {"seconds": 2.0}}))
        background = db.run_query_in_background("SELECT SLEEP(20) /* long one */")
        try:
            sample = await until(
                mysql.poll_once,
                lambda s: any(t.time >= 2.2 and "long one" in t.info for t in s.running),
                "the query past 2 s",
            )
            fired = book.on_mysql(sample)
        finally:
            background.stop()
            mysql.close()
    assert [t.rule for t in fired] == ["mysql_long_query"]
    assert "SLEEP(20)" in fired[0].message
