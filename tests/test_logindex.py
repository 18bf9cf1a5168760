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


def late(rec: LogRecord, seconds: float, seq: int) -> LogRecord:
    """``rec`` released after the others (``seq``) with a time ``seconds`` from T0."""
    return replace(rec, ts=T0 + timedelta(seconds=seconds), seq=seq)


def test_a_late_line_goes_in_its_place_by_time() -> None:
    index = LogIndex()
    records = numbered(0, 20)  # times 0..19 s, released in order
    index.sync(tuple(records))
    line = late(records[3], 4.5, 21)  # started at 4.5 s, logged (released) after 19 s
    ring = tuple([*records, line])
    assert index.sync(ring) == 0  # following: nothing left the top
    assert index.placed
    shown = index.records()
    assert shown[5] is line and [r.ts for r in shown] == sorted(r.ts for r in shown)
    j = index.index_of(len(records))  # its ordinal: the 21st record of the ring
    assert index.record(j) is line
    index.set_filter(LogFilter(text="GET"))  # refiltering keeps the time order
    assert [r.ts for r in index.records()] == sorted(r.ts for r in index.records())


def test_the_anchor_stays_put_when_lines_come_or_go_above_it() -> None:
    index = LogIndex()
    records = numbered(0, 20)
    index.sync(tuple(records))
    index.anchor = index.ordinal(10)  # a view scrolled up: record 10 at its top
    first = late(records[1], 2.5, 21)  # before the anchor: the view moves down one row
    second = late(records[1], 15.5, 22)  # after it: nothing moves
    assert index.sync(tuple([*records, first, second])) == -1
    assert index.record(index.index_of(index.anchor)) is records[10]
    # the ring drops its 3 oldest (by arrival): 3 rows above the anchor go
    ring = tuple([*records, first, second])[3:]
    assert index.sync(ring) == 3
    assert index.records()[0] is first  # released late, it stays while older arrivals go
    assert len(index) == len(ring)


def test_expanded_rows_count_a_late_record_in_its_place() -> None:
    index = LogIndex()
    records = numbered(0, 10)
    index.sync(tuple(records))
    index.set_expanded(True)
    rows = index.rows
    fatal = next(r for r in records if r.lines)  # a php record with continuation lines
    index.sync(tuple([*records, late(fatal, 0.5, 11)]))
    assert index.rows == rows + 1 + len(fatal.lines)
    assert index.locate(1 + len(records[0].lines)) == (1, 0)  # the late one is record 1


async def test_a_paused_view_keeps_its_top_line_when_a_late_line_is_filed_above() -> None:
    from console.core.clock import ManualClock
    from tests.support.app import log_lines, make_app
    from tests.support.scripted import scripted_recorder

    clock = ManualClock(T0)
    recorder = scripted_recorder(clock=clock)
    app = make_app(recorder=recorder)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("home")  # paused, at the oldest records
        for _ in range(60):  # down the list: the view scrolls, its top is a later record
            await pilot.press("down")
        await pilot.pause(0.3)
        assert app.panes.log.scroll_y > 5 and app.log_index.anchor is not None
        top = log_lines(app)[0]
        shown = app.log_index.records()
        first = app.log_index.record(app.log_index.index_of(app.log_index.anchor or 0))
        earlier = replace(shown[0], text="GET /late.php took 30 s", ts=shown[0].ts, seq=0)
        recorder.add_records([replace(earlier, fields=dict(earlier.fields, url="/late.php"))])
        clock.advance(1)
        await pilot.pause(1.2)
        assert any(r.text == "GET /late.php took 30 s" for r in app.log_index.records())
        assert app.log_index.records()[1].text == "GET /late.php took 30 s"  # in its place
        assert log_lines(app)[0] == top  # the view did not jump
        assert app.log_index.record(app.log_index.index_of(app.log_index.anchor or 0)) is first


def test_own_polls_are_never_shown_even_from_an_old_bundle() -> None:
    records = numbered(0, 6)
    own = replace(records[1], fields=dict(records[1].fields, user_agent="lamptop/0.1.0"))
    ring = tuple([records[0], own, *records[2:]])
    index = LogIndex()
    index.sync(ring)  # a ring seen for the first time is filtered from scratch
    assert own not in index.records() and len(index) == len(ring) - 1
    index.set_filter(LogFilter(text="GET"))
    index.set_filter(LogFilter())  # back to the default: still left out
    assert own not in index.records()


def _reference(ring: tuple[LogRecord, ...], log_filter: LogFilter) -> list[LogRecord]:
    return sorted((r for r in ring if log_filter.matches(r)), key=lambda r: (r.ts, r.seq))


def test_random_batches_with_late_lines_and_drops_match_a_plain_sort() -> None:
    """Batches of records whose times go back by up to a few seconds (access lines stamped
    with their start), a ring that drops its oldest: after every sync the index holds what
    sorting the filtered ring gives, with every filter, collapsed and expanded."""
    import random
    from collections import deque

    for seed, log_filter, expanded in (
        (1, LogFilter(), False),
        (2, LogFilter(), True),
        (3, LogFilter(min_level="error"), False),
        (4, LogFilter(text="fatal"), True),
    ):
        rnd = random.Random(seed)
        index = LogIndex()
        index.set_filter(log_filter)
        index.set_expanded(expanded)
        ring: deque[LogRecord] = deque(maxlen=150)
        seq = 0
        for step in range(60):
            for _ in range(rnd.randint(0, 40)):
                seq += 1
                rec = php_fatal(T0) if seq % 7 == 0 else access(seq, T0, 200, "/", "c", seq)
                back = rnd.choice((0, 0, 0, 1, 3))
                ts = T0 + timedelta(seconds=step - back, milliseconds=rnd.randint(0, 999))
                ring.append(replace(rec, ts=ts, seq=seq))
            index.sync(tuple(ring))
            want = _reference(tuple(ring), log_filter)
            assert list(index.records()) == want, (seed, step)
            rows = sum(1 + (len(r.lines) if expanded else 0) for r in want)
            assert index.rows == rows, (seed, step)
