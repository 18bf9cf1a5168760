"""Remote hosts as the config file and the flags give them: checked before ssh ever runs."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from console.cli import build_parser, config_from_args
from console.commands.remote_flags import argv_for
from console.commands.sources import remotes_report
from console.core.config import ConfigError, load
from console.core.remotes import (
    RemoteError,
    RemoteSpec,
    check_dest,
    command_words,
    remote_argv,
    ssh_argv,
)
from tests.support.hostile import HOSTILE


def _cfg(tmp_path: Path, text: str, *flags: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(text)
    args = build_parser().parse_args(["--config", str(path), *flags])
    return config_from_args(args)


def test_remote_entries_and_the_ssh_table_from_the_config_file(tmp_path: Path) -> None:
    ssh_conf = tmp_path / "ssh_config"
    ssh_conf.write_text("Host web1\n")
    cfg = _cfg(
        tmp_path,
        f"""
[ssh]
config = "{ssh_conf}"
command = "/opt/lamptop/bin/lamptop"
local = false
[[remote]]
dest = "web1"
[[remote]]
dest = "admin@web2.example"
command = "sudo -n lamptop"
""",
    )
    assert cfg.remotes == (RemoteSpec("web1"), RemoteSpec("admin@web2.example", "sudo -n lamptop"))
    assert cfg.local is False and cfg.ssh_config == str(ssh_conf)
    assert argv_for(cfg, cfg.remotes[0]) == [
        "ssh", "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-F", str(ssh_conf),
        "web1", "--", "/opt/lamptop/bin/lamptop record --stream",
    ]  # fmt: skip
    assert argv_for(cfg, cfg.remotes[1])[-1] == "sudo -n lamptop record --stream"


def test_flags_add_hosts_and_win_over_the_file(tmp_path: Path) -> None:
    cfg = _cfg(
        tmp_path,
        '[ssh]\ncommand = "old"\n[[remote]]\ndest = "web1"\ncommand = "mine"\n',
        "--remote", "web2", "--remote", "web1", "--remote-command", "/usr/local/bin/lamptop",
        "--no-local",
    )  # fmt: skip
    assert [s.dest for s in cfg.remotes] == ["web1", "web2"]
    assert cfg.remotes[0].command == "mine"  # the file's own for that host
    assert cfg.remote_command == "/usr/local/bin/lamptop" and cfg.local is False
    report = remotes_report(cfg)
    assert [r["command"] for r in report] == ["mine", "/usr/local/bin/lamptop"]


def test_defaults_local_host_and_lamptop_on_the_path(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "", "--remote", "web1")
    assert cfg.local is True and cfg.remote_command == "lamptop" and cfg.ssh_config is None
    assert argv_for(cfg, cfg.remotes[0])[-3:] == ["web1", "--", "lamptop record --stream"]


@pytest.mark.parametrize(
    "dest",
    [
        "-oProxyCommand=touch /tmp/owned",
        "-F/etc/passwd",
        "--",
        "",
        "web1 -oProxyCommand=x",
        "web1\n-oProxyCommand=x",
        "web1\t",
        "web\x1b[2J1",
        "web\u202e1",
        "web\x001",
        "ssh://web1:22",
        "::1",
        "w" * 256,
        *HOSTILE,
    ],
)
def test_destinations_that_could_be_options_or_break_a_line_are_refused(dest: str) -> None:
    with pytest.raises(RemoteError) as caught:
        check_dest(dest)
    assert "\x1b" not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("dest", ["-oProxyCommand=x", "we b", "web\x1b1", "a:b"])
def test_a_bad_destination_is_a_config_error_by_flag_and_by_file(tmp_path: Path, dest: str) -> None:
    with pytest.raises(ConfigError, match="destination|start with"):
        _cfg(tmp_path, "", f"--remote={dest}")
    escaped = dest.replace("\x1b", "\\u001b")
    with pytest.raises(ConfigError, match="remote"):
        _cfg(tmp_path, f'[[remote]]\ndest = "{escaped}"\n')


@pytest.mark.parametrize(
    "dest", ["web1", "admin@web1.example", "web-1_a.b", "10.0.0.7", "user@10.0.0.7", "fleet-a"]
)
def test_ordinary_destinations_pass(dest: str) -> None:
    assert check_dest(dest) == dest


def test_the_remote_command_is_quoted_word_by_word_for_the_remote_shell() -> None:
    assert remote_argv("lamptop") == "lamptop record --stream"
    hostile = "lamptop; rm -rf ~ && echo $(id) `id` > /tmp/x"
    line = remote_argv(f"'{hostile}'")
    assert shlex.split(line) == [hostile, "record", "--stream"]  # one word, nothing run
    assert remote_argv("/opt/my lamptop/bin/lamptop".replace(" ", "\\ ")).startswith(
        "'/opt/my lamptop/bin/lamptop'"
    )
    argv = ssh_argv("web1", "sudo -n lamptop")
    assert argv[-2:] == ["--", "sudo -n lamptop record --stream"]


@pytest.mark.parametrize(
    "command", ["", "   ", "lamptop 'unclosed", "lamp\x1btop", "lamp\ntop", "x" * 2000]
)
def test_bad_remote_commands_are_refused(tmp_path: Path, command: str) -> None:
    with pytest.raises(RemoteError):
        command_words(command)
    with pytest.raises(ConfigError):
        _cfg(tmp_path, "", "--remote", "web1", f"--remote-command={command}")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[ssh]\nlocal = 1\n", "ssh.local"),
        ('[ssh]\nconfig = ""\n', "ssh.config"),
        ("[ssh]\ncommand = 3\n", "ssh.command"),
        ('ssh = "x"\n', "[ssh] must be a table"),
        ('[remote]\ndest = "x"\n', "[[remote]] tables"),
        ("[[remote]]\ncommand = 'lamptop'\n", "needs dest"),
        ("[[remote]]\ndest = 7\n", "destination string"),
        ("[[remote]]\ndest = 'a'\n[[remote]]\ndest = 'a'\n", "given twice"),
        ("[[remote]]\ndest = 'a'\ncommand = \"'x\"\n", "quotation"),
    ],
)
def test_bad_config_values_say_which_and_why(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(str(path))
    assert words in str(caught.value)


def test_unknown_keys_warn_and_no_local_needs_a_host(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[ssh]\nport = 2\n[[remote]]\ndest = 'a'\nuser = 'x'\n")
    cfg = load(str(path))
    assert any("ssh.port" in w for w in cfg.warnings)
    assert any("remote.user" in w for w in cfg.warnings)
    with pytest.raises(ConfigError, match="needs a remote host"):
        _cfg(tmp_path, "", "--no-local")


def test_a_missing_ssh_config_file_is_said_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        _cfg(tmp_path, "", "--remote", "web1", "--ssh-config", str(tmp_path / "nope"))


def test_sources_lists_the_remote_hosts_with_their_ssh_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.cli import main

    conf = tmp_path / "empty.toml"
    conf.write_text("")
    flags = ["--config", str(conf), "--no-discover", "--remote", "web1", "--no-local"]
    assert main([*flags, "--remote-command", "/opt/lt/lamptop", "sources", "--no-probe"]) == 0
    out = capsys.readouterr().out
    assert "remote hosts (over ssh): (this host left out)" in out
    assert "web1           ssh -T -o BatchMode=yes -o ConnectTimeout=15 web1 -- " in out
    assert "'/opt/lt/lamptop record --stream'" in out


def test_record_on_a_host_takes_a_shared_config_whose_ssh_file_is_the_consoles(
    tmp_path: Path,
) -> None:
    # the same config.toml copied to every host names an ssh config that only the console's
    # machine has, and leaves the console's host out: `record --stream` there must still start

    conf = tmp_path / "shared.toml"
    conf.write_text(f"[ssh]\nconfig = '{tmp_path / 'nope'}'\nlocal = false\n")
    args = build_parser().parse_args(["--config", str(conf), "record", "--stream"])
    assert config_from_args(args).remotes == ()  # loads: nothing of several hosts checked
    console = build_parser().parse_args(["--config", str(conf), "--remote", "web1"])
    with pytest.raises(ConfigError, match="no such file"):
        config_from_args(console)
