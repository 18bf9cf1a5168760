"""Sample the machine: memory, swap, load and CPU every tick; the processes every few seconds.

The quick readings (``/proc/meminfo``, ``/proc/loadavg``, ``/proc/stat``) run on the event loop;
the process scan, which opens two files per process, runs in a thread. Between scans a
sample carries the most recent scan's services, top list and RSS by pid, with
``scanned=False``. A process that exits while it is being read is skipped.

On Linux the figures are read from ``/proc`` directly (:mod:`console.sources.system.procfs`, about a
tenth of psutil's cost for the same values, and command lines only for the processes listed);
elsewhere, or when ``/proc`` cannot be read, psutil reads them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.events import (
    NEW_PROCESS,
    ProcInfo,
    ServerChild,
    ServiceMem,
    SourceStatus,
    SystemSample,
)
from console.core.text import clean, mask_secrets
from console.sources import Sink, StateReporter
from console.sources.system import procfs

KIND = "system"
ATTRS = ["pid", "name", "cmdline", "memory_info", "cpu_times", "create_time", "status"]
CMDLINE_MAX = 300
#: Service names in the order they are listed.
SERVICES = ("apache", "mysql", "php-fpm")
#: Apache processes kept per sample (ServerLimit is 16 under event, 256 under prefork).
MAX_CHILDREN = 512
_STATUS_LETTER = {
    "running": "R",
    "sleeping": "S",
    "disk-sleep": "D",
    "stopped": "T",
    "zombie": "Z",
    "idle": "I",
    "dead": "X",
    "tracing-stop": "t",
}
_VANISHED = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)


def service_of(name: str) -> str | None:
    """The watched service a process name belongs to (``apache2`` → ``apache``), else None."""
    if name in ("apache2", "httpd"):
        return "apache"
    if name in ("mysqld", "mariadbd"):
        return "mysql"
    if name.startswith("php-fpm"):
        return "php-fpm"
    return None


@dataclass(slots=True)
class _Proc:
    """One process as a scan read it."""

    pid: int
    name: str
    rss: int
    cpu: float | None
    """User + system CPU seconds; None when unreadable."""
    created: float
    """Start time (in whatever unit the reader uses): with the pid, it tells reused pids apart."""
    args: list[str] | None = None
    """The command line, once read (``[]``: none, kernel threads and zombies)."""
    args_read: bool = False
    state: str = "?"


@dataclass
class _Scan:
    services: tuple[ServiceMem, ...] = ()
    top: tuple[ProcInfo, ...] = ()
    rss_by_pid: dict[int, int] = field(default_factory=dict)
    children: tuple[ServerChild, ...] = ()


class SystemSampler:
    """Produces a :class:`SystemSample` every ``interval`` seconds, scanning processes every
    ``scan_interval`` seconds."""

    def __init__(
        self,
        sink: Sink,
        *,
        interval: float = 1.0,
        scan_interval: float = 5.0,
        top_n: int = 10,
        name: str = "system",
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sink = sink
        self.interval = interval
        self.scan_interval = scan_interval
        self.top_n = top_n
        self.name = name
        self._self = psutil.Process()
        self._self.cpu_percent(None)  # the first reading only starts the clock
        self._cpu_prev = psutil.cpu_times()
        self._cpu_count = psutil.cpu_count() or 1
        # pid -> (create_time, first RSS seen, when first seen: None at the first scan);
        # pid -> (create_time, cpu seconds, monotonic time)
        self._first: dict[int, tuple[float, int, float | None]] = {}
        self._cpu_seen: dict[int, tuple[float, float, float]] = {}
        self._seen_services: set[str] = set()
        self._scan = _Scan()
        self._last_scan: float | None = None
        self._report = StateReporter(sink, self.name, KIND, clock=clock)
        self.clock = clock
        self.proc = procfs.PROC if os.path.isdir(f"{procfs.PROC}/self") else None
        """Where ``/proc`` is (read directly); None: psutil reads everything."""

    async def run(self) -> None:
        """Sample until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            scan = self._last_scan is None or (
                self.clock.monotonic() - self._last_scan >= self.scan_interval
            )
            try:
                if scan:
                    sample = await asyncio.to_thread(self.sample_once, True)
                else:
                    sample = self.sample_once(False)
            except (OSError, psutil.Error) as exc:
                self._state("error", f"cannot read the system figures: {exc}")
            else:
                self._state("ok", "")
                self.sink.add_system(sample)
            await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))

    def _state(self, status: SourceStatus, message: str) -> None:
        self._report(status, message)

    def sample_once(self, scan: bool) -> SystemSample:
        """Read the machine now (blocking); with ``scan``, also walk every process."""
        mem_total, mem_available, swap_total, swap_used = self._memory()
        load1, load5, load15 = psutil.getloadavg()
        if scan:
            self._scan = self._scan_processes()
            self._last_scan = self.clock.monotonic()
        try:
            self_rss = int(self._self.memory_info().rss)
            self_cpu = float(self._self.cpu_percent(None))
        except _VANISHED:
            self_rss, self_cpu = 0, 0.0
        return SystemSample(
            ts=self.clock.now(),
            mem_total=mem_total,
            mem_used=mem_total - mem_available,
            mem_available=mem_available,
            swap_total=swap_total,
            swap_used=swap_used,
            load1=float(load1),
            load5=float(load5),
            load15=float(load15),
            cpu_percent=self._machine_cpu(),
            cpu_count=self._cpu_count,
            services=self._scan.services,
            top=self._scan.top,
            # one map per scan, shared by the samples until the next: never changed once made
            rss_by_pid=self._scan.rss_by_pid,
            children=self._scan.children,
            self_rss=self_rss,
            self_cpu=self_cpu,
            scanned=scan,
        )

    def _memory(self) -> tuple[int, int, int, int]:
        """(total, available, swap total, swap used): one read of ``/proc/meminfo``, else
        psutil (which reads it twice, and ``/proc/vmstat`` too)."""
        found = procfs.memory(self.proc) if self.proc is not None else None
        if found is not None:
            return found
        mem = psutil.virtual_memory()
        swap = psutil.swap_memory()
        return int(mem.total), int(mem.available), int(swap.total), int(swap.used)

    def _machine_cpu(self) -> float:
        # psutil.cpu_percent(None) keeps its previous reading per calling thread, and samples
        # are taken on the loop thread and in worker threads alike: keep our own reading.
        now = psutil.cpu_times()
        prev, self._cpu_prev = self._cpu_prev, now
        total = _cpu_total(now) - _cpu_total(prev)
        idle = _cpu_idle(now) - _cpu_idle(prev)
        if total <= 0:
            return 0.0
        return round(max(0.0, min(100.0, 100.0 * (total - idle) / total)), 1)

    def _read_processes(self) -> list[_Proc]:
        if self.proc is not None:
            try:
                return [
                    _Proc(e.pid, e.comm, e.rss, e.cpu, float(e.started), state=e.state)
                    for e in procfs.entries(self.proc)
                ]
            except OSError:
                self.proc = None  # /proc cannot be listed after all: psutil from now on
        return list(_psutil_processes())

    def _args(self, p: _Proc) -> list[str] | None:
        if not p.args_read:
            p.args = procfs.cmdline(p.pid, self.proc) if self.proc is not None else None
            p.args_read = True
        return p.args

    def _scan_processes(self) -> _Scan:
        now = self.clock.monotonic()
        rss_sum: dict[str, int] = {}
        procs: dict[str, int] = {}
        rss_by_pid: dict[int, int] = {}
        found = self._read_processes()
        alive: set[int] = set()
        for p in found:
            if self.proc is not None and procfs.may_be_cut(p.name):
                p.name = procfs.full_name(p.name, self._args(p))
            alive.add(p.pid)
            service = service_of(p.name)
            if service is not None:
                rss_sum[service] = rss_sum.get(service, 0) + p.rss
                procs[service] = procs.get(service, 0) + 1
                rss_by_pid[p.pid] = p.rss
        growth = {p.pid: p.rss - self._first_rss(p) for p in found}
        cpu = {p.pid: self._proc_cpu(p.pid, p.created, p.cpu, now) for p in found}
        for table in (self._first, self._cpu_seen):
            for pid in [p for p in table if p not in alive]:
                del table[pid]
        self._seen_services.update(procs)
        # A service seen once stays listed, with 0 processes after it died (an OOM kill shows).
        services = tuple(
            ServiceMem(name=s, rss=rss_sum.get(s, 0), procs=procs.get(s, 0))
            for s in SERVICES
            if s in self._seen_services
        )
        found.sort(key=lambda p: p.rss, reverse=True)
        top = tuple(
            ProcInfo(
                pid=p.pid,
                name=clean(p.name),
                cmdline=_one_line(self._args(p), p.name),
                rss=p.rss,
                growth=growth[p.pid],
                cpu=cpu[p.pid],
                new=self._is_new(p.pid, now),
            )
            for p in found[: self.top_n]
        )
        return _Scan(
            services=services, top=top, rss_by_pid=rss_by_pid, children=self._children(found, cpu)
        )

    def _children(
        self, found: list[_Proc], cpu: Mapping[int, float | None]
    ) -> tuple[ServerChild, ...]:
        """Apache's processes, oldest first, with their age (from /proc, or psutil's times)."""
        if self.proc is not None:
            up = procfs.uptime(self.proc)

            def age(p: _Proc) -> float:
                return max(0.0, up - p.created / procfs.CLOCK_TICKS) if up is not None else 0.0
        else:
            wall = self.clock.now().timestamp()

            def age(p: _Proc) -> float:
                return max(0.0, wall - float(p.created))

        kids = [p for p in found if service_of(p.name) == "apache"]
        kids.sort(key=lambda p: p.created)
        return tuple(
            ServerChild(pid=p.pid, state=p.state, rss=p.rss, cpu=cpu.get(p.pid), age=age(p))
            for p in kids[:MAX_CHILDREN]
        )

    def _first_rss(self, p: _Proc) -> int:
        """The RSS this process had when first seen (now, if it is new or its pid was reused)."""
        first = self._first.get(p.pid)
        if first is None or first[0] != p.created:
            born = None if self._last_scan is None else self.clock.monotonic()
            first = (p.created, p.rss, born)
            self._first[p.pid] = first
        return first[1]

    def _is_new(self, pid: int, now: float) -> bool:
        """Born since the first scan, less than :data:`NEW_PROCESS` seconds ago."""
        first = self._first.get(pid)
        return first is not None and first[2] is not None and now - first[2] < NEW_PROCESS

    def _proc_cpu(self, pid: int, created: float, spent: float | None, now: float) -> float:
        if spent is None:
            return 0.0
        prev = self._cpu_seen.get(pid)
        self._cpu_seen[pid] = (created, spent, now)
        if prev is None or prev[0] != created or now <= prev[2]:
            return 0.0
        return round(max(0.0, 100.0 * (spent - prev[1]) / (now - prev[2])), 1)


def _one_line(args: list[str] | None, name: str) -> str:
    """A command line for display, on one line (arguments may hold newlines: ``python -c``)."""
    return clean(mask_secrets(" ".join(" ".join(args or ()).split()) or f"[{name}]"))[:CMDLINE_MAX]


def _psutil_processes() -> Iterator[_Proc]:
    """Every process psutil could read, command lines included (no ``/proc`` to read)."""
    for info in _process_infos():
        mem = info.get("memory_info")
        if mem is None:
            continue
        times = info.get("cpu_times")
        yield _Proc(
            pid=int(info["pid"]),
            name=str(info.get("name") or ""),
            rss=int(mem.rss),
            cpu=None if times is None else float(times.user + times.system),
            created=float(info.get("create_time") or 0.0),
            args=list(info.get("cmdline") or ()),
            args_read=True,
            state=_STATUS_LETTER.get(str(info.get("status") or ""), "?"),
        )


def _process_infos() -> Iterator[dict[str, Any]]:
    """``info`` dicts of every process that could be read; vanished ones are left out.

    psutil already skips a process that exits between listing and reading, and turns
    AccessDenied into None values; the guards are for whatever slips through.
    """
    it = iter(psutil.process_iter(ATTRS, ad_value=None))
    while True:
        try:
            proc = next(it)
        except (StopIteration, *_VANISHED):
            return  # done, or the listing itself failed: keep what was read
        try:
            info = proc.info
        except (AttributeError, *_VANISHED):
            continue
        if isinstance(info, dict) and info.get("pid") is not None:
            yield info


def _cpu_total(t: Any) -> float:
    total = float(sum(t))
    # On Linux guest time is already counted in user and nice.
    total -= float(getattr(t, "guest", 0.0)) + float(getattr(t, "guest_nice", 0.0))
    return total


def _cpu_idle(t: Any) -> float:
    return float(t.idle) + float(getattr(t, "iowait", 0.0))
