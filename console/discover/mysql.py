"""MySQL/MariaDB configuration, read for its log paths and for where the server listens.

Debian/Ubuntu: ``/etc/mysql/my.cnf`` (or ``mariadb.cnf``) with ``!include``/``!includedir``;
RHEL: ``/etc/my.cnf`` + ``/etc/my.cnf.d``. A relative path is relative to ``datadir``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from console.core.mysqltarget import DEFAULT_PORT, DEFAULT_SOCKET
from console.discover.files import Declared, expand_glob, rooted, where
from console.discover.ini import ini_lines, resolve

_MYSQLD_SECTION = re.compile(r"(mysqld|mariadbd?|server|galera)(-[0-9.]+)?")
_ALIASES = {"log_slow_query_file": "slow_query_log_file", "log_slow_query": "slow_query_log"}
#: The option groups the ``mysql``/``mariadb`` client reads.
CLIENT_GROUPS = frozenset({"client", "client-server", "client-mariadb", "mysql", "mariadb-client"})


def cnf_items(root: str, path: str, seen: set[str]) -> Iterator[tuple[str, int, str, str, str]]:
    """(file, line, section, key, value) of an option file and the files it includes."""
    real = os.path.realpath(rooted(root, path))
    if real in seen:
        return
    seen.add(real)
    for n, section, key, value in ini_lines(root, path):
        if key == "!include":
            yield from cnf_items(root, resolve(value, os.path.dirname(path)), seen)
        elif key == "!includedir":
            for hit in expand_glob(root, resolve(value, os.path.dirname(path)) + "/*.cnf"):
                yield from cnf_items(root, hit, seen)
        else:
            yield path, n, section, key, value


def option_key(key: str) -> str:
    """An option's name as the server reads it: ``loose-log-error`` is ``log_error``."""
    return key.lower().replace("-", "_").removeprefix("loose_")


def system_cnf_files(root: str) -> list[str]:
    """The global option files the server and the clients start from (host paths)."""
    starts = ["/etc/my.cnf", "/etc/mysql/my.cnf"]
    if not os.path.lexists(rooted(root, "/etc/mysql/my.cnf")):
        starts.append("/etc/mysql/mariadb.cnf")
    return [p for p in starts if os.path.lexists(rooted(root, p))]


@dataclass(frozen=True)
class MysqlServer:
    """Where the local MySQL/MariaDB server listens, as its option files say."""

    socket: str
    """The Unix socket's path (with the discovery root in front)."""
    origin: str
    """Where the path was learned: ``mysql/mariadb.cnf:25 socket``, ``default path``."""
    port: int = DEFAULT_PORT
    port_origin: str = "default port"
    networking: bool = True
    """False when ``skip-networking`` is set: only the socket answers."""


def read_mysql_server(root: str) -> MysqlServer | None:
    """The server's socket and port from my.cnf and its includes: ``[mysqld]`` (where the
    server creates it) before ``[client]`` (where the clients look), else the default.

    None when there is no option file and nothing at the default socket path: no MySQL here.
    """
    present = system_cnf_files(root)
    server: dict[str, tuple[str, str]] = {}
    client: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for start in present:
        for path, n, section, key, value in cnf_items(root, start, seen):
            k, group = option_key(key), section.lower()
            if k not in ("socket", "port", "skip_networking", "datadir"):
                continue
            if _MYSQLD_SECTION.fullmatch(group) or group == "client-server":
                server[k] = (value, where(path, n, key))
            if group in CLIENT_GROUPS:
                client[k] = (value, where(path, n, key))
    default = rooted(root, DEFAULT_SOCKET)
    if not present and not os.path.exists(default):
        return None
    datadir = server.get("datadir", ("/var/lib/mysql", ""))[0]
    sock = server.get("socket") or client.get("socket")
    socket, origin = (
        (rooted(root, resolve(sock[0], datadir)), sock[1]) if sock else (default, "default path")
    )
    port, port_origin = DEFAULT_PORT, "default port"
    given = server.get("port") or client.get("port")
    if given and given[0].isdigit() and 0 < int(given[0]) < 65536:
        port, port_origin = int(given[0]), given[1]
    skip = server.get("skip_networking")
    networking = skip is None or skip[0].lower() not in ("", "1", "on", "true")
    return MysqlServer(socket, origin, port, port_origin, networking)


def read_mysql(root: str, notes: list[str]) -> tuple[list[Declared], bool]:
    """The error and slow query logs named in my.cnf and its includes."""
    present = system_cnf_files(root)
    if not present:
        return [], False
    opts: dict[str, tuple[str, str]] = {}
    safe_error: tuple[str, str] | None = None
    seen: set[str] = set()
    for start in present:
        for path, n, section, key, value in cnf_items(root, start, seen):
            k = option_key(key)
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
