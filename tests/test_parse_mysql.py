"""MariaDB slow log and error log: the real corpus files, header blocks, the deadlock dump."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console.core.events import LogRecord
from console.parsing import mysql_slow
from console.parsing.base import Parser
from console.parsing.mysql import MysqlErrorParser, MysqlSlowParser
from console.parsing.mysql_slow import sql_open
from tests.support.paths import FIXTURES

MYSQL = FIXTURES / "mysql"
ROTATION = FIXTURES / "rotation" / "mariadb"
SLOW = MYSQL / "slow.log"
ERROR = MYSQL / "error.log"
ARRIVAL = datetime(2030, 1, 1, tzinfo=UTC)
RUN_START = datetime(2026, 11, 26, 14, 58, tzinfo=UTC)
RUN_END = datetime(2026, 11, 26, 15, 17, tzinfo=UTC)

FILES: list[tuple[type[Parser], Path]] = [
    (MysqlSlowParser, SLOW),
    (MysqlErrorParser, ERROR),
    (MysqlSlowParser, ROTATION / "slow.log.1.tail"),
    (MysqlSlowParser, ROTATION / "slow.log.after_flush"),
    (MysqlErrorParser, ROTATION / "error.log.1.tail"),
    (MysqlErrorParser, ROTATION / "error.log.new"),
]
IDS = [f"{cls.__name__}:{path.name}" for cls, path in FILES]


def lines_of(path: Path) -> list[str]:
    """The file's lines as the tail delivers them (split on newlines only)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def parse(cls: type[Parser], lines: list[str], **kw: object) -> list[LogRecord]:
    parser = cls("test", **kw)  # type: ignore[arg-type]
    return parser.feed(lines, ARRIVAL) + parser.flush(ARRIVAL)


def chunked(cls: type[Parser], lines: list[str], sizes: list[int]) -> list[LogRecord]:
    parser = cls("test")
    out: list[LogRecord] = []
    i = k = 0
    while i < len(lines):
        n = sizes[k % len(sizes)]
        out += parser.feed(lines[i : i + n], ARRIVAL)
        i, k = i + n, k + 1
    return out + parser.flush(ARRIVAL)


def queries(records: list[LogRecord]) -> list[LogRecord]:
    return [r for r in records if r.fields.get("event") == "query"]


def with_query(records: list[LogRecord], needle: str) -> LogRecord:
    return next(r for r in records if needle in r.fields.get("query", ""))


@pytest.fixture(scope="module")
def slow() -> list[LogRecord]:
    return parse(MysqlSlowParser, lines_of(SLOW))


@pytest.fixture(scope="module")
def errors() -> list[LogRecord]:
    return parse(MysqlErrorParser, lines_of(ERROR))


# --- whole files -------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "path"), FILES, ids=IDS)
def test_every_file_parses_with_times_and_levels(cls: type[Parser], path: Path) -> None:
    records = parse(cls, lines_of(path))
    assert records
    good = [r for r in records if r.ts_from_line and r.level != "unparsed"]
    assert len(good) >= 0.99 * len(records) or len(records) - len(good) == 1
    assert all(RUN_START <= r.ts <= RUN_END for r in good)
    assert all(r.ts.tzinfo is UTC and r.kind == cls.kind for r in records)
    assert not [r for r in records if r.level == "unparsed"]


@pytest.mark.parametrize(("cls", "path"), FILES, ids=IDS)
def test_chunk_boundaries_do_not_matter(cls: type[Parser], path: Path) -> None:
    lines = lines_of(path)
    whole = parse(cls, lines)
    assert chunked(cls, lines, [1]) == whole
    rng = random.Random(path.name)
    assert chunked(cls, lines, [rng.randint(1, 60) for _ in range(50)]) == whole
    assert chunked(cls, lines, [2, 3, 5, 7, 11]) == whole


@pytest.mark.parametrize("cls", [MysqlSlowParser, MysqlErrorParser])
def test_flush_emits_the_last_entry(cls: type[Parser]) -> None:
    lines = lines_of(SLOW if cls is MysqlSlowParser else ERROR)
    parser = cls()
    records = parser.feed(lines, ARRIVAL)
    assert parser.pending
    last = parser.flush(ARRIVAL)
    assert len(last) == 1 and not parser.pending
    assert parser.flush(ARRIVAL) == []
    if cls is MysqlSlowParser:
        assert last[0].lines == ("SELECT SLEEP(0.3) AS r3_after_flush;",)
    else:
        assert last[0].raw == lines[-1]
    assert records[-1].raw != last[0].raw


# --- slow log ----------------------------------------------------------------------------------


def test_one_record_per_query(slow: list[LogRecord]) -> None:
    lines = lines_of(SLOW)
    n_queries = sum(1 for ln in lines if ln.startswith("# Query_time"))
    assert n_queries == 784
    assert len(queries(slow)) == n_queries
    assert all(r.level == "warn" and r.ts_from_line for r in queries(slow))
    headers = [r for r in slow if r.fields.get("event") == "header"]
    assert len(headers) == sum(1 for ln in lines if ln.endswith("started with:")) == 3
    assert len(slow) == n_queries + 3
    # Every query ends where the server ended it, and holds no header line.
    for r in queries(slow):
        assert r.lines[-1].endswith(";"), r.lines
        assert not any(ln.startswith(("# User@Host", "# Query_time", "Tcp port")) for ln in r.lines)


def test_time_inside_a_string_literal_does_not_split(slow: list[LogRecord]) -> None:
    rec = with_query(slow, "fake header inside a string literal")
    assert rec.lines == (
        "SELECT '# Time: 261126  0:00:00 <- fake header inside a string literal' AS tricky, 'multi",
        "line",
        "string' AS ml, SLEEP(0.3);",
    )
    assert "# Time: 261126  0:00:00" in rec.fields["query"]
    assert rec.ts == datetime(2026, 11, 26, 15, 7, 42, tzinfo=UTC)
    assert rec.fields["query_time"] == 0.300293
    assert rec.fields["thread_id"] == 2815
    assert rec.raw == "# Time: 261126 15:07:42"


def test_header_blocks_mid_file_stay_apart(slow: list[LogRecord]) -> None:
    headers = [i for i, r in enumerate(slow) if r.fields.get("event") == "header"]
    assert headers[0] == 0
    for i in headers:
        h = slow[i]
        assert h.level == "info" and not h.ts_from_line and h.ts == ARRIVAL
        assert h.raw.startswith("/usr/sbin/mariadbd, Version: 10.11.19-MariaDB")
        assert h.lines[0].startswith("Tcp port: ") and h.lines[1].startswith("Time")
        assert h.fields["version"] == "10.11.19-MariaDB-0+deb12u1-log (Debian 12)"
        assert h.fields["socket"] == "/run/mysqld/mysqld.sock"
    assert [slow[i].fields["tcp_port"] for i in headers] == [0, 3306, 3306]
    before = slow[headers[1] - 1]
    assert before.lines == ("SELECT SLEEP(5) AS to_be_killed;",)
    after = slow[headers[1] + 1]
    assert after.raw == "# Time: 261126 15:08:52"
    assert after.fields["thread_id"] == 2841 and after.fields["ip"] == "127.0.0.1"
    assert slow[headers[2] - 1].lines == ("SELECT SLEEP(0.3) AS r3_after_mv_before_flush;",)


def test_first_entry_fields(slow: list[LogRecord]) -> None:
    rec = slow[1]
    assert rec.raw == "# Time: 261126 15:01:16"
    assert rec.ts == datetime.fromtimestamp(1795705276, UTC)
    f = rec.fields
    assert (f["user"], f["host"], f["ip"], f["thread_id"]) == ("root", "localhost", None, 6)
    assert f["schema"] is None and f["db"] is None
    assert (f["query_time"], f["lock_time"]) == (0.000704, 0.00046)
    assert (f["rows_sent"], f["rows_examined"], f["rows_affected"]) == (1, 3, 0)
    assert (f["bytes_sent"], f["pages_accessed"], f["engine_time"]) == (65, 0, 0.0181)
    assert f["full_scan"] is True and f["full_join"] is False
    assert f["tmp_table_on_disk"] is False and f["filesort"] is False
    assert f["qc_hit"] is False
    assert len(rec.lines) == 5 and rec.lines[0] == "SELECT count(*) FROM mysql.global_priv"
    assert f["query"] == "\n".join(rec.lines)
    assert f["explain"][1].startswith("1\tSIMPLE\tglobal_priv\tALL")
    assert rec.text.startswith("0.001s - root@localhost SELECT count(*) FROM mysql.global_priv WHE")


def test_app_entry_fields(slow: list[LogRecord]) -> None:
    rec = next(r for r in slow if r.raw == "# Time: 261126 15:08:52")
    assert rec.text == "1.200s shop app@localhost SELECT SLEEP(1.2) AS slept, 'slow.php' AS src;"
    f = rec.fields
    assert (f["user"], f["host"], f["ip"], f["schema"], f["db"]) == (
        "app",
        "localhost",
        "127.0.0.1",
        "shop",
        "shop",
    )
    assert f["query_time"] == 1.200299 and f["rows_affected"] == 0
    assert rec.ts == datetime.fromtimestamp(1795705732, UTC)


def test_full_verbosity_flags(slow: list[LogRecord]) -> None:
    rec = with_query(slow, "GROUP BY note, product_id ORDER BY COUNT(*) DESC LIMIT 3")
    f = rec.fields
    assert (f["tmp_tables"], f["tmp_disk_tables"], f["tmp_table_sizes"]) == (2, 1, 262144)
    assert f["tmp_table"] is True and f["tmp_table_on_disk"] is True
    assert f["filesort"] is True and f["filesort_on_disk"] is False
    assert f["priority_queue"] is True and f["rows_examined"] == 124003
    call = with_query(slow, "CALL nightly_rollup(")
    assert "explain" not in call.fields and call.fields["thread_id"] == 2817
    assert [r for r in queries(slow) if "explain" not in r.fields] == [call]
    multi = with_query(slow, "SET STATEMENT max_statement_time=0.3 FOR")
    assert len(multi.lines) == 2


def test_time_line_carries_over_without_set_timestamp() -> None:
    lines = [ln for ln in lines_of(SLOW)[3:60] if not ln.startswith("SET timestamp=")]
    records = parse(MysqlSlowParser, lines)
    assert [r.raw for r in records[:3]] == [
        "# Time: 261126 15:01:16",
        "# Time: 261126 15:01:26",
        "# User@Host: root[root] @ localhost []",
    ]
    assert records[1].ts == records[2].ts == datetime(2026, 11, 26, 15, 1, 26, tzinfo=UTC)
    assert "logged_at" in records[1].fields and "logged_at" not in records[2].fields
    assert all(r.ts_from_line for r in records)
    berlin = parse(MysqlSlowParser, lines[:20], zone=ZoneInfo("Europe/Berlin"))
    assert berlin[0].ts == datetime(2026, 11, 26, 14, 1, 16, tzinfo=UTC)


def test_entry_read_from_its_middle() -> None:
    records = parse(MysqlSlowParser, lines_of(ROTATION / "slow.log.1.tail"))
    assert records[0].fields["partial"] is True
    assert records[0].fields["thread_id"] == 5634 and records[0].fields["user"] is None
    assert records[0].ts == datetime.fromtimestamp(1795705977, UTC)
    assert [r.fields.get("partial", False) for r in records[1:]] == [False] * 3
    assert records[-1].lines == ("SELECT SLEEP(0.3) AS r3_after_mv_before_flush;",)


def _entry(query: list[str], thread: int = 9) -> list[str]:
    return [
        "# User@Host: root[root] @ localhost []",
        f"# Thread_id: {thread}  Schema: shop  QC_hit: No",
        "# Query_time: 0.300293  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0",
        "SET timestamp=1795705662;",
        *query,
    ]


def test_whole_fake_entry_inside_a_literal_does_not_split() -> None:
    fake = _entry(["SELECT 1;"], thread=777)
    body = ["INSERT INTO saved_logs VALUES ('SELECT 1;", "# Time: 261126 15:00:00", *fake]
    body[-1] += "');"
    lines = ["# Time: 261126 15:07:42", *_entry(body), *_entry(["SELECT 2;"], thread=10)]
    records = parse(MysqlSlowParser, lines)
    assert [r.fields["thread_id"] for r in records] == [9, 10]
    assert records[0].lines == tuple(body)


def test_header_lines_at_line_start_inside_a_query() -> None:
    # Not quoted, but not followed by "# Query_time:" either: still query text.
    body = ["SELECT 1", "# Time: 261126 15:00:00", "# User@Host: x", "FROM dual;"]
    records = parse(MysqlSlowParser, [*_entry(body), *_entry(["SELECT 2;"], thread=10)])
    assert [r.lines for r in records] == [tuple(body), ("SELECT 2;",)]


def test_confused_lexer_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under NO_BACKSLASH_ESCAPES 'C:\' is a whole literal; the lexer reads it as open.
    monkeypatch.setattr(mysql_slow, "GLUE_LIMIT", 8)
    lines = _entry(["SELECT 'C:\\';"], thread=1)
    for t in range(2, 6):
        lines += _entry(["SELECT 2;"], thread=t)
    threads = [r.fields["thread_id"] for r in parse(MysqlSlowParser, lines)]
    assert threads[0] == 1 and len(threads) > 1 and threads[-1] == 5


def test_query_cut_by_the_tail_does_not_glue() -> None:
    cut = "INSERT INTO t VALUES ('" + "x" * 50 + " …[cut: 1048576 bytes]"
    lines = [*_entry([cut], thread=1), *_entry(["SELECT 2;"], thread=2)]
    records = parse(MysqlSlowParser, lines)
    assert [r.fields["thread_id"] for r in records] == [1, 2]
    assert records[0].lines == (cut,)


def test_mysql8_entry() -> None:
    lines = [
        "# Time: 2026-11-26T15:07:42.123456Z",
        "# User@Host: root[root] @ localhost []  Id:     8",
        "# Query_time: 2.000180  Lock_time: 0.000000 Rows_sent: 1  Rows_examined: 0",
        "use shop;",
        "SET timestamp=1795705660;",
        "SELECT SLEEP(2);",
        "# Time: 2026-11-26T15:07:43.000001Z",
        "# User@Host: app[app] @  [127.0.0.1]  Id:     9",
        "# Query_time: 1.000180  Lock_time: 0.000000 Rows_sent: 1  Rows_examined: 0",
        "SELECT SLEEP(1);",
    ]
    a, b = parse(MysqlSlowParser, lines, zone=ZoneInfo("Asia/Tokyo"))
    assert a.ts == datetime.fromtimestamp(1795705660, UTC)
    assert a.fields["logged_at"] == datetime(2026, 11, 26, 15, 7, 42, 123456, tzinfo=UTC)
    assert (a.fields["thread_id"], a.fields["db"], a.fields["query_time"]) == (8, "shop", 2.00018)
    assert b.ts == datetime(2026, 11, 26, 15, 7, 43, 1, tzinfo=UTC)
    assert (b.fields["user"], b.fields["host"], b.fields["ip"]) == ("app", None, "127.0.0.1")
    assert b.text == "1.000s - app@127.0.0.1 SELECT SLEEP(1);"


@pytest.mark.parametrize(
    ("text", "is_open"),
    [
        ("SELECT 'a", True),
        ("SELECT 'a'", False),
        ("SELECT 'it''s", True),
        ("SELECT 'it\\'s", True),
        ("SELECT 'it\\'s'", False),
        ('SELECT "x', True),
        ("SELECT `we'ird` FROM t", False),
        ("SELECT 1 -- don't\n", False),
        ("SELECT 1 # don't", False),
        ("SELECT 1 /* don't", True),
        ("SELECT 1 /* don't */ ", False),
        ("SELECT 1--2 'a", True),
        ("SELECT '/* x', '*/ y", True),
    ],
)
def test_sql_open(text: str, is_open: bool) -> None:
    assert sql_open(text) is is_open


# --- error log ---------------------------------------------------------------------------------


def test_error_log_keeps_every_line(errors: list[LogRecord]) -> None:
    lines = lines_of(ERROR)
    seen: Counter[str] = Counter()
    for r in errors:
        seen[r.raw] += 1
        seen.update(ln for ln in r.lines if ln.strip())
    assert seen == Counter(ln for ln in lines if ln.strip())
    dated = [ln for ln in lines if re.match(r"(\d{4}-\d\d-\d\d |\d{6} )", ln)]
    assert all(r.ts_from_line for r in errors)
    assert sum(1 for r in errors if r.raw in dated) == len(errors)


def test_deadlock_dump_is_one_record(errors: list[LogRecord]) -> None:
    lines = lines_of(ERROR)
    first = next(i for i, ln in enumerate(lines) if "deadlock detected" in ln)
    last = next(i for i, ln in enumerate(lines) if "WE ROLL BACK TRANSACTION" in ln)
    rec = next(r for r in errors if r.raw == lines[first])
    assert rec.lines == tuple(lines[first + 1 : last + 1])
    assert len(rec.lines) == 61
    assert " 0: len 4; hex 80000001; asc     ;;" in rec.lines
    assert rec.level == "warn" and rec.fields["level_word"] == "Note"
    assert rec.fields["event"] == "deadlock" and rec.fields["rolled_back"] == "(1)"
    assert rec.fields["queries"] == (
        "UPDATE orders SET status='shipped' WHERE id=1",
        "UPDATE orders SET status='paid' WHERE id=2",
    )
    assert (rec.fields["thread"], rec.fields["subsystem"]) == (2826, "InnoDB")
    after = errors[errors.index(rec) + 1]
    assert after.text == "InnoDB: Transaction was aborted due to Deadlock"
    assert after.level == "error" and after.lines == ()


def test_error_line_fields(errors: list[LogRecord]) -> None:
    rec = next(r for r in errors if "Got an error writing" in r.raw)
    assert rec.ts == datetime(2026, 11, 26, 15, 7, 48, tzinfo=UTC)
    assert rec.level == "error"
    assert rec.fields == {
        "thread": 2823,
        "level_word": "ERROR",
        "code": None,
        "subsystem": None,
        "message": "mariadbd: Got an error writing communication packets",
    }
    denied = next(r for r in errors if r.raw.startswith("2026-11-26 15:03:18 17 "))
    assert denied.level == "warn" and denied.fields["thread"] == 17
    assert denied.text == "Access denied for user 'app'@'localhost' (using password: YES)"
    note = next(r for r in errors if "Using io_uring" in r.raw)
    assert note.level == "notice" and note.fields["subsystem"] == "InnoDB"


def test_mysqld_safe_lines(errors: list[LogRecord]) -> None:
    first, last = errors[0], errors[-1]
    assert first.ts == datetime(2026, 11, 26, 15, 1, 15, tzinfo=UTC)
    assert first.fields["subsystem"] == "mysqld_safe" and first.fields["thread"] is None
    assert first.level == "info"
    assert last.text == "mysqld_safe mysqld from pid file /run/mysqld/mysqld.pid ended"
    assert last.ts == datetime(2026, 11, 26, 15, 14, 47, tzinfo=UTC)


def test_version_line_joins_ready_for_connections(errors: list[LogRecord]) -> None:
    rec = next(r for r in errors if r.raw.endswith("ready for connections."))
    assert len(rec.lines) == 1 and rec.lines[0].startswith("Version: '10.11.19-MariaDB")
    assert rec.fields["version"] == "10.11.19-MariaDB-0+deb12u1-log"
    assert rec.fields["socket"] == "/run/mysqld/mysqld.sock" and rec.fields["port"] == 3306
    (alone,) = parse(MysqlErrorParser, [rec.lines[0]])
    assert alone.level == "info" and not alone.ts_from_line and alone.ts == ARRIVAL
    assert alone.fields["port"] == 3306


def test_error_log_zone_and_mysql8() -> None:
    line = lines_of(ERROR)[1]
    (rec,) = parse(MysqlErrorParser, [line], zone=ZoneInfo("Europe/Berlin"))
    assert rec.ts == datetime(2026, 11, 26, 14, 1, 15, tzinfo=UTC)
    mysql8 = (
        "2026-11-26T15:07:42.123456Z 0 [Warning] [MY-010055] [Server] "
        "IP address '10.0.0.9' could not be resolved: Name or service not known"
    )
    (rec8,) = parse(MysqlErrorParser, [mysql8], zone=ZoneInfo("Europe/Berlin"))
    assert rec8.ts == datetime(2026, 11, 26, 15, 7, 42, 123456, tzinfo=UTC)
    assert rec8.level == "warn"
    assert (rec8.fields["code"], rec8.fields["subsystem"], rec8.fields["thread"]) == (
        "MY-010055",
        "Server",
        0,
    )
    assert rec8.fields["message"].startswith("IP address '10.0.0.9'")


# --- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "path"), FILES[:2], ids=IDS[:2])
def test_sniff_prefers_the_right_parser(cls: type[Parser], path: Path) -> None:
    sample = [ln for ln in lines_of(path) if ln.strip()][:200]
    scores: dict[type[Parser], float] = {
        c: c.sniff(sample) for c in (MysqlSlowParser, MysqlErrorParser)
    }
    assert scores[cls] >= 0.4
    assert max(scores, key=lambda c: scores[c]) is cls
