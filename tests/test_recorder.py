from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.events import LogRecord, SourceState
from console.recorder import Recorder

T0 = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def rec(source: str, second: float, text: str = "") -> LogRecord:
    return LogRecord(
        ts=T0 + timedelta(seconds=second),
        source=source,
        kind="apache-access",
        level="info",
        text=text or f"{source}@{second}",
    )


def test_records_interleave_by_time_within_the_reorder_window() -> None:
    clock = Clock()
    r = Recorder(reorder=0.5, clock=clock)
    r.add_records([rec("access", 1), rec("access", 3)])
    r.add_records([rec("php", 2), rec("php", 0.5)])
    assert r.snapshot().records == ()  # still waiting for late company
    clock.now += timedelta(seconds=1)
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
