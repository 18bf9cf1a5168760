"""What to watch: the config's logs and, unless disabled, what discovery found (a :class:`Plan`).

Shared by the console, ``lamptop record`` and ``lamptop sources``; :mod:`console.sources.engine`
builds and runs the sources of a plan.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from console.core.config import Config, LogSpec
from console.core.events import LOG_KINDS
from console.parsing import detect_kind
from console.sources.fpm.planned import PlannedFpm, plan_fpm

if TYPE_CHECKING:
    from console.discover.fpm_pools import FpmPool

GIVEN = "flag or config"
"""The origin of what the command line or the config file named."""

#: Short labels shown in the log pane for each kind.
KIND_LABEL = {
    "apache-access": "access",
    "apache-error": "apache",
    "php-error": "php",
    "php-fpm": "fpm",
    "php-fpm-slow": "fpm-slow",
    "mysql-slow": "mysql-slow",
    "mysql-error": "mysql",
    "mysql-general": "mysql-gen",
    "php-fpm-access": "fpm-access",
}


@dataclass(frozen=True)
class PlannedLog:
    """One log the engine will follow."""

    name: str
    """Unique label (``access``, ``apache``, ``access:shop``)."""
    path: str
    kind: str
    fmt: str | None = None
    origin: str = ""
    """Where lamptop learned of it (flag, config, Apache config line, default path)."""


@dataclass(frozen=True)
class Plan:
    """What to watch."""

    logs: tuple[PlannedLog, ...]
    status_url: str | None
    status_candidates: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """(path, why) of candidates that will not be followed."""
    mysql: str | None = None
    """The MySQL/MariaDB server to poll: ``unix:PATH`` or ``mysql://user@host:port``."""
    mysql_origin: str = ""
    """Where it was learned: ``flag or config``, ``mysql/mariadb.cnf:25 socket``..."""

    @property
    def polls_mysql(self) -> bool:
        """Whether the engine polls MySQL: a server given by flag or config always (its state
        says what is wrong with it), a discovered socket only when it is there."""
        if not self.mysql:
            return False
        if self.mysql_origin == GIVEN or not self.mysql.startswith("unix:"):
            return True
        return os.path.exists(self.mysql.removeprefix("unix:"))

    fpm: tuple[PlannedFpm, ...] = ()
    """PHP-FPM pools whose status page is polled."""
    fpm_unpolled: tuple[PlannedFpm, ...] = ()
    """PHP-FPM pools found without a status page, each with its ``note`` (the fix)."""


def guess_kind(path: str) -> str | None:
    """A log kind from a file's name alone, for files that do not exist yet."""
    p = path.lower()
    name = os.path.basename(p)
    if "slow" in name:
        return "php-fpm-slow" if "fpm" in p or "php" in p else "mysql-slow"
    if "access" in name and "fpm" in p:
        return "php-fpm-access"
    if "fpm" in name:
        return "php-fpm"
    if "php" in name:
        return "php-error"
    if "mysql" in p or "mariadb" in p:
        return "mysql-general" if "general" in name else "mysql-error"
    if "access" in name:
        return "apache-access"
    if "error" in name:
        return "apache-error"
    return None


def sniff_file(path: str, size: int = 65536) -> str | None:
    """Detect a file's kind from its last ``size`` bytes; None when unreadable or unclear.

    Only a regular file is read, opened without blocking: a FIFO or a device given as a log
    is never waited on nor read without end.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        os.lseek(fd, max(0, st.st_size - size), os.SEEK_SET)
        data = os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)
    lines = (
        data.decode("utf-8", errors="replace").splitlines()[1:]
        or data.decode("utf-8", errors="replace").splitlines()
    )
    return detect_kind(lines)


def _unknown_kind(path: str) -> str:
    """Why a log of unknown kind is not followed, in words that say what to do."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file, and its name does not tell its kind: use PATH=KIND to wait for it"
    except OSError as exc:
        return f"cannot read it ({exc.strerror}) nor tell its kind from its name: use PATH=KIND"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a FIFO, device or folder): lamptop follows log files"
    return "cannot tell what kind of log this is: use PATH=KIND"


#: Words dropped from a file name to make a short label (``shop_access.log`` -> ``shop``).
_NAME_NOISE = re.compile(r"[._-]?(access|error|errors|slow|log)(?=[._-]|$)", re.IGNORECASE)


def log_names(items: list[tuple[str, str, str | None]]) -> list[str]:
    """Unique short labels for (path, kind, given name) items.

    A kind with one log gets its plain label (``access``); a kind with several names each by
    its file (``access:shop``, ``access:other_vhosts``), the canonical file keeping the plain
    label (``access.log`` stays ``access``).
    """
    per_kind: dict[str, int] = {}
    for _, kind, given in items:
        if not given:
            per_kind[kind] = per_kind.get(kind, 0) + 1
    names: list[str] = []
    taken = {given for _, _, given in items if given}
    for path, kind, given in items:
        if given:
            names.append(given)
            continue
        label = KIND_LABEL[kind]
        stem = os.path.basename(path).split(".")[0]
        short = _NAME_NOISE.sub("", stem).strip("._-")
        candidate = label if per_kind[kind] == 1 or not short else f"{label}:{short}"
        base, n = candidate, 2
        while candidate in taken:
            candidate = f"{base}{n}"
            n += 1
        taken.add(candidate)
        names.append(candidate)
    return names


def make_plan(cfg: Config, *, root: str = "/") -> Plan:
    """Decide what to watch: the config's logs and, unless disabled, discovered ones."""
    specs: list[tuple[LogSpec, str]] = [(spec, GIVEN) for spec in cfg.logs]
    notes: list[str] = []
    skipped: list[tuple[str, str]] = []
    status_candidates: tuple[str, ...] = ()
    mysql, mysql_origin = (cfg.mysql, GIVEN) if cfg.mysql else (None, "")
    pools: tuple[FpmPool, ...] = ()
    if cfg.discover:
        from console.discover import discover

        found = discover(root)
        notes.extend(found.notes)
        if mysql is None and found.mysql is not None:
            mysql, mysql_origin = f"unix:{found.mysql.socket}", found.mysql.origin
        status_candidates = found.status_urls
        pools = found.fpm_pools
        for cand in found.logs:
            if cand.state == "missing":
                skipped.append((cand.path, cand.detail or "missing"))
                continue
            specs.append((LogSpec(path=cand.path, kind=cand.kind, format=cand.fmt), cand.origin))
    chosen: list[tuple[LogSpec, str, str]] = []
    seen: set[str] = set()
    for spec, origin in specs:
        real = os.path.realpath(spec.path)
        if real in seen:
            continue
        seen.add(real)
        kind = spec.kind or sniff_file(spec.path) or guess_kind(spec.path)
        if kind not in LOG_KINDS:
            skipped.append((spec.path, _unknown_kind(spec.path)))
            continue
        chosen.append((spec, kind, origin))
    names = log_names([(spec.path, kind, spec.name) for spec, kind, _ in chosen])
    logs = [
        PlannedLog(name, spec.path, kind, spec.format, origin)
        for name, (spec, kind, origin) in zip(names, chosen, strict=True)
    ]
    url = cfg.status_url or (status_candidates[0] if status_candidates else None)
    fpm, fpm_unpolled, fpm_notes = plan_fpm(cfg.fpm_status, pools)
    notes.extend(fpm_notes)
    return Plan(
        logs=tuple(logs),
        status_url=url,
        status_candidates=status_candidates,
        notes=tuple(notes),
        skipped=tuple(skipped),
        mysql=mysql,
        mysql_origin=mysql_origin,
        fpm=fpm,
        fpm_unpolled=fpm_unpolled,
    )
