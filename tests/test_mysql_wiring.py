"""The MySQL source in the program: the engine builds it, ``lamptop sources`` and
``lamptop record`` show it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from console.core.config import Config
from console.core.recorder import Recorder
from console.sources.engine import Engine
from console.sources.mysql.poll import MysqlPoller
from console.sources.plan import GIVEN, Plan
from tests.support.cli import lamptop
from tests.support.mariadb_server import MariaDB
from tests.support.wait import async_wait_for


class Idle:
    """A system source that reads nothing."""

    async def run(self) -> None:
        await asyncio.Event().wait()


def test_the_engine_polls_a_given_server_and_a_discovered_socket_that_is_there(
    tmp_path: Path,
) -> None:
    cfg = Config(discover=False, mysql_interval=3.0, mysql_user="ops")

    def built(plan: Plan) -> MysqlPoller | None:
        engine = Engine(cfg, Recorder(), plan, system=Idle())
        pollers = [s for name, s in engine.sources if name == "mysql"]
        assert len(pollers) <= 1
        return pollers[0] if pollers and isinstance(pollers[0], MysqlPoller) else None

    given = built(Plan((), None, mysql="unix:/nowhere/m.sock", mysql_origin=GIVEN))
    assert given is not None and given.interval == 3.0 and given.user == "ops"
    assert given.shown == "unix:/nowhere/m.sock" and given.origin == GIVEN
    sock = tmp_path / "mysqld.sock"
    found = Plan((), None, mysql=f"unix:{sock}", mysql_origin="mysql/my.cnf:25 socket")
    assert built(found) is None  # no server here
    sock.write_text("")
    assert built(found) is not None
    assert built(Plan((), None)) is None


@pytest.mark.mysql
async def test_the_engine_records_samples(mariadb: MariaDB) -> None:
    cfg = Config(discover=False, mysql=mariadb.target, mysql_user="root", mysql_interval=0.1)
    recorder = Recorder()
    engine = Engine(
        cfg, recorder, Plan((), None, mysql=mariadb.target, mysql_origin=GIVEN), system=Idle()
    )
    task = asyncio.create_task(engine.run())
    try:
        await async_wait_for(lambda: len(recorder.mysql) >= 2, what="two MySQL samples")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    latest = recorder.snapshot().latest_mysql
    assert latest is not None and latest.source == "mysql" and latest.target == mariadb.target
    assert recorder.states["mysql"].status == "ok"


def env(tmp_path: Path, **more: str) -> dict[str, str]:
    """No ~/.my.cnf nor MySQL password of the machine's user."""
    return {"HOME": str(tmp_path), "LAMPTOP_MYSQL_PASSWORD": "", **more}


@pytest.mark.mysql
def test_sources_shows_the_server_and_who_logged_in(mariadb: MariaDB, tmp_path: Path) -> None:
    user = mariadb.create_user(process=True, password="env-pw")
    args = ("sources", "--no-discover", "--mysql", mariadb.target, "--mysql-user", user.name)
    done = lamptop(*args, tmp=tmp_path, env=env(tmp_path, LAMPTOP_MYSQL_PASSWORD="env-pw"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = lines.index("mysql:")
    assert lines[at + 1].startswith(f"  {mariadb.target}  ok: 10.")
    assert "MariaDB" in lines[at + 1] and "connections" in lines[at + 1]
    assert f"as '{user.name}' (--mysql-user / [mysql] user)" in lines[at + 1]
    assert lines[at + 2] == f"      from {GIVEN}"
    assert "env-pw" not in done.stdout
    shown = lamptop(*args, "--json", tmp=tmp_path, env=env(tmp_path, LAMPTOP_MYSQL_PASSWORD="x"))
    report = json.loads(shown.stdout)["mysql"]
    assert (report["target"], report["state"]) == (mariadb.target, "auth")
    assert f"access denied for user '{user.name}'" in report["detail"]
    assert "LAMPTOP_MYSQL_PASSWORD" in report["hint"]
    unasked = lamptop(*args, "--no-probe", tmp=tmp_path, env=env(tmp_path))
    assert "unknown: not asked (--no-probe)" in unasked.stdout


def test_sources_says_what_to_do_when_there_is_no_socket(tmp_path: Path) -> None:
    target = f"unix:{tmp_path}/mysqld.sock"
    done = lamptop("sources", "--no-discover", "--mysql", target, tmp=tmp_path, env=env(tmp_path))
    assert done.returncode == 1  # nothing at all is readable
    assert f"  {target}  missing: no MySQL socket at {tmp_path}/mysqld.sock" in done.stdout
    assert "      fix: systemctl status mariadb;" in done.stdout
    nothing = lamptop("sources", "--no-discover", "--json", tmp=tmp_path, env=env(tmp_path))
    report = json.loads(nothing.stdout)["mysql"]
    assert (report["target"], report["state"]) == (None, "missing")
    assert "--mysql" in report["hint"]


@pytest.mark.mysql
def test_record_prints_the_mysql_state(mariadb: MariaDB, tmp_path: Path) -> None:
    done = lamptop(
        "record",
        "--no-discover",
        "--mysql",
        mariadb.tcp_target("root"),
        "--duration",
        "2",
        tmp=tmp_path,
        env=env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "source mysql: ok" in done.stdout
