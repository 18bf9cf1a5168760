"""Where the MySQL server listens (my.cnf), and who lamptop logs in as (~/.my.cnf)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.core.config import Config
from console.discover import discover
from console.discover.mycnf import ClientCnf, CnfValue, Login, pick_login, read_client_cnf
from console.discover.mysql import read_mysql_server
from console.sources.plan import GIVEN, make_plan
from tests.test_discover import RHEL, debian_mariadb, put

# -- the server's socket -----------------------------------------------------------------------


def test_debian_socket_from_mariadb_cnf(tmp_path: Path) -> None:
    debian_mariadb(tmp_path)
    server = read_mysql_server(str(tmp_path))
    assert server is not None
    assert server.socket == str(tmp_path / "run/mysqld/mysqld.sock")
    assert server.origin == "mysql/my.cnf:15 socket"
    assert (server.port, server.networking) == (3306, True)
    assert discover(str(tmp_path)).mysql == server


def test_rhel_socket_from_the_server_section(tmp_path: Path) -> None:
    put(tmp_path, "/etc/my.cnf", RHEL / "my.cnf")
    put(tmp_path, "/etc/my.cnf.d/mariadb-server.cnf", RHEL / "mariadb-server.cnf")
    server = read_mysql_server(str(tmp_path))
    assert server is not None
    assert server.socket == str(tmp_path / "var/lib/mysql/mysql.sock")
    assert server.origin == "my.cnf.d/mariadb-server.cnf:18 socket"


def test_the_server_section_wins_over_the_client_one(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/mysql/my.cnf",
        "[client]\nsocket = /tmp/client.sock\nport = 3310\n"
        "[mysqld]\nsocket = /srv/db/server.sock\nport = 3307\nskip-networking\n",
    )
    server = read_mysql_server(str(tmp_path))
    assert server is not None
    assert server.socket == str(tmp_path / "srv/db/server.sock")
    assert (server.port, server.port_origin) == (3307, "mysql/my.cnf:6 port")
    assert server.networking is False


def test_a_relative_socket_is_in_the_datadir(tmp_path: Path) -> None:
    put(tmp_path, "/etc/my.cnf", "[mysqld]\ndatadir = /srv/mysql\nsocket = mysql.sock\n")
    server = read_mysql_server(str(tmp_path))
    assert server is not None and server.socket == str(tmp_path / "srv/mysql/mysql.sock")


def test_no_config_and_no_socket_is_no_server(tmp_path: Path) -> None:
    assert read_mysql_server(str(tmp_path)) is None
    assert discover(str(tmp_path)).mysql is None
    put(tmp_path, "/run/mysqld/mysqld.sock", "")  # a server with no my.cnf at all
    server = read_mysql_server(str(tmp_path))
    assert server is not None and server.origin == "default path"


def test_the_plan_takes_the_discovered_socket_unless_one_is_given(tmp_path: Path) -> None:
    debian_mariadb(tmp_path)
    plan = make_plan(Config(), root=str(tmp_path))
    assert plan.mysql == f"unix:{tmp_path}/run/mysqld/mysqld.sock"
    assert plan.mysql_origin == "mysql/my.cnf:15 socket"
    assert not plan.polls_mysql  # the server is not running: no socket there
    put(tmp_path, "/run/mysqld/mysqld.sock", "")
    assert make_plan(Config(), root=str(tmp_path)).polls_mysql
    given = make_plan(Config(mysql="unix:/nowhere/m.sock"), root=str(tmp_path))
    assert (given.mysql, given.mysql_origin, given.polls_mysql) == (
        "unix:/nowhere/m.sock",
        GIVEN,
        True,  # asked for: polled, and its state says the socket is missing
    )
    tcp = make_plan(Config(mysql="mysql://db:3306", discover=False), root=str(tmp_path))
    assert tcp.polls_mysql
    assert make_plan(Config(discover=False), root=str(tmp_path)).mysql is None


# -- the client's options ----------------------------------------------------------------------


def home_with(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    cnf = home / ".my.cnf"
    cnf.write_text(text)
    cnf.chmod(mode)
    return home


def test_home_cnf_gives_user_and_password(tmp_path: Path) -> None:
    home = home_with(
        tmp_path,
        '[mysqldump]\nuser = dumper\n[client]\nuser = ops\npassword = "se cret"  # quoted\n'
        "[mysql]\npassword = 'later wins'\n",
    )
    cnf = read_client_cnf(home=str(home), root=str(tmp_path))
    assert cnf.user == CnfValue("ops", "~/.my.cnf:4 user", str(home / ".my.cnf"))
    assert cnf.password is not None and cnf.password.value == "later wins"
    assert cnf.password.origin == "~/.my.cnf:7 password"
    assert cnf.warnings == ()


def test_client_mariadb_section_escapes_and_includes(tmp_path: Path) -> None:
    home = home_with(tmp_path, f"!include {tmp_path}/extra.cnf\n[client-mariadb]\nuser=a\\sb\n")
    (tmp_path / "extra.cnf").write_text("[client]\npassword = p\\\\q\\tr\n")
    (tmp_path / "extra.cnf").chmod(0o600)
    cnf = read_client_cnf(home=str(home), root=str(tmp_path))
    assert cnf.user is not None and cnf.user.value == "a b"
    assert cnf.password is not None and cnf.password.value == "p\\q\tr"
    assert cnf.password.origin == f"{tmp_path}/extra.cnf:2 password"


def test_the_system_files_come_before_home(tmp_path: Path) -> None:
    put(tmp_path, "/etc/mysql/my.cnf", "[client]\nuser = everyone\nsocket = /srv/m.sock\n")
    only_system = read_client_cnf(home=str(tmp_path / "nohome"), root=str(tmp_path))
    assert only_system.user is not None and only_system.user.value == "everyone"
    home = home_with(tmp_path, "[client]\nuser = me\n")
    cnf = read_client_cnf(home=str(home), root=str(tmp_path))
    assert cnf.user is not None and cnf.user.value == "me"
    assert cnf.socket is not None and cnf.socket.value == "/srv/m.sock"


def test_a_password_others_can_read_is_warned_about(tmp_path: Path) -> None:
    home = home_with(tmp_path, "[client]\npassword = pw\n", mode=0o644)
    cnf = read_client_cnf(home=str(home), root=str(tmp_path))
    assert cnf.password is not None  # still used, as the client does
    (warning,) = cnf.warnings
    assert "~/.my.cnf holds a MySQL password" in warning
    assert "anyone on this machine" in warning and "chmod 600 ~/.my.cnf" in warning
    (home / ".my.cnf").chmod(0o640)
    assert "its group" in read_client_cnf(home=str(home), root=str(tmp_path)).warnings[0]
    home_with(tmp_path, "[client]\nuser = nopassword\n", mode=0o644)
    assert read_client_cnf(home=str(home), root=str(tmp_path)).warnings == ()


def test_a_file_anyone_may_write_is_ignored_like_the_client_does(tmp_path: Path) -> None:
    home = home_with(tmp_path, "[client]\nuser = planted\n", mode=0o666)
    cnf = read_client_cnf(home=str(home), root=str(tmp_path))
    assert cnf.user is None
    assert "writable by anyone" in cnf.warnings[0] and "ignores it" in cnf.warnings[0]


HOSTILE_CNF = (
    "[client]\n"
    "user = evil\x1b[31m\u202e\x07" + "u" * 5000 + "\n"
    "password = \x1b]0;title\x07pw\n"
    "socket = /tmp/\x1b[2J.sock\n"
)


def test_hostile_values_are_kept_as_credentials_but_bounded(tmp_path: Path) -> None:
    home = home_with(tmp_path, HOSTILE_CNF)
    cnf = read_client_cnf(home=str(home), root=str(tmp_path))
    assert cnf.user is not None and cnf.user.value.startswith("evil\x1b[31m\u202e\x07")
    assert len(cnf.user.value) == 512
    assert cnf.password is not None and cnf.password.value == "\x1b]0;title\x07pw"


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    home = home_with(tmp_path, "[client]\nuser = big\n" + "# padding\n" * 200_000)
    assert read_client_cnf(home=str(home), root=str(tmp_path)).user is None


# -- the login ---------------------------------------------------------------------------------


def test_the_user_is_picked_as_the_client_picks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    cnf = ClientCnf(
        user=CnfValue("fromcnf", "~/.my.cnf:2 user", "/h/.my.cnf"),
        password=CnfValue("cnfpw", "~/.my.cnf:3 password", "/h/.my.cnf"),
        warnings=("a warning",),
    )
    monkeypatch.setenv("LOGNAME", "loginname")
    assert pick_login(url_user="url", cfg_user="flag", cfg_password=None, cnf=cnf) == Login(
        "url", "the target URL", "cnfpw", "~/.my.cnf:3 password", ("a warning",)
    )
    flag = pick_login(url_user=None, cfg_user="flag", cfg_password="env", cnf=cnf)
    assert (flag.user, flag.user_from) == ("flag", "--mysql-user / [mysql] user")
    assert (flag.password, flag.password_from) == (
        "env",
        "[mysql] password / LAMPTOP_MYSQL_PASSWORD",
    )
    from_cnf = pick_login(url_user=None, cfg_user=None, cfg_password=None, cnf=cnf)
    assert (from_cnf.user, from_cnf.user_from) == ("fromcnf", "~/.my.cnf:2 user")
    bare = pick_login(url_user=None, cfg_user=None, cfg_password=None, cnf=ClientCnf())
    assert bare == Login("loginname", "the login name", None, "")
