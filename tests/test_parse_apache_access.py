"""Apache access logs: the real corpus files, their tricky lines, and custom LogFormats."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from console.core.events import LogRecord
from console.parsing.apache_access import (
    AUTO_FORMATS,
    AccessLogParser,
    compile_logformat,
    split_request,
)
from tests.support.paths import FIXTURES

APACHE = FIXTURES / "apache"
ACCESS_FILES = ["access_combined.log", "access_vhost_combined.log", "access_with_duration.log"]
ARRIVAL = datetime(2030, 1, 1, tzinfo=UTC)
RUN_START = datetime(2026, 11, 26, 14, 58, tzinfo=UTC)
RUN_END = datetime(2026, 11, 26, 15, 17, tzinfo=UTC)


def lines_of(name: str) -> list[str]:
    return (APACHE / name).read_text(encoding="utf-8").splitlines()


def line_with(name: str, needle: str) -> str:
    """The first line of a fixture that contains ``needle``."""
    return next(ln for ln in lines_of(name) if needle in ln)


def parse_one(line: str, fmt: str | None = None) -> LogRecord:
    records = AccessLogParser(fmt=fmt).feed([line], ARRIVAL)
    assert len(records) == 1
    return records[0]


# --- whole files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACCESS_FILES)
def test_every_line_gives_one_timed_record(name: str) -> None:
    lines = lines_of(name)
    records = AccessLogParser(name).feed(lines, ARRIVAL)
    assert len(records) == len(lines)
    assert all(r.kind == "apache-access" and r.source == name for r in records)
    assert [r.raw for r in records] == lines
    timed = [r for r in records if r.ts_from_line and r.level != "unparsed"]
    assert len(timed) >= 0.99 * len(records)
    assert all(RUN_START <= r.ts <= RUN_END for r in timed)
    assert all(r.ts.tzinfo is UTC for r in records)


@pytest.mark.parametrize("name", ACCESS_FILES)
def test_levels_follow_status_codes(name: str) -> None:
    lines = lines_of(name)
    statuses = [int(re.search(r'" (\d{3}) ', ln).group(1)) for ln in lines]  # type: ignore[union-attr]
    records = AccessLogParser().feed(lines, ARRIVAL)
    assert [r.fields["status"] for r in records] == statuses
    expected = ["error" if s >= 500 else "warn" if s >= 400 else "info" for s in statuses]
    assert [r.level for r in records] == expected
    assert "error" in expected and "warn" in expected


def test_format_is_detected_per_file() -> None:
    combined = AccessLogParser().feed(lines_of("access_combined.log"), ARRIVAL)
    assert not any("vhost" in r.fields or "duration_us" in r.fields for r in combined)
    vhost = AccessLogParser().feed(lines_of("access_vhost_combined.log"), ARRIVAL)
    assert {(r.fields["vhost"], r.fields["port"]) for r in vhost} == {("shop.example.test", 80)}
    timed = AccessLogParser().feed(lines_of("access_with_duration.log"), ARRIVAL)
    assert all(isinstance(r.fields["duration_us"], int) for r in timed)
    assert all(isinstance(r.fields["duration_s"], int) for r in timed)
    assert not any("extra" in r.fields for r in combined + vhost + timed)


def test_mixed_formats_in_one_stream_each_parse_right() -> None:
    mixed = [
        line_with("access_combined.log", '"GARBAGE"'),
        line_with("access_vhost_combined.log", "shop.example.test:80 127.0.0.2"),
        line_with("access_with_duration.log", "/app/timeout.php"),
        line_with("access_combined.log", "/app/exception.php"),
    ]
    records = AccessLogParser().feed(mixed, ARRIVAL)
    assert [r.fields.get("vhost") for r in records] == [None, "shop.example.test", None, None]
    assert [r.fields.get("duration_us") for r in records] == [None, None, 3008368, None]
    assert [r.fields["status"] for r in records] == [400, 200, 500, 500]


def test_times_that_go_back_are_kept_as_written() -> None:
    records = AccessLogParser().feed(lines_of("access_combined.log"), ARRIVAL)
    back = [b for a, b in zip(records, records[1:], strict=False) if b.ts < a.ts]
    assert back, "the corpus has lines whose %t is earlier than the line before"
    assert max(a.ts - b.ts for a, b in zip(records, records[1:], strict=False)) <= timedelta(
        seconds=6
    )


@pytest.mark.parametrize("name", ACCESS_FILES)
def test_sniff_accepts_access_logs(name: str) -> None:
    assert AccessLogParser.sniff(lines_of(name)[:200]) == 1.0


def test_sniff_rejects_error_log_and_counts_fraction() -> None:
    assert AccessLogParser.sniff(lines_of("error.log")[:200]) == 0.0
    half = lines_of("access_combined.log")[:10] + lines_of("error.log")[:10] + ["", "  "]
    assert AccessLogParser.sniff(half) == 0.5
    assert AccessLogParser.sniff([]) == 0.0


# --- tricky lines from the corpus --------------------------------------------------------------


def test_plain_combined_line() -> None:
    r = parse_one(line_with("access_combined.log", "/app/exception.php"))
    assert r.ts == datetime(2026, 11, 26, 15, 1, 35, tzinfo=UTC)
    assert r.ts_from_line
    assert r.level == "error"
    assert r.text == "127.0.0.5 GET /app/exception.php 500 185B"
    # no "request": method, url and protocol hold all of "GET /app/exception.php HTTP/1.1"
    assert r.fields == {
        "client": "127.0.0.5",
        "ident": "",
        "user": "",
        "method": "GET",
        "url": "/app/exception.php",
        "protocol": "HTTP/1.1",
        "status": 500,
        "bytes": 185,
        "referer": "",
        "user_agent": "curl/7.88.1",
    }


def test_garbage_request_line() -> None:
    line = line_with("access_combined.log", '"GARBAGE"')
    assert line == '127.0.0.7 - - [26/Nov/2026:15:02:14 +0000] "GARBAGE" 400 523 "-" "-"'
    r = parse_one(line)
    assert r.level == "warn"
    assert r.ts == datetime(2026, 11, 26, 15, 2, 14, tzinfo=UTC)
    assert r.fields["request"] == "GARBAGE"
    assert (r.fields["method"], r.fields["url"], r.fields["protocol"]) == ("", "", "")
    assert (r.fields["status"], r.fields["bytes"]) == (400, 523)
    assert r.text == '127.0.0.7 "GARBAGE" 400 523B'


def test_idle_connection_408_with_dash_request() -> None:
    line = line_with("access_combined.log", '"-" 408 0')
    r = parse_one(line)
    assert r.fields["request"] == "-"
    assert (r.fields["method"], r.fields["url"]) == ("", "")
    assert (r.fields["status"], r.fields["bytes"]) == (408, 0)
    assert r.ts == datetime(2026, 11, 26, 15, 2, 56, tzinfo=UTC)
    assert r.text == '127.0.0.7 "-" 408 0B'


def test_http09_request_without_protocol() -> None:
    r = parse_one(line_with("access_with_duration.log", '"GET /" 200'))
    assert (r.fields["method"], r.fields["url"], r.fields["protocol"]) == ("GET", "/", "")
    assert r.fields["request"] == "GET /"  # kept: the three fields would say "GET / "
    assert (r.fields["status"], r.fields["bytes"]) == (200, 178)
    assert (r.fields["duration_s"], r.fields["duration_us"]) == (0, 97)
    assert r.text == "127.0.0.3 GET / 200 178B 0.1ms"


def test_very_long_request_line_414() -> None:
    line = line_with("access_combined.log", '" 414 ')
    assert len(line) > 8000
    r = parse_one(line)
    url = r.fields["url"]
    assert url.startswith("/bbbb") and set(url[1:]) == {"b"}
    assert len(url) == len(line) - len('127.0.0.7 - - [26/Nov/2026:15:02:19 +0000] "GET ') - len(
        '" 414 554 "-" "-"'
    )
    assert (r.fields["method"], r.fields["protocol"], r.fields["status"]) == ("GET", "", 414)
    assert len(r.text) < 200
    assert r.text.startswith("127.0.0.7 GET /bbbb") and r.text.endswith("… 414 554B")


def test_raw_bytes_stay_escaped_in_url_and_agent() -> None:
    r = parse_one(line_with("access_combined.log", r"/caf\xc3\xa9/"))
    assert r.fields["url"] == r"/caf\xc3\xa9/\xff\xfe.html"
    assert r.fields["status"] == 404
    ua = parse_one(line_with("access_combined.log", "cherwurm"))
    assert (
        ua.fields["user_agent"] == r"B\xc3\xbccherwurm/1.0 (\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e)"
    )


def test_escaped_quotes_and_backslashes_in_referer_and_agent() -> None:
    r = parse_one(line_with("access_combined.log", "ref.example.test"))
    assert r.fields["url"] == "/index.html?q=%22x%22"
    assert r.fields["referer"] == r"http://ref.example.test/a b?c=\"d\""
    assert r.fields["user_agent"] == r"Mozilla/5.0 \"quoted\" \\backslash\\ {json:\"x\"}"
    assert r.fields["status"] == 200


def test_ipv6_client_with_duration() -> None:
    r = parse_one(
        line_with("access_with_duration.log", '::1 - - [26/Nov/2026:15:03:38 +0000] "GET / ')
    )
    assert r.fields["client"] == "::1"
    assert (r.fields["duration_s"], r.fields["duration_us"]) == (0, 214)
    assert r.text == "::1 GET / 200 429B 0.2ms"


def test_slow_request_shows_seconds() -> None:
    r = parse_one(line_with("access_with_duration.log", "/app/timeout.php"))
    assert (r.fields["duration_s"], r.fields["duration_us"]) == (3, 3008368)
    assert r.text == "127.0.0.9 GET /app/timeout.php 500 185B 3.0s"


def test_vhost_combined_line() -> None:
    r = parse_one(line_with("access_vhost_combined.log", "/app/warn.php"))
    assert (r.fields["vhost"], r.fields["port"], r.fields["client"]) == (
        "shop.example.test",
        80,
        "127.0.0.1",
    )
    assert r.text == "shop.example.test 127.0.0.1 GET /app/warn.php 200 172B"


def test_authenticated_user_and_odd_methods() -> None:
    r = parse_one(line_with("access_combined.log", "- alice ["))
    assert (r.fields["user"], r.fields["status"]) == ("alice", 401)
    lower = parse_one(line_with("access_combined.log", '"get /index.html'))
    assert (lower.fields["method"], lower.fields["status"], lower.level) == ("get", 501, "error")
    connect = parse_one(line_with("access_combined.log", '"CONNECT '))
    assert connect.fields["url"] == "example.com:443"
    assert connect.fields["status"] == 405
    future = parse_one(line_with("access_combined.log", "HTTP/9.9"))
    assert future.fields["protocol"] == "HTTP/9.9"


@pytest.mark.parametrize(
    ("request_line", "expected"),
    [
        ("GET /a?b=1 HTTP/1.1", ("GET", "/a?b=1", "HTTP/1.1")),
        ("GET /", ("GET", "/", "")),
        ("GARBAGE", ("", "", "")),
        ("-", ("", "", "")),
        ("", ("", "", "")),
        ("GET /a b HTTP/1.0", ("GET", "/a b", "HTTP/1.0")),
        ("GET /a b c", ("GET", "/a b c", "")),
    ],
)
def test_split_request(request_line: str, expected: tuple[str, str, str]) -> None:
    assert split_request(request_line) == expected


# --- custom formats ----------------------------------------------------------------------------


def test_custom_format_with_forwarded_for_and_microseconds() -> None:
    fmt = r"%h %{X-Forwarded-For}i %t \"%r\" %>s %D"
    line = (
        '10.0.0.1 203.0.113.9, 198.51.100.2 [26/Nov/2026:16:01:35 +0100] "POST /api/cart?id=7 '
        'HTTP/2.0" 502 2300100'
    )
    r = parse_one(line, fmt)
    assert r.fields["client"] == "10.0.0.1"
    assert r.fields["x_forwarded_for"] == "203.0.113.9, 198.51.100.2"
    assert r.ts == datetime(2026, 11, 26, 15, 1, 35, tzinfo=UTC)
    assert (r.fields["method"], r.fields["url"], r.fields["status"]) == (
        "POST",
        "/api/cart?id=7",
        502,
    )
    assert r.fields["duration_us"] == 2300100
    assert r.level == "error"
    assert r.text == "10.0.0.1 POST /api/cart?id=7 502 2.3s"


def test_compile_gives_one_regex_with_a_group_per_directive() -> None:
    cf = compile_logformat(r"%h %{X-Forwarded-For}i %t \"%r\" %>s %D")
    assert cf.fmt == '%h %{X-Forwarded-For}i %t "%r" %>s %D'
    assert cf.names == ("client", "x_forwarded_for", "_t", "request", "status", "duration_us")
    assert cf.regex.groups == len(cf.names)
    assert set(cf.ints) == {"status", "duration_us"}
    assert cf.clf and cf.timed


def test_config_file_quoting_and_nicknames() -> None:
    quoted = compile_logformat(r'"%h %l %u %t \"%r\" %>s %b"')
    assert quoted.fmt == '%h %l %u %t "%r" %>s %b'
    assert quoted.regex.pattern == compile_logformat("common").regex.pattern
    r = parse_one('1.2.3.4 - bob [26/Nov/2026:15:01:35 +0000] "GET /x HTTP/1.1" 304 -', "common")
    assert (r.fields["user"], r.fields["status"], r.fields["bytes"]) == ("bob", 304, 0)
    assert "referer" not in r.fields


def test_strftime_time_with_milliseconds_in_local_zone() -> None:
    fmt = r"[%{%d/%b/%Y %H:%M:%S}t.%{msec_frac}t] %a \"%m %U%q %H\" %>s %B %{ms}T %k %X"
    line = '[26/Nov/2026 16:01:35.123] 1.2.3.4 "GET /x.php?a=1 HTTP/1.1" 200 512 45 3 +'
    parser = AccessLogParser(fmt=fmt, zone=ZoneInfo("Europe/Berlin"))
    r = parser.feed([line], ARRIVAL)[0]
    assert r.ts == datetime(2026, 11, 26, 15, 1, 35, 123000, tzinfo=UTC)
    assert r.fields["client"] == "1.2.3.4"
    assert (r.fields["path"], r.fields["query"], r.fields["url"]) == (
        "/x.php",
        "?a=1",
        "/x.php?a=1",
    )
    assert (r.fields["duration_ms"], r.fields["keepalive"], r.fields["conn_status"]) == (45, 3, "+")
    assert r.text == "1.2.3.4 GET /x.php?a=1 200 512B 45ms"


def test_epoch_time_and_request_header_outside_quotes() -> None:
    r = parse_one("1795705295 ::1 200 shop.example.test", "%{sec}t %h %>s %{Host}i")
    assert r.ts == datetime.fromtimestamp(1795705295, UTC)
    assert (r.fields["client"], r.fields["host"], r.fields["status"]) == (
        "::1",
        "shop.example.test",
        200,
    )


def test_format_without_time_uses_arrival() -> None:
    r = parse_one('1.2.3.4 "GET / HTTP/1.1" 200', r"%h \"%r\" %>s")
    assert r.ts == ARRIVAL
    assert not r.ts_from_line
    assert r.fields["status"] == 200


def test_quoted_request_keeps_escaped_quote() -> None:
    line = r'1.2.3.4 - - [26/Nov/2026:15:01:35 +0000] "GET /a\"b HTTP/1.1" 200 5 "-" "x\\"'
    r = parse_one(line)
    assert r.fields["url"] == r"/a\"b"
    assert r.fields["user_agent"] == "x\\\\"


# --- lines that match nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "this is not an access log line",
        '127.0.0.1 - - [26/Nov/2026:15:01:35 +0000] "GET / HTTP/1.1" abc 5',
        "[Thu Nov 26 15:01:29.566736 2026] [core:notice] [pid 1:tid 1] AH00094: Command line",
    ],
)
def test_unmatched_line_is_kept_unparsed(line: str) -> None:
    r = parse_one(line)
    assert r.level == "unparsed"
    assert r.text == line and r.raw == line
    assert r.ts == ARRIVAL and not r.ts_from_line
    assert r.kind == "apache-access"


def test_given_format_does_not_fall_back_to_others() -> None:
    combined_line = line_with("access_combined.log", "/app/exception.php")
    assert parse_one(combined_line, "common").level == "unparsed"
    assert parse_one(combined_line, "combined").level == "error"


def test_auto_formats_are_the_stock_ones_in_order() -> None:
    names = [f.names for f in AUTO_FORMATS]
    assert names[0] == compile_logformat("combined").names
    assert names[1] == compile_logformat("vhost_combined").names
    assert names[2][-2:] == ("duration_s", "duration_us")
    assert names[3] == compile_logformat("common").names
    assert names[4][-1] == "extra"


def test_unknown_trailing_fields_are_kept_as_extra() -> None:
    base = line_with("access_combined.log", "/app/exception.php")
    r = parse_one(base + " 12ms upstream=fpm")
    assert r.fields["extra"] == "12ms upstream=fpm"
    assert r.fields["status"] == 500


def test_field_names_of_module_directives() -> None:
    cf = compile_logformat(
        "%{Host}i %^FB %{SSL_PROTOCOL}x %{c}a %{remote}p %{VAR}e %{ms}T %I %O %b %{Set-Cookie}o"
        " %{tid}P"
    )
    assert cf.names == (
        "host",
        "ttfb_us",
        "ssl_protocol",
        "peer_ip",
        "remote_port",
        "env_var",
        "duration_ms",
        "bytes_in",
        "bytes_out",
        "bytes",
        "resp_set_cookie",
        "tid",
    )
    assert set(cf.ints) == {
        "ttfb_us",
        "remote_port",
        "duration_ms",
        "bytes_in",
        "bytes_out",
        "bytes",
        "tid",
    }


def test_bytes_out_is_the_size_when_there_is_no_percent_b() -> None:
    assert "bytes" in compile_logformat("combined").names
    assert "bytes_out" not in compile_logformat("combined").names
    r = parse_one(
        '1.2.3.4 - - [26/Nov/2026:15:01:35 +0000] "GET / HTTP/1.1" 200 10 "-" "curl" 80 300',
        '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %I %O',
    )
    assert (r.fields["bytes"], r.fields["bytes_in"], r.fields["bytes_out"]) == (10, 80, 300)
    assert r.fields["user_agent"] == "curl"


def test_apache_docs_millisecond_time_recipe_with_offset() -> None:
    # mod_log_config's documented way to log milliseconds: three %{...}t pieces in one bracket.
    fmt = r'%h [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %>s %b'
    lines = [
        '1.2.3.4 [26/Nov/2026:16:01:35.007 +0100] "GET /a HTTP/1.1" 200 5',
        '1.2.3.4 [26/Nov/2026:16:01:35.250 +0100] "GET /b HTTP/1.1" 404 -',
    ]
    records = AccessLogParser(fmt=fmt, zone=ZoneInfo("America/New_York")).feed(lines, ARRIVAL)
    assert [r.ts for r in records] == [
        datetime(2026, 11, 26, 15, 1, 35, 7000, tzinfo=UTC),
        datetime(2026, 11, 26, 15, 1, 35, 250000, tzinfo=UTC),
    ]
    assert all(r.ts_from_line for r in records)
    assert [r.level for r in records] == ["info", "warn"]
    assert not any(k.startswith("_t") for r in records for k in r.fields)


# --- memory: a ring holds thousands of these -------------------------------------------------


def test_request_line_is_kept_only_where_its_fields_cannot_rebuild_it() -> None:
    def fields(request: str) -> dict[str, object]:
        line = f'192.0.2.1 - - [26/Nov/2026:15:01:35 +0000] "{request}" 400 5 "-" "-"'
        return dict(parse_one(line).fields)

    for clean in ("GET /a?b=1 HTTP/1.1", "OPTIONS * HTTP/1.0", "GET  /two-spaces HTTP/1.1"):
        f = fields(clean)
        assert "request" not in f
        assert f"{f['method']} {f['url']} {f['protocol']}" == clean
    for odd in ("GARBAGE", "-", "GET /", "GET /a b c", ""):
        assert fields(odd)["request"] == odd


def test_repeated_values_are_one_string_across_records() -> None:
    agent = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0"
    lines = [
        f'192.0.2.{i % 3} - - [26/Nov/2026:15:01:35 +0000] "GET /p/{i} HTTP/1.1" 404 10 '
        f'"https://example.test/" "{agent}"'
        for i in range(30)
    ]
    parser = AccessLogParser()
    records = parser.feed(lines[:15], ARRIVAL) + parser.feed(lines[15:], ARRIVAL)
    for key in ("user_agent", "referer", "method", "protocol", "client", "status"):
        values = [r.fields[key] for r in records]
        # equal values of different records are the same object (three clients: three objects)
        assert len({id(v) for v in values}) == len(set(values)), key
    assert records[0].fields["user_agent"] == agent
    assert len({id(r.fields["url"]) for r in records}) == 30  # URLs are not shared
    assert len({id(r.ts) for r in records}) == 1  # nor re-made: one datetime per time written


def test_shared_values_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from console.parsing import apache_access

    monkeypatch.setattr(apache_access, "SHARED_MAX", 10)
    parser = AccessLogParser()
    for batch in range(5):
        lines = [
            f'198.51.100.{batch * 20 + i} - - [26/Nov/2026:15:01:35 +0000] "GET / HTTP/1.1" '
            f'200 1 "-" "agent {batch} {i}"'
            for i in range(20)
        ]
        records = parser.feed(lines, ARRIVAL)
        assert [r.fields["user_agent"] for r in records] == [
            f"agent {batch} {i}" for i in range(20)
        ]
        # one batch's distinct values at most, on top of the limit
        assert len(parser._shared) <= 10 + 2 * 20 + 2


def test_making_lazy_records_keeps_the_shared_values_bounded() -> None:
    """A bundle makes every record of the ring between two batches of lines: the strings its
    records share stay bounded then too (one client each would be thousands)."""
    from console.parsing.base import SHARED_MAX

    parser = AccessLogParser()
    lines = [
        f'10.{i // 65536}.{i // 256 % 256}.{i % 256} - - [26/Nov/2026:15:01:35 +0000] "GET / '
        f'HTTP/1.1" 200 1 "-" "agent"'
        for i in range(3 * SHARED_MAX)
    ]
    records = parser.feed(lines, ARRIVAL)
    clients = [r.fields["client"] for r in records]
    assert clients[-1] == f"10.0.{(3 * SHARED_MAX - 1) // 256}.{(3 * SHARED_MAX - 1) % 256}"
    assert len(parser._shared) <= SHARED_MAX + 5
