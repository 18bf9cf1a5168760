"""Which PHP-FPM pools to poll: the targets the config gives, else the pools discovery found.

``--fpm-status`` / ``[fpm] status`` win: when given, only those targets are polled, each named
after the discovered pool it reaches (same socket or port, or through the web server the only
pool with that status path), else after its status path. Without them, every discovered pool
with a status page is polled. Pools without one are listed apart, with the fix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from console.sources.fpm.target import BadTarget, FpmTarget, parse_target

if TYPE_CHECKING:
    from console.discover.fpm_pools import FpmPool

PREFIX = "php-fpm"


@dataclass(frozen=True)
class PlannedFpm:
    """One pool the engine polls (or, in :attr:`Plan.fpm_unpolled`, one it cannot)."""

    name: str
    """The source's name: ``php-fpm:www``."""
    target: str
    """Where its status page is read (see :mod:`console.sources.fpm.target`); empty when
    it cannot be."""
    origin: str
    """Where lamptop learned of it: ``flag or config``, or the pool config's line."""
    max_children: int | None = None
    """``pm.max_children`` from the pool's config, when known."""
    pool: str | None = None
    """The pool's name, when known before the first poll."""
    note: str = ""
    """Why it is not polled, and what to change."""


def _same_place(target: FpmTarget, pool: FpmPool) -> bool:
    """Whether ``target`` reaches ``pool`` (its listen or status_listen address)."""
    for candidate in pool.places:
        try:
            known = parse_target(candidate)
        except BadTarget:
            continue
        if target.fastcgi:
            if target.scheme != known.scheme:
                continue
            if target.scheme == "unix":
                if os.path.realpath(target.socket_path) == os.path.realpath(known.socket_path):
                    return True
            elif target.port == known.port and _same_host(target.host, known.host):
                return True
    return False


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _same_host(a: str, b: str) -> bool:
    return a == b or (a in _LOOPBACK and b in _LOOPBACK)


def _name_from_path(target: FpmTarget) -> str:
    slug = target.path.strip("/").replace("/", "-")
    return f"{PREFIX}:{slug}" if slug else PREFIX


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 2
        while candidate in seen:
            candidate = f"{name}-{n}"
            n += 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _pool_name(pool: FpmPool, pools: Sequence[FpmPool]) -> str:
    """``php-fpm:www``, or ``php-fpm:www@8.1`` when several PHP versions have a pool www."""
    twins = [p for p in pools if p.name == pool.name]
    return f"{PREFIX}:{pool.name}" + (f"@{pool.version}" if len(twins) > 1 and pool.version else "")


def plan_fpm(
    explicit: Sequence[str], pools: Sequence[FpmPool]
) -> tuple[tuple[PlannedFpm, ...], tuple[PlannedFpm, ...], tuple[str, ...]]:
    """(pools to poll, pools that cannot be polled, notes)."""
    notes: list[str] = []
    chosen: list[PlannedFpm] = []
    reached: set[int] = set()
    """Indexes of the pools an explicit target reaches."""
    if explicit:
        for text in explicit:
            try:
                target = parse_target(text)
            except BadTarget as exc:
                notes.append(f"--fpm-status / [fpm] status: {exc}")
                continue
            match = [i for i, p in enumerate(pools) if _same_place(target, p)]
            if not match and not target.fastcgi:
                match = [i for i, p in enumerate(pools) if p.status_path == target.path]
            if len(match) == 1:
                reached.add(match[0])
                pool = pools[match[0]]
                name, size, pool_name = _pool_name(pool, pools), pool.max_children, pool.name
            else:
                name, size, pool_name = _name_from_path(target), None, None
            chosen.append(PlannedFpm(name, text.strip(), "flag or config", size, pool_name))
    else:
        for p in pools:
            if p.target:
                chosen.append(
                    PlannedFpm(
                        _pool_name(p, pools), p.target, p.target_origin, p.max_children, p.name
                    )
                )
    unpolled = [
        PlannedFpm(_pool_name(p, pools), "", p.origin, p.max_children, p.name, p.note)
        for i, p in enumerate(pools)
        if not p.target and i not in reached
    ]
    names = _unique([c.name for c in chosen])
    planned = tuple(
        PlannedFpm(n, c.target, c.origin, c.max_children, c.pool, c.note)
        for n, c in zip(names, chosen, strict=True)
    )
    return planned, tuple(unpolled), tuple(notes)
