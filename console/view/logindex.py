"""The records a filter lets through, kept up to date as snapshots come: the log pane's model.

Records are numbered by *ordinal*, the order in which they entered the recorder's ring, so
a position survives the ring dropping its oldest records. The index keeps the ordinals of
the matching records in the order of the times written in their lines, and, when
continuation lines are shown, the row each one starts at. A line released after lines of later
times (an access line is written when its request ends, but carries its start) goes in its
place, not at the end; a view scrolled up keeps its top record where it was (:attr:`anchor`).
A new snapshot only costs the records that arrived since the previous one; the whole ring is
filtered again only when the filter changes (and not even then when the new filter only
narrows the old one). Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter

from console.core.events import LogRecord
from console.view.filters import LogFilter, shown_by_default

_order = attrgetter("ts", "seq")
"""A record's place in the view: ``(ts, seq)``."""


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
        self._keys: list[tuple[datetime, int]] = []
        """``(ts, seq)`` of each matched record: the display order, for bisecting."""
        self.placed = False
        """Whether the last :meth:`sync` put records before the end (lines released late)."""
        self.anchor: int | None = None
        """Ordinal of the record at the top of a view that does not follow the newest: rows
        that come or go before it are what :meth:`sync` reports. None: the view follows."""
        self._starts: list[int] = []
        """When expanded: the row each matched record starts at (not rebased)."""
        self._row_end = 0

    def __len__(self) -> int:
        return len(self._matched)

    # -- changes ------------------------------------------------------------------------------
    def sync(self, new: Sequence[LogRecord]) -> int | None:
        """Take the records of a new snapshot; return how many rows before the anchor went
        (negative: came), or before the end when the view follows: what the view scrolls by
        to keep its top record in place. None when nothing changed (the same records).

        Released records are a prefix of arrival order (``seq``), so the new ones are the
        trailing records with a seq above everything seen, and the ring only drops from the
        front. Anything else (a different ring) is filtered from scratch.
        """
        old = self.ring
        self.placed = False
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
        anchor_key = self._anchor_key(old)
        self.base += dropped
        before = self._drop_before(old, dropped, anchor_key) if dropped else 0
        before -= self._take(new, i, anchor_key)
        return before

    def _anchor_key(self, ring: Sequence[LogRecord]) -> tuple[datetime, int] | None:
        """The display key of the anchor record in ``ring`` (before this sync's changes)."""
        a = self.anchor
        if a is None or not self.base <= a < self.base + len(ring):
            return None
        rec = ring[a - self.base]
        return (rec.ts, rec.seq)

    def _drop_before(
        self, old: Sequence[LogRecord], dropped: int, anchor_key: tuple[datetime, int] | None
    ) -> int:
        """Forget the matched records among the ``dropped`` oldest of ``old`` (the ring drops
        by arrival); the rows they took before the anchor (all of them, without one).

        None of them sorts after the latest of the dropped records, so the scan stops there:
        it costs what was dropped (and the late lines filed among it), not the ring.
        """
        limit = max(map(_order, old[:dropped]))
        matched, keys, base = self._matched, self._keys, self.base
        j = bisect_right(keys, limit)
        head = matched[:j]
        keep = [i for i, o in enumerate(head) if o >= base]
        if len(keep) == j:
            return 0
        if anchor_key is None and not self.expanded:
            rows = j - len(keep)
        else:
            rows = sum(
                self._height(i)
                for i, o in enumerate(head)
                if o < base and (anchor_key is None or keys[i] < anchor_key)
            )
        if keep:
            matched[:j] = [head[i] for i in keep]
            keys[:j] = [keys[i] for i in keep]
        else:
            del matched[:j], keys[:j]
        if self.expanded:
            if keep:
                self._count_rows()  # late lines stay among the dropped: count again
            else:
                del self._starts[:j]  # rows are counted from the first start on
        return rows

    def _take(
        self, new: Sequence[LogRecord], start: int, anchor_key: tuple[datetime, int] | None
    ) -> int:
        """File the matching records of ``new[start:]`` by time; the rows they added before
        the anchor.

        The new records are sorted among themselves, then appended when none sorts before
        the last filed one; else merged with the filed ones from where the first of them
        goes (Timsort merges the two sorted runs): the usual case of an access line stamped
        with its whole second, filed after error lines of the same second, costs a merge of
        that second, not a search and two list inserts per record."""
        matches, base, fresh = self.filter.matches, self.base, enumerate(new[start:], start)
        if self.filter.everything:  # its test, without a call per record
            pairs = [(_order(r), base + k) for k, r in fresh if shown_by_default(r)]
        else:
            pairs = [(_order(r), base + k) for k, r in fresh if matches(r)]
        self.placed = False
        if not pairs:
            return 0
        pairs.sort()
        keys, matched = self._keys, self._matched
        if not keys or pairs[0][0] >= keys[-1]:
            keys += [k for k, _ in pairs]
            matched += [o for _, o in pairs]
            if self.expanded:
                starts, row_end, ring = self._starts, self._row_end, self.ring
                for _, o in pairs:
                    starts.append(row_end)
                    row_end += 1 + len(ring[o - base].lines)
                self._row_end = row_end
            return 0
        at = bisect_right(keys, pairs[0][0])
        merged = sorted([*zip(keys[at:], matched[at:], strict=True), *pairs])
        keys[at:] = [k for k, _ in merged]
        matched[at:] = [o for _, o in merged]
        self.placed = True
        if self.expanded:
            self._count_rows()
        if anchor_key is None:
            return 0
        early = [o for k, o in pairs if k < anchor_key]
        if not self.expanded:
            return len(early)
        ring = self.ring
        return sum(1 + len(ring[o - base].lines) for o in early)

    def _height(self, j: int) -> int:
        if not self.expanded:
            return 1
        end = self._starts[j + 1] if j + 1 < len(self._starts) else self._row_end
        return end - self._starts[j]

    def set_filter(self, new: LogFilter) -> None:
        old, self.filter = self.filter, new
        if new.narrows(old):
            ring, base, matches = self.ring, self.base, new.matches
            keep = [j for j, o in enumerate(self._matched) if matches(ring[o - base])]
            self._matched = [self._matched[j] for j in keep]
            self._keys = [self._keys[j] for j in keep]
            self._count_rows()
        else:
            self._refilter()

    def set_expanded(self, expanded: bool) -> None:
        self.expanded = expanded
        self._count_rows()

    def _refilter(self) -> None:
        base, ring, matches = self.base, self.ring, self.filter.matches
        # matches() even for the default filter: it leaves lamptop's own polls out (a bundle
        # written before they were dropped at the tail still holds them)
        pairs = sorted(((r.ts, r.seq), base + i) for i, r in enumerate(ring) if matches(r))
        self._keys = [k for k, _ in pairs]
        self._matched = [o for _, o in pairs]
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
        """Index of the matching record at ``ordinal``, or of the next one in display order
        (clamped; the first when the ring no longer holds it)."""
        j = ordinal - self.base
        if j < 0 or not self._matched:
            return 0
        if j >= len(self.ring):
            return len(self._matched) - 1
        rec = self.ring[j]
        return max(0, min(bisect_left(self._keys, (rec.ts, rec.seq)), len(self._matched) - 1))

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
