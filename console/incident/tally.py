"""What report.md counts in the records of a bundle's window, in bounded memory.

A ring of 20,000 access records from a flood can name 20,000 different clients and URLs; the
report shows the ten most frequent of each. :class:`Top` counts like a ``Counter`` and holds
every key until it has ``cap`` of them; past that, the rarest keys are dropped (what they
counted is kept as one total) and counting goes on, so that the keys seen often stay, whenever
they first came. Below ``cap`` distinct keys the counts are exact and the report the same as
with a plain ``Counter``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, TypeVar

from console.core.events import LogRecord
from console.parsing.apache_access import is_own_request
from console.parsing.modstatus import request_path
from console.view.suspects import MINUTE

K = TypeVar("K", bound=Hashable)

CAP = 2000
"""Distinct keys a :class:`Top` holds before it drops the rarest (to a quarter of it)."""

_HELD = 1000
"""Records' keys gathered before they are counted."""
_KEY, _COUNT = itemgetter(0), itemgetter(1)
_NUMBERS = re.compile(r"\b\d+(\.\d+)?\b|0x[0-9a-f]+", re.IGNORECASE)


class Top(Counter[K]):
    """A ``Counter`` of at most ``cap`` distinct keys, counted with :meth:`add`.

    When a batch takes it past ``cap``, the keys counted least are dropped until a quarter
    of ``cap`` remain (so that it prunes seldom): ``other`` adds up what they counted. A key
    counted again afterwards starts from zero: it may have lost ``short`` (the sum of the
    counts dropped at each pruning so far), as may any key that came after a pruning
    (:meth:`low_by`); a key kept since before the first pruning has its exact count.
    """

    def __init__(self, cap: int = CAP) -> None:
        super().__init__()
        self.cap = cap
        self.other = 0
        """What the dropped keys counted."""
        self.short = 0
        """How low a count kept may be, at most."""
        self._low: dict[K, int] = {}
        """How low the count of each key kept at the last pruning may be; a key that came
        since may be ``short`` low."""

    @property
    def truncated(self) -> bool:
        return self.other > 0

    def low_by(self, keys: Iterable[K]) -> int:
        """How low the counts of ``keys`` may be, at most (0: exact)."""
        low, short = self._low, self.short
        return max((low.get(k, short) for k in keys), default=0)

    def add(self, keys: Sequence[K]) -> bool:
        """Count ``keys`` (Counter's C loop); True when keys had to be dropped."""
        self.update(keys)
        if len(self) <= self.cap:
            return False
        self._prune()
        return True

    def _prune(self) -> None:
        # Most counted first; among equals (the sort is stable) those counted first, so that
        # a table of keys that all count alike shows the same rows as an exact count.
        ranked = sorted(self.items(), key=_COUNT, reverse=True)
        keep = self.cap // 4
        kept = list(map(_KEY, ranked[:keep]))
        # what each kept key may have lost: as before if it was kept last time, else (it came
        # since) all that was dropped until then
        self._low = dict(zip(kept, map(self._low.get, kept, repeat(self.short)), strict=True))
        gone = ranked[keep:]
        self.other += sum(map(_COUNT, gone))
        self.short += gone[0][1]
        self.clear()
        dict.update(self, ranked[:keep])


class Tally:
    """What the report counts in the records of the window, gathered in one pass: all at
    once (``Tally(records, at)``), or piece by piece with :meth:`add` while a bundle writes
    the records, then :meth:`done`. Each count holds ``cap`` distinct keys at most
    (:class:`Top`)."""

    def __init__(self, records: Iterable[LogRecord], at: datetime, cap: int = CAP) -> None:
        self.at = at
        self._minute_from = at - MINUTE
        self.access = 0
        """Access log records, lamptop's own status polls left out."""
        self.urls: Top[str] = Top(cap)
        self.urls_minute: Top[str] = Top(cap)
        """URL paths of the access records in the minute before the trigger."""
        self.clients: Top[str] = Top(cap)
        self.codes: Top[int | str] = Top(cap)
        self.errs: Top[str] = Top(cap)
        """URL paths of the access records answered with a 5xx."""
        self.groups: Top[tuple[str, str]] = Top(cap)
        """Error and critical records by (source, message with its numbers blanked)."""
        self.group_clients: dict[tuple[str, str], set[str]] = {}
        """The clients named by the records of each error group (``cap`` at most each)."""
        self.example: dict[tuple[str, str], str] = {}
        """The text of the first record of each error group."""
        self.slow: list[LogRecord] = []
        """MySQL slow-log records with a query time."""
        self._cap = cap
        self._paths: list[str] = []
        self._minute: list[str] = []
        self._clients: list[str] = []
        self._codes: list[int | str] = []
        self._errs: list[str] = []
        self._groups: list[tuple[str, str]] = []
        self.add(records)

    def add(self, records: Iterable[LogRecord]) -> None:
        """Count these records too (:meth:`done` before reading the counts)."""
        at, minute_from = self.at, self._minute_from
        # Gathered in lists and counted with Counter's C loop a thousand at a time, not += per
        # record nor a Counter call per piece.
        paths, minute, clients, codes = self._paths, self._minute, self._clients, self._codes
        errs, groups = self._errs, self._groups
        example, group_clients, slow = self.example, self.group_clients, self.slow
        blank, cap = _NUMBERS.sub, self._cap
        for r in records:
            kind, f = r.kind, r.fields
            if kind == "apache-access" and not is_own_request(r):
                url = str(f.get("url") or "-")
                path = request_path(url) or url.split("?", 1)[0]
                paths.append(path)
                if minute_from <= r.ts <= at:
                    minute.append(path)
                clients.append(str(f.get("client", "-")))
                status = f.get("status", "-")
                codes.append(status if isinstance(status, int) else str(status))
                if isinstance(status, int) and status >= 500:
                    errs.append(path)
            elif kind == "mysql-slow" and "query_time" in f:
                slow.append(r)
            if r.level in ("error", "crit"):
                group = (r.source, blank("N", str(f.get("message") or r.text))[:200])
                groups.append(group)
                if group not in example:
                    example[group] = r.text
                if client := f.get("client"):
                    seen = group_clients.setdefault(group, set())
                    if len(seen) < cap:
                        seen.add(str(client))
        if len(paths) >= _HELD or len(groups) >= _HELD:
            self._count()

    def _count(self) -> None:
        self.access += len(self._paths)
        counts: tuple[tuple[Top[Any], list[Any]], ...] = (
            (self.urls, self._paths),
            (self.urls_minute, self._minute),
            (self.clients, self._clients),
            (self.codes, self._codes),
            (self.errs, self._errs),
        )
        for top, held in counts:
            top.add(held)
            held.clear()
        if self.groups.add(self._groups):
            # the groups dropped take their example and clients along
            kept = self.groups
            self.example = {g: t for g, t in self.example.items() if g in kept}
            self.group_clients = {g: c for g, c in self.group_clients.items() if g in kept}
        self._groups.clear()

    def done(self) -> Tally:
        """Itself, every record added counted."""
        self._count()
        return self


__all__ = ["CAP", "Tally", "Top"]
