"""Settings: defaults, then the config file, then ``LAMPTOP_*`` variables, then flags.

The file is ``$XDG_CONFIG_HOME/lamptop/config.toml`` (``~/.config/lamptop/config.toml``) unless
``--config`` names another. Loading never writes a file. Unknown keys give a warning that names
them; a value of the wrong type is a :class:`ConfigError` with the key and what was expected.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from console.core.events import LOG_KINDS
from console.core.listen import ListenError, parse_listen
from console.core.mysqltarget import TargetError, parse_target
from console.core.remotes import DEFAULT_COMMAND, RemoteError, RemoteSpec, read_settings


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class LogSpec:
    """One log file to follow."""

    path: str
    """Path of the file (it may not exist yet)."""
    kind: str | None = None
    """Log format, one of ``LOG_KINDS``; None: detect from the content."""
    format: str | None = None
    """Apache ``LogFormat`` string or nickname, for ``apache-access`` logs."""
    name: str | None = None
    """Label shown in the log pane; default: derived from the path."""


@dataclass(frozen=True)
class Config:
    """Everything lamptop can be told. Every field has a default that works on Debian."""

    logs: tuple[LogSpec, ...] = ()
    """Logs to follow in addition to (or, with ``discover = false``, instead of) found ones."""
    discover: bool = True
    """Find logs and the status URL from the usual paths and the Apache, PHP, MySQL configs."""
    status_url: str | None = None
    """mod_status URL; None: discovered (``http://127.0.0.1/server-status``)."""
    status_user: str | None = None
    """Basic-auth user for the status URL."""
    status_password: str | None = field(default=None, repr=False)
    """Basic-auth password (or ``LAMPTOP_STATUS_PASSWORD``); never saved in bundles."""
    status_verify: bool = True
    """Verify HTTPS certificates of the status URL."""
    status_interval: float = 1.0
    """Seconds between status polls."""
    fpm_status: tuple[str, ...] = ()
    """PHP-FPM status pages: ``http://127.0.0.1/fpm-status`` (through the web server),
    ``unix:/run/php/php8.2-fpm.sock:/fpm-status`` or ``tcp:127.0.0.1:9000:/fpm-status``
    (FastCGI, straight to the pool); empty: every pool discovery finds with a status path."""
    fpm_interval: float = 1.0
    """Seconds between PHP-FPM status polls."""
    mysql: str | None = None
    """MySQL/MariaDB server: ``unix:/run/mysqld/mysqld.sock`` or ``mysql://user@host:3306``;
    None: the socket named in my.cnf, as the ``mysql`` client would pick it."""
    mysql_user: str | None = None
    """User for MySQL; None: ``~/.my.cnf``'s ``[client]`` user, else the login name."""
    mysql_password: str | None = field(default=None, repr=False)
    """Password for MySQL (or ``LAMPTOP_MYSQL_PASSWORD``, or ``~/.my.cnf``'s ``[client]``);
    never taken from the command line, never saved in bundles."""
    mysql_interval: float = 2.0
    """Seconds between MySQL processlist polls."""
    system_interval: float = 1.0
    """Seconds between memory and load readings."""
    scan_interval: float = 5.0
    """Seconds between process scans (per-service RSS, top processes)."""
    timezone: str | None = None
    """Zone of log timestamps written without one (Apache error log, MariaDB, php-fpm)."""
    max_records: int = 20_000
    """Log records kept in memory (all sources together)."""
    max_samples: int = 900
    """Status and system samples kept (900 = 15 minutes at 1 Hz)."""
    backfill_lines: int = 200
    """Lines read from the end of each log at start."""
    snapshot_dir: str | None = None
    """Where bundles go; None: ``$XDG_STATE_HOME/lamptop/snapshots``."""
    snapshot_window: float = 300.0
    """Seconds of history a bundle holds before its trigger."""
    snapshot_freeze_on_rule: bool = False
    """Freeze the screen when a spike rule fires (the console only)."""
    snapshot_tail: float = 10.0
    """Seconds a rule's bundle waits after the trigger, so the moments after it are in too."""
    refresh: float = 0.25
    """Seconds between looks for new data; the log pane redraws at most every max(0.5, this)."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """Key remapping: binding id to keys (``"freeze" = "f5"``)."""
    rules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Spike rule settings by rule name."""
    redact: bool = False
    """Mask client IPs, query strings and users on screen and in bundles."""
    metrics: str | None = None
    """``HOST:PORT`` where ``lamptop record`` serves Prometheus metrics at ``/metrics``; None:
    no metrics served."""
    metrics_scripts: int = 10
    """Scripts named in the in-flight metrics (the busiest); the rest are counted as ``other``."""
    remotes: tuple[RemoteSpec, ...] = ()
    """Remote hosts followed over ssh (``[[remote]]``, ``--remote``): core/remotes.py."""
    remote_command: str = DEFAULT_COMMAND
    """The remote lamptop (``[ssh] command``, ``--remote-command``), for hosts that name none."""
    ssh_config: str | None = None
    """An ssh config file passed to ssh as ``-F`` (``[ssh] config``, ``--ssh-config``)."""
    local: bool = True
    """Watch this host too when following remote ones (``[ssh] local``, ``--no-local``)."""
    warnings: tuple[str, ...] = ()
    """Problems found while loading (unknown keys): shown to the user, never fatal."""


#: TOML keys by table; each maps to a Config field and the type it must have.
_TABLES: dict[str, dict[str, tuple[str, type | tuple[type, ...]]]] = {
    "": {
        "discover": ("discover", bool),
        "timezone": ("timezone", str),
        "refresh": ("refresh", (int, float)),
        "redact": ("redact", bool),
    },
    "status": {
        "url": ("status_url", str),
        "user": ("status_user", str),
        "password": ("status_password", str),
        "verify": ("status_verify", bool),
        "interval": ("status_interval", (int, float)),
    },
    "fpm": {
        "status": ("fpm_status", (str, list)),
        "interval": ("fpm_interval", (int, float)),
    },
    "mysql": {
        "server": ("mysql", str),
        "user": ("mysql_user", str),
        "password": ("mysql_password", str),
        "interval": ("mysql_interval", (int, float)),
    },
    "system": {
        "interval": ("system_interval", (int, float)),
        "scan_interval": ("scan_interval", (int, float)),
    },
    "recorder": {
        "max_records": ("max_records", int),
        "max_samples": ("max_samples", int),
        "backfill_lines": ("backfill_lines", int),
    },
    "snapshot": {
        "dir": ("snapshot_dir", str),
        "window": ("snapshot_window", (int, float)),
        "tail": ("snapshot_tail", (int, float)),
        "freeze_on_rule": ("snapshot_freeze_on_rule", bool),
    },
    "metrics": {
        "listen": ("metrics", str),
        "scripts": ("metrics_scripts", int),
    },
}
_SPECIAL_TABLES = {"log", "keys", "rules", "ssh", "remote"}


def default_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME", "~"), ".config")
    return Path(base).expanduser() / "lamptop" / "config.toml"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or os.path.join(env.get("HOME", "~"), ".local", "state")
    return Path(base).expanduser() / "lamptop"


def snapshot_dir(cfg: Config) -> Path:
    """Where bundles are saved: the configured dir, else ``snapshots`` in the state dir."""
    return Path(cfg.snapshot_dir).expanduser() if cfg.snapshot_dir else state_dir() / "snapshots"


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return {"str": "a string", "bool": "true or false", "int": "a whole number"}.get(
        t.__name__, t.__name__
    )


def _check(key: str, value: Any, want: type | tuple[type, ...]) -> Any:
    # bool is an int in Python; a number field must not accept true/false.
    if (isinstance(value, bool) and want is not bool) or not isinstance(value, want):
        # a secret is never echoed, even a wrongly typed one
        shown = "a value (hidden)" if "password" in key else repr(value)
        raise ConfigError(f"{key}: expected {_type_name(want)}, got {shown}")
    return value


def parse_log_arg(arg: str) -> LogSpec:
    """``PATH`` or ``PATH=KIND`` (the ``--log`` flag)."""
    path, sep, kind = arg.rpartition("=")
    if sep and kind in LOG_KINDS:
        return LogSpec(path=path, kind=kind)
    if sep and re.fullmatch(r"[a-z-]+", kind):
        raise ConfigError(f"--log {arg}: unknown kind {kind!r}; one of {', '.join(LOG_KINDS)}")
    return LogSpec(path=arg)


def from_mapping(data: Mapping[str, Any], origin: str = "config") -> Config:
    """Build a Config from parsed TOML; raises ConfigError, collects unknown keys as warnings."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in data.items():
        if key in _TABLES[""]:
            name, want = _TABLES[""][key]
            values[name] = _check(key, value, want)
        elif key in _TABLES and key:
            if not isinstance(value, dict):
                raise ConfigError(f"[{key}] must be a table")
            for sub, subval in value.items():
                if sub not in _TABLES[key]:
                    warnings.append(f"{origin}: unknown key {key}.{sub} (ignored)")
                    continue
                name, want = _TABLES[key][sub]
                values[name] = _check(f"{key}.{sub}", subval, want)
        elif key == "log":
            values["logs"] = tuple(_log_specs(value, warnings, origin))
        elif key == "keys":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError('[keys] maps binding ids to key names: freeze = "f5"')
            values["keys"] = dict(value)
        elif key == "rules":
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                raise ConfigError("[rules.NAME] tables hold each rule's settings")
            values["rules"] = {k: dict(v) for k, v in value.items()}
        elif key not in ("ssh", "remote"):
            warnings.append(f"{origin}: unknown key {key} (ignored)")
    values.update(_remote_values(data, warnings, origin))
    if "fpm_status" in values:
        given = values["fpm_status"]
        given = [given] if isinstance(given, str) else given
        if not all(isinstance(v, str) and v for v in given):
            raise ConfigError("fpm.status: a status page, or a list of them")
        values["fpm_status"] = tuple(given)
    for name in (
        "status_interval",
        "fpm_interval",
        "mysql_interval",
        "system_interval",
        "scan_interval",
        "refresh",
    ):
        if name in values and values[name] <= 0:
            raise ConfigError(f"{name.replace('_', '.', 1)}: must be greater than 0")
    if not 1 <= values.get("metrics_scripts", 10) <= 1000:
        raise ConfigError("metrics.scripts: must be between 1 and 1000")
    for name in ("max_records", "max_samples"):
        if name in values and values[name] < 10:
            raise ConfigError(f"recorder.{name}: must be at least 10")
    return Config(**values, warnings=tuple(warnings))


def _remote_values(data: Mapping[str, Any], warnings: list[str], origin: str) -> dict[str, Any]:
    """``[ssh]`` and ``[[remote]]`` as Config fields."""
    try:
        got = read_settings(data.get("ssh"), data.get("remote"), warnings, origin)
    except RemoteError as exc:
        raise ConfigError(str(exc)) from None
    values: dict[str, Any] = {"remotes": got.remotes} if got.remotes else {}
    if got.command is not None:
        values["remote_command"] = got.command
    if got.ssh_config is not None:
        values["ssh_config"] = got.ssh_config
    if got.local is not None:
        values["local"] = got.local
    return values


def _log_specs(value: Any, warnings: list[str], origin: str) -> list[LogSpec]:
    if not isinstance(value, list):
        raise ConfigError('logs are [[log]] tables: [[log]] path = "/var/log/..."')
    specs = []
    known = {f.name for f in fields(LogSpec)}
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise ConfigError(f'[[log]] number {i}: needs path = "..."')
        for k in item:
            if k not in known:
                warnings.append(f"{origin}: unknown key log.{k} (ignored)")
        kind = item.get("kind")
        if kind is not None and kind not in LOG_KINDS:
            raise ConfigError(f"[[log]] {item['path']}: kind {kind!r} is not one of {LOG_KINDS}")
        for k in ("format", "name"):
            if k in item and not isinstance(item[k], str):
                raise ConfigError(f"[[log]] {item['path']}: {k} must be a string")
        specs.append(
            LogSpec(path=item["path"], kind=kind, format=item.get("format"), name=item.get("name"))
        )
    return specs


def load_file(path: Path) -> Config:
    """Read one TOML file; a missing file is an empty config."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    cfg = from_mapping(data, origin=str(path))
    secret = "the status password" if cfg.status_password else "the MySQL password"
    if cfg.status_password or cfg.mysql_password:
        try:
            mode = path.stat().st_mode
        except OSError:
            mode = 0
        if mode & 0o044:
            who = "anyone on this machine" if mode & 0o004 else "its group"
            warning = (
                f"{path} holds {secret} and {who} can read it "
                f"(mode {stat.S_IMODE(mode):04o}): chmod 600 {path}"
            )
            cfg = replace(cfg, warnings=(*cfg.warnings, warning))
    return cfg


def apply_env(cfg: Config, env: Mapping[str, str] | None = None) -> Config:
    """``LAMPTOP_STATUS_URL``, ``LAMPTOP_STATUS_USER``, ``LAMPTOP_STATUS_PASSWORD``,
    ``LAMPTOP_MYSQL_PASSWORD``, ``LAMPTOP_TIMEZONE``, ``LAMPTOP_SNAPSHOT_DIR``."""
    env = os.environ if env is None else env
    changes: dict[str, Any] = {}
    for var, name in (
        ("LAMPTOP_STATUS_URL", "status_url"),
        ("LAMPTOP_STATUS_USER", "status_user"),
        ("LAMPTOP_STATUS_PASSWORD", "status_password"),
        ("LAMPTOP_MYSQL_PASSWORD", "mysql_password"),
        ("LAMPTOP_TIMEZONE", "timezone"),
        ("LAMPTOP_SNAPSHOT_DIR", "snapshot_dir"),
    ):
        if env.get(var):
            changes[name] = env[var]
    return replace(cfg, **changes) if changes else cfg


def load(
    path: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """The effective config: defaults < file < environment < ``overrides`` (the flags)."""
    explicit = path is not None
    file_path = Path(path).expanduser() if path else default_path(env)
    if explicit and not file_path.exists():
        raise ConfigError(f"{file_path}: no such config file")
    cfg = apply_env(load_file(file_path), env)
    if overrides:
        extra_logs = tuple(overrides.get("logs", ()))
        rest = {k: v for k, v in overrides.items() if k != "logs" and v is not None}
        if "fpm_status" in rest:
            rest["fpm_status"] = tuple(rest["fpm_status"]) or cfg.fpm_status
        cfg = replace(cfg, **rest, logs=cfg.logs + extra_logs)
    if cfg.metrics is not None:
        try:
            parse_listen(cfg.metrics)
        except ListenError as exc:
            raise ConfigError(str(exc)) from None
    if cfg.mysql is not None:
        try:
            parse_target(cfg.mysql)
        except TargetError as exc:
            raise ConfigError(str(exc)) from None
    return cfg
