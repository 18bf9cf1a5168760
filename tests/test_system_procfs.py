"""Reading /proc directly: the same figures psutil gives, and a made-up /proc for odd cases."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from console.sources.system import procfs
from console.sources.system.sampler import SystemSampler
from tests.support.helpers import MemorySink
from tests.support.wait import wait_for

LONG_NAME = "lamptop-sleeper-with-a-long-name"


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``sleep`` under a name longer than the kernel's 15 characters, with odd arguments."""
    sleep = shutil.which("sleep")
    assert sleep is not None
    exe = tmp_path / LONG_NAME
    shutil.copy(sleep, exe)
    exe.chmod(0o755)
    proc = subprocess.Popen([str(exe), "30"])
    # Wait until it sleeps: while the loader still maps libraries its RSS grows, and a test
    # comparing two readings taken moments apart would race with it.
    ps, last = psutil.Process(proc.pid), [-1]

    def asleep() -> bool:
        rss, last[0] = last[0], ps.memory_info().rss
        return ps.name() == LONG_NAME and ps.status() == psutil.STATUS_SLEEPING and rss == last[0]

    wait_for(asleep, what="the sleeper to sleep with a steady RSS")
    yield proc
    proc.kill()
    proc.wait()


def test_entries_match_psutil(sleeper: subprocess.Popen[bytes]) -> None:
    found = {e.pid: e for e in procfs.entries()}
    ps = psutil.Process(sleeper.pid)
    mine = found[sleeper.pid]
    assert mine.comm == LONG_NAME[:15]
    assert procfs.may_be_cut(mine.comm)
    assert procfs.full_name(mine.comm, procfs.cmdline(sleeper.pid)) == ps.name() == LONG_NAME
    assert mine.rss == ps.memory_info().rss
    times = ps.cpu_times()
    assert mine.cpu == times.user + times.system
    assert procfs.cmdline(sleeper.pid) == ps.cmdline()
    assert set(found) <= set(psutil.pids()) | set(procfs.pids())
    assert os.getpid() in found


def test_memory_matches_psutil() -> None:
    found = procfs.memory()
    assert found is not None
    total, available, swap_total, swap_used = found
    mem, swap = psutil.virtual_memory(), psutil.swap_memory()
    assert total == mem.total and swap_total == swap.total
    assert abs(available - mem.available) < 64 * 1024 * 1024
    assert abs(swap_used - swap.used) < 64 * 1024 * 1024


def test_sampler_lists_the_long_name(sleeper: subprocess.Popen[bytes]) -> None:
    sample = SystemSampler(MemorySink(), top_n=10_000).sample_once(True)
    (info,) = [p for p in sample.top if p.pid == sleeper.pid]
    assert info.name == LONG_NAME
    assert info.cmdline.endswith(f"{LONG_NAME} 30")


# -- a made-up /proc -----------------------------------------------------------------------------


def _stat(pid: int, comm: str, utime: int, stime: int, started: int) -> str:
    rest = ["S", "1"] + ["0"] * 9 + [str(utime), str(stime)] + ["0"] * 6 + [str(started)]
    return f"{pid} ({comm}) " + " ".join(rest + ["0"] * 30) + "\n"


def _process(proc: Path, pid: int, comm: str, rss_pages: int, cmdline: bytes | None) -> None:
    d = proc / str(pid)
    d.mkdir()
    (d / "stat").write_text(_stat(pid, comm, 250, 150, 12345))
    (d / "statm").write_text(f"1000 {rss_pages} 10 1 0 100 0\n")
    if cmdline is not None:
        (d / "cmdline").write_bytes(cmdline)


@pytest.fixture
def fake_proc(tmp_path: Path) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    _process(proc, 12, "apache2", 300, b"/usr/sbin/apache2\x00-k\x00start\x00")
    _process(proc, 7, "odd) name (x", 5, b"")  # a zombie's empty command line
    _process(proc, 40, "php-fpm8.2", 9, b"php-fpm: pool www" + b" " * 20)  # retitled
    _process(proc, 41, "python3", 1, b"python3\x00-c\x00print(1)\nprint(2)\x00")
    gone = proc / "99"
    gone.mkdir()  # exited between the listing and the read: no files left
    (proc / "self").mkdir()
    (proc / "meminfo").write_text(
        "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    400 kB\n"
        "SwapTotal:       200 kB\nSwapFree:         50 kB\n"
    )
    return proc


def test_made_up_entries(fake_proc: Path) -> None:
    proc = str(fake_proc)
    found = list(procfs.entries(proc))
    assert [e.pid for e in found] == [7, 12, 40, 41]
    by_pid = {e.pid: e for e in found}
    assert by_pid[7].comm == "odd) name (x"
    assert by_pid[12].rss == 300 * procfs.PAGE_SIZE
    assert by_pid[12].cpu == pytest.approx(400 / procfs.CLOCK_TICKS)
    assert by_pid[12].started == 12345
    assert procfs.entry(99, proc) is None
    assert procfs.cmdline(12, proc) == ["/usr/sbin/apache2", "-k", "start"]
    assert procfs.cmdline(7, proc) == []
    assert procfs.cmdline(40, proc) == ["php-fpm:", "pool", "www"] + [""] * 19
    assert procfs.cmdline(99, proc) is None


def test_made_up_memory(fake_proc: Path, tmp_path: Path) -> None:
    assert procfs.memory(str(fake_proc)) == (1000 * 1024, 400 * 1024, 200 * 1024, 150 * 1024)
    (fake_proc / "meminfo").write_text(
        "MemTotal: 1000 kB\nMemFree: 900 kB\nMemAvailable: 2000 kB\n"
    )
    assert procfs.memory(str(fake_proc)) is None  # no swap lines: psutil decides
    (fake_proc / "meminfo").write_text(
        "MemTotal: 1000 kB\nMemFree: 900 kB\nMemAvailable: 2000 kB\nSwapTotal: 0 kB\n"
        "SwapFree: 0 kB\n"
    )
    assert procfs.memory(str(fake_proc)) == (1000 * 1024, 900 * 1024, 0, 0)
    assert procfs.memory(str(tmp_path / "nowhere")) is None


def test_sampler_over_made_up_proc(fake_proc: Path) -> None:
    sampler = SystemSampler(MemorySink(), top_n=3)
    sampler.proc = str(fake_proc)
    s = sampler.sample_once(True)
    assert [p.pid for p in s.top] == [12, 40, 7]
    assert s.top[0].cmdline == "/usr/sbin/apache2 -k start"
    assert s.top[1].cmdline == "php-fpm: pool www"
    assert s.top[2].cmdline == "[odd) name (x]"
    assert s.rss_by_pid == {12: 300 * procfs.PAGE_SIZE, 40: 9 * procfs.PAGE_SIZE}
    assert [(m.name, m.procs) for m in s.services] == [("apache", 1), ("php-fpm", 1)]
    assert (s.mem_total, s.mem_available, s.swap_used) == (1000 * 1024, 400 * 1024, 150 * 1024)
    # pid 12 exits and its pid comes back as another program: no growth carried over.
    shutil.rmtree(fake_proc / "12")
    _process(fake_proc, 12, "apache2", 100, b"apache2\x00")
    (fake_proc / "12" / "stat").write_text(_stat(12, "apache2", 1, 1, 99999))
    again = sampler.sample_once(True)
    (new12,) = [p for p in again.top if p.pid == 12]
    assert new12.growth == 0 and new12.cpu == 0.0


def test_sampler_falls_back_to_psutil_when_proc_cannot_be_listed(tmp_path: Path) -> None:
    sampler = SystemSampler(MemorySink(), top_n=5)
    sampler.proc = str(tmp_path / "no-proc-here")
    s = sampler.sample_once(True)
    assert sampler.proc is None
    assert s.top and s.mem_total == psutil.virtual_memory().total


def test_apache_children_with_state_and_age_from_made_up_proc(fake_proc: Path) -> None:
    """What /proc still tells of the workers when the status page is dark: Apache's
    processes, their state letter, memory and how long ago they were forked."""
    ticks = procfs.CLOCK_TICKS
    (fake_proc / "uptime").write_text(f"{20000 + 60:.2f} 1.0\n")  # started at 12345 ticks
    _process(fake_proc, 13, "apache2", 50, b"apache2\x00")
    stat13 = _stat(13, "apache2", 1, 1, 20000 * ticks).replace(" S 1 ", " D 1 ", 1)
    (fake_proc / "13" / "stat").write_text(stat13)
    sampler = SystemSampler(MemorySink(), top_n=3)
    sampler.proc = str(fake_proc)
    kids = sampler.sample_once(True).children
    assert [k.pid for k in kids] == [12, 13]  # oldest first; not php-fpm, not python
    assert [k.state for k in kids] == ["S", "D"]
    assert kids[1].age == pytest.approx(60.0, abs=0.5)
    assert kids[0].age == pytest.approx(20060 - 12345 / ticks, abs=0.5)
    assert kids[1].rss == 50 * procfs.PAGE_SIZE
    assert procfs.entry(13, str(fake_proc)).state == "D"  # type: ignore[union-attr]
