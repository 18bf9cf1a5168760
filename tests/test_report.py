"""``report.md`` and ``logs.txt``: what the report counts in the window's records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core.events import Level, LogRecord, ProcInfo
from console.core.recorder import Snapshot
from console.incident.report import logs_chunks, logs_text, make_report
from console.incident.rules import Trigger

T0 = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)


def rec(
    kind: str, level: Level, text: str, second: float = 0, source: str = "", **fields: Any
) -> LogRecord:
    return LogRecord(
        ts=T0 + timedelta(seconds=second),
        source=source or kind,
        kind=kind,
        level=level,
        text=text,
        fields=fields,
    )


def hit(url: str, status: int, client: str, agent: str = "curl/8") -> LogRecord:
    level: Level = "error" if status >= 500 else "info"
    return rec(
        "apache-access",
        level,
        f"{client} GET {url} {status}",
        url=url,
        status=status,
        client=client,
        user_agent=agent,
    )


def report(records: list[LogRecord]) -> str:
    snap = Snapshot(taken_at=T0, records=tuple(records), status=(), system=(), states={})
    return make_report(snap, Trigger("key", T0), host="web1", start=T0, end=T0)


def section(text: str, title: str) -> list[str]:
    """The table rows under a heading, up to the next blank line after them."""
    lines = text.splitlines()
    i = lines.index(title) + 2
    out = []
    while i < len(lines) and lines[i]:
        out.append(lines[i])
        i += 1
    return out[2:]  # without the header row and its rule


def test_requests_errors_and_slow_queries_are_counted() -> None:
    records = [
        hit("/cart.php?id=1", 200, "192.0.2.1"),
        hit("/cart.php?id=2", 500, "192.0.2.2"),
        hit("/report.php", 503, "192.0.2.1"),
        hit("/cart.php", 500, "192.0.2.1"),
        # lamptop's own status polls: neither requests nor URLs, but still an error when 5xx
        hit("/server-status?auto", 500, "127.0.0.1", agent="lamptop/0.1"),
        rec("php-error", "error", "PHP Fatal error: out of memory (tried 20480 bytes) line 88"),
        rec("php-error", "error", "PHP Fatal error: out of memory (tried 4096 bytes) line 88"),
        rec("php-error", "warn", "PHP Warning: not an error"),
        rec("mysql-slow", "warn", "q1", query_time=2.5, user="shop", query="SELECT  1"),
        rec("mysql-slow", "warn", "q2", query_time=9.25, user="shop", query="SELECT\n 2"),
        rec("mysql-slow", "warn", "no time"),
    ]
    text = report(records)
    assert "4 access log records." in text
    assert section(text, "### Top URLs of the window") == [
        "| `/cart.php` | 3 |",
        "| `/report.php` | 1 |",
    ]
    # every record is at T0, the trigger's time: the minute before holds them all
    assert section(text, "### Top URLs in the minute before the trigger") == section(
        text, "### Top URLs of the window"
    )
    assert section(text, "### Top clients") == ["| `192.0.2.1` | 3 |", "| `192.0.2.2` | 1 |"]
    assert section(text, "### Status codes") == ["| 500 | 2 |", "| 200 | 1 |", "| 503 | 1 |"]
    assert section(text, "### URLs answering 5xx") == [
        "| `/cart.php` | 2 |",
        "| `/report.php` | 1 |",
    ]
    errors = section(text, "## Errors by message")
    assert (
        errors[0]
        == "| 2 | - | `php-error` | `PHP Fatal error: out of memory (tried 20480 bytes) line 88` |"
    )
    assert len(errors) == 5  # the fatal group, three 5xx URLs, the own poll
    assert any("/server-status?auto" in row for row in errors)
    assert section(text, "## Slowest queries") == [
        "| 9.25 | 2026-11-26 15:00:00 UTC | `shop` | `SELECT 2` |",
        "| 2.50 | 2026-11-26 15:00:00 UTC | `shop` | `SELECT 1` |",
    ]


def test_a_window_without_records_says_so() -> None:
    text = report([])
    assert "No access log records in the window." in text
    assert "No error records in the window." in text
    assert "Slowest queries" not in text


def test_logs_text_one_line_per_record_and_its_continuation_lines() -> None:
    records = [
        rec("php-error", "error", "PHP Fatal error: x", 1.5, source="php"),
        rec("apache-access", "info", "192.0.2.1 GET / 200", 2, source="access"),
    ]
    records[0] = replace(records[0], lines=("Stack trace:", "#0 {main}"))
    assert logs_text(records) == (
        "2026-11-26 15:00:01 php        error    PHP Fatal error: x\n"
        "    Stack trace:\n"
        "    #0 {main}\n"
        "2026-11-26 15:00:02 access     info     192.0.2.1 GET / 200\n"
    )
    assert logs_text([]) == ""
    many = [rec("x", "info", f"line {i}", i) for i in range(25)]
    chunks = list(logs_chunks(many, per_chunk=10))
    assert len(chunks) == 3 and "".join(chunks) == logs_text(many)


def test_in_flight_table_is_the_screens_own_polls_and_null_rows_left_out() -> None:
    from console.core.events import StatusSample, Worker

    url = "http://127.0.0.1:8080/server-status"
    workers = (
        Worker(
            slot="0",
            pid=11,
            mode="W",
            cpu=0,
            seconds=2.0,
            req_ms=0,
            client="127.0.0.1",
            vhost="x",
            request="GET /server-status?auto HTTP/1.1",
        ),
        Worker(
            slot="1",
            pid=12,
            mode="W",
            cpu=0,
            seconds=40.0,
            req_ms=0,
            client="10.0.0.9",
            vhost="shop",
            request="GET /report.php?id=1 HTTP/1.1",
        ),
        Worker(
            slot="2",
            pid=13,
            mode="R",
            cpu=0,
            seconds=3.0,
            req_ms=0,
            client="?",
            vhost="?",
            request="NULL",
        ),
        Worker(
            slot="3",
            pid=14,
            mode="_",
            cpu=0,
            seconds=9.0,
            req_ms=0,
            client="10.0.0.8",
            vhost="shop",
            request="GET /old.php HTTP/1.1",
        ),
    )
    status = StatusSample(
        ts=T0,
        url=url,
        fields={},
        scoreboard="WWR_",
        counts={"W": 2, "R": 1, "_": 1},
        workers=workers,
        busy=3,
        idle=1,
        limit=4,
        extended=True,
    )
    snap = Snapshot(taken_at=T0, records=(), status=(status,), system=(), states={})
    text = make_report(snap, Trigger("key", T0), host="web1", start=T0, end=T0)
    part = text.split("## In-flight requests (oldest first)")[1].split("## ")[0]
    rows = [line for line in part.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 1 and "/report.php" in rows[0]
    assert "server-status" not in "\n".join(rows) and "NULL" not in text
    assert "Most common in-flight URL: `/report.php` (1 of 1 workers)." in text


def test_in_flight_comes_from_the_newest_sample_with_a_worker_table() -> None:
    from console.core.events import StatusSample, Worker

    url = "http://127.0.0.1/server-status"
    row = Worker(
        slot="3",
        pid=77,
        mode="W",
        cpu=0,
        seconds=31.0,
        req_ms=0,
        client="10.0.0.9",
        vhost="shop",
        request="GET /report.php HTTP/1.1",
    )

    def sample(second: int, *, extended: bool, workers: tuple[Worker, ...] = ()) -> StatusSample:
        return StatusSample(
            ts=T0 + timedelta(seconds=second),
            url=url,
            fields={},
            scoreboard="WWWW",
            counts={"W": 4},
            workers=workers,
            busy=4,
            limit=4,
            extended=extended,
        )

    with_table = sample(0, extended=True, workers=(row,))
    counters_only = sample(7, extended=False)
    snap = Snapshot(
        taken_at=T0, records=(), status=(with_table, counters_only), system=(), states={}
    )
    text = make_report(snap, Trigger("key", T0), host="web1", start=T0, end=T0)
    assert "Worker table from 2026-11-26 15:00:00 UTC, 7 s before the last sample" in text
    assert "`/report.php`" in text and "ExtendedStatus" not in text
    snap = replace(snap, status=(counters_only,))
    text = make_report(snap, Trigger("key", T0), host="web1", start=T0, end=T0)
    assert "No worker table in the window: ExtendedStatus is off" in text
    snap = replace(snap, status=(sample(9, extended=True),))
    text = make_report(snap, Trigger("key", T0), host="web1", start=T0, end=T0)
    assert "No request in flight (lamptop's own status requests left out)." in text


def test_a_process_born_in_the_window_is_new_and_ranks_by_what_it_holds() -> None:
    from tests.support.scripted import MB, system_sample

    top = (
        ProcInfo(902, "mariadbd", "/usr/sbin/mariadbd", 176 * MB, 28 * MB),
        ProcInfo(124721, "php-fpm8.2", "php-fpm: pool www", 64 * MB, 0, new=True),
    )
    sample = replace(system_sample(0, 1), ts=T0, top=top)
    snap = Snapshot(taken_at=T0, records=(), status=(), system=(sample,), states={})
    text = make_report(snap, Trigger("key", T0), host="web1", start=T0, end=T0)
    rows = section(text, "## Processes that grew most")
    assert rows[0].startswith("| 124721 |") and "| `new` |" in rows[0]  # not "0 MB": it holds 64
    assert rows[1].startswith("| 902 |") and "| 28 MB |" in rows[1]
