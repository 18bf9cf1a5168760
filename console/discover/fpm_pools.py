"""php-fpm's pools, read from its config for their status pages.

Each ``[pool]`` section of ``php-fpm.conf`` and of the files it ``include``\\ s (Debian:
``/etc/php/<version>/fpm/php-fpm.conf`` with ``pool.d/*.conf``; RHEL: ``/etc/php-fpm.conf`` with
``/etc/php-fpm.d/*.conf``) gives a :class:`FpmPool`: its ``listen`` address, ``pm``,
``pm.max_children``, ``pm.status_path`` and ``pm.status_listen``, and the best place to read
its status page: the ``pm.status_listen`` socket when there is one (it answers even when every
child is busy), else the pool's own ``listen`` socket with the status path. A pool without a
status path cannot be polled; its ``note`` says how to give it one.

As everywhere in discovery, sockets are given with the root in front (they are the paths to
connect to).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from console.core.text import bound, clean
from console.discover.files import expand_glob, rooted, where
from console.discover.ini import ini_lines, resolve

#: Where the distributions put the master config (RHEL's SCL and remi builds aside).
FPM_CONFIGS = ("/etc/php/*/fpm/php-fpm.conf", "/etc/php-fpm.conf")
_VERSION = re.compile(r"^/etc/php/([^/]+)/fpm/")
_WILDCARDS = {"", "*", "0.0.0.0"}


@dataclass(frozen=True)
class FpmPool:
    """One pool of a php-fpm config."""

    name: str
    conf: str
    """The master config it belongs to (host path: ``/etc/php/8.2/fpm/php-fpm.conf``)."""
    origin: str
    """The file of its section: ``php/8.2/fpm/pool.d/www.conf [www]``."""
    listen: str = ""
    """``listen`` as written (``$pool`` replaced)."""
    pm: str = ""
    max_children: int | None = None
    status_path: str = ""
    status_listen: str = ""
    target: str = ""
    """Where lamptop reads its status page (``unix:SOCKET:/fpm-status``); empty: nowhere."""
    target_origin: str = ""
    """The config line the target comes from."""
    note: str = ""
    """Why there is no target, and what to change."""
    version: str = ""
    """The PHP version of a Debian config (``8.2``), else empty."""
    places: tuple[str, ...] = ()
    """Every address it answers on, as targets (``pm.status_listen``'s, then ``listen``'s),
    to recognise a target given by hand."""

    @property
    def service(self) -> str:
        return f"php{self.version}-fpm" if self.version else "php-fpm"


def fpm_items(root: str, path: str, depth: int = 0) -> Iterator[tuple[str, int, str, str, str]]:
    """(file, line, section, key, value) of a php-fpm config, its ``include``\\ s followed."""
    for n, section, key, value in ini_lines(root, path):
        if key == "include" and depth < 8:
            for hit in expand_glob(root, resolve(value, os.path.dirname(path))):
                yield from fpm_items(root, hit, depth + 1)
        else:
            yield path, n, section, key, value


def address_target(root: str, address: str, path: str) -> str:
    """The status target of a ``listen``-style address: a socket path, ``ip:port``,
    ``[ipv6]:port`` or a bare port (every address: asked on loopback). Empty when unusable."""
    address = address.strip()
    if not address:
        return ""
    if address.startswith("/"):
        return f"unix:{rooted(root, address)}:{path}"
    host, colon, port = address.rpartition(":")
    if not colon:
        host, port = "", address
    if not port.isdigit():
        return ""
    host = host.strip()
    if host in _WILDCARDS:
        host = "127.0.0.1"
    elif host.strip("[]") == "::":
        host = "[::1]"
    return f"tcp:{host}:{port}:{path}"


def read_fpm_pools(root: str) -> tuple[FpmPool, ...]:
    """Every pool of every php-fpm config under ``root``, in the order of the configs."""
    pools: list[FpmPool] = []
    for pattern in FPM_CONFIGS:
        for conf in expand_glob(root, pattern):
            pools.extend(_pools(root, conf))
    return tuple(pools)


def _pools(root: str, conf: str) -> list[FpmPool]:
    sections: dict[str, dict[str, tuple[str, str]]] = {}
    starts: dict[str, str] = {}
    for path, n, section, key, value in fpm_items(root, conf):
        if section.lower() in ("", "global"):
            continue
        if section not in sections:
            sections[section] = {}
            starts[section] = f"{path.removeprefix('/etc/')} [{section}]"
        # config values are text from outside too: no control character goes further
        sections[section][key.lower()] = (
            clean(bound(value.replace("$pool", section), 4096)),
            where(path, n, clean(bound(key, 200))),
        )
    m = _VERSION.match(conf)
    version = m.group(1) if m else ""
    return [
        _pool(root, conf, clean(bound(name, 200)), keys, clean(starts[name]), version)
        for name, keys in sections.items()
    ]


def _pool(
    root: str, conf: str, name: str, keys: dict[str, tuple[str, str]], start: str, version: str
) -> FpmPool:
    def get(key: str) -> tuple[str, str]:
        return keys.get(key, ("", ""))

    listen, listen_at = get("listen")
    path, path_at = get("pm.status_path")
    status_listen, status_listen_at = get("pm.status_listen")
    children = get("pm.max_children")[0]
    service = f"php{version}-fpm" if version else "php-fpm"
    target = origin = note = ""
    if not path:
        note = (
            f"pool {name} ({start.rsplit(' ', 1)[0]}) has no status page: add "
            f"pm.status_path = /fpm-status to pool {name}, then systemctl reload {service}"
        )
    elif not path.startswith("/"):
        note = f"{path_at}: pm.status_path must start with / (php-fpm refuses {path!r})"
    else:
        if status_listen:
            target, origin = address_target(root, status_listen, path), status_listen_at
        if not target:
            target, origin = address_target(root, listen, path), listen_at
        if not target:
            note = f"{listen_at or start}: cannot read listen = {listen!r}: give --fpm-status"
    places = (address_target(root, status_listen, path or "/"), address_target(root, listen, "/"))
    return FpmPool(
        name=name,
        conf=conf,
        origin=start,
        listen=listen,
        pm=get("pm")[0],
        max_children=int(children) if children.isdigit() and len(children) < 10 else None,
        status_path=path,
        status_listen=status_listen,
        target=target,
        target_origin=origin,
        note=note,
        version=version,
        places=tuple(p for p in places if p),
    )
