"""What the PHP-FPM and MySQL panes draw: one line per pool, one line for the server.

Counters that PHP-FPM and MySQL keep since they started (max children reached, slow requests,
slow queries, aborted connects) say little as totals; the panes show how much they rose over
the last minute, which is what changed during the incident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from console.core.stack import FpmSample, MysqlSample

#: Seconds over which a counter's rise is shown.
RISE_SPAN = 60.0


@dataclass(frozen=True, slots=True)
class PoolLine:
    """A pool at its latest sample."""

    pool: str
    pm: str
    active: int
    total: int
    idle: int
    max_children: int | None
    queue: int
    reached: int
    """Times ``pm.max_children`` was hit since the pool started."""
    reached_rise: int
    """... of which over the last minute."""
    slow: int
    slow_rise: int

    @property
    def full(self) -> bool:
        """Every process the pool may start is busy, or requests wait for one."""
        at_max = self.max_children is not None and self.active >= self.max_children
        return at_max or self.queue > 0 or self.reached_rise > 0

    def text(self, width: int = 200) -> str:
        """The line, in words when ``width`` allows, else in short."""
        limit = f"/{self.max_children}" if self.max_children else f" of {self.total}"
        parts = [f"{self.pool} {self.pm}", f"busy {self.active}{limit}", f"idle {self.idle}"]
        if self.queue:
            parts.append(f"queue {self.queue}")
        reached = f"max_children hit {self.reached}"
        parts.append(reached + (f" (+{self.reached_rise})" if self.reached_rise else ""))
        if self.slow or self.slow_rise:
            parts.append(f"slow {self.slow}" + (f" (+{self.slow_rise})" if self.slow_rise else ""))
        line = "  ".join(parts)
        if len(line) <= width:
            return line
        short = [f"{self.pool} {self.active}{limit.replace(' of ', '/')} busy"]
        if self.queue:
            short.append(f"queue {self.queue}")
        if self.reached_rise:
            short.append(f"maxed +{self.reached_rise}")
        if self.slow_rise:
            short.append(f"slow +{self.slow_rise}")
        return " ".join(short)


def _rise(now: int, then: int) -> int:
    """How much a counter rose; a counter that went down was reset (a restart): all of it."""
    return now - then if now >= then else now


def pool_lines(samples: Sequence[FpmSample], span: float = RISE_SPAN) -> tuple[PoolLine, ...]:
    """Each pool's line from the samples (several pools interleaved, oldest first)."""
    latest: dict[tuple[str, str], FpmSample] = {}
    first: dict[tuple[str, str], FpmSample] = {}
    for s in samples:
        key = (s.source, s.pool)
        latest[key] = s
    for s in samples:
        key = (s.source, s.pool)
        if key not in first and (latest[key].ts - s.ts).total_seconds() <= span:
            first[key] = s
    out = []
    for key, s in latest.items():
        old = first.get(key, s)
        out.append(
            PoolLine(
                pool=s.pool,
                pm=s.process_manager,
                active=s.active,
                total=s.total,
                idle=s.idle,
                max_children=s.max_children,
                queue=s.listen_queue,
                reached=s.max_children_reached,
                reached_rise=_rise(s.max_children_reached, old.max_children_reached),
                slow=s.slow_requests,
                slow_rise=_rise(s.slow_requests, old.slow_requests),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ServerLine:
    """A MySQL server at its latest sample."""

    connected: int
    max_connections: int
    running: int
    questions_per_s: float | None
    slow_rise: int
    aborted_rise: int
    lock_waits: int

    @property
    def ratio(self) -> float:
        return self.connected / self.max_connections if self.max_connections else 0.0

    def text(self, width: int = 200) -> str:
        """The line, in words when ``width`` allows, else in short."""
        parts = [f"conn {self.connected}/{self.max_connections} {self.ratio:.0%}"]
        parts.append(f"running {self.running}")
        if self.questions_per_s is not None:
            parts.append(f"q/s {self.questions_per_s:.0f}")
        if self.slow_rise:
            parts.append(f"slow +{self.slow_rise}")
        if self.aborted_rise:
            parts.append(f"aborted +{self.aborted_rise}")
        if self.lock_waits:
            parts.append(f"lock waits {self.lock_waits}")
        line = "  ".join(parts)
        if len(line) <= width:
            return line
        short = [f"conn {self.connected}/{self.max_connections}", f"run {self.running}"]
        if self.questions_per_s is not None:
            short.append(f"{self.questions_per_s:.0f} q/s")
        short += [p.replace(" +", "+") for p in parts if p.startswith(("slow", "aborted"))]
        if self.lock_waits:
            short.append(f"locks {self.lock_waits}")
        return " ".join(short)


def server_line(samples: Sequence[MysqlSample], span: float = RISE_SPAN) -> ServerLine | None:
    """The server's line from its samples (oldest first); None before the first."""
    if not samples:
        return None
    s = samples[-1]
    old = next((o for o in samples if (s.ts - o.ts).total_seconds() <= span), s)

    def counter(name: str) -> int:
        return int(s.status.get(name, 0))

    def rise(name: str) -> int:
        return _rise(counter(name), int(old.status.get(name, 0)))

    return ServerLine(
        connected=s.connected,
        max_connections=s.max_connections,
        running=len(s.running),
        questions_per_s=s.questions_per_s,
        slow_rise=rise("Slow_queries"),
        aborted_rise=rise("Aborted_connects"),
        lock_waits=counter("Innodb_row_lock_current_waits"),
    )
