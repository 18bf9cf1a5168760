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
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import attrgetter

from console.core.events import LogRecord
from console.parsing.apache_access import OWN_AGENT, is_own_request
from console.view.filters import LogFilter

#: Display order: the time written in the line, then arrival (in C, per record).
_order: Callable[[LogRecord], tuple[datetime, int]] = attrgetter("ts", "seq")
_seq: Callable[[LogRecord], int] = attrgetter("seq")


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
        self._max_seq = max(map(_seq, new[i:]), default=last)
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
        if anchor_key is None and not self.expanded:
            # Following the newest, rows one each: when every record filed up to the limit
            # was dropped (no late line of a later time among them), they all go at once.
            j = bisect_right(keys, limit)
            head = matched[:j]
            if not j or max(head) >= base:  # late lines of later times stay among them
                kept = [i for i, o in enumerate(head) if o >= base]
                if len(kept) == j:
                    return 0
                matched[:j] = [head[i] for i in kept]
                keys[:j] = [keys[i] for i in kept]
                return j - len(kept)
            del matched[:j], keys[:j]
            return j
        rows = j = 0
        keep: list[int] = []
        while j < len(matched) and keys[j] <= limit:
            if matched[j] < base:
                if anchor_key is None or keys[j] < anchor_key:
                    rows += self._height(j)
            else:
                keep.append(j)
            j += 1
        if len(keep) == j:
            return 0
        matched[:j] = [matched[i] for i in keep]
        keys[:j] = [keys[i] for i in keep]
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
        the anchor."""
        if anchor_key is None and not self.expanded:
            self._take_following(new, start)
            return 0
        matched, keys, matches = self._matched, self._keys, self.filter.matches
        base, expanded = self.base, self.expanded
        starts, row_end = self._starts, self._row_end
        rows_before = 0
        placed = False
        for k in range(start, len(new)):
            rec = new[k]
            if not matches(rec):
                continue
            key = (rec.ts, rec.seq)
            if not keys or key >= keys[-1]:
                matched.append(base + k)
                keys.append(key)
                if expanded and not placed:
                    starts.append(row_end)
                    row_end += 1 + len(rec.lines)
                continue
            at = bisect_right(keys, key)
            matched.insert(at, base + k)
            keys.insert(at, key)
            placed = True
            if anchor_key is not None and key < anchor_key:
                rows_before += 1 + (len(rec.lines) if expanded else 0)
        self._row_end = row_end
        self.placed = placed
        if placed and expanded:
            self._count_rows()
        return rows_before

    def _take_following(self, new: Sequence[LogRecord], start: int) -> None:
        """:meth:`_take` for a view that follows the newest, one row a record: the matching
        records sorted in C and put at the end, but those that go before what is filed
        already (lines released late), which are filed in their place one by one."""
        recs = new[start:]
        f = self.filter
        if f.plain and not f.hidden:
            own = is_own_request
            agent = OWN_AGENT
            # a lazy record without the agent's name in its line is no poll of lamptop's
            picked = [
                i
                for i, r in enumerate(recs)
                if (r.expand is not None and agent not in r.raw) or not own(r)
            ]
        else:
            matches = f.matches
            picked = [i for i, r in enumerate(recs) if matches(r)]
        first = self.base + start
        if len(picked) == len(recs):
            pairs = list(zip(map(_order, recs), range(first, first + len(recs)), strict=True))
        else:
            pairs = [(_order(recs[i]), first + i) for i in picked]
        if not pairs:
            return
        ordered = sorted(pairs)
        keys, matched = self._keys, self._matched
        late = bool(keys) and ordered[0][0] < keys[-1]
        self.placed = late or ordered != pairs
        if late:
            # merged with the filed records from where the earliest goes: two sorted runs,
            # which the sort joins in one pass
            at = bisect_right(keys, ordered[0][0])
            ordered = sorted([*zip(keys[at:], matched[at:], strict=True), *ordered])
            del keys[at:], matched[at:]
        keys.extend([k for k, _ in ordered])
        matched.extend([o for _, o in ordered])

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
