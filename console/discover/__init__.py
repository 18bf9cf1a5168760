"""Zero-config start: find a LAMP server's logs, its mod_status URL and its MySQL socket by
reading its configs.

Nothing here touches the network or starts a process: it reads Apache's, PHP's, php-fpm's and
MySQL/MariaDB's configuration files (Debian/Ubuntu and RHEL layouts), adds the usual default
paths, and says for each log whether lamptop can read it and, when it cannot, what to do.

``root`` is put in front of every absolute path read, so a test can lay out a fake ``/etc`` and
``/var/log`` under ``tmp_path``. Returned paths carry that prefix: they are the paths to open.
A directory symlink on the way is resolved (RHEL's ``/etc/httpd/logs`` is a link to
``/var/log/httpd``), the file itself is not, so that a tail follows the name across rotation.
Under a test root, symlinks must be relative to stay inside the tree.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO

from console.core.events import LOG_KINDS
from console.discover.apache import STOCK_FORMATS, ApacheConfig, read_apache
from console.discover.files import Declared, expand_glob, owner_group, rooted
from console.discover.fpm_pools import FpmPool, read_fpm_pools
from console.discover.mysql import MysqlServer, read_mysql, read_mysql_server
from console.discover.php import read_php

#: Opens a file for reading; tests pass one that raises PermissionError (they run as root).
Opener = Callable[[str], IO[bytes]]

FALLBACK_STATUS_URLS = ("http://127.0.0.1/server-status", "http://localhost/server-status")
ADM_HINT = "add your user to the adm group: sudo usermod -aG adm $USER (then log in again)"

#: (kind, path, LogFormat nickname) where the distributions put logs by default. Listed only when
#: the file is there: a config that was read says where the logs are, and a missing default of a
#: daemon that is not installed is noise. ``/var/log/php*-fpm.log`` is globbed on top.
_DEFAULTS: tuple[tuple[str, str, str | None], ...] = (
    ("apache-access", "/var/log/apache2/access.log", "combined"),
    ("apache-access", "/var/log/apache2/other_vhosts_access.log", "vhost_combined"),
    ("apache-error", "/var/log/apache2/error.log", None),
    ("apache-access", "/var/log/httpd/access_log", "combined"),
    ("apache-error", "/var/log/httpd/error_log", None),
    ("php-fpm", "/var/log/php-fpm/error.log", None),
    ("php-fpm-slow", "/var/log/php-fpm/www-slow.log", None),
    ("mysql-error", "/var/log/mysql/error.log", None),
    ("mysql-slow", "/var/log/mysql/mariadb-slow.log", None),
    ("mysql-slow", "/var/log/mysql/mysql-slow.log", None),
    ("mysql-error", "/var/log/mariadb/mariadb.log", None),
    ("mysql-error", "/var/log/mysqld.log", None),
)


@dataclass(frozen=True)
class LogCandidate:
    """One log file lamptop could watch, where it was learned, and whether it can be read."""

    path: str
    """Absolute path as it will be watched (with the discovery root in front)."""
    kind: str
    """One of :data:`console.core.events.LOG_KINDS`."""
    fmt: str | None
    """The Apache LogFormat string (nickname resolved) for ``apache-access``, else None."""
    origin: str
    """Where it was learned: ``apache2/sites-enabled/shop.conf:7 CustomLog``, ``default path``."""
    state: str
    """``found`` (a readable regular file), ``missing``, ``unreadable`` or ``not-a-file``."""
    detail: str
    """Plain words on why it is not ``found``, with what to do about it."""
    vhost: str = ""
    """ServerName of the VirtualHost(s) that declared it; empty for a server-wide log."""


@dataclass(frozen=True)
class Discovery:
    """Everything discovery learned."""

    logs: tuple[LogCandidate, ...]
    """Logs in :data:`~console.core.events.LOG_KINDS` order, one per real file."""
    status_urls: tuple[str, ...]
    """mod_status URLs to try, best first."""
    notes: tuple[str, ...]
    """Things a sysadmin should know (a piped log, server-status not set up...)."""
    apache_config: str | None
    """The main Apache config file read (with the root in front), None when there is none."""
    mysql: MysqlServer | None = None
    """Where the MySQL/MariaDB server listens (its socket), None when there is no sign of one."""
    fpm_pools: tuple[FpmPool, ...] = ()
    """php-fpm's pools, each with where its status page is read (or why it cannot be)."""


def discover(
    root: str = "/", *, env: Mapping[str, str] | None = None, opener: Opener | None = None
) -> Discovery:
    """Read the configs under ``root`` and list the logs and status URLs of this server.

    ``env`` stands in for the process environment (``APACHE_CONFDIR``, ``${VAR}`` in Apache
    configs); it defaults to :data:`os.environ`. ``opener`` opens a file to test readability.
    """
    env = os.environ if env is None else env
    apache = read_apache(root, env)
    notes = list(apache.notes)
    if not apache.main:
        notes.append(
            "no Apache config found (/etc/apache2/apache2.conf, /etc/httpd/conf/httpd.conf)"
        )
    php = read_php(root, notes)
    pools = read_fpm_pools(root)
    notes.extend(pool.note for pool in pools if pool.note)
    mysql, has_mysql = read_mysql(root, notes)
    declared = apache.logs + php + mysql + _defaults(root, apache)
    logs = _probe_all(root, declared, opener or _open)
    if has_mysql and not any(c.kind == "mysql-error" and c.state == "found" for c in logs):
        notes.append(
            "no MySQL error log file found: unless log_error names a file, MariaDB on Debian "
            "logs to journald (journalctl -u mariadb)"
        )
    return Discovery(
        logs=logs,
        status_urls=tuple(apache.status_urls) or FALLBACK_STATUS_URLS,
        notes=tuple(dict.fromkeys(notes)),
        apache_config=rooted(root, apache.main) if apache.main else None,
        mysql=read_mysql_server(root),
        fpm_pools=pools,
    )


# -- defaults, dedupe and probing ------------------------------------------------------------


def _defaults(root: str, apache: ApacheConfig) -> list[Declared]:
    globbed = [("php-fpm", p, None) for p in expand_glob(root, "/var/log/php*-fpm.log")]
    out: list[Declared] = []
    for kind, path, nick in _DEFAULTS + tuple(globbed):
        if os.path.lexists(rooted(root, path)):
            fmt = (apache.formats.get(nick) or STOCK_FORMATS.get(nick)) if nick else None
            out.append(Declared(path, kind, fmt, "default path", from_config=False))
    return out


def _probe_all(root: str, declared: list[Declared], opener: Opener) -> tuple[LogCandidate, ...]:
    """One candidate per real file: a config beats a default, the first config wins."""
    best: dict[str, tuple[Declared, str]] = {}
    vhosts: dict[str, list[str]] = {}
    for d in declared:
        host = rooted(root, d.path)
        path = os.path.join(os.path.realpath(os.path.dirname(host)), os.path.basename(host))
        key = os.path.realpath(path)
        if d.from_config:
            vhosts.setdefault(key, []).append(d.vhost)
        if key not in best or (d.from_config and not best[key][0].from_config):
            best[key] = (d, path)
    out = []
    for key, (d, path) in best.items():
        names = vhosts.get(key, [])
        vhost = "" if "" in names else ", ".join(dict.fromkeys(names))
        state, detail = _probe(path, opener)
        out.append(LogCandidate(path, d.kind, d.fmt, d.origin, state, detail, vhost))
    out.sort(key=lambda c: LOG_KINDS.index(c.kind))
    return tuple(out)


def _open(path: str) -> IO[bytes]:
    return open(path, "rb")


def _denied(path: str, st: os.stat_result, *, directory: bool) -> str:
    owner, group = owner_group(st)
    what = f"directory {path}" if directory else "file"
    if group == "adm":
        hint = ADM_HINT
    else:
        hint = f"grant read access: sudo setfacl -m u:$USER:{'rx' if directory else 'r'} {path}"
    return f"permission denied: {what} is {owner}:{group} {stat.S_IMODE(st.st_mode):04o}; {hint}"


def _blocked_dir(path: str) -> str:
    """The highest directory above ``path`` that this user cannot go through."""
    above: list[str] = []
    d = os.path.dirname(path)
    while d != os.path.dirname(d):
        above.append(d)
        d = os.path.dirname(d)
    return next((d for d in reversed(above) if not os.access(d, os.X_OK)), os.path.dirname(path))


def _probe(path: str, opener: Opener) -> tuple[str, str]:
    """State and detail of one path, by stat and by really opening it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        parent = os.path.dirname(path)
        return "missing", "no such file" + ("" if os.path.isdir(parent) else f" (no {parent})")
    except PermissionError:
        blocked = _blocked_dir(path)
        try:
            return "unreadable", _denied(blocked, os.stat(blocked), directory=True)
        except OSError:
            return "unreadable", "permission denied on a directory above it"
    except OSError as exc:
        return "unreadable", exc.strerror or str(exc)
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        if stat.S_ISCHR(st.st_mode):
            kind = "a character device"
        target = os.path.realpath(path)
        return "not-a-file", kind + (f" ({target})" if target != path else "")
    try:
        opener(path).close()
    except PermissionError:
        return "unreadable", _denied(path, st, directory=False)
    except OSError as exc:
        return "unreadable", exc.strerror or str(exc)
    return "found", ""
