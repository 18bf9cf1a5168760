"""PHP, php-fpm and MySQL/MariaDB configuration (ini-style files), read for their log paths.

Debian/Ubuntu: ``/etc/php/<version>/{fpm,apache2}/php.ini`` with ``conf.d/*.ini`` (cli is not a
server and is skipped), ``/etc/php/<version>/fpm/php-fpm.conf`` and its ``include`` of
``pool.d/*.conf``, ``/etc/mysql/my.cnf`` (or ``mariadb.cnf``) with ``!include``/``!includedir``.
RHEL: ``/etc/php.ini`` + ``/etc/php.d``, ``/etc/php-fpm.conf`` + ``/etc/php-fpm.d``,
``/etc/my.cnf`` + ``/etc/my.cnf.d``. A relative php-fpm path is relative to ``/var`` (php-fpm's
prefix on both), a relative MySQL path to its ``datadir``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from console.discover.apache import Declared, expand_glob, rooted, where

_MYSQLD_SECTION = re.compile(r"(mysqld|mariadbd?|server|galera)(-[0-9.]+)?")
_INLINE_COMMENT = re.compile(r"\s+[;#].*$")
_ALIASES = {"log_slow_query_file": "slow_query_log_file", "log_slow_query": "slow_query_log"}


# -- ini-style files (php.ini, php-fpm.conf, my.cnf) -----------------------------------------


def _ini(root: str, path: str) -> Iterator[tuple[int, str, str, str]]:
    """(line, section, key, value) of an ini file; ``!include x`` gives key ``!include``."""
    try:
        with open(rooted(root, path), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return
    section = ""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and "]" in line:
            section = line[1 : line.index("]")].strip()
            continue
        if line.startswith("!"):
            key, _, value = line.partition(" ")
            yield n, section, key, value.strip()
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if value[:1] in ('"', "'") and value.find(value[0], 1) > 0:
            value = value[1 : value.find(value[0], 1)]
        else:
            value = _INLINE_COMMENT.sub("", value)
        yield n, section, key.strip(), value


def _resolve(value: str, base: str) -> str:
    return os.path.normpath(os.path.join(base, value))


# -- PHP and php-fpm -------------------------------------------------------------------------


def read_php(root: str, notes: list[str]) -> list[Declared]:
    """PHP's error_log (fpm and apache2 SAPIs, never cli) and php-fpm's logs."""
    out: list[Declared] = []
    sapis = [
        (d, os.path.basename(d))
        for d in expand_glob(root, "/etc/php/*")
        if os.path.isdir(rooted(root, d))
    ]
    for ver_dir, ver in sapis:
        unset = [
            s for s in ("fpm", "apache2") if _php_ini(root, f"{ver_dir}/{s}", out, notes) is False
        ]
        if unset:
            notes.append(
                f"PHP {ver} ({', '.join(unset)}): error_log is not set, so PHP errors go to the "
                "Apache error log"
            )
        conf = f"{ver_dir}/fpm/php-fpm.conf"
        if os.path.lexists(rooted(root, conf)):
            _fpm(root, conf, out, notes)
    if os.path.lexists(rooted(root, "/etc/php.ini")):
        _php_ini(root, "/etc", out, notes, ini="php.ini", confd="/etc/php.d")
    if os.path.lexists(rooted(root, "/etc/php-fpm.conf")):
        _fpm(root, "/etc/php-fpm.conf", out, notes)
    return out


def _php_ini(
    root: str,
    sapi_dir: str,
    out: list[Declared],
    notes: list[str],
    *,
    ini: str = "php.ini",
    confd: str = "",
) -> bool | None:
    """Add the error_log php.ini and its conf.d give; False when unset, None when no config."""
    files = [f"{sapi_dir}/{ini}"] if os.path.lexists(rooted(root, f"{sapi_dir}/{ini}")) else []
    files += expand_glob(root, f"{confd or sapi_dir + '/conf.d'}/*.ini")
    if not files:
        return None
    last: tuple[str, str] | None = None
    for path in files:
        for n, _, key, value in _ini(root, path):
            if key == "error_log":
                last = (value, where(path, n, "error_log"))
    if last is None or not last[0]:
        return False
    value, origin = last
    if os.path.isabs(value) and not value.startswith("/dev/"):
        out.append(Declared(os.path.normpath(value), "php-error", None, origin))
    elif value == "syslog" or value.startswith("/dev/"):
        notes.append(f"{origin}: PHP errors go to {value}: not watched")
    else:
        notes.append(f"{origin}: {value} is relative to each script's directory: not watched")
    return True


def _fpm_items(root: str, path: str, depth: int = 0) -> Iterator[tuple[str, int, str, str, str]]:
    for n, section, key, value in _ini(root, path):
        if key == "include" and depth < 8:
            for hit in expand_glob(root, _resolve(value, os.path.dirname(path))):
                yield from _fpm_items(root, hit, depth + 1)
        else:
            yield path, n, section, key, value


def _seconds(value: str) -> float:
    """A php-fpm duration (``1s``, ``500ms``... only the number matters here)."""
    m = re.match(r"\s*([0-9.]+)", value)
    try:
        return float(m.group(1)) if m else 0.0
    except ValueError:
        return 0.0


def _fpm(root: str, conf: str, out: list[Declared], notes: list[str]) -> None:
    """php-fpm's own log, each pool's slowlog, access.log and PHP error_log."""
    pools: dict[str, dict[str, tuple[str, str]]] = {}
    for path, n, section, key, value in _fpm_items(root, conf):
        name = "global" if section.lower() in ("", "global") else section
        pool = pools.setdefault(name, {})
        pool[key.lower()] = (value.replace("$pool", section), where(path, n, key))
    glob_cfg = pools.pop("global", {})
    unset = f"{conf.removeprefix('/etc/')} sets no error_log (php-fpm default)"
    value, origin = glob_cfg.get("error_log", ("log/php-fpm.log", unset))
    if value == "syslog":
        notes.append(f"{origin}: php-fpm logs to syslog: not watched")
    else:
        out.append(Declared(_resolve(value, "/var"), "php-fpm", None, origin))
    for name, pool in pools.items():
        timed = _seconds(pool.get("request_slowlog_timeout", ("0", ""))[0]) > 0
        slow = pool.get("slowlog")
        if slow and not timed:
            notes.append(
                f"{slow[1]}: pool {name} writes no slowlog until request_slowlog_timeout is set"
            )
        elif timed:
            path, origin = slow or (f"log/{name}.log.slow", f"pool {name} default slowlog")
            out.append(Declared(_resolve(path, "/var"), "php-fpm-slow", None, origin))
        access = pool.get("access.log")
        if access and access[0]:
            out.append(Declared(_resolve(access[0], "/var"), "php-fpm-access", None, access[1]))
        err = pool.get("php_admin_value[error_log]") or pool.get("php_value[error_log]")
        if err and (err[0].startswith("/dev/") or err[0] == "syslog"):
            caught = pool.get("catch_workers_output", ("no", ""))[0].lower() in ("yes", "on", "1")
            where_to = (
                "caught into the php-fpm log" if caught else "lost (catch_workers_output off)"
            )
            notes.append(f"{err[1]}: pool {name} sends PHP errors to {err[0]}: {where_to}")
        elif err:
            out.append(Declared(_resolve(err[0], "/var"), "php-error", None, err[1]))


# -- MySQL / MariaDB -------------------------------------------------------------------------


def _cnf_items(root: str, path: str, seen: set[str]) -> Iterator[tuple[str, int, str, str, str]]:
    real = os.path.realpath(rooted(root, path))
    if real in seen:
        return
    seen.add(real)
    for n, section, key, value in _ini(root, path):
        if key == "!include":
            yield from _cnf_items(root, _resolve(value, os.path.dirname(path)), seen)
        elif key == "!includedir":
            for hit in expand_glob(root, _resolve(value, os.path.dirname(path)) + "/*.cnf"):
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
            out.append(Declared(_resolve(value or host + default, datadir), kind, None, origin))
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
