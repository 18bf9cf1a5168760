"""PHP and php-fpm configuration, read for their log paths.

Debian/Ubuntu: ``/etc/php/<version>/{fpm,apache2}/php.ini`` with ``conf.d/*.ini`` (cli is not a
server and is skipped), ``/etc/php/<version>/fpm/php-fpm.conf`` and its ``include`` of
``pool.d/*.conf``. RHEL: ``/etc/php.ini`` + ``/etc/php.d``, ``/etc/php-fpm.conf`` +
``/etc/php-fpm.d``. A relative php-fpm path is relative to ``/var`` (php-fpm's prefix on both).
"""

from __future__ import annotations

import os
import re

from console.discover.files import Declared, expand_glob, rooted, where
from console.discover.fpm_pools import fpm_items
from console.discover.ini import ini_lines, resolve


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
        for n, _, key, value in ini_lines(root, path):
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
    for path, n, section, key, value in fpm_items(root, conf):
        name = "global" if section.lower() in ("", "global") else section
        pool = pools.setdefault(name, {})
        pool[key.lower()] = (value.replace("$pool", section), where(path, n, key))
    glob_cfg = pools.pop("global", {})
    unset = f"{conf.removeprefix('/etc/')} sets no error_log (php-fpm default)"
    value, origin = glob_cfg.get("error_log", ("log/php-fpm.log", unset))
    if value == "syslog":
        notes.append(f"{origin}: php-fpm logs to syslog: not watched")
    else:
        out.append(Declared(resolve(value, "/var"), "php-fpm", None, origin))
    for name, pool in pools.items():
        timed = _seconds(pool.get("request_slowlog_timeout", ("0", ""))[0]) > 0
        slow = pool.get("slowlog")
        if slow and not timed:
            notes.append(
                f"{slow[1]}: pool {name} writes no slowlog until request_slowlog_timeout is set"
            )
        elif timed:
            path, origin = slow or (f"log/{name}.log.slow", f"pool {name} default slowlog")
            out.append(Declared(resolve(path, "/var"), "php-fpm-slow", None, origin))
        access = pool.get("access.log")
        if access and access[0]:
            out.append(Declared(resolve(access[0], "/var"), "php-fpm-access", None, access[1]))
        err = pool.get("php_admin_value[error_log]") or pool.get("php_value[error_log]")
        if err and (err[0].startswith("/dev/") or err[0] == "syslog"):
            caught = pool.get("catch_workers_output", ("no", ""))[0].lower() in ("yes", "on", "1")
            where_to = (
                "caught into the php-fpm log" if caught else "lost (catch_workers_output off)"
            )
            notes.append(f"{err[1]}: pool {name} sends PHP errors to {err[0]}: {where_to}")
        elif err:
            out.append(Declared(resolve(err[0], "/var"), "php-error", None, err[1]))
