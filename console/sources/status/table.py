"""When the mod_status poller reads the ExtendedStatus HTML page again, and how it reuses it.

The worker table (the HTML page) costs more than ``?auto`` to serve and most of a poll's CPU; the
``?auto`` counters cost little. :class:`TableCache` says when the table must be read again:

* there is no table yet, or the last attempt to read it failed;
* a request began or ended: ``Total Accesses`` grew by more than the poller's own requests
  (Apache counts every request when it ends, its status requests included);
* a slot changed state: the count of any scoreboard character, or a worker, process or
  connection count of ``?auto`` moved (positions are not compared: under event, the status
  request lands on another thread's slot at every poll);
* the table is ``max_age`` seconds old (5 s by default), whatever the counters say: the CPU,
  Acc and Dur columns of a busy worker move without any counter moving.

In between, every sample carries the last table, each worker's SS (seconds since its request
began) advanced by the seconds since the table was read. That is exact while no counter moved:
no request began or ended, so a worker stuck on one long request is still on it, and its age
keeps counting up every second, as it would on the page itself. The rows of the poller's own
status requests are left as read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from console.core.events import ProcessRow, StatusSample, Worker
from console.parsing.modstatus import request_path

#: Seconds after which the table is read again even when no counter moved.
MAX_AGE = 5.0

#: ``?auto`` keys that change when a worker, process or connection changes state.
ACTIVITY_KEYS = (
    "BusyWorkers",
    "IdleWorkers",
    "GracefulWorkers",
    "Processes",
    "Stopping",
    "ConnsTotal",
    "ConnsAsyncWaitIO",
    "ConnsAsyncWriting",
    "ConnsAsyncKeepAlive",
    "ConnsAsyncClosing",
    "ParentServerConfigGeneration",
    "ParentServerMPMGeneration",
)


@dataclass(frozen=True, slots=True)
class WorkerTable:
    """What one read of the HTML page gave: the rows, and the hint to show with them."""

    workers: tuple[Worker, ...] = ()
    processes: tuple[ProcessRow, ...] = ()
    extended: bool = False
    """True when the page had the ExtendedStatus worker table."""
    hint: str = ""
    """Said with the source's state (ExtendedStatus off, the page could not be read)."""
    read_at: float = 0.0
    """``time.monotonic()`` when the page was read."""


def activity(sample: StatusSample) -> tuple[object, ...]:
    """What changes in ``?auto`` when a slot, a process or a connection changes state."""
    fields = sample.fields
    return (tuple(sorted(sample.counts.items())), *(fields.get(k) for k in ACTIVITY_KEYS))


class TableCache:
    """The last worker table read, and whether a poll must read it again.

    A poll calls :meth:`stale` with its ``?auto`` sample; if True, the page is read (by the
    next poll, instead of ``?auto``; at once when there is no table yet), which calls
    :meth:`counted` once the server answered and :meth:`keep` (or :meth:`forget` when the page
    could not be used); meanwhile polls take :meth:`current`. A failed poll calls
    :meth:`forget`.
    """

    def __init__(self, own_path: str, *, max_age: float = MAX_AGE, slack: float = 0.0) -> None:
        self.own_path = own_path
        """The status page's path: rows serving it are the poller's own requests."""
        self.max_age = max_age
        self.slack = max(slack, 0.0)
        """A table this much younger than ``max_age`` counts as old: polls come an interval
        apart, so the page is read on the poll nearest ``max_age``, not on the one after."""
        self.table: WorkerTable | None = None
        self._activity: tuple[object, ...] | None = None
        self._accesses: int | None = None
        self._own = 0

    def stale(self, sample: StatusSample, now: float | None = None) -> bool:
        """Whether the table must be read again, given this poll's ``?auto`` sample."""
        now = time.monotonic() if now is None else now
        act, accesses = activity(sample), sample.total_accesses
        moved = act != self._activity or self._accesses_moved(accesses)
        self._activity, self._accesses = act, accesses
        self._own = 1  # the ?auto request just answered, counted when it ends
        table = self.table
        return table is None or moved or now - table.read_at >= self.max_age - self.slack

    def _accesses_moved(self, accesses: int | None) -> bool:
        before = self._accesses
        if before is None or accesses is None:
            return before != accesses
        grew = accesses - before
        return grew < 0 or grew > self._own

    def counted(self) -> None:
        """The HTML page was answered: one more request of ours for Apache to count."""
        self._own += 1

    def keep(self, table: WorkerTable) -> None:
        self.table = table

    def forget(self) -> None:
        """No table to reuse: the next poll reads the page (after a failure, or at start)."""
        self.table = None
        self._activity = self._accesses = None

    def current(self, now: float | None = None) -> WorkerTable:
        """The last table, its workers' SS advanced to ``now``."""
        table = self.table
        if table is None:
            return WorkerTable()
        now = time.monotonic() if now is None else now
        elapsed = now - table.read_at
        if elapsed <= 0.0:
            return table
        workers = tuple(
            w
            if request_path(w.request) == self.own_path
            else replace(w, seconds=float(int(w.seconds + elapsed)))
            for w in table.workers
        )
        return replace(table, workers=workers)
