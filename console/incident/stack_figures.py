"""Figures about PHP-FPM pools and MySQL servers that the rules, the report and its verdict
share: which requests a pool is busy with, whether it is at its limit, how much a counter rose.

Pure functions over :mod:`console.core.stack` values; no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread


def status_path(target: str) -> str:
    """The status page's path in a sample's ``target`` (``unix:/run/php/x.sock:/fpm-status``,
    ``tcp:127.0.0.1:9000:/fpm-status``, ``http://127.0.0.1/fpm-status``); empty when none."""
    if "://" in target:
        return urlsplit(target).path
    tail = target.rsplit(":", 1)[-1]
    return tail if tail.startswith("/") else ""


def is_own_request(p: FpmProcess, own_path: str) -> bool:
    """The poll of the status page itself, or a ping: PHP-FPM answers them without a script
    (a request still being read has no script either, but is not ``Running`` yet)."""
    if own_path and p.uri.split("?", 1)[0] == own_path:
        return True
    return p.script in ("-", "") and p.state == "Running"


def fpm_requests(s: FpmSample) -> tuple[FpmProcess, ...]:
    """The requests a pool is busy with, longest first, its own status poll left out."""
    own = status_path(s.target)
    return tuple(p for p in s.busy if not is_own_request(p, own))


def fpm_limit(s: FpmSample) -> int:
    """The most processes the pool may run: ``pm.max_children`` when known, else its total."""
    return s.max_children if s.max_children else s.total


def fpm_at_limit(s: FpmSample) -> bool:
    """Every process the pool may run is busy, or requests wait for one."""
    full = bool(s.max_children) and s.active >= (s.max_children or 0) and s.idle == 0
    return full or s.listen_queue > 0


def pool_key(s: FpmSample) -> tuple[str, str]:
    return (s.source, s.pool)


def by_pool(samples: Iterable[FpmSample]) -> dict[tuple[str, str], list[FpmSample]]:
    """The samples of each pool, in the order the pools were first seen."""
    pools: dict[tuple[str, str], list[FpmSample]] = {}
    for s in samples:
        pools.setdefault(pool_key(s), []).append(s)
    return pools


def counter_rise(samples: Sequence[FpmSample], get: Callable[[FpmSample], int]) -> int:
    """How much a counter that counts since the pool started rose over ``samples`` (one pool's,
    oldest first): a restart of the pool (its start time changes, or the counter falls) starts
    counting again from the new value, it does not count as a rise."""
    rose = 0
    for before, after in zip(samples, samples[1:], strict=False):
        if after.start_time == before.start_time and get(after) > get(before):
            rose += get(after) - get(before)
    return rose


def status_rise(samples: Sequence[MysqlSample], key: str) -> int:
    """How much a ``SHOW GLOBAL STATUS`` counter rose over ``samples`` (oldest first); a server
    restart (``Uptime`` falls, or the counter does) starts counting again."""
    rose = 0
    for before, after in zip(samples, samples[1:], strict=False):
        a, b = before.status.get(key), after.status.get(key)
        if a is None or b is None:
            continue
        restarted = after.status.get("Uptime", 1 << 62) < before.status.get("Uptime", 0)
        if not restarted and b > a:
            rose += b - a
    return rose


def long_queries(s: MysqlSample, seconds: float) -> tuple[MysqlThread, ...]:
    """Statements running for ``seconds`` or more, longest first."""
    return tuple(t for t in s.running if t.time >= seconds)


class _Timed(Protocol):
    @property
    def ts(self) -> datetime: ...


def at_or_before(samples: Sequence[_Timed], at: datetime) -> int:
    """The index of the last sample taken at or before ``at`` (the first one when all are
    later); -1 when there is none."""
    found = -1
    for i, s in enumerate(samples):
        if s.ts <= at:
            found = i
        else:
            break
    return found if found >= 0 else (0 if samples else -1)
