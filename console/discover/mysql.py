"""MySQL/MariaDB configuration, read for its log paths.

Debian/Ubuntu: ``/etc/mysql/my.cnf`` (or ``mariadb.cnf``) with ``!include``/``!includedir``;
RHEL: ``/etc/my.cnf`` + ``/etc/my.cnf.d``. A relative path is relative to ``datadir``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from console.discover.files import Declared, expand_glob, rooted, where
from console.discover.ini import ini_lines, resolve

_MYSQLD_SECTION = re.compile(r"(mysqld|mariadbd?|server|galera)(-[0-9.]+)?")
_ALIASES = {"log_slow_query_file": "slow_query_log_file", "log_slow_query": "slow_query_log"}


def _cnf_items(root: str, path: str, seen: set[str]) -> Iterator[tuple[str, int, str, str, str]]:
    real = os.path.realpath(rooted(root, path))
    if real in seen:
        return
    seen.add(real)
    for n, section, key, value in ini_lines(root, path):
        if key == "!include":
            yield from _cnf_items(root, resolve(value, os.path.dirname(path)), seen)
        elif key == "!includedir":
            for hit in expand_glob(root, resolve(value, os.path.dirname(path)) + "/*.cnf"):
                yield from _cnf_items(root, hit, seen)
        else:
            yield path, n, section, key, value


def read_mysql(root: str, notes: list[str]) -> tuple[list[Declared], bool]:
    """The error and slow query logs named in my.cnf and its includes."""
    starts = ["/etc/my.cnf", "/etc/mysql/my.cnf"]
    if not os.path.lexists(rooted(root, "/etc/mysql/my.cnf")):
        starts.append("/etc/mysql/mariadb.cnf")
    present = [p for p in starts if os.path.lexists(rooted(root, p))]
    if not present:
        return [], False
    opts: dict[str, tuple[str, str]] = {}
    safe_error: tuple[str, str] | None = None
    seen: set[str] = set()
    for start in present:
        for path, n, section, key, value in _cnf_items(root, start, seen):
            k = key.lower().replace("-", "_").removeprefix("loose_")
            k = _ALIASES.get(k, k)
            if _MYSQLD_SECTION.fullmatch(section.lower()):
                opts[k] = (value, where(path, n, key))
            elif section.lower() == "mysqld_safe" and k == "log_error":
                safe_error = (value, where(path, n, key))
    datadir = opts.get("datadir", ("/var/lib/mysql", ""))[0]
    host = _hostname(root)
    out: list[Declared] = []

    def add(value: str, default: str, kind: str, origin: str) -> None:
        """A log at ``value``, or at MySQL's host-named default in the datadir when empty."""
        if value or host:
            out.append(Declared(resolve(value or host + default, datadir), kind, None, origin))
        else:
            notes.append(f"{origin}: the default file is named after the host, unknown here")

    err = opts.get("log_error") or safe_error
    if err:
        add(err[0], ".err", "mysql-error", err[1])
    on = opts.get("slow_query_log", ("0", ""))[0].lower() in ("", "1", "on", "true")
    slow = opts.get("slow_query_log_file")
    if slow and not on:
        notes.append(f"{slow[1]}: set, but slow_query_log is off: no slow queries are written")
    elif on:
        slow = slow or ("", opts["slow_query_log"][1] + " (default file)")
        add(slow[0], "-slow.log", "mysql-slow", slow[1])
    else:
        notes.append(
            "MySQL slow query log is off: set slow_query_log = 1 in [mysqld] to see slow queries"
        )
    output = opts.get("log_output", ("FILE", ""))[0].upper()
    if "FILE" not in output and "NONE" not in output:
        notes.append(f"log_output = {output}: MySQL logs go to tables, not files")
    return out, True


def _hostname(root: str) -> str:
    """The host name MySQL names its default files after, from ``/etc/hostname``."""
    try:
        with open(rooted(root, "/etc/hostname"), encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        return ""
