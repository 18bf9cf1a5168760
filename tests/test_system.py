"""The system sampler with the real psutil on this machine."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from console.core.clock import ManualClock
from console.core.events import NEW_PROCESS, ProcInfo, SystemSample
from console.sources.system import sampler as system_mod
from console.sources.system.sampler import SystemSampler, service_of
from tests.support.helpers import MemorySink
from tests.support.wait import async_wait_for, wait_for

MB = 1024 * 1024

# A child that holds ALLOC MB, grows by GROW MB when told, and says when it is done.
HOLDER = """
import sys
marker = sys.argv[1]
held = [bytearray(int(sys.argv[2]) * 1024 * 1024)]
for i in range(0, len(held[0]), 4096):
    held[0][i] = 1
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "grow":
        more = bytearray(int(sys.argv[3]) * 1024 * 1024)
        for i in range(0, len(more), 4096):
            more[i] = 1
        held.append(more)
        print("grown", flush=True)
    elif line.strip() == "spin":
        # a fixed amount of CPU time, however long the machine takes to give it
        start = __import__("time").process_time()
        while __import__("time").process_time() - start < 0.5:
            pass
        print("spun", __import__("time").process_time() - start, flush=True)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), "lamptop-test-holder", "80", "40"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    proc.kill()
    proc.wait()


def _tell(proc: subprocess.Popen[str], word: str, answer: str) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(word + "\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == answer


def _find(sample: SystemSample, pid: int) -> ProcInfo:
    found = [p for p in sample.top if p.pid == pid]
    assert found, f"pid {pid} not in the top list"
    return found[0]


def test_quick_sample_reads_memory_load_and_cpu() -> None:
    sampler = SystemSampler(MemorySink())
    s = sampler.sample_once(False)
    mem = psutil.virtual_memory()
    assert s.mem_total == mem.total
    assert s.mem_used == s.mem_total - s.mem_available
    assert abs(s.mem_available - mem.available) < 256 * MB
    assert s.swap_total >= s.swap_used >= 0
    assert s.load1 >= 0 and s.load5 >= 0 and s.load15 >= 0
    assert 0.0 <= s.cpu_percent <= 100.0
    assert s.cpu_count == psutil.cpu_count()
    assert s.scanned is False and s.services == () and s.top == () and s.rss_by_pid == {}
    assert s.self_rss > 10 * MB
    assert abs(s.self_rss - psutil.Process().memory_info().rss) < 64 * MB
    assert s.ts.tzinfo is not None


def test_child_shows_in_top_with_its_rss_and_growth(holder: subprocess.Popen[str]) -> None:
    sampler = SystemSampler(MemorySink(), top_n=10_000)
    first = sampler.sample_once(True)
    assert first.scanned
    info = _find(first, holder.pid)
    assert info.rss >= 80 * MB
    assert info.growth == 0  # first seen now
    assert info.cmdline.endswith("holder.py lamptop-test-holder 80 40")
    assert info.name.startswith("python")
    ranks = [p.rss for p in first.top]
    assert ranks == sorted(ranks, reverse=True)

    _tell(holder, "grow", "grown")
    second = sampler.sample_once(True)
    grown = _find(second, holder.pid)
    assert grown.rss >= 120 * MB
    assert grown.growth >= 38 * MB

    # Between scans the last scan's lists are carried along, marked scanned=False.
    between = sampler.sample_once(False)
    assert between.scanned is False
    assert between.top == second.top and between.services == second.services
    assert between.rss_by_pid == second.rss_by_pid

    holder.kill()
    holder.wait()
    third = sampler.sample_once(True)
    assert holder.pid not in {p.pid for p in third.top}
    assert holder.pid not in sampler._first  # dead pids are forgotten


def test_a_process_born_while_watched_is_new_for_five_minutes(tmp_path: Path) -> None:
    """It grew 0 since lamptop first saw it, already holding its memory: it says new."""
    clock = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    sampler = SystemSampler(MemorySink(), top_n=10_000, clock=clock)
    first = sampler.sample_once(True)
    assert first.top and not any(p.new for p in first.top)  # all there before lamptop
    script = tmp_path / "holder.py"
    script.write_text(HOLDER, encoding="utf-8")
    born = subprocess.Popen(
        [sys.executable, str(script), "lamptop-test-holder", "80", "40"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert born.stdout is not None and born.stdout.readline().strip() == "ready"
        clock.advance(5)
        info = _find(sampler.sample_once(True), born.pid)
        assert info.new and info.growth == 0 and info.rss >= 80 * MB
        assert not _find(sampler.sample_once(True), first.top[0].pid).new
        clock.advance(NEW_PROCESS)
        assert not _find(sampler.sample_once(True), born.pid).new
    finally:
        born.kill()
        born.wait()


def test_top_n_limits_the_list(holder: subprocess.Popen[str]) -> None:
    sample = SystemSampler(MemorySink(), top_n=3).sample_once(True)
    assert len(sample.top) == 3
    sizes = [p.rss for p in sample.top]
    assert sizes == sorted(sizes, reverse=True)
    # The 80 MB child is in the top 3, or three bigger processes are.
    assert holder.pid in {p.pid for p in sample.top} or sizes[-1] >= 80 * MB


def test_process_cpu_between_scans(holder: subprocess.Popen[str]) -> None:
    """The child spends 0.5 s of CPU between two scans. Its share of the time between the scans
    is at least that CPU time over the wall time around both scans (which holds on a busy
    machine too, where the same CPU time takes longer); the machine's, that over all CPUs."""
    sampler = SystemSampler(MemorySink(), top_n=10_000)
    started = time.monotonic()
    sampler.sample_once(True)
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("spin\n")
    holder.stdin.flush()
    word, spent = holder.stdout.readline().split()
    assert word == "spun"
    after = sampler.sample_once(True)
    wall = time.monotonic() - started
    share = 100.0 * float(spent) / wall
    # /proc counts CPU time in clock ticks (10 ms): a few ticks of slack
    assert _find(after, holder.pid).cpu >= 0.9 * share > 0
    assert after.cpu_percent >= 0.9 * share / (psutil.cpu_count() or 1)


@pytest.fixture
def fake_services(tmp_path: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """``sleep`` copied under service names, so the scan finds "mysqld" and "php-fpm8.2"."""
    sleep = shutil.which("sleep")
    assert sleep is not None
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name in ("mysqld", "php-fpm8.2"):
        exe = tmp_path / name
        shutil.copy(sleep, exe)
        exe.chmod(0o755)
        procs[name] = subprocess.Popen([str(exe), "30"])

    def named() -> bool:  # exec'd: no longer the forked python
        try:
            return all(psutil.Process(p.pid).name() == n for n, p in procs.items())
        except psutil.NoSuchProcess:
            return False

    wait_for(named, what="the fake services to run under their names")
    yield procs
    for p in procs.values():
        p.kill()
        p.wait()


def test_service_memory_by_process_name(fake_services: dict[str, subprocess.Popen[bytes]]) -> None:
    sampler = SystemSampler(MemorySink())
    s = sampler.sample_once(True)
    by_name = {m.name: m for m in s.services}
    assert "mysql" in by_name and "php-fpm" in by_name
    mysqld, fpm = fake_services["mysqld"], fake_services["php-fpm8.2"]
    assert mysqld.pid in s.rss_by_pid and fpm.pid in s.rss_by_pid
    assert s.rss_by_pid[mysqld.pid] > 0
    assert by_name["mysql"].procs >= 1
    assert by_name["mysql"].rss >= s.rss_by_pid[mysqld.pid]
    names = [m.name for m in s.services]
    assert names == sorted(names, key=("apache", "mysql", "php-fpm").index)
    # A service that dies stays listed, with one process fewer (0 when it was the only one).
    before = by_name["mysql"].procs
    mysqld.kill()
    mysqld.wait()
    after = {m.name: m for m in sampler.sample_once(True).services}
    assert after["mysql"].procs == before - 1
    assert mysqld.pid not in sampler.sample_once(True).rss_by_pid


def test_service_names() -> None:
    assert service_of("apache2") == service_of("httpd") == "apache"
    assert service_of("mysqld") == service_of("mariadbd") == "mysql"
    assert service_of("php-fpm8.2") == service_of("php-fpm") == "php-fpm"
    assert service_of("mysqld_safe") is None and service_of("python3") is None


def test_processes_exiting_mid_scan_are_skipped() -> None:
    sampler = SystemSampler(MemorySink(), top_n=10_000)
    stop = threading.Event()
    spawned = 0

    def churn() -> None:
        nonlocal spawned
        while not stop.is_set():
            subprocess.run(["/bin/true"], check=False)
            spawned += 1

    threads = [threading.Thread(target=churn) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        samples = [sampler.sample_once(True) for _ in range(25)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert spawned > 20
    assert all(s.top for s in samples)
    # Short-lived pids do not pile up in the growth table.
    alive = set(psutil.pids())
    assert len(set(sampler._first) - alive) < 20


class _Gone:
    """A process whose every read says it has exited (as psutil reports such a process)."""

    pid = 999_999

    @property
    def info(self) -> dict[str, Any]:
        raise psutil.NoSuchProcess(self.pid)


def _fake_proc(pid: int, name: str, rss: int | None) -> SimpleNamespace:
    mem = None if rss is None else SimpleNamespace(rss=rss)
    times = SimpleNamespace(user=1.0, system=0.5)
    info = {
        "pid": pid,
        "name": name,
        "cmdline": [name, "-c", "line one\nline two"],
        "memory_info": mem,
        "cpu_times": times,
        "create_time": 1000.0 + pid,
    }
    return SimpleNamespace(pid=pid, info=info)


def test_scan_survives_vanishing_and_denied_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_iter(attrs: object = None, ad_value: object = None) -> Iterator[object]:
        yield _fake_proc(10, "apache2", 50 * MB)
        yield _Gone()
        yield _fake_proc(11, "secret", None)  # AccessDenied: memory_info came back None
        yield _fake_proc(12, "apache2", 30 * MB)
        raise psutil.NoSuchProcess(13)  # the listing itself fails mid-way

    monkeypatch.setattr(system_mod.psutil, "process_iter", fake_iter)
    sampler = SystemSampler(MemorySink())
    sampler.proc = None  # no /proc to read: psutil it is
    s = sampler.sample_once(True)
    assert [p.pid for p in s.top] == [10, 12]
    assert all("\n" not in p.cmdline for p in s.top)
    assert s.services[0].name == "apache"
    assert (s.services[0].rss, s.services[0].procs) == (80 * MB, 2)
    assert s.rss_by_pid == {10: 50 * MB, 12: 30 * MB}
    assert s.top[0].cmdline == "apache2 -c line one line two"


async def test_run_samples_and_scans_on_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples keep coming, a process scan comes at most every ``scan_interval`` (a lower
    bound: on a busy machine scans come later, never sooner), and the loop keeps turning
    while a scan walks the processes (in a thread)."""
    sink = MemorySink()
    sampler = SystemSampler(sink, interval=0.02, scan_interval=0.3, top_n=5)
    ticks = [0]

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.02)
            ticks[0] += 1

    started: list[float] = []
    turned: list[bool] = []
    real_scan = sampler._scan_processes

    def scan() -> Any:
        started.append(time.monotonic())
        # the scan ends only once the loop has turned twice: a scan that held the loop would
        # wait for nothing and say so
        begin = ticks[0]
        try:
            wait_for(lambda: ticks[0] >= begin + 2)
            turned.append(True)
        except AssertionError:
            turned.append(False)
        return real_scan()

    monkeypatch.setattr(sampler, "_scan_processes", scan)
    tick_task = asyncio.create_task(ticker())
    task = asyncio.create_task(sampler.run())

    def scans() -> list[SystemSample]:
        return [s for s in sink.system if s.scanned]

    try:
        await async_wait_for(
            lambda: len(scans()) >= 3 and len(sink.system) > len(scans()),
            what="three scans and a sample between two",
        )
    finally:
        task.cancel()
        tick_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.gather(tick_task, return_exceptions=True)
    assert sink.system[0].scanned is True
    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert gaps and all(g >= 0.3 for g in gaps), gaps
    assert turned and all(turned), turned
    assert all(s.top for s in sink.system)  # carried between scans
    assert [s.status for s in sink.states] == ["ok"]
    assert sink.states[0].kind == "system"
    assert all(s.self_rss > 0 for s in sink.system)


def test_samples_between_scans_share_one_pid_map() -> None:
    # A sample a second, kept 15 minutes: a copy of the per-PID map in each (150 Apache workers
    # on a real server) would cost megabytes; the samples between two scans share the scan's.
    sampler = SystemSampler(MemorySink())
    scanned = sampler.sample_once(True)
    between = [sampler.sample_once(False) for _ in range(3)]
    assert all(s.rss_by_pid is scanned.rss_by_pid for s in between)
    rescanned = sampler.sample_once(True)
    assert rescanned.rss_by_pid is not scanned.rss_by_pid
