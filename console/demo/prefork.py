"""The demo's Apache 2.4 prefork: its scoreboard, its children and what mod_status reads of them.

A :class:`Scoreboard` holds :data:`LIMIT` slots (``MaxRequestWorkers``) and the parent's
counters. It spawns and reaps children as prefork's idle server maintenance does, replaces them
on a graceful restart, adds up what each request cost, and gives the values of the status page
(:class:`~console.demo.pages.PageInfo`, one :class:`~console.demo.pages.Row` per worker). The
story decides when requests start and end; this module only keeps the books.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from random import Random

from console.demo.pages import PageInfo, Row
from console.demo.traffic import MIB, VHOST, Request, Traffic

LIMIT = 20
"""``MaxRequestWorkers`` (prefork): the scoreboard's length."""
MIN_SPARE, MAX_SPARE, START_SERVERS = 5, 10, 5
PARENT_PID = 1187
SHARED = 9 * MIB
"""Pages of libphp and the opcache every child has resident."""
PRIVATE_CAP = 32 * MIB
"""The most a child keeps between requests (glibc does not give it back)."""
#: What the parent writes to the error log on a graceful restart.
GRACEFUL_LOG = (
    ("mpm_prefork", "notice", "AH00171: Graceful restart requested, doing restart"),
    (
        "mpm_prefork",
        "notice",
        "AH00163: Apache/2.4.71 (Debian) configured -- resuming normal operations",
    ),
    ("mpm_prefork", "info", "AH00164: Server built: 2026-11-12T08:58:41"),
    ("core", "notice", "AH00094: Command line: '/usr/sbin/apache2'"),
)


class Slot:
    """One scoreboard slot and the child process in it."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.pid: int | None = None
        self.generation = 0
        self.mode = "."
        self.acc = [0, 0, 0]  # this connection / this child / this slot
        self.cpu = 0.0
        self.started = 0.0  # story time the most recent request began
        self.req_ms = self.dur_ms = 0
        self.conn_bytes = self.child_bytes = self.slot_bytes = 0
        self.client = self.vhost = self.request = ""
        self.private = 0.0  # bytes the child keeps between requests
        self.born_rss = 0
        self.current: Request | None = None
        self.token = 0  # changes with every state change; stale events compare it

    def private_at(self, t: float) -> float:
        """Private bytes at story time ``t``: report.php's arrays grow after its query."""
        req = self.current
        if req is None or req.peak <= 0 or t <= req.started + req.query:
            return self.private
        php = max(1e-3, req.duration - req.query)
        return self.private + req.peak * min(1.0, (t - req.started - req.query) / php)


class Scoreboard:
    """The slots, the children in them and the parent's counters, drawn from ``rng``."""

    def __init__(self, rng: Random, now: datetime) -> None:
        self._rng = rng
        self.restart = now - timedelta(seconds=7000 + rng.randint(0, 3000))
        """When the server was last (re)started."""
        self.config_gen, self.mpm_gen = 4, 3
        self.cpu = [0.9, 0.3, 11.2, 1.4]
        """CPU seconds: user, system, children user, children system."""
        self.slots = [Slot(i) for i in range(LIMIT)]
        self._next_pid = 24100 + rng.randint(0, 800)
        self._maxed = False
        self._spawn_rate = 1

    def history(self, traffic: Traffic) -> None:
        """Nine children that have served for a while, and three slots whose child was reaped."""
        rng = self._rng
        for slot in self.slots[:12]:
            self.spawn(slot)
            served = rng.randint(1200, 2600)
            req = traffic.site(0.0)
            slot.acc = [0, rng.randint(150, 900), served]
            slot.dur_ms = served * rng.randint(90, 160)
            slot.slot_bytes = served * rng.randint(7000, 11000)
            slot.child_bytes = slot.acc[1] * rng.randint(7000, 11000)
            slot.cpu = slot.acc[1] * 0.004
            slot.req_ms = int(req.duration * 1000)
            slot.started = -rng.uniform(0.0, 6.0)
            slot.client, slot.vhost, slot.request = req.client, VHOST, req.line
            if slot.index >= 9:
                slot.generation -= 1
                self.exit(slot)

    def spawn(self, slot: Slot) -> None:
        slot.pid = self._next_pid
        self._next_pid += self._rng.randint(1, 4)
        slot.generation = self.mpm_gen
        slot.mode = "_"
        slot.acc[0] = slot.acc[1] = 0
        slot.cpu = 0.0
        slot.conn_bytes = slot.child_bytes = 0
        slot.private = self._rng.uniform(3.6, 5.2) * MIB
        slot.born_rss = int(SHARED + slot.private)
        slot.current = None
        slot.token += 1

    def exit(self, slot: Slot) -> None:
        self.cpu[2] += slot.cpu * 0.1
        slot.pid = None
        slot.mode = "."
        slot.acc[0] = slot.acc[1] = 0
        slot.cpu = 0.0
        slot.conn_bytes = slot.child_bytes = 0
        slot.current = None
        slot.token += 1

    def idle(self) -> list[Slot]:
        return [
            s
            for s in self.slots
            if s.pid is not None and s.mode == "_" and s.generation == self.mpm_gen
        ]

    def maintain(self) -> tuple[list[tuple[str, str]], bool]:
        """Prefork's idle server maintenance, once a second.

        Returns what the parent logs (level, message) and whether it spawned children.
        """
        idle = self.idle()
        free = [s for s in self.slots if s.pid is None]
        said: list[tuple[str, str]] = []
        if len(idle) > MAX_SPARE:
            self.exit(idle[-1])
            self._spawn_rate = 1
        elif len(idle) < MIN_SPARE:
            if not free:
                if not self._maxed:
                    self._maxed = True
                    said.append(
                        (
                            "error",
                            "AH00161: server reached MaxRequestWorkers setting, consider raising"
                            " the MaxRequestWorkers setting",
                        )
                    )
                self._spawn_rate = 1
                return said, False
            n = min(self._spawn_rate, len(free))
            if self._spawn_rate >= 8:
                total = LIMIT - len(free)
                said.append(
                    (
                        "info",
                        "AH00162: server seems busy, (you may need to increase StartServers, or"
                        f" Min/MaxSpareServers), spawning {n} children, there are {len(idle)}"
                        f" idle, and {total} total children",
                    )
                )
            for slot in free[:n]:
                self.spawn(slot)
            self._spawn_rate = min(32, self._spawn_rate * 2)
            return said, True
        else:
            self._spawn_rate = 1
        return said, False

    def graceful(self) -> None:
        """A graceful restart: busy children finish first, idle ones go now, new ones start."""
        self.config_gen += 1
        self.mpm_gen += 1
        self._maxed = False
        self._spawn_rate = 1
        for slot in self.slots:
            if slot.pid is None:
                continue
            if slot.mode == "W":
                slot.mode = "G"
                slot.token += 1
            else:
                self.exit(slot)
        for slot in [s for s in self.slots if s.pid is None][:START_SERVERS]:
            self.spawn(slot)

    def served(self, slot: Slot, req: Request) -> None:
        """Count a request that ended in ``slot``; the child keeps some of what it grew."""
        ms = int(round(req.duration * 1000))
        slot.acc = [n + 1 for n in slot.acc]
        slot.req_ms = ms
        slot.dur_ms += ms
        slot.conn_bytes += req.size
        slot.child_bytes += req.size
        slot.slot_bytes += req.size
        slot.cpu += req.cpu
        self.cpu[0] += req.cpu * 0.87
        self.cpu[1] += req.cpu * 0.13
        if req.peak > 0:
            slot.private = min(PRIVATE_CAP, slot.private + req.peak * 0.35)
        else:
            slot.private = min(7 * MIB, slot.private + self._rng.uniform(0, 0.12) * MIB)
        slot.current = None
        slot.token += 1

    # -- what mod_status reads ----------------------------------------------------------------

    def poll_slot(self, t: float) -> int | None:
        """The idle child that serves the status request itself (none when all are busy)."""
        idle = self.idle()
        return idle[int(t * 7) % len(idle)].index if idle else None

    def page_info(
        self, now: datetime, load: tuple[float, float, float], poll: int | None
    ) -> PageInfo:
        slots = self.slots
        board = "".join("W" if s.index == poll else s.mode for s in slots)
        u, sy, cu, cs = self.cpu
        return PageInfo(
            now=now,
            restart=self.restart,
            config_generation=self.config_gen,
            mpm_generation=self.mpm_gen,
            uptime=max(1, int((now - self.restart).total_seconds())),
            load=load,
            accesses=sum(s.acc[2] for s in slots),
            kbytes=sum(s.slot_bytes for s in slots) // 1024,
            duration_ms=sum(s.dur_ms for s in slots),
            cpu=(round(u, 2), round(sy, 2), round(cu, 2), round(cs, 2)),
            scoreboard=board,
        )

    def rows(self, poll: int | None, t: float) -> list[Row]:
        rows = []
        for s in self.slots:
            if s.acc[2] == 0 and s.mode in "_." and s.index != poll:
                continue
            alive = s.pid is not None
            row = Row(
                slot=s.index,
                generation=s.generation,
                pid=s.pid,
                acc=(s.acc[0], s.acc[1], s.acc[2]),
                mode=s.mode,
                cpu=s.cpu if alive else 0.0,
                ss=max(0, int(t - s.started)) if alive else 0,
                req_ms=0 if s.mode == "W" else s.req_ms,
                dur_ms=s.dur_ms,
                conn_kb=s.conn_bytes / 1024,
                child_mb=s.child_bytes / MIB,
                slot_mb=s.slot_bytes / MIB,
                client=s.client,
                vhost=s.vhost,
                request=s.request,
            )
            if s.index == poll:
                line = "GET /server-status HTTP/1.1"
                row = replace(row, mode="W", ss=0, req_ms=0, client="127.0.0.1", request=line)
                row = replace(row, vhost="localhost:80", acc=(0, *row.acc[1:]), conn_kb=0.0)
            rows.append(row)
        return rows
