"""MariaDB general query log: the real corpus file, carried times, headers mid-file, and kind
detection over every fixture log."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console.core.events import LOG_KINDS, LogRecord
from console.parsing import detect_kind
from console.parsing.mysql_general import MysqlGeneralParser
from tests.support.paths import FIXTURES

GENERAL = FIXTURES / "mysql" / "general.log"
AFTER_TRUNCATE = FIXTURES / "rotation" / "mariadb" / "general.log.after_truncate"
ARRIVAL = datetime(2030, 1, 1, tzinfo=UTC)
RUN_START = datetime(2026, 11, 26, 14, 58, tzinfo=UTC)
RUN_END = datetime(2026, 11, 26, 15, 17, tzinfo=UTC)
#: What ``grep`` would call an entry: two tabs, or a YYMMDD stamp, at the start of a line.
ENTRY = re.compile(r"\t\t|\d{6} [ \d]\d:\d\d:\d\d\t")


def lines_of(path: Path) -> list[str]:
    """The file's lines as the tail delivers them (split on newlines only)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def parse(lines: list[str], **kw: object) -> list[LogRecord]:
    parser = MysqlGeneralParser("test", **kw)  # type: ignore[arg-type]
    return parser.feed(lines, ARRIVAL) + parser.flush(ARRIVAL)


def chunked(lines: list[str], sizes: list[int]) -> list[LogRecord]:
    parser = MysqlGeneralParser("test")
    out: list[LogRecord] = []
    i = k = 0
    while i < len(lines):
        n = sizes[k % len(sizes)]
        out += parser.feed(lines[i : i + n], ARRIVAL)
        i, k = i + n, k + 1
    return out + parser.flush(ARRIVAL)


def commands(records: list[LogRecord]) -> list[LogRecord]:
    return [r for r in records if "command" in r.fields]


def headers(records: list[LogRecord]) -> list[LogRecord]:
    return [r for r in records if r.fields.get("event") == "header"]


def with_argument(records: list[LogRecord], needle: str) -> LogRecord:
    return next(r for r in records if needle in r.fields.get("argument", ""))


@pytest.fixture(scope="module")
def general() -> list[LogRecord]:
    return parse(lines_of(GENERAL))


# --- the whole file ----------------------------------------------------------------------------


def test_every_line_parses_with_times_and_levels(general: list[LogRecord]) -> None:
    assert general
    assert not [r for r in general if r.level == "unparsed"]
    good = [r for r in general if r.ts_from_line and r.level != "unparsed"]
    assert len(good) >= 0.99 * len(general)
    # Only the header of the very first open comes before any time in the file.
    assert [r for r in general if not r.ts_from_line] == headers(general)[:1]
    assert all(RUN_START <= r.ts <= RUN_END for r in good)
    assert all(r.ts.tzinfo is UTC and r.kind == "mysql-general" for r in general)
    assert [r.ts for r in good] == sorted(r.ts for r in good)


def test_one_record_per_command_and_per_header(general: list[LogRecord]) -> None:
    lines = lines_of(GENERAL)
    n_entries = sum(1 for ln in lines if ENTRY.match(ln))
    n_headers = sum(1 for ln in lines if ln.endswith(" started with:"))
    assert (n_entries, n_headers) == (1570, 2)
    assert len(commands(general)) == n_entries
    assert len(headers(general)) == n_headers
    assert len(general) == n_entries + n_headers
    # Every line of the file is in exactly one record.
    assert sum(1 + len(r.lines) for r in general) == len(lines)
    by_word = Counter(
        ENTRY.sub("", ln, count=1).split("\t")[0].split(None, 1)[1]
        for ln in lines
        if ENTRY.match(ln)
    )
    assert Counter(r.fields["command"] for r in commands(general)) == by_word
    assert by_word["Query"] == 525 and by_word["Close stmt"] == 8 and by_word["Init DB"] == 1


def test_chunk_boundaries_do_not_matter(general: list[LogRecord]) -> None:
    lines = lines_of(GENERAL)
    assert chunked(lines, [1]) == general
    rng = random.Random("general")
    assert chunked(lines, [rng.randint(1, 60) for _ in range(50)]) == general
    assert chunked(lines, [2, 3, 5, 7, 11]) == general


def test_flush_emits_the_last_entry() -> None:
    lines = lines_of(GENERAL)
    parser = MysqlGeneralParser()
    records = parser.feed(lines, ARRIVAL)
    assert parser.pending
    last = parser.flush(ARRIVAL)
    assert [r.text for r in last] == ["5644 Shutdown"]
    assert not parser.pending and parser.flush(ARRIVAL) == []
    assert records[-1].text == "5644 Query SHOW VARIABLES LIKE 'pid_file'"


# --- entries -----------------------------------------------------------------------------------


def test_multi_line_query_is_one_record(general: list[LogRecord]) -> None:
    rec = with_argument(general, "fake header inside a string literal")
    assert rec.raw == (
        "261126 15:07:42\t  2815 Query\tSELECT '# Time: 261126  0:00:00 <- fake header inside a "
        "string literal' AS tricky, 'multi"
    )
    assert rec.lines == ("line", "string' AS ml, SLEEP(0.3)")
    assert rec.fields["argument"] == (
        "SELECT '# Time: 261126  0:00:00 <- fake header inside a string literal' AS tricky, "
        "'multi\nline\nstring' AS ml, SLEEP(0.3)"
    )
    assert (rec.fields["thread"], rec.fields["command"]) == (2815, "Query")
    assert rec.ts == datetime(2026, 11, 26, 15, 7, 42, tzinfo=UTC) and rec.ts_from_line
    assert rec.level == "info"
    assert rec.text == (
        "2815 Query SELECT '# Time: 261126 0:00:00 <- fake header inside a string literal' AS "
        "tricky, 'multi line string' AS ml, SLEEP(0.3)"
    )
    proc = with_argument(general, "CREATE PROCEDURE nightly_rollup")
    assert proc.lines[0] == "BEGIN" and proc.lines[-1] == "END" and len(proc.lines) == 6
    # The next command after it is its own record, carrying the same second.
    after = general[general.index(proc) + 1]
    assert after.text == "2817 Query CALL nightly_rollup('2026-01-05')"
    assert after.ts == proc.ts == datetime(2026, 11, 26, 15, 7, 44, tzinfo=UTC)


def test_lines_without_a_stamp_carry_the_last_time(general: list[LogRecord]) -> None:
    first = commands(general)[:3]
    assert [r.text for r in first] == [
        "3 Connect root@localhost on using Socket",
        "3 Quit",
        "4 Connect root@localhost on using Socket",
    ]
    assert all(r.ts == datetime(2026, 11, 26, 15, 1, 16, tzinfo=UTC) for r in first)
    assert all(r.ts_from_line for r in first)


def test_headers_mid_file_stand_alone(general: list[LogRecord]) -> None:
    opened, reopened = headers(general)
    for h in (opened, reopened):
        assert h.level == "info"
        assert h.fields["server"] == "/usr/sbin/mariadbd"
        assert h.fields["version"] == "10.11.19-MariaDB-0+deb12u1-log (Debian 12)"
        assert h.fields["socket"] == "/run/mysqld/mysqld.sock"
        assert len(h.lines) == 2 and h.lines[1] == "Time\t\t    Id Command\tArgument"
    assert (opened.fields["tcp_port"], reopened.fields["tcp_port"]) == (0, 3306)
    assert opened.ts == ARRIVAL and not opened.ts_from_line
    # ``flush logs`` wrote the header: the query before it keeps no header line, the time
    # carries across it (the server writes no new stamp after a reopen).
    i = general.index(reopened)
    before, after = general[i - 1], general[i + 1]
    assert before.text == "2832 Query flush logs" and before.lines == ()
    assert after.text == "2832 Statistics"
    stamp = datetime(2026, 11, 26, 15, 7, 55, tzinfo=UTC)
    assert before.ts == reopened.ts == after.ts == stamp and reopened.ts_from_line
    for r in commands(general):
        assert not any("started with:" in ln or ln.startswith("Tcp port:") for ln in r.lines)


def test_connect_fields_and_access_denied(general: list[LogRecord]) -> None:
    connects = [r for r in commands(general) if r.fields["command"] == "Connect"]
    tcp = next(r for r in connects if r.fields.get("via") == "TCP/IP")
    assert (tcp.fields["user"], tcp.fields["host"]) == ("app", "localhost")
    assert tcp.fields["db"] == "shop"
    bare = connects[0]
    assert (bare.fields["user"], bare.fields["db"], bare.fields["via"]) == ("root", None, "Socket")
    denied = [r for r in general if r.level == "warn"]
    lines = lines_of(GENERAL)
    assert len(denied) == sum("\tAccess denied for user " in ln for ln in lines) == 10
    assert all(r.fields["event"] == "access_denied" for r in denied)
    assert {r.fields["user"] for r in denied} == {"app", "nosuchuser", "nosuch", "nosuch2"}
    assert all(r.fields["host"] == "localhost" for r in denied)
    assert {r.level for r in general if r not in denied} == {"info"}
    init = next(r for r in general if r.fields.get("command") == "Init DB")
    assert init.fields["db"] == "shop"
    quit_ = next(r for r in general if r.fields.get("command") == "Quit")
    assert quit_.fields["argument"] == "" and quit_.text.endswith(" Quit")


# --- other forms -------------------------------------------------------------------------------


def test_file_emptied_by_copytruncate_has_no_time_until_a_stamp() -> None:
    lines = lines_of(AFTER_TRUNCATE)
    records = parse(lines)
    assert [r.text for r in records] == [
        "5640 Connect root@localhost on shop using Socket",
        "5640 Query SELECT 'r3_after_truncate' AS marker",
        "5640 Quit",
    ]
    assert all(r.ts == ARRIVAL and not r.ts_from_line for r in records)
    # A parser that read the file before keeps its time: the writer still thinks it current.
    parser = MysqlGeneralParser()
    parser.feed(["261126 15:14:21\t  5639 Quit\t"], ARRIVAL)
    again = parser.feed(lines, ARRIVAL) + parser.flush(ARRIVAL)
    assert all(r.ts == datetime(2026, 11, 26, 15, 14, 21, tzinfo=UTC) for r in again)


def test_mysql8_iso_stamps_and_zone() -> None:
    lines = [
        "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:",
        "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
        "Time                 Id Command    Argument",
        "2026-11-26T15:07:42.123456Z\t    8 Connect\troot@localhost on  using Socket",
        "2026-11-26T15:07:42.200000Z\t    8 Query\tSELECT 1",
        "2026-11-26T15:07:43.000001Z\t    8 Quit\t",
    ]
    records = parse(lines, zone=ZoneInfo("Europe/Berlin"))
    assert [r.fields.get("event") for r in records] == ["header", None, None, None]
    assert records[0].fields["version"] == "8.0.36 (MySQL Community Server - GPL)"
    assert records[0].lines == tuple(lines[1:3])
    assert records[2].ts == datetime(2026, 11, 26, 15, 7, 42, 200000, tzinfo=UTC)
    assert records[2].text == "8 Query SELECT 1"
    # MariaDB's stamps have no zone: they are read in the parser's.
    berlin = parse(["261126 15:07:42\t    12 Query\tSELECT 1"], zone=ZoneInfo("Europe/Berlin"))
    assert berlin[0].ts == datetime(2026, 11, 26, 14, 7, 42, tzinfo=UTC)


def test_indented_query_text_and_stray_lines() -> None:
    lines = [
        "  FROM t",  # a tail that starts inside a query: kept, not dropped
        "261126 15:07:42\t    12 Query\tSELECT a",
        "\t\tFROM t",
        "\t\t  WHERE 12 = 12",
        "",
        "\tAND b\tIS NULL",
        "\t\t    12 Quit\t",
        "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-log started with:",
        "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock",
        "Time\t\t    Id Command\tArgument",
        "something else",
    ]
    records = parse(lines)
    assert [r.level for r in records] == ["unparsed", "info", "info", "info", "unparsed"]
    query = records[1]
    assert query.lines == ("\t\tFROM t", "\t\t  WHERE 12 = 12", "", "\tAND b\tIS NULL")
    assert query.text == "12 Query SELECT a FROM t WHERE 12 = 12 AND b IS NULL"
    assert records[2].text == "12 Quit" and records[2].ts == query.ts
    assert records[3].fields["event"] == "header" and len(records[3].lines) == 2
    assert records[4].raw == "something else"


def test_sniff_scores() -> None:
    lines = lines_of(GENERAL)
    assert MysqlGeneralParser.sniff(lines[:200]) == 1.0
    assert MysqlGeneralParser.sniff([]) == 0.0
    for other in ("slow.log", "error.log"):
        assert MysqlGeneralParser.sniff(lines_of(FIXTURES / "mysql" / other)[:200]) < 0.1


# --- kind detection over every fixture --------------------------------------------------------

EXPECTED_KINDS = {
    "apache/access_combined.log": "apache-access",
    "apache/access_vhost_combined.log": "apache-access",
    "apache/access_with_duration.log": "apache-access",
    "apache/error.log": "apache-error",
    "mysql/error.log": "mysql-error",
    "mysql/general.log": "mysql-general",
    "mysql/slow.log": "mysql-slow",
    "php/error.log": "php-error",
    "php/fpm.log": "php-fpm",
    "php/fpm_access.log": "php-fpm-access",
    "php/fpm_api_slow.log": "php-fpm-slow",
    "php/fpm_slow.log": "php-fpm-slow",
    "rotation/apache_copytruncate/access.log.after_truncate": "apache-access",
    "rotation/apache_copytruncate/access.log.copy": "apache-access",
    "rotation/apache_rename/access.log.1.tail": "apache-access",
    "rotation/apache_rename/access.log.new": "apache-access",
    "rotation/apache_rename/error.log.1.tail": "apache-error",
    "rotation/apache_rename/error.log.new": "apache-error",
    "rotation/mariadb/error.log.1.tail": "mysql-error",
    "rotation/mariadb/error.log.new": "mysql-error",
    "rotation/mariadb/general.log.after_truncate": "mysql-general",
    "rotation/mariadb/slow.log.1.tail": "mysql-slow",
    "rotation/mariadb/slow.log.after_flush": "mysql-slow",
    "rotation/php_error_log/rotation_test.log.1": "php-error",
    "rotation/php_error_log/rotation_test.log.new": "php-error",
    "rotation/php_fpm/php8.2-fpm.log.1.tail": "php-fpm",
    "rotation/php_fpm/php8.2-fpm.log.new": "php-fpm",
}


def _fixture_files() -> list[str]:
    return sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*") if p.is_file())


def test_every_fixture_log_is_listed() -> None:
    tops = ("apache", "mysql", "php", "rotation")
    logs = [p for p in _fixture_files() if p.split("/")[0] in tops]
    assert logs == sorted(EXPECTED_KINDS)
    assert set(EXPECTED_KINDS.values()) == set(LOG_KINDS)


@pytest.mark.parametrize(("name", "kind"), sorted(EXPECTED_KINDS.items()))
def test_detect_kind_of_every_fixture_log(name: str, kind: str) -> None:
    lines = (FIXTURES / name).read_text(encoding="utf-8", errors="replace").splitlines()
    assert detect_kind(lines) == kind


def test_detect_kind_never_takes_other_fixtures_for_the_new_kinds() -> None:
    for name in _fixture_files():
        if name in EXPECTED_KINDS:
            continue
        text = (FIXTURES / name).read_text(encoding="utf-8", errors="replace")
        assert detect_kind(text.splitlines()) not in ("mysql-general", "php-fpm-access"), name
