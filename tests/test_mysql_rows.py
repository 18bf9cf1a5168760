"""Processlist rows to threads: cleaned, bounded, capped, running first; grants read."""

from __future__ import annotations

from console.core.text import CUT, is_clean
from console.sources.mysql.processlist import (
    MAX_INFO,
    MAX_SMALL,
    from_mariadb,
    from_show,
    text,
    thread_of,
)
from console.sources.mysql.session import grants_process
from tests.test_hostile import HOSTILE


def row(
    id: int,
    command: str = "Query",
    time: float = 1,
    info: object = b"SELECT 1",
    user: object = b"app",
) -> tuple[object, ...]:
    return (id, user, b"localhost", b"shop", command.encode(), time, b"executing", info)


def test_a_row_becomes_a_thread() -> None:
    t = thread_of(row(7, time=1530.5), millis=True)
    assert (t.id, t.user, t.host, t.db, t.command, t.state, t.info) == (
        7,
        "app",
        "localhost",
        "shop",
        "Query",
        "executing",
        "SELECT 1",
    )
    assert t.time == 1.5305
    assert thread_of(row(7, time=12), millis=False).time == 12.0
    nulls = thread_of((3, None, None, None, None, None, None, None), millis=False)
    assert (nulls.user, nulls.db, nulls.info, nulls.time) == ("", "", "", 0.0)


def test_hostile_text_comes_out_clean_and_on_one_line() -> None:
    for bad in HOSTILE:
        t = thread_of(row(1, info=bad.encode(), user=bad.encode()), millis=True)
        assert is_clean(t.info) and is_clean(t.user), repr(bad)
    t = thread_of(
        row(1, info=b"SELECT\n  a,\r\n\tb /* \x1b[2J \xe2\x80\xae */ FROM t"), millis=True
    )
    assert t.info == "SELECT a, b /* \\x1b[2J <U+202E> */ FROM t"
    # bytes that are not UTF-8 (SHOW FULL PROCESSLIST sends a statement as it came)
    assert thread_of(row(1, info=b"SELECT '\xff\xfe'"), millis=True).info == "SELECT '\ufffd\ufffd'"


def test_huge_values_are_bounded() -> None:
    t = thread_of(row(1, info=b"x" * (MAX_INFO + 1), user=b"u" * 10_000), millis=True)
    assert len(t.info) == MAX_INFO and t.info.endswith(CUT)
    assert len(t.user) == MAX_SMALL and t.user.endswith(CUT)
    assert thread_of(row(1, info=b"y" * MAX_INFO), millis=True).info == "y" * MAX_INFO
    assert text("\x1b" * 1000) == ("\\x1b" * 1000)[: MAX_SMALL - len(CUT)] + CUT


def test_mariadb_rows_running_first_longest_first_and_the_rest_counted() -> None:
    rows = [
        (*row(1, "Sleep", 90_000, None), 7),
        (*row(2, "Query", 500), 7),
        (*row(3, "Query", 4_000), 7),
        (*row(4, "Daemon", 999_000, None), 7),
    ]
    threads, truncated = from_mariadb(rows)
    assert [t.id for t in threads] == [3, 2, 4, 1]
    assert truncated == 3
    assert from_mariadb([]) == ((), 0)


def test_show_rows_leave_out_lamptop_and_keep_the_longest() -> None:
    rows = [row(n, "Query", n) for n in range(1, 11)]
    rows += [row(99, "Sleep", 10_000, None), row(42, "Query", 1_000_000)]
    threads, truncated = from_show(rows, own_id=42, cap=4)
    assert [t.id for t in threads] == [10, 9, 8, 7]
    assert truncated == 7  # 11 rows besides lamptop's own, 4 kept
    everything, none_left = from_show(rows, own_id=42, cap=100)
    assert [t.id for t in everything][:2] == [10, 9] and everything[-1].id == 99
    assert none_left == 0


def test_grants_that_show_every_thread() -> None:
    assert grants_process(["GRANT PROCESS ON *.* TO `lamptop`@`localhost`"])
    assert grants_process(["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"])
    assert grants_process(
        [
            "GRANT USAGE ON *.* TO `x`@`%`",
            "GRANT SELECT, RELOAD, PROCESS ON *.* TO 'x'@'%' IDENTIFIED BY PASSWORD '*AB'",
        ]
    )
    assert not grants_process(["GRANT USAGE ON *.* TO `app`@`localhost`"])
    assert not grants_process(["GRANT ALL PRIVILEGES ON `shop`.* TO `app`@`localhost`"])
    assert not grants_process(["GRANT `process_role` TO `app`@`localhost`", ""])
