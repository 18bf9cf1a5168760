"""The remote hosts a console follows (``--remote DEST``, ``[[remote]]``) and how it reaches them.

A destination goes into ssh's argument list and a remote command into the remote shell, so
both are checked here, before anything runs:

* a **destination** is what ``ssh`` takes (``web1``, ``admin@web1.example``, a ``Host`` alias
  of an ssh config file). It must not start with ``-`` (``-oProxyCommand=...`` would be an
  option, not a host), and holds only letters, digits and ``._-+%@``: no whitespace, control
  or format character, nor ``:`` (the console tags a host's sources ``web1:apache-access``;
  an ``ssh://`` URL or an IPv6 address is given a ``Host`` alias in the ssh config instead);
* a **remote command** (``lamptop``, ``/opt/lamptop/bin/lamptop``, ``sudo -n lamptop``) is
  split into words the way a shell would (:func:`shlex.split`) and each word is quoted again
  for the remote shell (:func:`remote_argv`), so no word of it, nor ``record --stream``,
  is read by that shell as anything but a word.

The config file says the same as the flags::

    [ssh]
    config = "~/.ssh/lamptop_config"   # passed to ssh as -F
    command = "/opt/lamptop/bin/lamptop"
    local = false                       # leave this host out

    [[remote]]
    dest = "web1"

    [[remote]]
    dest = "web2"
    command = "sudo -n lamptop"
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_COMMAND = "lamptop"
"""The remote lamptop, found on the remote user's ``PATH``."""
MAX_DEST = 255
"""Longest destination accepted (a host name is at most 253, a user name 32)."""
MAX_COMMAND = 1024
"""Longest remote command accepted."""
MAX_REMOTES = 64
"""Remote hosts one console follows at most."""
STREAM_ARGS = ("record", "--stream")
"""What the remote lamptop is asked to run."""


_DEST = re.compile(r"[A-Za-z0-9._%+@-]+")


class RemoteError(ValueError):
    """A destination, remote command or ``[ssh]`` / ``[[remote]]`` value that cannot be used."""


@dataclass(frozen=True, slots=True)
class RemoteSpec:
    """One remote host: where ssh goes and what it runs there."""

    dest: str
    """The ssh destination as given; also the host's name in the console."""
    command: str | None = None
    """The remote lamptop for this host; None: the default (``[ssh] command``, the flag)."""

    @property
    def name(self) -> str:
        return self.dest


def _shown(text: str) -> str:
    return repr(text[:60] + ("…" if len(text) > 60 else ""))


def _bad_char(text: str) -> str | None:
    """The first character of ``text`` that may not be in a destination or command, or None."""
    for ch in text:
        if ch.isspace() and ch != " ":
            return ch
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return ch
    return None


def check_dest(dest: Any, where: str = "--remote") -> str:
    """``dest`` when it can be handed to ssh as a destination; :class:`RemoteError` saying why
    not."""
    if not isinstance(dest, str):
        raise RemoteError(f"{where}: expected a destination string, got {type(dest).__name__}")
    if not dest:
        raise RemoteError(f"{where}: an empty destination")
    if len(dest) > MAX_DEST:
        raise RemoteError(f"{where}: destination longer than {MAX_DEST} characters")
    if dest.startswith("-"):
        raise RemoteError(
            f"{where} {_shown(dest)}: a destination may not start with '-' "
            "(ssh would read it as an option)"
        )
    bad = _bad_char(dest)
    if bad is not None or " " in dest:
        what = "a space" if bad is None else f"the character U+{ord(bad):04X}"
        raise RemoteError(f"{where} {_shown(dest)}: {what} in a destination")
    if ":" in dest:
        raise RemoteError(
            f"{where} {_shown(dest)}: no ':' in a destination (give the host a Host alias with "
            "its Port in an ssh config file and name the alias)"
        )
    if not _DEST.fullmatch(dest):
        raise RemoteError(
            f"{where} {_shown(dest)}: a destination is [user@]host, of letters, digits and "
            "'.', '_', '-', '+', '%', '@' (a Host alias of an ssh config file for anything else)"
        )
    return dest


def command_words(command: Any, where: str = "--remote-command") -> list[str]:
    """The words of a remote command (``sudo -n lamptop``: three), or :class:`RemoteError`."""
    if not isinstance(command, str):
        raise RemoteError(f"{where}: expected a command string, got {type(command).__name__}")
    if len(command) > MAX_COMMAND:
        raise RemoteError(f"{where}: longer than {MAX_COMMAND} characters")
    bad = _bad_char(command)
    if bad is not None:
        raise RemoteError(f"{where}: the character U+{ord(bad):04X} in the command")
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise RemoteError(f"{where} {_shown(command)}: {exc}") from None
    if not words:
        raise RemoteError(f"{where}: an empty command")
    return words


def remote_argv(command: str) -> str:
    """The command line the remote shell runs: the command's words and ``record --stream``,
    each quoted for that shell."""
    return shlex.join([*command_words(command), *STREAM_ARGS])


def ssh_argv(
    dest: str, command: str, *, ssh_config: str | None = None, ssh: str = "ssh"
) -> list[str]:
    """``ssh -T -o BatchMode=yes [-F CONFIG] DEST -- REMOTE_COMMAND``: no terminal, never a
    password prompt (keys, the agent, the user's config and known_hosts only)."""
    argv = [ssh, "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]
    if ssh_config:
        argv += ["-F", ssh_config]
    argv += [check_dest(dest), "--", remote_argv(command)]
    return argv


@dataclass(frozen=True, slots=True)
class RemoteSettings:
    """What the config file's ``[ssh]`` and ``[[remote]]`` say."""

    remotes: tuple[RemoteSpec, ...] = ()
    ssh_config: str | None = None
    command: str | None = None
    local: bool | None = None


def _str(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RemoteError(f"{where}.{key}: expected a string, got {value!r:.40}")
    return value


def read_settings(
    ssh: Any, remote: Any, warnings: list[str], origin: str = "config"
) -> RemoteSettings:
    """The ``[ssh]`` table and ``[[remote]]`` entries of a config file (None when absent)."""
    settings = RemoteSettings()
    if ssh is not None:
        if not isinstance(ssh, dict):
            raise RemoteError("[ssh] must be a table: config, command, local")
        for key in ssh:
            if key not in ("config", "command", "local"):
                warnings.append(f"{origin}: unknown key ssh.{key} (ignored)")
        local = ssh.get("local")
        if local is not None and not isinstance(local, bool):
            raise RemoteError(f"ssh.local: expected true or false, got {local!r:.40}")
        command = _str(ssh, "command", "ssh")
        if command is not None:
            command_words(command, "ssh.command")
        config = _str(ssh, "config", "ssh")
        if config == "":
            raise RemoteError("ssh.config: an empty path")
        settings = RemoteSettings(ssh_config=config, command=command, local=local)
    if remote is None:
        return settings
    if not isinstance(remote, list):
        raise RemoteError('remote hosts are [[remote]] tables: [[remote]] dest = "web1"')
    specs: list[RemoteSpec] = []
    for i, item in enumerate(remote, 1):
        if not isinstance(item, dict) or "dest" not in item:
            raise RemoteError(f'[[remote]] number {i}: needs dest = "..."')
        for key in item:
            if key not in ("dest", "command"):
                warnings.append(f"{origin}: unknown key remote.{key} (ignored)")
        dest = check_dest(item["dest"], f"[[remote]] number {i}: dest")
        command = _str(item, "command", f"[[remote]] {dest}")
        if command is not None:
            command_words(command, f"[[remote]] {dest}: command")
        if any(s.dest == dest for s in specs):
            raise RemoteError(f"[[remote]] {dest}: given twice")
        specs.append(RemoteSpec(dest, command))
    return RemoteSettings(tuple(specs), settings.ssh_config, settings.command, settings.local)


def merge(configured: Sequence[RemoteSpec], given: Sequence[str]) -> tuple[RemoteSpec, ...]:
    """The config file's remotes, then those given by flag (a destination named in both keeps
    the config's command); :class:`RemoteError` on too many."""
    out = list(configured)
    seen = {s.dest for s in out}
    for dest in given:
        if check_dest(dest) not in seen:
            out.append(RemoteSpec(dest))
            seen.add(dest)
    if len(out) > MAX_REMOTES:
        raise RemoteError(f"{len(out)} remote hosts: at most {MAX_REMOTES}")
    return tuple(out)
