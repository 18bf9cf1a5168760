"""The MySQL target: ``unix:PATH`` or ``mysql://user@host:port``, never a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import build_parser, config_from_args
from console.core.config import ConfigError, load
from console.core.mysqltarget import MysqlTarget, TargetError, parse_target
from console.core.text import is_clean
from tests.support.cli import lamptop


@pytest.mark.parametrize(
    ("given", "want"),
    [
        ("unix:/run/mysqld/mysqld.sock", MysqlTarget(socket="/run/mysqld/mysqld.sock")),
        ("unix:///run/mysqld/mysqld.sock", MysqlTarget(socket="/run/mysqld/mysqld.sock")),
        ("/var/lib/mysql/mysql.sock", MysqlTarget(socket="/var/lib/mysql/mysql.sock")),
        (
            "mysql://lamptop@db.example:3307",
            MysqlTarget(host="db.example", port=3307, user="lamptop"),
        ),
        ("mysql://127.0.0.1", MysqlTarget(host="127.0.0.1", port=3306)),
        ("mysql://ops%40corp@[::1]:3306/", MysqlTarget(host="::1", port=3306, user="ops@corp")),
    ],
)
def test_targets_lamptop_reads(given: str, want: MysqlTarget) -> None:
    assert parse_target(given) == want


def test_targets_are_shown_without_surprises() -> None:
    assert parse_target("unix:/run/mysqld/mysqld.sock").shown == "unix:/run/mysqld/mysqld.sock"
    assert parse_target("mysql://ops@[::1]:3307").shown == "mysql://ops@[::1]:3307"
    assert parse_target("mysql://ops@[::1]:3307").where == "[::1]:3307"
    hostile = parse_target("unix:/tmp/\x1b[2J\u202e.sock")
    assert hostile.socket == "/tmp/\x1b[2J\u202e.sock"  # the path to open, as given
    assert is_clean(hostile.shown) and "\\x1b[2J<U+202E>" in hostile.shown


def test_a_password_in_the_target_is_refused_and_never_repeated() -> None:
    with pytest.raises(TargetError) as caught:
        parse_target("mysql://root:hunter2@127.0.0.1:3306")
    said = str(caught.value)
    assert "hunter2" not in said
    assert "ps" in said and "LAMPTOP_MYSQL_PASSWORD" in said and "~/.my.cnf" in said


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("", "empty"),
        ("unix:relative.sock", "absolute"),
        ("mysql://user@host:3306/shop", "database"),
        ("mysql://user@host:99999", "Port"),
        ("mysql://", "no host"),
        ("postgres://db", "not understood"),
        ("tcp:127.0.0.1:3306\x1b]0;owned\x07" + "x" * 5000, "not understood"),
    ],
)
def test_bad_targets_say_what_to_write(given: str, words: str) -> None:
    with pytest.raises(TargetError) as caught:
        parse_target(given)
    said = str(caught.value)
    assert words.lower() in said.lower()
    assert is_clean(said) and len(said) < 500


def test_the_config_file_and_the_flag_are_checked_at_load(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('[mysql]\nserver = "mysql://app:s3cret@db:3306"\n')
    conf.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        load(str(conf), env={})
    assert "s3cret" not in str(caught.value) and "password" in str(caught.value)
    with pytest.raises(ConfigError):
        load(None, env={"XDG_CONFIG_HOME": str(tmp_path)}, overrides={"mysql": "mysql://a:b@h"})
    cfg = load(None, env={"XDG_CONFIG_HOME": str(tmp_path)}, overrides={"mysql": "unix:/x.sock"})
    assert cfg.mysql == "unix:/x.sock"


def test_flags_reach_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for argv in (
        ["--mysql", "unix:/tmp/m.sock", "--mysql-user", "lamptop", "sources"],
        ["sources", "--mysql", "unix:/tmp/m.sock", "--mysql-user", "lamptop"],
        ["record", "--mysql", "unix:/tmp/m.sock", "--mysql-user", "lamptop"],
    ):
        cfg = config_from_args(build_parser().parse_args(argv))
        assert (cfg.mysql, cfg.mysql_user) == ("unix:/tmp/m.sock", "lamptop"), argv
    cfg = config_from_args(build_parser().parse_args(["sources"]))
    assert cfg.mysql is None and cfg.mysql_user is None


def test_the_command_line_refuses_a_password_in_mysql(tmp_path: Path) -> None:
    done = lamptop("sources", "--mysql", "mysql://root:hunter2@127.0.0.1", tmp=tmp_path)
    assert done.returncode == 2
    assert "hunter2" not in done.stderr + done.stdout
    assert "LAMPTOP_MYSQL_PASSWORD" in done.stderr
