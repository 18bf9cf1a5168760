"""The sending side of ``record --stream``: batches, the rate bound and what it cut."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from console.commands.stream import StreamTap
from console.core.clock import ManualClock
from console.core.events import LogRecord
from console.core.wire import record_from_wire
from tests.support.stream_events import T0


class Out:
    """An out pipe whose reader takes what it is given, or nothing (``full``)."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.full = False

    def write(self, data: bytes) -> bool:
        if self.full:
            return False
        self.lines += [json.loads(x) for x in data.splitlines()]
        return True


def records(n: int) -> list[LogRecord]:
    return [
        LogRecord(T0 + timedelta(milliseconds=i), "access", "apache-access", "info", f"r{i}")
        for i in range(n)
    ]


def tap(out: Out, **kw: Any) -> StreamTap:
    t = StreamTap(out, hostname="web1", clock=ManualClock(T0), **kw)  # type: ignore[arg-type]
    t._early = None  # the header is out: write at once
    return t


def sent(out: Out) -> list[str]:
    return [record_from_wire(r, "r").text for x in out.lines if x["t"] == "records" for r in x["r"]]


def test_over_the_record_rate_the_newest_are_kept_and_the_cut_counted() -> None:
    out = Out()
    t = tap(out, max_records=100)
    t.on_records(tuple(records(250)))
    t.flush()
    assert out.lines[0] == {"t": "dropped", "records": 150}
    assert sent(out) == [f"r{i}" for i in range(150, 250)]
    t.on_records(tuple(records(5)))
    t.flush()  # the budget has not refilled (the clock stands still): all five cut
    assert out.lines[-1] == {"t": "dropped", "records": 5}


def test_over_the_byte_rate_the_newest_are_kept() -> None:
    out = Out()
    t = tap(out, max_bytes=2_000)
    t.on_records(tuple(records(200)))
    t.flush()
    kept = sent(out)
    assert 0 < len(kept) < 200 and kept[-1] == "r199"
    assert out.lines[0] == {"t": "dropped", "records": 200 - len(kept)}
    assert sum(len(json.dumps(x)) for x in out.lines) < 2_500


def test_a_stuck_reader_costs_records_not_memory() -> None:
    out = Out()
    t = tap(out, max_records=1_000)
    out.full = True
    for _ in range(20):
        t.on_records(tuple(records(500)))  # batches of 1,000 are flushed, and refused
    assert len(t.pending) <= 2_000
    out.full = False
    t.clock.advance(1.0)  # type: ignore[attr-defined]
    t.on_records(tuple(records(10)))
    t.flush()
    assert out.lines[0]["t"] == "dropped" and out.lines[0]["records"] >= 9_000
    assert sent(out)[-1] == "r9"


def test_batches_are_at_most_a_thousand_records() -> None:
    out = Out()
    t = tap(out)
    t.on_records(tuple(records(999)))
    assert not out.lines  # waits for its quarter second
    t.on_records(tuple(records(1_500)))  # over 1,000 waiting: sent at once
    assert all(len(x["r"]) <= 1_000 for x in out.lines)
    assert len(sent(out)) == 2_499
