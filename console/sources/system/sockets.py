"""The TCP connections of a few processes, from ``/proc``: how a PHP process's query is found.

MySQL's processlist names a TCP client by its address and port (``127.0.0.1:54321``). A PHP-FPM
child holding that connection has a socket whose local port is 54321: its ``/proc/PID/fd``
links name the socket's inode, and ``/proc/net/tcp`` (and ``tcp6``) give each inode's local and
remote address. Reading them costs a few hundred microseconds for the handful of busy PHP
processes, so the PHP-FPM poller does it for those only, on the same machine, and only for
processes whose name says php-fpm (a pid from a status page is only a number: it may belong to
something else here, or to nothing).

Reading another user's fds needs root (or the same user): without it a process has no
connections here, and the join falls back to what the times say.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

PROC = "/proc"
#: TCP state ESTABLISHED in /proc/net/tcp.
_ESTABLISHED = "01"


def _address(hex_addr: str) -> str:
    """``0100007F:0CEA`` -> ``127.0.0.1:3306``; IPv6 -> ``[::1]:3306``."""
    host, _, port = hex_addr.partition(":")
    p = int(port, 16)
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return f"{'.'.join(str(b) for b in raw[::-1])}:{p}"
    # /proc prints IPv6 as four 32-bit words, each in host (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    if words[:12] == b"\0" * 10 + b"\xff\xff":
        return f"{'.'.join(str(b) for b in words[12:])}:{p}"
    import ipaddress

    return f"[{ipaddress.IPv6Address(words)}]:{p}"


def _table(proc: str) -> dict[int, tuple[int, str]]:
    """Inode -> (local port, remote address) of every established TCP socket."""
    out: dict[int, tuple[int, str]] = {}
    for name in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc, "net", name), encoding="ascii", errors="replace") as fh:
                next(fh, None)
                for line in fh:
                    cols = line.split()
                    if len(cols) < 10 or cols[3] != _ESTABLISHED:
                        continue
                    try:
                        local = int(cols[1].rpartition(":")[2], 16)
                        out[int(cols[9])] = (local, _address(cols[2]))
                    except ValueError:
                        continue
        except OSError:
            continue
    return out


def _socket_inodes(pid: int, proc: str) -> set[int]:
    fd_dir = os.path.join(proc, str(pid), "fd")
    inodes: set[int] = set()
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for fd in names[:4096]:
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            try:
                inodes.add(int(target[8:-1]))
            except ValueError:
                continue
    return inodes


def _is_php_fpm(pid: int, proc: str) -> bool:
    try:
        with open(os.path.join(proc, str(pid), "comm"), "rb") as fh:
            return fh.read(64).startswith(b"php-fpm")
    except OSError:
        return False


#: Seconds a read of the TCP table serves: the kernel writes /proc/net/tcp anew for each read
#: (about 10 ms for 250 sockets), and a request worth joining to its query runs longer.
TABLE_AGE = 5.0


class TcpTable:
    """``/proc/net/tcp{,6}`` read again only when a socket asked for is not in it and the
    last read is :data:`TABLE_AGE` seconds old."""

    def __init__(self, proc: str = PROC, max_age: float = TABLE_AGE) -> None:
        self.proc, self.max_age = proc, max_age
        self.table: dict[int, tuple[int, str]] = {}
        self.read_at: float | None = None
        self.reads = 0
        """How many times the table was read (for the tests and the benchmarks)."""

    def lookup(self, inodes: Iterable[int]) -> dict[int, tuple[int, str]]:
        wanted = set(inodes)
        now = time.monotonic()
        stale = self.read_at is None or now - self.read_at >= self.max_age
        if stale and not wanted <= self.table.keys():
            self.table, self.read_at = _table(self.proc), now
            self.reads += 1
        return {i: self.table[i] for i in wanted if i in self.table}


def php_fpm_tcp(
    pids: Iterable[int], proc: str = PROC, table: TcpTable | None = None
) -> dict[int, tuple[tuple[int, str], ...]]:
    """(local port, remote address) of the established TCP connections of each php-fpm
    process in ``pids``; processes that are not php-fpm here, or not readable, are left out.
    ``table``: a :class:`TcpTable` kept between calls (else the table is read now)."""
    wanted = {
        pid: inodes
        for pid in pids
        if _is_php_fpm(pid, proc)
        if (inodes := _socket_inodes(pid, proc))
    }
    if not wanted:
        return {}
    sockets = [i for inodes in wanted.values() for i in inodes]
    known = _table(proc) if table is None else table.lookup(sockets)
    out: dict[int, tuple[tuple[int, str], ...]] = {}
    for pid, inodes in wanted.items():
        found = tuple(sorted(known[i] for i in inodes if i in known))
        if found:
            out[pid] = found
    return out
