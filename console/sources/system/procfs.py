"""Read the figures the system sampler needs straight from Linux's ``/proc``.

psutil reads the same files, through layers built for every platform and every attribute: a
scan of 70 processes costs it about 5 ms of CPU, reading ``stat`` and ``statm`` directly about
half a millisecond. The values are psutil's, computed the same way (the tests compare them):
RSS is ``statm``'s resident pages times the page size, CPU time ``utime + stime`` of ``stat``
over the clock tick, the name the ``comm`` of ``stat`` (lengthened from the command line when
the kernel cut it at 15 characters, as psutil does). The command line, the one costly read
left, is read only for the processes that are shown.

Every function takes the ``/proc`` directory, so tests can point it at a tree of their own.
A process that exits while it is read is left out, never an error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

PROC = "/proc"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Longest ``comm`` the kernel keeps for a program; a name this long may have been cut.
#: (Kernel threads may show longer ones, ``kworker/u8:3-events_unbound``: never cut.)
COMM_MAX = 15
_ENCODING = sys.getfilesystemencoding()
_ERRORS = sys.getfilesystemencodeerrors()


@dataclass(frozen=True, slots=True)
class ProcEntry:
    """One process as ``/proc/PID/stat`` and ``/proc/PID/statm`` show it."""

    pid: int
    comm: str
    """The kernel's name for it (``comm``), at most 15 characters."""
    rss: int
    """Resident bytes."""
    cpu: float
    """User + system CPU seconds since it started."""
    started: int
    """Start time in clock ticks after boot: with the pid, it tells a reused pid apart."""
    state: str = "?"
    """The state letter of ``stat`` (``R``, ``S``, ``D``, ``Z``...)."""


def _read(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def memory(proc: str = PROC) -> tuple[int, int, int, int] | None:
    """(total, available, swap total, swap used) in bytes, from one read of ``meminfo``.

    ``available`` is ``MemAvailable`` (``MemFree`` when it exceeds the total, as psutil
    does). None when the file or one of the fields is missing (kernels before 3.14 have no
    ``MemAvailable``): psutil then estimates it, and the caller asks psutil.
    """
    try:
        with open(f"{proc}/meminfo", "rb") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    kb: dict[bytes, int] = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            kb[parts[0]] = int(parts[1]) * 1024
    try:
        total, avail, free = kb[b"MemTotal:"], kb[b"MemAvailable:"], kb[b"MemFree:"]
        swap_total, swap_free = kb[b"SwapTotal:"], kb[b"SwapFree:"]
    except KeyError:
        return None
    if avail <= 0:
        return None
    if avail > total:
        avail = free
    return total, avail, swap_total, swap_total - swap_free


def pids(proc: str = PROC) -> list[int]:
    """Every process id in ``proc``, in order (OSError when it cannot be listed)."""
    return sorted(int(name) for name in os.listdir(proc) if name.isdigit())


def entry(pid: int, proc: str = PROC) -> ProcEntry | None:
    """``pid``'s name, RSS, CPU time and start time; None when it is gone or unreadable."""
    try:
        stat = _read(f"{proc}/{pid}/stat")
        statm = _read(f"{proc}/{pid}/statm")
        rpar = stat.rfind(b")")
        fields = stat[rpar + 2 :].split()
        utime, stime, started = int(fields[11]), int(fields[12]), int(fields[19])
        state = fields[0].decode("ascii", "replace")[:1]
        rss = int(statm.split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return None
    comm = os.fsdecode(stat[stat.find(b"(") + 1 : rpar])
    cpu = utime / CLOCK_TICKS + stime / CLOCK_TICKS
    return ProcEntry(pid, comm, rss, cpu, started, state)


def uptime(proc: str = PROC) -> float | None:
    """Seconds since boot (``/proc/uptime``); None when unreadable."""
    try:
        return float(_read(f"{proc}/uptime").split()[0])
    except (OSError, IndexError, ValueError):
        return None


def entries(proc: str = PROC) -> Iterator[ProcEntry]:
    """Every process that could be read (OSError when ``proc`` cannot be listed)."""
    for pid in pids(proc):
        found = entry(pid, proc)
        if found is not None:
            yield found


def cmdline(pid: int, proc: str = PROC) -> list[str] | None:
    """``pid``'s arguments, split as psutil splits them; None when gone or unreadable.

    ``[]`` for kernel threads and zombies. A process that rewrote its title with spaces
    instead of NUL bytes is split on the spaces.
    """
    try:
        with open(f"{proc}/{pid}/cmdline", encoding=_ENCODING, errors=_ERRORS) as fh:
            data = fh.read()
    except OSError:
        return None
    if not data:
        return []
    sep = "\x00" if data.endswith("\x00") else " "
    if data.endswith(sep):
        data = data[:-1]
    args = data.split(sep)
    if sep == "\x00" and len(args) == 1 and " " in data:
        args = data.split(" ")
    return args


def may_be_cut(comm: str) -> bool:
    """Whether ``comm`` may be a longer name cut by the kernel (then the command line tells)."""
    return len(comm) == COMM_MAX


def full_name(comm: str, args: list[str] | None) -> str:
    """The process name as psutil gives it: ``comm``, or, when the kernel cut it at 15
    characters, the first argument's base name if that begins with it."""
    if len(comm) >= COMM_MAX and args:
        extended = os.path.basename(args[0])
        if extended.startswith(comm):
            return extended
    return comm
