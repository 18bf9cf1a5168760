from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.core.clock import ManualClock
from console.core.events import Backfill, LogRecord, SourceState, make_record
from console.core.recorder import Listener, Recorder

T0 = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)


def rec(source: str, second: float, text: str = "") -> LogRecord:
    return LogRecord(
        ts=T0 + timedelta(seconds=second),
        source=source,
        kind="apache-access",
        level="info",
        text=text or f"{source}@{second}",
    )


def test_records_interleave_by_time_within_the_reorder_window() -> None:
    clock = ManualClock(T0)
    r = Recorder(reorder=0.5, clock=clock)
    r.add_records([rec("access", 1), rec("access", 3)])
    r.add_records([rec("php", 2), rec("php", 0.5)])
    assert r.snapshot().records == ()  # still waiting for late company
    clock.advance(1)
    texts = [x.text for x in r.snapshot().records]
    assert texts == ["php@0.5", "access@1", "php@2", "access@3"]


def test_sequence_numbers_and_counts() -> None:
    r = Recorder(reorder=0)
    r.add_records([rec("a", 1), rec("b", 1), rec("a", 1)])
    snap = r.snapshot()
    assert [x.seq for x in snap.records] == [1, 2, 3]
    assert snap.counts == {"a": 2, "b": 1}
    assert snap.sources == ("a", "b")
    assert snap.total == 3


def test_ring_is_bounded_and_counts_what_fell_out() -> None:
    r = Recorder(max_records=100, reorder=0)
    for i in range(5):
        r.add_records([rec("a", i * 100 + j) for j in range(100)])
        r.release(force=True)
    snap = r.snapshot()
    assert len(snap.records) == 100
    assert snap.records[0].text == "a@400"
    assert snap.dropped == 400
    assert snap.total == 500


def test_snapshot_is_immutable_and_detached() -> None:
    r = Recorder(reorder=0)
    r.add_records([rec("a", 1)])
    snap = r.snapshot()
    r.add_records([rec("a", 2)])
    r.release(force=True)
    assert len(snap.records) == 1
    assert len(r.snapshot().records) == 2


def test_states_keep_the_latest_and_a_history_of_changes() -> None:
    r = Recorder(reorder=0)
    ok = SourceState(ts=T0, source="access", kind="apache-access", status="ok")
    r.set_state(ok)
    r.set_state(ok)
    r.set_state(
        SourceState(
            ts=T0, source="access", kind="apache-access", status="missing", message="no such file"
        )
    )
    snap = r.snapshot()
    assert snap.states["access"].status == "missing"
    assert [s.status for s in snap.state_history] == ["ok", "missing"]
    assert snap.sources == ("access",)


def test_window_cuts_by_time() -> None:
    r = Recorder(reorder=0)
    r.add_records([rec("a", s) for s in range(10)])
    r.release(force=True)
    part = r.snapshot().window(T0 + timedelta(seconds=3), T0 + timedelta(seconds=5))
    assert [x.text for x in part.records] == ["a@3", "a@4", "a@5"]


def test_register_fixes_source_order_before_data() -> None:
    r = Recorder(reorder=0)
    r.register("access")
    r.register("php")
    r.add_records([rec("php", 1)])
    assert r.snapshot().sources == ("access", "php")


def test_a_record_is_numbered_in_place_once_and_copied_after() -> None:
    r = Recorder(reorder=0)
    fresh = rec("a", 1)
    r.add_records([fresh])
    r.release(force=True)
    assert r.records[0] is fresh and fresh.seq == 1  # nobody else held it: no copy made
    other = Recorder(reorder=0)
    other.add_records([fresh, rec("a", 2)])  # already numbered: copied, the first keeps its 1
    other.release(force=True)
    assert fresh.seq == 1
    assert [(x.seq, x is fresh) for x in other.records] == [(1, False), (2, False)]
    assert other.records[0] == replace(fresh, seq=1) and other.records[0].text == "a@1"


def test_backfill_goes_into_the_ring_at_once_and_live_records_still_wait() -> None:
    clock = ManualClock(T0)
    r = Recorder(reorder=0.5, clock=clock)

    class Seen(Listener):
        def __init__(self) -> None:
            self.batches: list[tuple[LogRecord, ...]] = []

        def on_records(self, batch: tuple[LogRecord, ...]) -> None:
            self.batches.append(batch)

    seen = Seen()
    r.subscribe(seen)
    r.add_records([rec("access", 10, "live")])
    r.add_records(Backfill([rec("access", 2), rec("access", 1)]))
    # no release call and no time passed: the history is there, sorted; the live line waits
    assert [x.text for x in r.records] == ["access@1", "access@2"]
    assert [x.seq for x in r.records] == [3, 2]
    assert [[x.text for x in v] for v in seen.batches] == [["access@1", "access@2"]]
    assert r.snapshot().total == 3
    clock.advance(1)
    assert [x.text for x in r.snapshot().records] == ["access@1", "access@2", "live"]


def test_a_later_backfill_interleaves_with_history_already_in_the_ring() -> None:
    clock = ManualClock(T0)
    r = Recorder(reorder=0.5, clock=clock)
    r.add_records(Backfill([rec("access", s) for s in (1, 3, 5)]))
    clock.advance(1)
    r.add_records([rec("access", 7, "live")])
    clock.advance(1)
    r.release()  # the live line is in the ring now, after the history
    r.add_records(Backfill([rec("php", s) for s in (0, 2, 4, 6)]))  # the other log, read later
    texts = [x.text for x in r.snapshot().records]
    assert texts == [
        "php@0", "access@1", "php@2", "access@3", "php@4", "access@5", "php@6", "live"
    ]  # fmt: skip
    assert r.snapshot().dropped == 0


def test_backfill_into_a_full_ring_keeps_the_newest_records() -> None:
    r = Recorder(max_records=4, reorder=0)
    r.add_records([rec("a", s) for s in (10, 11, 12, 13)])
    r.release(force=True)
    r.add_records(Backfill([rec("b", 1), rec("b", 12.5)]))
    snap = r.snapshot()
    assert [x.text for x in snap.records] == ["a@11", "a@12", "b@12.5", "a@13"]
    assert snap.dropped == 2 and snap.total == 6


async def test_a_tail_hands_its_backfill_over_as_history(tmp_path: Path) -> None:
    from console.parsing.apache_access import AccessLogParser
    from console.sources.tail.follow import FileTail

    line = '192.0.2.1 - - [26/Nov/2026:15:00:0{n} +0000] "GET /{n} HTTP/1.1" 200 5 "-" "-"\n'
    log = tmp_path / "access.log"
    log.write_text("".join(line.format(n=n) for n in range(3)))
    clock = ManualClock(T0)
    r = Recorder(reorder=0.5, clock=clock)
    tail = FileTail(log, AccessLogParser("access"), r, backfill_lines=2)
    try:
        await tail.poll_once()
        assert [x.fields["url"] for x in r.records] == ["/1", "/2"]  # without any wait
        with log.open("a") as out:
            out.write(line.format(n=3))
        await tail.poll_once()
        assert len(r.records) == 2  # a live line waits for company
        clock.advance(1)
        assert [x.fields["url"] for x in r.snapshot().records] == ["/1", "/2", "/3"]
    finally:
        await tail.aclose()


def test_make_record_builds_the_same_record_as_the_dataclass() -> None:
    args = (T0, "php", "php-error", "error", "PHP Fatal error", ("#0 {main}",), {"a": 1}, "raw")
    fast = make_record(*args, ts_from_line=False)
    assert fast == LogRecord(*args, ts_from_line=False)
    assert fast.seq == 0 and fast.fields == {"a": 1}
    bare = make_record(T0, "x", "k", "info", "t")
    assert bare == LogRecord(ts=T0, source="x", kind="k", level="info", text="t")
    assert bare.fields == {} and bare.fields is not make_record(T0, "x", "k", "info", "t").fields
    with pytest.raises(FrozenInstanceError):
        bare.text = "changed"  # type: ignore[misc]
    # every field is set: a field added to LogRecord must be added to make_record too
    assert all(hasattr(bare, f.name) for f in fields(LogRecord))


def test_listeners_hear_each_event_by_its_own_method() -> None:
    heard: list[str] = []

    class Ears(Listener):
        def on_status(self, sample: object) -> None:  # type: ignore[override]
            heard.append("status")

        def on_state(self, state: SourceState) -> None:
            heard.append(f"state {state.source} {state.status}")

    clock = ManualClock(T0)
    r = Recorder(reorder=0, clock=clock)
    r.subscribe(Ears())
    r.set_state(SourceState(T0, "php", "php-error", "ok"))
    r.set_state(SourceState(T0, "php", "php-error", "ok"))  # no change: no event
    r.set_state(SourceState(T0, "php", "php-error", "missing", message="gone"))
    r.add_records([rec("access", 0)])
    clock.advance(1)
    r.release()  # a batch: Ears ignores it without failing (Listener's default)
    assert heard == ["state php ok", "state php missing"]


def test_rates_count_on_the_recorders_clock() -> None:
    clock = ManualClock(T0)
    r = Recorder(reorder=0, clock=clock)
    r.rates()
    r.add_records([rec("access", s) for s in range(20)])
    clock.advance(2)
    assert r.rates()["access"] == pytest.approx(10.0)


def test_a_window_puts_late_lines_in_their_place() -> None:
    """An access line is written when its request ends and carries its start: it is released
    after lines of later times. The ring keeps arrival order; a bundle's window is in time
    order."""
    clock = ManualClock(T0)
    r = Recorder(reorder=0.5, clock=clock)
    r.add_records([rec("php", 10, "fatal at 10"), rec("php", 11, "notice at 11")])
    clock.advance(1)
    r.release()
    r.add_records([rec("access", 4, "request started at 4, logged at its end")])
    clock.advance(1)
    snap = r.snapshot()
    assert [x.text for x in snap.records][-1].startswith("request started at 4")
    window = snap.window(T0, T0 + timedelta(seconds=60))
    assert [x.text for x in window.records] == [
        "request started at 4, logged at its end",
        "fatal at 10",
        "notice at 11",
    ]
