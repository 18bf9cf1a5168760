"""The records a filter lets through, kept up to date as snapshots come: the log pane's model.

Records are numbered by *ordinal*, the order in which they entered the recorder's ring, so
a position survives the ring dropping its oldest records. The index keeps the ordinals of
the matching records and, when continuation lines are shown, the row each one starts at.
A new snapshot only costs the records that arrived since the previous one; the whole ring is
filtered again only when the filter changes (and not even then when the new filter only
narrows the old one). Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from console.core.events import LogRecord
from console.view.filters import LogFilter


class LogIndex:
    """Matching records of a ring of :class:`LogRecord`, with row arithmetic for a view."""

    def __init__(self) -> None:
        self.ring: Sequence[LogRecord] = ()
        self.base = 0
        """Ordinal of ``ring[0]``."""
        self.filter = LogFilter()
        self.expanded = False
        """Each record takes 1 + len(lines) rows instead of 1."""
        self._max_seq = 0
        self._matched: list[int] = []
        self._starts: list[int] = []
        """When expanded: the row each matched record starts at (not rebased)."""
        self._row_end = 0

    def __len__(self) -> int:
        return len(self._matched)

    # -- changes ------------------------------------------------------------------------------
    def sync(self, new: Sequence[LogRecord]) -> int | None:
        """Take the records of a new snapshot; return how many rows left the top.

        None when nothing changed (the same records as before).

        Released records are a prefix of arrival order (``seq``), so the new ones are the
        trailing records with a seq above everything seen, and the ring only drops from the
        front. Anything else (a different ring) is filtered from scratch.
        """
        old = self.ring
        if new is old:
            return None
        i = len(new)
        last = self._max_seq
        while i > 0 and new[i - 1].seq > last:
            i -= 1
        dropped = len(old) + (len(new) - i) - len(new)
        if i == len(new) and dropped == 0 and old and new and new[0] is old[0]:
            self.ring = new
            return None
        consistent = bool(old) and 0 <= dropped <= len(old)
        if consistent and dropped < len(old) and i > 0:
            consistent = new[0] is old[dropped]
        self.ring = new
        if not consistent:
            self.base += len(old)
            self._max_seq = max((r.seq for r in new), default=0)
            self._refilter()
            return 0
        self._max_seq = max((r.seq for r in new[i:]), default=last)
        base = self.base = self.base + dropped
        matched = self._matched
        cut = bisect_left(matched, base)
        removed = cut
        if cut:
            if self.expanded:
                end = self._starts[cut] if cut < len(self._starts) else self._row_end
                removed = end - self._starts[0]
                del self._starts[:cut]
            del matched[:cut]
        matches = self.filter.matches
        starts, row_end, expanded = self._starts, self._row_end, self.expanded
        for k in range(i, len(new)):
            rec = new[k]
            if matches(rec):
                matched.append(base + k)
                if expanded:
                    starts.append(row_end)
                    row_end += 1 + len(rec.lines)
        self._row_end = row_end
        return removed

    def set_filter(self, new: LogFilter) -> None:
        old, self.filter = self.filter, new
        if new.narrows(old):
            ring, base, matches = self.ring, self.base, new.matches
            self._matched = [o for o in self._matched if matches(ring[o - base])]
            self._count_rows()
        else:
            self._refilter()

    def set_expanded(self, expanded: bool) -> None:
        self.expanded = expanded
        self._count_rows()

    def _refilter(self) -> None:
        f, base = self.filter, self.base
        if f.is_default:
            self._matched = list(range(base, base + len(self.ring)))
        else:
            matches = f.matches
            self._matched = [base + i for i, r in enumerate(self.ring) if matches(r)]
        self._count_rows()

    def _count_rows(self) -> None:
        self._starts = []
        self._row_end = 0
        if self.expanded:
            ring, base, starts = self.ring, self.base, self._starts
            row = 0
            for o in self._matched:
                starts.append(row)
                row += 1 + len(ring[o - base].lines)
            self._row_end = row

    # -- reading ----------------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        """Rows the matching records take."""
        if not self.expanded:
            return len(self._matched)
        return self._row_end - (self._starts[0] if self._starts else self._row_end)

    def ordinal(self, j: int) -> int:
        return self._matched[j]

    def record(self, j: int) -> LogRecord:
        """The ``j``-th matching record."""
        return self.ring[self._matched[j] - self.base]

    def records(self) -> tuple[LogRecord, ...]:
        ring, base = self.ring, self.base
        return tuple(ring[o - base] for o in self._matched)

    def index_of(self, ordinal: int) -> int:
        """Index of the matching record at ``ordinal``, or of the next one (clamped)."""
        return max(0, min(bisect_left(self._matched, ordinal), len(self._matched) - 1))

    def row_of(self, j: int) -> tuple[int, int]:
        """First row and height of matching record ``j``."""
        if not self.expanded:
            return j, 1
        origin = self._starts[0]
        start = self._starts[j]
        end = self._starts[j + 1] if j + 1 < len(self._starts) else self._row_end
        return start - origin, end - start

    def locate(self, row: int) -> tuple[int, int] | None:
        """(matching record, line within it) at ``row``; None past the end."""
        if row < 0 or row >= self.rows:
            return None
        if not self.expanded:
            return row, 0
        target = row + self._starts[0]
        j = bisect_right(self._starts, target) - 1
        return j, target - self._starts[j]
