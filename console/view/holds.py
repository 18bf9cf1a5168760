"""Who holds what: one busy request followed from Apache to its PHP-FPM process to its query.

mod_status shows the Apache worker proxying a request, PHP-FPM's status page the process
running its script, MySQL's processlist the query that script waits on; no one of them shows
the other two. They are joined here:

- **Apache → PHP-FPM**: the worker's request line against the process's method and URI (with
  its query string; mod_status cuts a long request line, so a cut line matches by its start),
  the worker busy for the time closest to the process's.
- **PHP-FPM → MySQL**: a process's TCP connections (from ``/proc``, :attr:`FpmProcess.tcp`)
  against the processlist's ``Host`` (``127.0.0.1:54321``): the same port is the same
  connection, an exact match. A connection over the server's Unix socket shows as
  ``localhost`` with no port; a running query from the socket is then paired with a busy
  process that began before it, longest with longest, and marked as inferred.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from console.core.events import StatusSample, Worker
from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread
from console.parsing.modstatus import QUIET_MODES

#: mod_status keeps 64 bytes of a request line: a line this long may have been cut.
CUT_REQUEST = 60
#: Seconds a query may seem to have started before its PHP request (polls are not at once).
SLACK = 1.5


@dataclass(frozen=True, slots=True)
class Hold:
    """One busy PHP request and what it holds."""

    pool: str
    process: FpmProcess
    rss: int | None = None
    """The process's resident bytes, from the latest process scan."""
    worker: Worker | None = None
    """The Apache worker proxying it, when mod_status shows one."""
    query: MysqlThread | None = None
    """Its MySQL connection (running a query, or idle while PHP works)."""
    exact: bool = False
    """The query was matched by its TCP connection; False: inferred from the times."""

    @property
    def seconds(self) -> float:
        return self.process.duration

    @property
    def client(self) -> str:
        return self.worker.client if self.worker is not None else ""

    def describe(self) -> str:
        """One line: the request, its process, its client and its query."""
        p = self.process
        parts = [f"{p.method} {p.uri}".strip(), f"php {p.pid} {p.duration:.0f}s"]
        if self.rss:
            parts[-1] += f" {self.rss // (1024 * 1024)}M"
        if self.client:
            parts.append(f"from {self.client}")
        q = self.query
        if q is not None:
            mark = "" if self.exact else "≈"
            what = q.info or q.command.lower()
            parts.append(f"{mark}mysql #{q.id} {q.time:.0f}s {what}")
        return " · ".join(parts)


def _request(worker: Worker) -> tuple[str, str]:
    """(method, URI) of a worker's request line."""
    words = worker.request.split(" ")
    if len(words) < 2:
        return "", ""
    return words[0], words[1]


def _port(host: str) -> int | None:
    """The client port in a processlist ``Host`` (``127.0.0.1:54321``, ``[::1]:5000``)."""
    head, sep, tail = host.rpartition(":")
    if not sep or not head or not tail.isdigit():
        return None
    return int(tail)


def _worker_for(process: FpmProcess, workers: list[Worker]) -> Worker | None:
    best: Worker | None = None
    for w in workers:
        method, uri = _request(w)
        if method != process.method or not uri:
            continue
        cut = len(w.request) >= CUT_REQUEST
        if uri != process.uri and not (cut and process.uri.startswith(uri)):
            continue
        if best is None or abs(w.seconds - process.duration) < abs(best.seconds - process.duration):
            best = w
    return best


def holds(
    fpm: Sequence[FpmSample],
    status: StatusSample | None = None,
    mysql: MysqlSample | None = None,
    rss_by_pid: Mapping[int, int] | None = None,
) -> tuple[Hold, ...]:
    """Every busy PHP-FPM process with its Apache worker and its MySQL thread, longest first.

    ``fpm`` is the latest sample of each pool; ``status`` and ``mysql`` the latest of theirs.
    """
    rss_by_pid = rss_by_pid or {}
    busy = [(s.pool, p) for s in fpm for p in s.processes if p.busy]
    busy.sort(key=lambda item: -item[1].duration)
    workers = [
        w
        for w in (status.workers if status is not None else ())
        if w.mode not in QUIET_MODES and w.request
    ]
    threads = mysql.threads if mysql is not None else ()
    by_port: dict[int, MysqlThread] = {}
    for t in threads:
        port = _port(t.host)
        if port is not None:
            by_port[port] = t
    matched: dict[int, tuple[MysqlThread, bool]] = {}
    taken: set[int] = set()
    for _, p in busy:
        for local, _remote in p.tcp:
            thread = by_port.get(local)
            if thread is not None and thread.id not in taken:
                matched[p.pid] = (thread, True)
                taken.add(thread.id)
                break
    # Socket connections carry no port: pair what is left by time, longest with longest.
    loose = [t for t in threads if t.running and t.id not in taken and _port(t.host) is None]
    loose.sort(key=lambda t: -t.time)
    for _, p in busy:
        if p.pid in matched or not loose:
            continue
        for i, t in enumerate(loose):
            if t.time <= p.duration + SLACK:
                matched[p.pid] = (t, False)
                del loose[i]
                break
    out: list[Hold] = []
    for pool, p in busy:
        worker = _worker_for(p, workers)
        if worker is not None:
            workers.remove(worker)
        query, exact = matched.get(p.pid, (None, False))
        out.append(Hold(pool, p, rss_by_pid.get(p.pid), worker, query, exact))
    return tuple(out)
