from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.core.events import LogRecord
from console.view.filters import LogFilter
from console.view.logindex import LogIndex
from tests.support.scripted import T0, access, php_fatal


def numbered(start: int, n: int) -> list[LogRecord]:
    out = []
    for i in range(start, start + n):
        rec = (
            php_fatal(T0) if i % 5 == 0 else access(i, T0, 500 if i % 3 == 0 else 200, "/", "c", i)
        )
        out.append(replace(rec, ts=T0 + timedelta(seconds=i), seq=i + 1))
    return out


def test_sync_appends_and_drops_like_the_ring() -> None:
    index = LogIndex()
    index.set_filter(LogFilter(min_level="error"))
    records = numbered(0, 100)
    ring = tuple(records)
    index.sync(ring)
    expected = [r for r in ring if index.filter.matches(r)]
    assert list(index.records()) == expected
    # 30 new records, ring of 100: the 30 oldest fall out.
    records += numbered(100, 30)
    ring2 = tuple(records[-100:])
    removed = index.sync(ring2)
    assert list(index.records()) == [r for r in ring2 if index.filter.matches(r)]
    assert removed == len([r for r in ring[:30] if index.filter.matches(r)])
    assert index.sync(ring2) is None  # the same ring again: nothing to do
    assert index.sync(tuple(list(ring2))) is None  # a new tuple of the same records


def test_expanded_rows_follow_continuation_lines() -> None:
    index = LogIndex()
    records = numbered(0, 25)
    index.sync(tuple(records[:20]))
    index.set_expanded(True)
    assert index.rows == 20 + 4 * 4  # four php records with four lines each
    assert index.locate(0) == (0, 0)
    assert index.locate(1) == (0, 1)  # the first record is php (i=0): its first line
    assert index.row_of(1) == (5, 1)
    removed = index.sync(tuple(records[5:]))
    assert removed == 5 + 4  # one php record (5 rows) and four access records left
    assert index.rows == 20 + 4 * 4
    assert index.locate(index.rows) is None


def test_unrelated_ring_is_filtered_from_scratch() -> None:
    index = LogIndex()
    index.sync(tuple(numbered(0, 10)))
    other = tuple(replace(r, seq=0) for r in numbered(50, 5))
    index.sync(other)
    assert list(index.records()) == list(other)


def test_narrowing_filter_keeps_order_and_index_of_clamps() -> None:
    index = LogIndex()
    index.sync(tuple(numbered(0, 30)))
    index.set_filter(LogFilter().toggle_source("php"))
    assert all(r.source == "access" for r in index.records())
    assert index.index_of(10**9) == len(index) - 1
    assert index.index_of(-1) == 0
