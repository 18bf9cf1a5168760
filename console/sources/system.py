"""Sample the machine: memory, swap, load and CPU every tick; the processes every few seconds.

The quick readings (``/proc/meminfo``, ``/proc/loadavg``, ``/proc/stat``) run on the event loop;
the process scan, which opens a few files per process, runs in a thread. Between scans a
sample carries the most recent scan's services, top list and RSS by pid, with
``scanned=False``. A process that exits while it is being read is skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psutil

from console.events import ProcInfo, ServiceMem, SourceStatus, SystemSample
from console.sources import Sink, StateReporter

KIND = "system"
ATTRS = ["pid", "name", "cmdline", "memory_info", "cpu_times", "create_time"]
CMDLINE_MAX = 300
#: Service names in the order they are listed.
SERVICES = ("apache", "mysql", "php-fpm")
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


@dataclass
class _Scan:
    services: tuple[ServiceMem, ...] = ()
    top: tuple[ProcInfo, ...] = ()
    rss_by_pid: dict[int, int] = field(default_factory=dict)


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
        # pid -> (create_time, first RSS seen); pid -> (create_time, cpu seconds, monotonic time)
        self._first: dict[int, tuple[float, int]] = {}
        self._cpu_seen: dict[int, tuple[float, float, float]] = {}
        self._seen_services: set[str] = set()
        self._scan = _Scan()
        self._last_scan: float | None = None
        self._report = StateReporter(sink, self.name, KIND)

    async def run(self) -> None:
        """Sample until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            scan = self._last_scan is None or (
                time.monotonic() - self._last_scan >= self.scan_interval
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
        mem = psutil.virtual_memory()
        swap = psutil.swap_memory()
        load1, load5, load15 = psutil.getloadavg()
        if scan:
            self._scan = self._scan_processes()
            self._last_scan = time.monotonic()
        try:
            self_rss = int(self._self.memory_info().rss)
            self_cpu = float(self._self.cpu_percent(None))
        except _VANISHED:
            self_rss, self_cpu = 0, 0.0
        return SystemSample(
            ts=datetime.now(UTC),
            mem_total=int(mem.total),
            mem_used=int(mem.total - mem.available),
            mem_available=int(mem.available),
            swap_total=int(swap.total),
            swap_used=int(swap.used),
            load1=float(load1),
            load5=float(load5),
            load15=float(load15),
            cpu_percent=self._machine_cpu(),
            cpu_count=self._cpu_count,
            services=self._scan.services,
            top=self._scan.top,
            rss_by_pid=dict(self._scan.rss_by_pid),
            self_rss=self_rss,
            self_cpu=self_cpu,
            scanned=scan,
        )

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

    def _scan_processes(self) -> _Scan:
        now = time.monotonic()
        rss_sum: dict[str, int] = {}
        procs: dict[str, int] = {}
        rss_by_pid: dict[int, int] = {}
        infos: list[ProcInfo] = []
        alive: set[int] = set()
        for info in _process_infos():
            pid = int(info["pid"])
            mem = info.get("memory_info")
            if mem is None:
                continue
            rss = int(mem.rss)
            created = float(info.get("create_time") or 0.0)
            alive.add(pid)
            first = self._first.get(pid)
            if first is None or first[0] != created:  # new, or a new process with a reused pid
                first = (created, rss)
                self._first[pid] = first
            name = str(info.get("name") or "")
            # One line for display: arguments may hold newlines (``python -c "..."``).
            cmdline = " ".join(" ".join(info.get("cmdline") or ()).split()) or f"[{name}]"
            infos.append(
                ProcInfo(
                    pid=pid,
                    name=name,
                    cmdline=cmdline[:CMDLINE_MAX],
                    rss=rss,
                    growth=rss - first[1],
                    cpu=self._proc_cpu(pid, created, info.get("cpu_times"), now),
                )
            )
            service = service_of(name)
            if service is not None:
                rss_sum[service] = rss_sum.get(service, 0) + rss
                procs[service] = procs.get(service, 0) + 1
                rss_by_pid[pid] = rss
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
        infos.sort(key=lambda p: p.rss, reverse=True)
        return _Scan(services=services, top=tuple(infos[: self.top_n]), rss_by_pid=rss_by_pid)

    def _proc_cpu(self, pid: int, created: float, times: Any, now: float) -> float:
        if times is None:
            return 0.0
        spent = float(times.user + times.system)
        prev = self._cpu_seen.get(pid)
        self._cpu_seen[pid] = (created, spent, now)
        if prev is None or prev[0] != created or now <= prev[2]:
            return 0.0
        return round(max(0.0, 100.0 * (spent - prev[1]) / (now - prev[2])), 1)


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
