"""Spike rules for the P and the M of LAMP: PHP-FPM pools and MySQL/MariaDB servers.

Registered with the others in :mod:`console.incident.rules` (``RULES``, ``DEFAULTS``), so the
config's ``[rules.NAME]`` tables, ``enabled = false`` and cooldowns apply to them the same way.
Samples of several pools, or of several servers, interleave in one stream: each rule keeps its
history and its cooldown per pool (per server), so one pool's trouble neither hides nor
repeats another's.

A trigger's message is built from its values by :data:`MESSAGES`, so that ``--redact`` can mask
the values (users, SQL literals, query strings) and write the message again from them
(:func:`console.incident.redact.redact_trigger`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import datetime
from typing import Any

from console.core.stack import FpmSample, MysqlSample
from console.core.text import bound, clean, mask_secrets
from console.incident.rule_base import Rule, Trigger
from console.incident.stack_figures import fpm_requests, long_queries, pool_key

#: Characters of a URI or a query a trigger keeps (the report has room for more).
URI_CHARS = 160
QUERY_CHARS = 200

STACK_DEFAULTS: dict[str, dict[str, Any]] = {
    "fpm_max_children": {"enabled": True, "seconds": 5.0, "cooldown": 300.0},
    "fpm_slow": {"enabled": True, "count": 1, "cooldown": 300.0},
    "mysql_connections_high": {"enabled": True, "ratio": 0.9, "cooldown": 300.0},
    "mysql_long_query": {"enabled": True, "seconds": 30.0, "cooldown": 300.0},
}


def _text(value: str, limit: int) -> str:
    """Outside text for a message: one line, cleaned (again: cheap, and a message travels to
    terminals and files), passwords masked (``IDENTIFIED BY '...'``, ``?password=``), cut to
    ``limit``."""
    return bound(clean(mask_secrets(" ".join(value.split()))), limit)


def _s(n: int) -> str:
    return "" if n == 1 else "s"


class KeyedRule(Rule):
    """A rule whose cooldown runs per key (a pool, a server, a query) instead of per rule."""

    #: Keys remembered at most: a crafted stream of new keys must not grow memory without end.
    MAX_KEYS = 4096

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._fired: dict[Hashable, datetime] = {}

    def ready_for(self, key: Hashable, now: datetime) -> bool:
        last = self._fired.get(key)
        return last is None or now - last >= self.cooldown

    def mark(self, key: Hashable, now: datetime) -> None:
        self._fired.pop(key, None)
        self._fired[key] = now
        if len(self._fired) > self.MAX_KEYS:
            # drop what has cooled down; if that is not enough, the oldest
            for k in [k for k, t in self._fired.items() if now - t >= self.cooldown]:
                del self._fired[k]
            while len(self._fired) > self.MAX_KEYS:
                del self._fired[next(iter(self._fired))]

    def fire_for(self, key: Hashable, now: datetime, **values: Any) -> Trigger:
        self.mark(key, now)
        return self.fire(now, MESSAGES[self.name](values), **values)


def _longest(s: FpmSample) -> dict[str, Any]:
    """The longest-running request of a pool, as trigger values."""
    requests = fpm_requests(s)
    if not requests:
        return {"uri": "", "pid": None, "duration": 0.0}
    p = requests[0]
    return {"uri": _text(p.uri, URI_CHARS), "pid": p.pid, "duration": round(p.duration, 1)}


def _pool_figures(s: FpmSample) -> dict[str, Any]:
    return {
        "source": s.source,
        "pool": _text(s.pool, 80),
        "active": s.active,
        "idle": s.idle,
        "total": s.total,
        "max_children": s.max_children,
        "listen_queue": s.listen_queue,
        "max_children_reached": s.max_children_reached,
        "slow_requests": s.slow_requests,
        **_longest(s),
    }


class FpmMaxChildren(KeyedRule):
    """A pool ran out of processes: ``max children reached`` rose since the pool's previous
    sample, or requests waited in its listen queue for ``seconds``."""

    name = "fpm_max_children"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._prev: dict[tuple[str, str], FpmSample] = {}
        self._queued_since: dict[tuple[str, str], datetime] = {}

    def on_fpm(self, s: FpmSample) -> Trigger | None:
        key = pool_key(s)
        prev = self._prev.get(key)
        if prev is None and len(self._prev) >= self.MAX_KEYS:
            self._prev.clear()
            self._queued_since.clear()
        self._prev[key] = s
        rose = 0
        if prev is not None and prev.start_time == s.start_time:
            rose = max(s.max_children_reached - prev.max_children_reached, 0)
        held = 0.0
        if s.listen_queue > 0:
            since = self._queued_since.setdefault(key, s.ts)
            held = (s.ts - since).total_seconds()
        else:
            self._queued_since.pop(key, None)
        queued = s.listen_queue > 0 and held >= float(self.settings["seconds"])
        if not (rose or queued) or not self.ready_for(key, s.ts):
            return None
        return self.fire_for(
            key,
            s.ts,
            reason="max_children_reached" if rose else "listen_queue",
            rose=rose,
            seconds=round(held, 1),
            **_pool_figures(s),
        )


class FpmSlow(KeyedRule):
    """A pool's ``slow requests`` (requests that outran ``request_slowlog_timeout``) rose by
    ``count`` or more since its previous sample."""

    name = "fpm_slow"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._prev: dict[tuple[str, str], FpmSample] = {}

    def on_fpm(self, s: FpmSample) -> Trigger | None:
        key = pool_key(s)
        prev = self._prev.get(key)
        if prev is None and len(self._prev) >= self.MAX_KEYS:
            self._prev.clear()
        self._prev[key] = s
        if prev is None or prev.start_time != s.start_time:
            return None
        rose = s.slow_requests - prev.slow_requests
        if rose < max(int(self.settings["count"]), 1) or not self.ready_for(key, s.ts):
            return None
        return self.fire_for(key, s.ts, rose=rose, **_pool_figures(s))


class MysqlConnectionsHigh(KeyedRule):
    """``Threads_connected`` reached ``ratio`` of ``max_connections``."""

    name = "mysql_connections_high"

    def on_mysql(self, s: MysqlSample) -> Trigger | None:
        if s.max_connections <= 0:
            return None
        ratio = s.connected / s.max_connections
        if ratio < float(self.settings["ratio"]) or not self.ready_for(s.source, s.ts):
            return None
        running = s.status.get("Threads_running")
        return self.fire_for(
            s.source,
            s.ts,
            source=s.source,
            connected=s.connected,
            max_connections=s.max_connections,
            percent=round(100 * ratio, 1),
            running=len(s.running) if running is None else int(running),
        )


class MysqlLongQuery(KeyedRule):
    """A statement has run ``seconds`` or more. Fires once per query (thread id) per cooldown:
    the queries it names are not named again by the next polls while they run on."""

    name = "mysql_long_query"

    def on_mysql(self, s: MysqlSample) -> Trigger | None:
        long = long_queries(s, float(self.settings["seconds"]))
        new = [t for t in long if self.ready_for((s.source, t.id), s.ts)]
        if not new:
            return None
        for t in long:  # every long query is in this trigger's values: none fires again soon
            self.mark((s.source, t.id), s.ts)
        t = new[0]
        return self.fire_for(
            (s.source, t.id),
            s.ts,
            source=s.source,
            id=t.id,
            user=_text(t.user, 80),
            host=_text(t.host, 80),
            db=_text(t.db, 80),
            seconds=round(t.time, 1),
            state=_text(t.state, 80),
            query=_text(t.info, QUERY_CHARS),
            more=len(long) - 1,
            ids=[x.id for x in long[:50]],
        )


# -- messages, from the values -------------------------------------------------------------


def _longest_text(v: Mapping[str, Any]) -> str:
    if not v.get("uri"):
        return "no request running but the status poll"
    return f"longest {v['uri']} ({float(v.get('duration') or 0):.0f} s, pid {v.get('pid')})"


def _fpm_limit_message(v: Mapping[str, Any]) -> str:
    if v.get("reason") == "max_children_reached":
        rose = int(v.get("rose") or 0)
        why = f"reached pm.max_children {rose} more time{_s(rose)}"
    else:
        queue = int(v.get("listen_queue") or 0)
        why = f"had {queue} request{_s(queue)} waiting {float(v.get('seconds') or 0):.0f} s"
    limit = f", max_children {v['max_children']}" if v.get("max_children") else ""
    return (
        f"PHP-FPM pool {v.get('pool')} {why}: active {v.get('active')}/{v.get('total')}"
        f"{limit}, listen queue {v.get('listen_queue')}; {_longest_text(v)}"
    )


def _fpm_slow_message(v: Mapping[str, Any]) -> str:
    rose = int(v.get("rose") or 0)
    return (
        f"PHP-FPM pool {v.get('pool')}: {rose} more slow request{_s(rose)} "
        f"({v.get('slow_requests')} since it started), active {v.get('active')}/"
        f"{v.get('total')}; {_longest_text(v)}"
    )


def _connections_message(v: Mapping[str, Any]) -> str:
    return (
        f"{v.get('source')}: {v.get('connected')} of {v.get('max_connections')} connections "
        f"in use ({float(v.get('percent') or 0):.0f}%), {v.get('running')} running"
    )


def _long_query_message(v: Mapping[str, Any]) -> str:
    more = int(v.get("more") or 0)
    others = f" ({more} more running that long)" if more else ""
    return (
        f"{v.get('source')}: query {v.get('id')} by {v.get('user') or '-'} on "
        f"{v.get('db') or '-'} running {float(v.get('seconds') or 0):.0f} s{others}: "
        f"{v.get('query')}"
    )


#: Each stack rule's message, from its trigger's values.
MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "fpm_max_children": _fpm_limit_message,
    "fpm_slow": _fpm_slow_message,
    "mysql_connections_high": _connections_message,
    "mysql_long_query": _long_query_message,
}

STACK_RULES: tuple[type[Rule], ...] = (
    FpmMaxChildren,
    FpmSlow,
    MysqlConnectionsHigh,
    MysqlLongQuery,
)
