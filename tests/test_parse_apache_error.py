"""The Apache error log: the real corpus file, its tricky lines, and PHP messages inside it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from console.core.events import LogRecord
from console.parsing.apache_error import ErrorLogParser, php_level, split_escaped_lines
from tests.support.paths import FIXTURES

APACHE = FIXTURES / "apache"
ARRIVAL = datetime(2030, 1, 1, tzinfo=UTC)
RUN_START = datetime(2026, 11, 26, 14, 58, tzinfo=UTC)
RUN_END = datetime(2026, 11, 26, 15, 17, tzinfo=UTC)


def error_lines() -> list[str]:
    return (APACHE / "error.log").read_text(encoding="utf-8").splitlines()


def line_with(*needles: str) -> str:
    """The first line of error.log that contains every needle."""
    return next(ln for ln in error_lines() if all(n in ln for n in needles))


def parse(line: str, zone: str = "UTC") -> list[LogRecord]:
    return ErrorLogParser(zone=ZoneInfo(zone)).feed([line], ARRIVAL)


def parse_one(line: str, zone: str = "UTC") -> LogRecord:
    records = parse(line, zone)
    assert len(records) == 1
    return records[0]


# --- the whole file ----------------------------------------------------------------------------


def test_every_line_parses_and_php_lines_split() -> None:
    lines = error_lines()
    records = ErrorLogParser("apache-error", zone=UTC).feed(lines, ARRIVAL)
    # One record per line, plus one per extra "; PHP message: " of proxy_fcgi's AH01071 lines.
    extra = sum(
        ln.count("; PHP message: ") for ln in lines if "AH01071: Got error 'PHP message: " in ln
    )
    assert extra == 97
    assert len(records) == len(lines) + extra
    assert not [r for r in records if r.level == "unparsed"]
    timed = [r for r in records if r.ts_from_line]
    assert len(timed) >= 0.99 * len(records)
    assert all(RUN_START <= r.ts <= RUN_END for r in timed)
    untimed = [r for r in records if not r.ts_from_line]
    assert len(untimed) == 13
    assert {r.fields["code"] for r in untimed} == {"AH00558"}
    assert all(r.ts == ARRIVAL for r in untimed)


def test_levels_of_the_file() -> None:
    records = ErrorLogParser(zone=UTC).feed(error_lines(), ARRIVAL)
    by_word: dict[str, set[str]] = {}
    for r in records:
        if "level_word" in r.fields and not r.fields.get("php"):
            by_word.setdefault(r.fields["level_word"], set()).add(r.level)
    assert by_word == {
        "debug": {"debug"},
        "info": {"info"},
        "notice": {"notice"},
        "error": {"error"},
    }


def test_sniff() -> None:
    assert ErrorLogParser.sniff(error_lines()[:200]) == 1.0
    access = (APACHE / "access_combined.log").read_text(encoding="utf-8").splitlines()
    assert ErrorLogParser.sniff(access[:200]) == 0.0
    assert ErrorLogParser.sniff(error_lines()[:5] + access[:5] + [""]) == 0.5
    assert ErrorLogParser.sniff([]) == 0.0


# --- prefixes ----------------------------------------------------------------------------------


def test_core_error_with_client() -> None:
    line = line_with("AH10244: invalid URI path (/%zz%2)")
    r = parse_one(line)
    assert r.ts == datetime(2026, 11, 26, 15, 2, 14, 801017, tzinfo=UTC)
    assert r.ts_from_line
    assert r.level == "error"
    assert r.text == "AH10244: invalid URI path (/%zz%2)"
    assert r.raw == line
    assert r.fields == {
        "module": "core",
        "level_word": "error",
        "pid": 19295,
        "tid": 19295,
        "client": "127.0.0.7",
        "client_port": 52251,
        "code": "AH10244",
        "message": "invalid URI path (/%zz%2)",
    }


def test_zone_less_time_is_read_in_the_parser_zone() -> None:
    line = line_with("AH10244: invalid URI path (/%zz%2)")
    r = parse_one(line, "Europe/Berlin")
    assert r.ts == datetime(2026, 11, 26, 14, 2, 14, 801017, tzinfo=UTC)
    assert r.ts.tzinfo is UTC


def test_errno_prefix_and_event_thread_id() -> None:
    r = parse_one(line_with("(70007)"))
    assert r.level == "error"
    assert (r.fields["module"], r.fields["pid"], r.fields["tid"]) == ("proxy_fcgi", 24920, 24941)
    assert (r.fields["errno"], r.fields["errtext"]) == (70007, "The timeout specified has expired")
    assert (r.fields["client"], r.fields["client_port"]) == ("127.0.0.4", 37115)
    assert r.fields["code"] == "AH01075"
    assert r.fields["message"] == "Error dispatching request to : (reading input brigade)"
    assert r.text == (
        "(70007)The timeout specified has expired: "
        "AH01075: Error dispatching request to : (reading input brigade)"
    )


def test_negative_errno() -> None:
    r = parse_one(line_with("(-102)Unknown error -102"))
    assert (r.fields["errno"], r.fields["errtext"]) == (-102, "Unknown error -102")
    assert r.fields["code"] == "AH01095"
    assert r.fields["module"] == "proxy"


def test_trailing_whitespace_is_dropped_from_message() -> None:
    line = line_with("AH01590")
    assert line.endswith("chunk  ")
    r = parse_one(line)
    assert r.raw == line
    assert r.level == "info"
    assert (r.fields["errno"], r.fields["errtext"]) == (22, "Invalid argument")
    assert r.fields["message"] == "Error reading/parsing chunk"
    assert r.text == "(22)Invalid argument: AH01590: Error reading/parsing chunk"


def test_debug_line_with_source_location() -> None:
    r = parse_one(line_with(".c(815): ", "Require all granted"))
    assert r.level == "debug"
    assert r.fields["src"] == "mod_authz_core.c(815)"
    assert (r.fields["client"], r.fields["client_port"]) == ("127.0.0.1", 56762)
    assert r.fields["code"] == "AH01626"
    assert r.fields["message"] == "authorization result of Require all granted: granted"


def test_referer_suffix_becomes_a_field() -> None:
    r = parse_one(line_with("granted, referer: "))
    assert r.fields["referer"] == "http://127.0.0.1/index.html"
    assert r.fields["message"] == "authorization result of Require all granted: granted"
    assert "referer" not in r.text


def test_ipv6_client() -> None:
    r = parse_one(line_with("[client ::1:50674]"))
    assert (r.fields["client"], r.fields["client_port"]) == ("::1", 50674)
    assert r.fields["php"] is True
    assert r.fields["php_level"] == ""
    assert r.level == "error"
    assert r.text == "script '/var/www/webapp/wp-login.php' not found or unable to stat"


def test_line_without_prefix_gets_arrival_time() -> None:
    line = line_with("AH00558")
    assert not line.startswith("[")
    r = parse_one(line)
    assert r.level == "notice"
    assert r.ts == ARRIVAL and not r.ts_from_line
    assert r.fields["code"] == "AH00558"
    assert r.fields["message"].startswith("apache2: Could not reliably determine")
    assert r.text == line


def test_apache22_line() -> None:
    # The example line of the Apache 2.2 error log documentation.
    line = (
        "[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server "
        "configuration: /export/home/live/ap/htdocs/test"
    )
    r = parse_one(line, "America/New_York")
    assert r.ts == datetime(2000, 10, 11, 18, 32, 52, tzinfo=UTC)
    assert r.level == "error"
    assert r.fields == {
        "level_word": "error",
        "client": "127.0.0.1",
        "message": "client denied by server configuration: /export/home/live/ap/htdocs/test",
    }


@pytest.mark.parametrize(
    ("bracket", "level"),
    [
        ("[ssl:trace3] [pid 7:tid 8]", "debug"),
        ("[:error] [pid 7]", "error"),
        ("[core:emerg] [pid 7:tid 7]", "crit"),
        ("[mpm_event:warn] [pid 7:tid 7]", "warn"),
    ],
)
def test_level_words_and_short_prefixes(bracket: str, level: str) -> None:
    r = parse_one(f"[Thu Nov 26 15:02:14.000001 2026] {bracket} something happened")
    assert r.level == level
    assert r.fields["pid"] == 7
    assert r.fields["message"] == "something happened"
    assert r.ts == datetime(2026, 11, 26, 15, 2, 14, 1, tzinfo=UTC)


# --- PHP through mod_php -----------------------------------------------------------------------


def test_mod_php_fatal_with_stack_trace() -> None:
    r = parse_one(line_with("[php:error]", "undefined_template_function"))
    assert r.level == "error"
    assert r.fields["php"] is True
    assert r.fields["php_level"] == "Fatal error"
    assert (r.fields["client"], r.fields["client_port"]) == ("127.0.0.5", 56380)
    assert r.text == (
        "PHP Fatal error:  Uncaught Error: Call to undefined function "
        "undefined_template_function() in /var/www/webapp/app/fatal.php:3"
    )
    assert r.lines == (
        "Stack trace:",
        "#0 /var/www/webapp/app/fatal.php(5): render_page()",
        "#1 {main}",
        "  thrown in /var/www/webapp/app/fatal.php on line 3",
    )
    assert r.fields["message"].count("\\n") == 4


@pytest.mark.parametrize(
    ("needles", "php_word", "level"),
    [
        (("[php:info]", "PHP Deprecated:  Creation of dynamic property"), "Deprecated", "info"),
        (("[php:warn]", "Undefined variable $undefined_var"), "Warning", "warn"),
        (("[php:notice]", "PHP Notice:  Only variables"), "Notice", "notice"),
        (("[php:error]", "PHP Parse error:"), "Parse error", "error"),
        (("[php:error]", "Allowed memory size"), "Fatal error", "error"),
        (("[php:notice]", "custom app log line"), "", "notice"),
    ],
)
def test_mod_php_levels(needles: tuple[str, ...], php_word: str, level: str) -> None:
    r = parse_one(line_with(*needles))
    assert r.fields["php"] is True
    assert r.fields["php_level"] == php_word
    assert r.level == level
    assert r.fields["module"] == "php"


def test_mod_php_multiline_error_log_message_and_escaped_utf8() -> None:
    r = parse_one(line_with("[php:notice]", "multi-line custom message"))
    assert r.text == "multi-line custom message:"
    assert r.lines == ("  line two", "  line three")
    u = parse_one(line_with("[php:notice]", "unicode: Gr"))
    assert u.text.startswith(r"unicode: Gr\xc3\xbc\xc3\x9fe \xe2\x80\x93")
    assert u.text.endswith(r"and a tab:\tend")
    assert u.lines == ()


# --- PHP through proxy_fcgi (AH01071) ----------------------------------------------------------


def test_fcgi_line_splits_into_one_record_per_php_message() -> None:
    line = line_with("AH01071", "Using ${var} in strings")
    records = parse(line)
    assert [r.fields["php_level"] for r in records] == [
        "Deprecated",
        "Deprecated",
        "Warning",
        "Warning",
        "Warning",
        "Warning",
        "Deprecated",
        "Deprecated",
        "Notice",
        "Warning",
        "Warning",
        "Warning",
    ]
    assert [r.level for r in records][:3] == ["info", "info", "warn"]
    assert records[8].level == "notice"
    assert records[8].text.startswith("PHP Notice:  Only variables should be passed by reference")
    assert records[0].text == (
        "PHP Deprecated:  Using ${var} in strings is deprecated, use {$var} instead in "
        "/var/www/webapp/app/warn.php on line 14"
    )
    assert records[-1].text == (
        "PHP Warning:  Undefined property: Cart::$nope in /var/www/webapp/app/warn.php on line 18"
    )
    for r in records:
        assert r.kind == "apache-error"
        assert r.fields["php"] is True
        assert r.fields["code"] == "AH01071"
        assert r.fields["module"] == "proxy_fcgi"
        assert (r.fields["client"], r.fields["client_port"]) == ("127.0.0.1", 48242)
        assert r.ts == datetime(2026, 11, 26, 15, 8, 41, 887050, tzinfo=UTC)
        assert r.raw == line
        assert "truncated" not in r.fields


def test_fcgi_stack_trace_becomes_lines() -> None:
    records = parse(line_with("AH01071", "undefined_template_function"))
    assert len(records) == 1
    r = records[0]
    assert (r.level, r.fields["php_level"]) == ("error", "Fatal error")
    assert r.text.endswith("in /var/www/webapp/app/fatal.php:3")
    assert r.lines == (
        "Stack trace:",
        "#0 /var/www/webapp/app/fatal.php(5): render_page('...')",
        "#1 {main}",
        "  thrown in /var/www/webapp/app/fatal.php on line 3",
    )


def test_fcgi_line_cut_off_by_length() -> None:
    line = line_with("AH01071", "Cache miss ratio high")
    assert len(line) == 1747 and line.endswith("...'")
    records = parse(line)
    assert [r.fields["php_level"] for r in records] == [
        "Notice",
        "Deprecated",
        "Warning",
        "",
        "",
        "",
        "",
    ]
    assert [r.level for r in records] == ["notice", "info", "warn"] + ["notice"] * 4
    assert records[3].text == "custom app log line: order=1234 user=alice action=checkout"
    assert records[4].text == "multi-line custom message:"
    assert records[4].lines == ("  line two", "  line three")
    last = records[-1]
    assert last.fields["truncated"] is True
    assert last.text.startswith("long-message-long-message") and last.text.endswith("messag...")
    assert not any("truncated" in r.fields for r in records[:-1])


def test_fcgi_error_that_is_not_php() -> None:
    r = parse_one(line_with("AH01071: Got error 'Primary script unknown'"))
    assert r.level == "error"
    assert "php" not in r.fields
    assert r.text == "AH01071: Got error 'Primary script unknown'"
    assert r.fields["client"] == "127.0.0.1"


# --- bare and unmatched lines ------------------------------------------------------------------


def test_bare_php_startup_line() -> None:
    r = parse_one("PHP Warning:  PHP Startup: Unable to load dynamic library 'imagick.so'")
    assert (r.level, r.fields["php"], r.fields["php_level"]) == ("warn", True, "Warning")
    assert r.ts == ARRIVAL and not r.ts_from_line


@pytest.mark.parametrize(
    "line",
    [
        "apache2: Syntax error on line 12 of /etc/apache2/apache2.conf",
        "[26-Nov-2026 15:01:35 UTC] PHP Fatal error:  Uncaught Exception",
        "   ",
    ],
)
def test_unmatched_line_is_kept_unparsed(line: str) -> None:
    r = parse_one(line)
    assert r.level == "unparsed"
    assert r.text == line and r.raw == line
    assert r.ts == ARRIVAL and not r.ts_from_line


def test_parse_line_returns_first_record_and_feed_skips_empty_lines() -> None:
    line = line_with("AH01071", "Using ${var} in strings")
    parser = ErrorLogParser(zone=UTC)
    first = parser.parse_line(line, ARRIVAL)
    assert first.fields["php_level"] == "Deprecated"
    assert first == parser.parse_records(line, ARRIVAL)[0]
    assert parser.feed(["", line_with("AH10244")], ARRIVAL)[0].fields["code"] == "AH10244"
    assert len(parser.feed(["", ""], ARRIVAL)) == 0


# --- helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (r"a\nb", ["a", "b"]),
        ("plain", ["plain"]),
        (r"C:\\new\nnext", [r"C:\\new", "next"]),
        (r"x\\\ny", [r"x\\", "y"]),
    ],
)
def test_split_escaped_lines(text: str, parts: list[str]) -> None:
    assert split_escaped_lines(text) == parts


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("PHP Fatal error:  Uncaught", ("Fatal error", "error")),
        ("PHP Recoverable fatal error:  x", ("Recoverable fatal error", "error")),
        ("PHP Deprecated:  x", ("Deprecated", "info")),
        ("PHP Startup: Unable to load", ("", None)),
        ("custom log line", ("", None)),
    ],
)
def test_php_level(message: str, expected: tuple[str, str | None]) -> None:
    assert php_level(message) == expected
