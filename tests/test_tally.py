"""The report's counts in bounded memory: exact below their cap, the frequent keys kept above it."""

from __future__ import annotations

import random
from collections import Counter

from console.core.events import LogRecord
from console.core.recorder import Snapshot
from console.incident.report import make_report
from console.incident.rules import Trigger
from console.incident.tally import Tally, Top
from tests.test_report import T0, hit, rec, section


def counted(keys: list[str], cap: int, piece: int = 100) -> Top[str]:
    top: Top[str] = Top(cap)
    for i in range(0, len(keys), piece):
        top.add(keys[i : i + piece])
    return top


def test_below_its_cap_a_top_is_a_counter_with_the_same_order() -> None:
    rnd = random.Random(7)
    keys = [f"/k{rnd.randrange(300)}" for _ in range(5000)]
    top = counted(keys, cap=300)
    exact = Counter(keys)
    assert top == exact and not top.truncated and top.short == 0
    assert top.most_common(10) == exact.most_common(10)  # ties too, in the order first seen


def test_past_its_cap_the_frequent_keys_stay_whenever_they_first_came() -> None:
    rnd = random.Random(3)
    keys = [f"/unique/{i}" for i in range(20_000)]
    # a culprit that only begins in the last quarter, and one steady all along
    for i in range(15_000, 20_000, 4):
        keys.insert(i, "/report.php")
    for _ in range(0, 20_000, 50):
        keys.insert(rnd.randrange(len(keys)), "/steady.php")
    top = counted(keys, cap=200)
    exact = Counter(keys)
    assert len(top) <= 200 and top.truncated
    assert top.other + sum(top.values()) == len(keys)  # nothing lost, only set aside
    assert [k for k, _ in top.most_common(2)] == ["/report.php", "/steady.php"]
    for key in ("/report.php", "/steady.php"):
        assert exact[key] - top.low_by([key]) <= top[key] <= exact[key]
    assert top.low_by(["/report.php"]) <= top.short
    assert top.low_by(["/steady.php"]) == 0  # kept since before the first pruning: exact


def test_keys_that_all_count_alike_keep_those_seen_first() -> None:
    keys = [f"10.0.{i // 256}.{i % 256}" for i in range(5000)]
    top = counted(keys, cap=100)
    assert top.most_common(10) == Counter(keys).most_common(10)
    assert top.other == 5000 - len(top)
    assert top.short > 0 and top.low_by(k for k, _ in top.most_common(10)) == 0


def _report(records: list[LogRecord], tally: Tally | None = None) -> str:
    snap = Snapshot(taken_at=T0, records=tuple(records), status=(), system=(), states={})
    return make_report(snap, Trigger("key", T0), host="web1", start=T0, end=T0, tally=tally)


def test_a_report_past_the_cap_says_what_it_left_out() -> None:
    flood = [hit(f"/p/{i}", 200, f"192.0.2.{i % 250}") for i in range(600)]
    flood += [hit("/report.php", 500, "198.51.100.7") for _ in range(40)]
    text = _report(flood, Tally(flood, T0, cap=100))
    rows = section(text, "### Top URLs of the window")
    assert rows[0] == "| `/report.php` | 40 |" and len(rows) == 10
    assert "More than 100 different URLs: the rarest were set aside while counting" in text
    assert "(576 records), so this table leaves them out; the counts in it are exact." in text
    assert "More than 100 different clients" in text
    assert "different status codes" not in text  # two codes: counted exactly
    # a tally that stayed under its cap writes the report an exact count writes
    assert _report(flood, Tally(flood, T0, cap=1000)) == _report(flood, Tally(flood, T0, cap=10**9))
    assert "set aside" not in _report(flood)


def test_error_groups_past_the_cap_keep_their_example_and_clients() -> None:
    errors = []
    for i in range(400):
        text = f"AH0{i}: failure {chr(97 + i % 26)}{i}"
        errors.append(rec("apache-error", "error", text, client=f"c{i}"))
        if i % 5 == 0:
            worker = rec("apache-error", "error", "AH01: worker died", client=f"d{i}")
            errors.append(worker)
    tally = Tally((), T0, cap=50)
    for i in range(0, len(errors), 10):  # as a bundle counts: a piece at a time
        tally.add(errors[i : i + 10])
    tally.done()
    assert len(tally.example) <= 50 and set(tally.group_clients) <= set(tally.groups)
    text = _report(errors, tally)
    rows = section(text, "## Errors by message")
    assert rows[0] == "| 80 | 50+ | `apache-error` | `AH01: worker died` |"
    assert "More than 50 different messages" in text
