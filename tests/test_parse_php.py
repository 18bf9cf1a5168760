"""PHP error_log, php-fpm master log and slowlog: the real corpus files and their tricky entries."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console.core.events import LogRecord
from console.parsing.base import Parser
from console.parsing.fpm import FpmLogParser, FpmSlowParser
from console.parsing.php import PhpErrorParser
from tests.support.paths import FIXTURES

PHP = FIXTURES / "php"
ROTATION = FIXTURES / "rotation"
ARRIVAL = datetime(2030, 1, 1, tzinfo=UTC)
RUN_START = datetime(2026, 11, 26, 14, 58, tzinfo=UTC)
RUN_END = datetime(2026, 11, 26, 15, 17, tzinfo=UTC)

FILES: list[tuple[type[Parser], Path]] = [
    (PhpErrorParser, PHP / "error.log"),
    (FpmLogParser, PHP / "fpm.log"),
    (FpmSlowParser, PHP / "fpm_slow.log"),
    (FpmSlowParser, PHP / "fpm_api_slow.log"),
    (PhpErrorParser, ROTATION / "php_error_log" / "rotation_test.log.1"),
    (PhpErrorParser, ROTATION / "php_error_log" / "rotation_test.log.new"),
    (FpmLogParser, ROTATION / "php_fpm" / "php8.2-fpm.log.1.tail"),
    (FpmLogParser, ROTATION / "php_fpm" / "php8.2-fpm.log.new"),
]
IDS = [f"{cls.__name__}:{path.name}" for cls, path in FILES]
#: A stamp at the start of a line, the way ``grep '^\[26-Nov-2026 '`` would find entries.
DATED = re.compile(r"\[\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d")


def lines_of(path: Path) -> list[str]:
    """The file's lines as the tail delivers them (split on newlines only)."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def parse(cls: type[Parser], lines: list[str], **kw: object) -> list[LogRecord]:
    parser = cls("test", **kw)  # type: ignore[arg-type]
    return parser.feed(lines, ARRIVAL) + parser.flush(ARRIVAL)


def one(records: list[LogRecord], needle: str) -> LogRecord:
    """The first record whose raw line contains ``needle``."""
    return next(r for r in records if needle in r.raw)


def chunked(cls: type[Parser], lines: list[str], sizes: list[int]) -> list[LogRecord]:
    parser = cls("test")
    out: list[LogRecord] = []
    i = 0
    k = 0
    while i < len(lines):
        n = sizes[k % len(sizes)]
        out += parser.feed(lines[i : i + n], ARRIVAL)
        i += n
        k += 1
    return out + parser.flush(ARRIVAL)


# --- whole files -------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "path"), FILES, ids=IDS)
def test_every_file_parses_with_times_and_levels(cls: type[Parser], path: Path) -> None:
    records = parse(cls, lines_of(path))
    assert records
    good = [r for r in records if r.ts_from_line and r.level != "unparsed"]
    assert len(good) >= 0.99 * len(records)
    assert all(RUN_START <= r.ts <= RUN_END for r in good)
    assert all(r.ts.tzinfo is UTC and r.kind == cls.kind and r.source == "test" for r in records)


@pytest.mark.parametrize(("cls", "path"), FILES, ids=IDS)
def test_every_line_is_kept_once(cls: type[Parser], path: Path) -> None:
    """Nothing is dropped: each non-blank line is the raw line or a continuation of a record."""
    lines = lines_of(path)
    records = parse(cls, lines)
    seen: Counter[str] = Counter()
    for r in records:
        seen[r.raw] += 1
        seen.update(ln for ln in r.lines if ln.strip())
        if cls is FpmSlowParser:
            seen[f"script_filename = {r.fields['script']}"] += 1
    if cls is FpmLogParser:
        # Joined stderr lines are kept unwrapped: count them by their stamps instead.
        joined = sum(len(r.lines) for r in records)
        assert len(records) + joined == sum(1 for ln in lines if ln.strip())
    else:
        assert seen == Counter(ln for ln in lines if ln.strip())


@pytest.mark.parametrize(("cls", "path"), FILES, ids=IDS)
def test_chunk_boundaries_do_not_matter(cls: type[Parser], path: Path) -> None:
    lines = lines_of(path)
    whole = parse(cls, lines)
    assert chunked(cls, lines, [1]) == whole
    rng = random.Random(path.name)
    assert chunked(cls, lines, [rng.randint(1, 40) for _ in range(50)]) == whole
    assert chunked(cls, lines, [len(lines) + 1]) == whole


def test_flush_emits_the_pending_entry() -> None:
    lines = lines_of(PHP / "error.log")
    start = next(i for i, ln in enumerate(lines) if "Uncaught RuntimeException" in ln)
    entry = lines[start : start + 15]
    parser = PhpErrorParser()
    assert parser.feed(entry, ARRIVAL) == []
    assert parser.pending
    (rec,) = parser.flush(ARRIVAL)
    assert not parser.pending
    assert rec.lines == tuple(entry[1:])
    assert parser.flush(ARRIVAL) == []


# --- PHP error_log -----------------------------------------------------------------------------


def test_php_entries_are_counted_by_their_stamps() -> None:
    lines = lines_of(PHP / "error.log")
    records = parse(PhpErrorParser, lines)
    assert len(records) == sum(1 for ln in lines if DATED.match(ln)) == 100
    assert len(records) == sum(1 for ln in lines if ln.startswith("["))
    levels = Counter(r.fields["php_level"] for r in records)
    grep = Counter(
        m[1] for ln in lines if (m := re.search(r"\] PHP ([A-Z][a-z]+(?: error)?):", ln))
    )
    assert levels == {**grep, None: 100 - grep.total()}
    assert grep == {
        "Warning": 31,
        "Fatal error": 27,
        "Deprecated": 16,
        "Notice": 7,
        "Parse error": 4,
    }


def test_uncaught_exception_chain_is_one_record() -> None:
    lines = lines_of(PHP / "error.log")
    rec = one(parse(PhpErrorParser, lines), "Uncaught RuntimeException")
    assert rec.ts == datetime(2026, 11, 26, 15, 1, 35, tzinfo=UTC)
    assert rec.level == "error"
    assert rec.text.startswith("PHP Fatal error:  Uncaught RuntimeException: Connection refused")
    assert rec.fields["php_level"] == "Fatal error"
    assert rec.fields["exception"] == "RuntimeException"
    assert rec.fields["exceptions"] == ("RuntimeException", "PaymentException")
    assert rec.fields["message"] == (
        "Uncaught RuntimeException: Connection refused to pay.example.test:443"
        " in /var/www/webapp/app/exception.php:12"
    )
    assert rec.fields["file"] == "/var/www/webapp/app/exception.php"
    assert rec.fields["line"] == 8  # "thrown in ... on line 8": where the chain ended
    assert len(rec.lines) == 14
    assert rec.lines[0] == "Stack trace:"
    assert "" in rec.lines  # the blank line before "Next" stays inside the entry
    assert "Next PaymentException: Charge of 1250 cents failed:" in rec.lines
    assert "upstream said: 502 Bad Gateway" in rec.lines
    assert rec.lines[-1] == "  thrown in /var/www/webapp/app/exception.php on line 8"


def test_type_error_through_internal_function() -> None:
    rec = one(parse(PhpErrorParser, lines_of(PHP / "error.log")), "Uncaught TypeError")
    assert rec.fields["exception"] == "TypeError"
    assert "#1 [internal function]: {closure}()" in rec.lines
    assert (rec.fields["file"], rec.fields["line"]) == ("/var/www/webapp/app/typeerror.php", 3)


def test_mysqli_exception() -> None:
    rec = one(parse(PhpErrorParser, lines_of(PHP / "error.log")), "Access denied for user 'app'")
    assert rec.fields["exception"] == "mysqli_sql_exception"
    assert (rec.fields["file"], rec.fields["line"]) == ("/var/www/webapp/app/dbauth.php", 3)
    assert rec.lines[1] == "#0 /var/www/webapp/app/dbauth.php(3): mysqli->__construct()"


@pytest.mark.parametrize(
    ("needle", "php_level", "level", "file", "line"),
    [
        ("Undefined array key 5", "Warning", "warn", "/var/www/webapp/app/warn.php", 8),
        ("Using ${var} in strings", "Deprecated", "info", "/var/www/webapp/app/warn.php", 14),
        ("Only variables should be", "Notice", "notice", "/var/www/webapp/app/warn.php", 15),
        (
            "syntax error, unexpected",
            "Parse error",
            "error",
            "/var/www/webapp/lib/broken.inc.php",
            2,
        ),
        ("Allowed memory size", "Fatal error", "error", "/var/www/webapp/app/memory.php", 4),
        (
            "Payment provider config",
            "Fatal error",
            "error",
            "/var/www/webapp/app/user_fatal.php",
            2,
        ),
    ],
)
def test_php_levels_and_locations(
    needle: str, php_level: str, level: str, file: str, line: int
) -> None:
    rec = one(parse(PhpErrorParser, lines_of(PHP / "error.log")), needle)
    assert rec.fields["php_level"] == php_level
    assert rec.level == level
    assert (rec.fields["file"], rec.fields["line"]) == (file, line)
    assert rec.lines == ()
    assert "exception" not in rec.fields


def test_error_log_calls() -> None:
    records = parse(PhpErrorParser, lines_of(PHP / "error.log"))
    db = one(records, "DB error (caught)")
    assert db.level == "notice" and db.fields["php_level"] is None
    assert db.text == "DB error (caught): Table 'shop.no_such_table' doesn't exist [code 1146]"
    assert "file" not in db.fields
    multi = one(records, "multi-line custom message:")
    assert multi.lines == ("  line two", "  line three")
    assert multi.fields["message"] == "multi-line custom message:\n  line two\n  line three"
    uni = one(records, "unicode:")
    assert uni.text == "unicode: Grüße – 日本語 – emoji 🚀 and a tab:\tend"
    long = one(records, "long-message-long")
    assert len(long.raw) == 3930 and long.lines == ()


def test_xdebug_stack_lines_join_their_error() -> None:
    lines = [
        "[14-Mar-2025 13:01:00 UTC] PHP Fatal error:  Allowed memory size of 134217728 bytes"
        " exhausted (tried to allocate 20480 bytes) in /var/www/html/report.php on line 88",
        "[14-Mar-2025 13:01:00 UTC] PHP Stack trace:",
        "[14-Mar-2025 13:01:00 UTC] PHP   1. {main}() /var/www/html/report.php:0",
        "[14-Mar-2025 13:01:00 UTC] PHP   2. build_report($rows = 48211)"
        " /var/www/html/report.php:31",
        "[14-Mar-2025 13:01:01 UTC] PHP Warning:  x in /var/www/html/a.php on line 3",
    ]
    fatal, warning = parse(PhpErrorParser, lines)
    assert fatal.lines == (
        "PHP Stack trace:",
        "PHP   1. {main}() /var/www/html/report.php:0",
        "PHP   2. build_report($rows = 48211) /var/www/html/report.php:31",
    )
    assert (fatal.fields["file"], fatal.fields["line"]) == ("/var/www/html/report.php", 88)
    assert "\n" not in fatal.fields["message"]
    assert warning.raw == lines[-1]
    # Without an entry to join, a stamped stack line is a record of its own.
    (alone,) = parse(PhpErrorParser, lines[1:2])
    assert alone.level == "notice" and alone.text == "PHP Stack trace:"


def test_php_zone_name_in_the_stamp_applies() -> None:
    line = "[26-Nov-2026 16:01:35 Europe/Berlin] PHP Warning:  x in /a.php on line 1"
    (rec,) = parse(PhpErrorParser, [line], zone=ZoneInfo("America/New_York"))
    assert rec.ts == datetime(2026, 11, 26, 15, 1, 35, tzinfo=UTC)
    (utc,) = parse(PhpErrorParser, lines_of(PHP / "error.log")[:1], zone=ZoneInfo("Asia/Tokyo"))
    assert utc.ts == datetime(2026, 11, 26, 15, 1, 35, tzinfo=UTC)


def test_lines_before_the_first_entry_are_kept_unparsed() -> None:
    lines = lines_of(PHP / "error.log")
    start = next(i for i, ln in enumerate(lines) if ln == "Stack trace:")
    end = next(i for i, ln in enumerate(lines) if i > start and DATED.match(ln))
    records = parse(PhpErrorParser, lines[start : end + 1])
    orphans = [ln for ln in lines[start:end] if ln.strip()]
    assert [r.raw for r in records[:-1]] == orphans
    assert all(r.level == "unparsed" and not r.ts_from_line for r in records[:-1])
    assert records[-1].raw == lines[end] and records[-1].level != "unparsed"


# --- php-fpm master log ------------------------------------------------------------------------


def test_fpm_stack_trace_joins_its_message() -> None:
    records = parse(FpmLogParser, lines_of(PHP / "fpm.log"))
    rec = one(records, 'child 24908 said into stderr: "NOTICE: PHP message: PHP Fatal error:  Unc')
    assert rec.ts == datetime(2026, 11, 26, 15, 8, 48, tzinfo=UTC)
    assert rec.level == "error" and rec.fields["fpm_level"] == "WARNING"
    assert (rec.fields["pool"], rec.fields["pid"]) == ("www", 24908)
    assert rec.fields["exception"] == "Error"
    assert rec.fields["said_into_stderr"].startswith("NOTICE: PHP message: PHP Fatal error:  Unc")
    assert rec.lines == (
        "Stack trace:",
        "#0 /var/www/webapp/app/fatal.php(5): render_page('...')",
        "#1 {main}",
        "  thrown in /var/www/webapp/app/fatal.php on line 3",
    )
    assert (rec.fields["file"], rec.fields["line"]) == ("/var/www/webapp/app/fatal.php", 3)
    assert rec.text.startswith("[pool www] child 24908: PHP Fatal error:  Uncaught Error: Call")
    chain = one(records, "Uncaught RuntimeException")
    assert chain.fields["exceptions"] == ("RuntimeException", "PaymentException")
    assert "upstream said: 502 Bad Gateway" in chain.lines


def test_fpm_php_messages_take_the_php_level() -> None:
    records = parse(FpmLogParser, lines_of(PHP / "fpm.log"))
    warn = one(records, "Undefined array key 5")
    assert warn.level == "warn" and warn.fields["php_level"] == "Warning"
    assert (warn.fields["file"], warn.fields["line"]) == ("/var/www/webapp/app/warn.php", 8)
    dep = one(records, "Creation of dynamic property")
    assert dep.level == "info" and dep.fields["fpm_level"] == "WARNING"
    plain = one(records, "custom app log line")
    assert plain.level == "notice" and plain.fields["php_level"] is None
    assert (
        plain.text
        == "[pool www] child 24907: custom app log line: order=1234 user=alice action=checkout"
    )


def test_fpm_cut_message_and_its_continuation() -> None:
    lines = lines_of(PHP / "fpm.log")
    first = next(ln for ln in lines if "PHP message: long-message" in ln)
    assert len(first) == 1023 and first.endswith('"')
    rec = one(parse(FpmLogParser, lines), "PHP message: long-message")
    assert rec.raw == first
    assert len(rec.lines) == 1 and rec.lines[0].endswith("-long-messag...")
    # Fed alone, each entry is its own record (a tail may flush between them).
    nxt = lines[lines.index(first) + 1]
    parser = FpmLogParser()
    recs = parser.feed([first], ARRIVAL) + parser.flush(ARRIVAL)
    recs += parser.feed([nxt], ARRIVAL) + parser.flush(ARRIVAL)
    assert [r.raw for r in recs] == [first, nxt]
    assert all(r.level != "unparsed" for r in recs)


def test_fpm_lines_of_another_child_are_not_joined() -> None:
    lines = lines_of(PHP / "fpm.log")
    fatal = next(ln for ln in lines if "child 24908 said" in ln and "Uncaught Error" in ln)
    trace = lines[lines.index(fatal) + 1]
    other = next(ln for ln in lines if "child 24907 said" in ln and "Stack trace" in ln)
    records = parse(FpmLogParser, [fatal, other, trace])
    assert [r.raw for r in records] == [fatal, other, trace]


def test_fpm_max_children_in_both_wordings() -> None:
    lines = lines_of(PHP / "fpm.log")
    records = parse(FpmLogParser, lines)
    hits = [r for r in records if r.fields.get("event") == "max_children"]
    assert len(hits) == sum(1 for ln in lines if "max_children setting" in ln) == 3
    www = one(hits, "pm.max_children setting (8)")
    assert (www.fields["pool"], www.fields["max_children"], www.level) == ("www", 8, "warn")
    api = one(hits, "server reached max_children setting (6)")
    assert (api.fields["pool"], api.fields["max_children"]) == ("api", 6)
    assert api.ts == datetime(2026, 11, 26, 15, 11, 21, tzinfo=UTC)
    assert api.text == "[pool api] server reached max_children setting (6), consider raising it"


def test_fpm_master_events() -> None:
    records = parse(FpmLogParser, lines_of(PHP / "fpm.log"))
    slow = one(records, "child 24908, script '/var/www/webapp/app/timeout.php'")
    assert slow.fields["event"] == "slow"
    assert slow.fields["script"] == "/var/www/webapp/app/timeout.php"
    assert slow.fields["request"] == "GET /app/timeout.php"
    assert slow.fields["seconds"] == 1.319305
    killed = one(records, "execution timed out (6.184533 sec)")
    assert killed.fields["event"] == "timeout"
    assert killed.fields["request"] == "POST /upload/index.php"
    sig = one(records, "child 25452 exited on signal 15")
    assert sig.fields["event"] == "exited"
    assert (sig.fields["signal"], sig.fields["signal_name"]) == (15, "SIGTERM")
    start = one(records, "fpm is running, pid 24906")
    assert start.fields == {"fpm_level": "NOTICE", "event": "start", "master_pid": 24906}
    assert start.level == "notice" and start.text == "fpm is running, pid 24906"
    new = parse(FpmLogParser, lines_of(ROTATION / "php_fpm" / "php8.2-fpm.log.new"))
    assert new[0].fields["event"] == "reopen"
    assert one(new, "child 30752 exited with code 0").fields["exit_code"] == 0
    assert one(new, "child 30990 started").fields["event"] == "started"


def test_fpm_stamps_are_read_in_the_zone() -> None:
    line = lines_of(PHP / "fpm.log")[0]
    (rec,) = parse(FpmLogParser, [line], zone=ZoneInfo("Europe/Berlin"))
    assert rec.ts == datetime(2026, 11, 26, 14, 8, 29, tzinfo=UTC)
    (utc,) = parse(FpmLogParser, [line], zone=UTC)
    assert utc.ts == datetime(2026, 11, 26, 15, 8, 29, tzinfo=UTC)


def test_fpm_blank_lines_are_skipped() -> None:
    lines = lines_of(PHP / "fpm.log")
    assert lines[1] == ""
    records = parse(FpmLogParser, lines[:4])
    assert [r.raw for r in records] == [lines[0], lines[2], lines[3]]


# --- php-fpm slowlog ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "pool"), [("fpm_slow.log", "www"), ("fpm_api_slow.log", "api")])
def test_slowlog_blocks(name: str, pool: str) -> None:
    lines = lines_of(PHP / name)
    records = parse(FpmSlowParser, lines)
    assert len(records) == sum(1 for ln in lines if re.match(r"\[.*\]  \[pool ", ln))
    assert all(r.level == "warn" and r.fields["pool"] == pool for r in records)
    assert all(r.fields["frames"] == r.lines and r.lines for r in records)
    assert all(r.fields["script"].startswith("/var/www/webapp/") for r in records)


def test_slowlog_fields() -> None:
    records = parse(FpmSlowParser, lines_of(PHP / "fpm_slow.log"))
    rec = one(records, "[26-Nov-2026 15:08:55]  [pool www] pid 24907")
    assert rec.ts == datetime(2026, 11, 26, 15, 8, 55, tzinfo=UTC)
    assert rec.text == "slow request pool www pid 24907 /var/www/webapp/app/sleep.php (usleep)"
    assert rec.fields["pid"] == 24907
    assert rec.fields["function"] == "usleep"
    assert rec.lines == (
        "[0x00007fcd95613160] usleep() /var/www/webapp/app/sleep.php:3",
        "[0x00007fcd956130e0] wait_for_backend() /var/www/webapp/app/sleep.php:4",
        "[0x00007fcd95613070] handle_request() /var/www/webapp/app/sleep.php:5",
    )


# --- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "path"), FILES[:4], ids=IDS[:4])
def test_sniff_prefers_the_right_parser(cls: type[Parser], path: Path) -> None:
    sample = [ln for ln in lines_of(path) if ln.strip()][:200]
    scores: dict[type[Parser], float] = {
        c: c.sniff(sample) for c in (PhpErrorParser, FpmLogParser, FpmSlowParser)
    }
    assert scores[cls] >= 0.9
    assert max(scores, key=lambda c: scores[c]) is cls
