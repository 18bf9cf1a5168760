"""A log index that follows the newest files records the quick way (sorted in C, late lines
merged): it must come out exactly as the careful way, record by record, files them."""

from __future__ import annotations

import random
from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from console.core.events import LogRecord, make_record
from console.parsing.apache_access import OWN_AGENT
from console.view.filters import LogFilter
from console.view.logindex import LogIndex

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def ring_snapshots(seed: int) -> list[tuple[LogRecord, ...]]:
    """Snapshots of a 300-record ring fed batches whose times go back now and then (access
    lines stamped with the second their request began, error lines to the microsecond)."""
    rng = random.Random(seed)
    ring: deque[LogRecord] = deque(maxlen=300)
    shots = []
    seq = 0
    for step in range(80):
        batch = []
        for _ in range(rng.randrange(0, 60)):
            seq += 1
            now = step * 0.5 + rng.random() * 0.5
            if rng.random() < 0.7:  # an access line: its whole second, sometimes long ago
                back = rng.choice((0, 0, 0, 1, 3))
                ts = T0 + timedelta(seconds=int(now) - back)
                agent = f"{OWN_AGENT}1" if rng.random() < 0.05 else "curl"
                rec = make_record(
                    ts,
                    "access",
                    "apache-access",
                    "info",
                    f"GET /{seq}",
                    fields={"user_agent": agent},
                    raw=f"x {agent}",
                )
            else:
                ts = T0 + timedelta(seconds=now)
                rec = make_record(ts, "error", "apache-error", "error", f"oops {seq}")
            object.__setattr__(rec, "seq", seq)
            batch.append(rec)
        batch.sort(key=lambda r: (r.ts, r.seq))
        ring.extend(batch)
        shots.append(tuple(ring))
    return shots


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "flt", [LogFilter(), LogFilter(hidden=frozenset({"error"})), LogFilter(min_level="error")]
)
def test_following_files_as_record_by_record(seed: int, flt: LogFilter) -> None:
    quick, careful = LogIndex(), LogIndex()
    quick.filter = careful.filter = flt
    careful.expanded = True  # rows counted per record: the careful way, record by record
    for shot in ring_snapshots(seed):
        quick.sync(shot)
        careful.sync(shot)
        assert quick._matched == careful._matched
        assert quick._keys == careful._keys
        assert quick.placed == careful.placed
    assert len(quick) > 50
    assert all(flt.matches(r) for r in quick.records())
