from __future__ import annotations

from pathlib import Path

import pytest

from console.core.config import ConfigError, LogSpec, load, parse_log_arg


def write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return str(p)


def test_defaults_without_a_file(tmp_path: Path) -> None:
    cfg = load(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert cfg.discover is True
    assert cfg.status_url is None
    assert cfg.max_records == 20_000
    assert cfg.warnings == ()


def test_file_values_and_logs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
timezone = "Europe/Berlin"
[status]
url = "http://127.0.0.1:8080/server-status"
user = "ops"
password = "pw"
interval = 2
[[log]]
path = "/srv/app/php.log"
kind = "php-error"
name = "app"
[keys]
quit = "ctrl+q"
""",
    )
    cfg = load(path, env={})
    assert cfg.status_url == "http://127.0.0.1:8080/server-status"
    assert cfg.status_user == "ops" and cfg.status_password == "pw"
    assert cfg.status_interval == 2
    assert cfg.timezone == "Europe/Berlin"
    assert cfg.logs == (LogSpec(path="/srv/app/php.log", kind="php-error", name="app"),)
    assert cfg.keys == {"quit": "ctrl+q"}
    assert "pw" not in repr(cfg)


def test_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[status]\nurl = "http://file/server-status"\n')
    env = {"LAMPTOP_STATUS_URL": "http://env/server-status", "LAMPTOP_STATUS_PASSWORD": "s3"}
    assert load(path, env=env).status_url == "http://env/server-status"
    assert load(path, env=env).status_password == "s3"
    cfg = load(path, env=env, overrides={"status_url": "http://flag/server-status"})
    assert cfg.status_url == "http://flag/server-status"
    assert load(path, env={}).status_url == "http://file/server-status"


def test_unknown_keys_warn_and_name_the_key(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, 'colour = "red"\n[status]\nurll = "x"\n'), env={})
    assert any("colour" in w for w in cfg.warnings)
    assert any("status.urll" in w for w in cfg.warnings)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[status]\ninterval = "fast"\n', "status.interval"),
        ("discover = 1\n", "discover"),
        ("[recorder]\nmax_records = true\n", "recorder.max_records"),
        ('[[log]]\nkind = "php-error"\n', "path"),
        ('[[log]]\npath = "/x"\nkind = "nginx"\n', "nginx"),
        ("[status\n", "config.toml"),
        ("[status]\ninterval = 0\n", "greater than 0"),
    ],
)
def test_bad_values_are_errors_that_say_where(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text), env={})
    assert needle in str(err.value)


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load(str(tmp_path / "nope.toml"), env={})


def test_log_flag() -> None:
    assert parse_log_arg("/a/b.log=php-error") == LogSpec("/a/b.log", kind="php-error")
    assert parse_log_arg("/a/b=c.log") == LogSpec("/a/b=c.log")
    with pytest.raises(ConfigError, match="unknown kind"):
        parse_log_arg("/a/b.log=nginx")
