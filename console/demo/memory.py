"""The demo's machine: 1 GiB of memory, 1 GiB of swap, two cores, and what runs on them.

:class:`Machine` turns the scoreboard's children and the report queries running in mariadbd
into what the psutil sampler would see: resident memory per process, used memory and swap,
load averages and CPU percent, as one :class:`~console.core.events.SystemSample`. When the processes
want more than fits, the excess goes to swap and each process keeps a share of its demand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from console.core.events import ProcInfo, ServiceMem, SystemSample
from console.demo.prefork import PARENT_PID, SHARED, Slot
from console.demo.traffic import MIB

MYSQL_PID = 902
#: An Apache child's PHP-FPM partner has the child's pid plus this (pool www, one per slot).
FPM_PID_OFFSET = 100_000
FPM_MASTER_PID = 880
APACHE_CHILD = 5 * MIB
"""An Apache child's resident bytes: it proxies to PHP-FPM and holds no PHP."""
FPM_SHARED = 5 * MIB
"""Code and opcache pages every PHP-FPM child maps."""
FPM_CMD = "php-fpm: pool www"
FPM_MASTER = 6 * MIB
MEM_TOTAL = SWAP_TOTAL = 1024 * MIB
OTHER = 170 * MIB
"""Kernel, sshd, journald and the rest of the machine."""
PARENT_RSS = 11 * MIB
MYSQL_BASE = 148 * MIB
_OTHERS = (
    (431, "systemd-journald", "/lib/systemd/systemd-journald", 21 * MIB),
    (712, "sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", 9 * MIB),
)


class Machine:
    """Memory, swap, load and CPU of the simulated machine, over the scoreboard's ``slots``."""

    def __init__(self, slots: Sequence[Slot]) -> None:
        self.slots = slots
        self.load = [0.21, 0.24, 0.19]
        """Load averages over 1, 5 and 15 minutes."""
        self.cpu_pct = 5.0
        self.swap = 0.0
        """Bytes in swap."""

    def demand(self, t: float, queries: int) -> tuple[dict[int, float], float, float]:
        """Bytes each Apache and PHP-FPM child wants resident, what mariadbd wants, and the
        excess."""
        children: dict[int, float] = {}
        for s in self.slots:
            if s.pid is not None:
                children[s.pid] = APACHE_CHILD
                children[s.pid + FPM_PID_OFFSET] = FPM_SHARED + s.private_at(t)
        children[FPM_MASTER_PID] = FPM_MASTER
        mysql = MYSQL_BASE + queries * 5 * MIB
        procs = PARENT_RSS + sum(children.values()) + mysql
        excess = max(0.0, procs - (0.955 * MEM_TOTAL - OTHER - sum(o[3] for o in _OTHERS)))
        return children, mysql, excess

    def busy_cpu(self, t: float, queries: int) -> float:
        """Cores' worth of work: PHP in the children, report queries in mariadbd."""
        work = queries * 0.8
        for s in self.slots:
            req = s.current
            if req is not None and s.mode in "WG" and t >= req.started + req.query:
                work += 0.9 if req.report else 0.3
        return work

    def update(self, t: float, queries: int) -> None:
        """Once a second: the load averages, CPU percent and swap move towards the demand."""
        _, _, excess = self.demand(t, queries)
        running = sum(1 for s in self.slots if s.mode in "WG") + (3 if excess else 0)
        for i, period in enumerate((60.0, 300.0, 900.0)):
            e = math.exp(-1.0 / period)
            self.load[i] = self.load[i] * e + running * (1 - e)
        target = min(100.0, 3.0 + 50.0 * self.busy_cpu(t, queries))
        self.cpu_pct = 0.5 * self.cpu_pct + 0.5 * target
        if excess >= self.swap:
            self.swap = excess
        else:
            self.swap = max(excess, self.swap * 0.97 - 0.5 * MIB)

    def sample(self, now: datetime, t: float, queries: int) -> SystemSample:
        """What the psutil sampler would report at story time ``t``, stamped ``now``."""
        children, mysql, excess = self.demand(t, queries)
        wanted = PARENT_RSS + sum(children.values()) + mysql
        scale = 1.0 - excess / wanted
        busy = max(1.0, self.busy_cpu(t, queries))
        rss = {pid: int(b * scale) for pid, b in children.items()}
        rss[PARENT_PID] = int(PARENT_RSS * scale)
        rss[MYSQL_PID] = int(mysql * scale)
        apache2, mysql_cpu = "/usr/sbin/apache2 -k start", min(190.0, 1.0 + 80.0 * queries)
        table = []
        for s in self.slots:
            if s.pid is None:
                continue
            cpu = min(99.0, 180.0 / busy) if s.mode in "WG" else 0
            table.append((s.pid, "apache2", apache2, APACHE_CHILD, 0.5 if cpu else 0))
            born = int(FPM_SHARED + s.born_rss - SHARED)
            table.append((s.pid + FPM_PID_OFFSET, "php-fpm8.2", FPM_CMD, born, cpu))
        table.append((PARENT_PID, "apache2", apache2, PARENT_RSS, 0.1))
        master = "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"
        table.append((FPM_MASTER_PID, "php-fpm8.2", master, FPM_MASTER, 0.0))
        table.append((MYSQL_PID, "mariadbd", "/usr/sbin/mariadbd", MYSQL_BASE, mysql_cpu))
        procs = [
            ProcInfo(pid, name, cmd, rss[pid], rss[pid] - base, round(cpu, 1))
            for pid, name, cmd, base, cpu in table
        ]
        procs.extend(ProcInfo(pid, name, cmd, size) for pid, name, cmd, size in _OTHERS)
        procs.sort(key=lambda p: p.rss, reverse=True)
        php = {pid for pid, name, *_ in table if name == "php-fpm8.2"}
        apache = sum(v for k, v in rss.items() if k != MYSQL_PID and k not in php)
        fpm = sum(rss[pid] for pid in php)
        # Under pressure the kernel reclaims and refills caches: used memory hovers.
        hover = 3 * MIB * math.sin(t / 3.0) if excess else 0.0
        used = int(OTHER + sum(o[3] for o in _OTHERS) + wanted * scale + hover)
        swap = int(max(excess, self.swap))
        return SystemSample(
            ts=now,
            mem_total=MEM_TOTAL,
            mem_used=used,
            mem_available=MEM_TOTAL - used,
            swap_total=SWAP_TOTAL,
            swap_used=min(SWAP_TOTAL, swap),
            load1=round(self.load[0], 2),
            load5=round(self.load[1], 2),
            load15=round(self.load[2], 2),
            cpu_percent=round(self.cpu_pct, 1),
            cpu_count=2,
            services=(
                ServiceMem("apache", apache, len(children) - len(php) + 1),
                ServiceMem("php-fpm", fpm, len(php)),
                ServiceMem("mysql", rss[MYSQL_PID], 1),
            ),
            top=tuple(procs[:10]),
            rss_by_pid=rss,
            scanned=True,
        )
