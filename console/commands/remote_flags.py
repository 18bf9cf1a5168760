"""The flags of several hosts: ``--remote DEST``, ``--remote-command``, ``--ssh-config``,
``--no-local``, and how they join the config file's ``[ssh]`` and ``[[remote]]``
(:mod:`console.core.remotes`): flags win, destinations of both are followed."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from console.core.config import Config, ConfigError
from console.core.remotes import (
    DEFAULT_COMMAND,
    RemoteError,
    RemoteSpec,
    command_words,
    merge,
    ssh_argv,
)


def add_remote_flags(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """The flags on the console (and on ``sources``, which lists the hosts)."""
    g = p.add_argument_group("several hosts (over ssh)")
    kw: dict[str, Any] = {"default": argparse.SUPPRESS} if sub else {}
    g.add_argument(
        "--remote",
        action="append",
        metavar="DEST",
        help="follow this host too (repeatable): an ssh destination as in ~/.ssh/config; "
        "it runs `lamptop record --stream` there over `ssh -T -o BatchMode=yes`",
        **kw,
    )
    g.add_argument(
        "--remote-command",
        metavar="CMD",
        help=f"the lamptop to run on remote hosts (default: {DEFAULT_COMMAND})",
        **kw,
    )
    g.add_argument(
        "--ssh-config", metavar="FILE", help="an ssh config file, passed to ssh as -F", **kw
    )
    g.add_argument(
        "--no-local", action="store_true", help="with --remote: leave this host out", **kw
    )


def with_remote_flags(cfg: Config, args: argparse.Namespace) -> Config:
    """``cfg`` with the flags of several hosts applied; :class:`ConfigError` for a bad value.
    Commands without those flags (``record``, ``parse``…) take ``cfg`` as it is: a config file
    shared with the hosts may name an ssh config that only the console's machine has."""
    if getattr(args, "command", None) not in (None, "sources"):
        return cfg
    try:
        remotes = merge(cfg.remotes, getattr(args, "remote", None) or ())
        command = getattr(args, "remote_command", None)
        if command is not None:
            command_words(command)
        cfg = replace(cfg, remotes=remotes, remote_command=command or cfg.remote_command)
    except RemoteError as exc:
        raise ConfigError(str(exc)) from None
    ssh_config = getattr(args, "ssh_config", None) or cfg.ssh_config
    if ssh_config:
        ssh_config = check_ssh_config(ssh_config)
    cfg = replace(cfg, ssh_config=ssh_config)
    if getattr(args, "no_local", False):
        cfg = replace(cfg, local=False)
    if not cfg.local and not cfg.remotes:
        raise ConfigError("--no-local (or [ssh] local = false) needs a remote host: --remote DEST")
    return cfg


def check_ssh_config(path: str) -> str:
    """The ssh config file's path (``~`` expanded) when it is a readable file."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"ssh config {path}: no such file")
    if not os.access(p, os.R_OK):
        raise ConfigError(f"ssh config {path}: not readable")
    return str(p)


def argv_for(cfg: Config, spec: RemoteSpec) -> list[str]:
    """The ssh command line of one remote host."""
    return ssh_argv(spec.dest, spec.command or cfg.remote_command, ssh_config=cfg.ssh_config)
