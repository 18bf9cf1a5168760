from __future__ import annotations

from dataclasses import replace

import pytest

from console.core.events import LogRecord
from console.view.filters import (
    FilterError,
    LogFilter,
    effective_level,
    record_client,
    record_path,
    redact,
    strip_port,
)
from tests.support.scripted import T0, access, apache_error, php_fatal


def rec(**kw: object) -> LogRecord:
    base = LogRecord(ts=T0, source="apache", kind="apache-error", level="info", text="hello")
    return replace(base, **kw)  # type: ignore[arg-type]


OK = access(0, T0, 200, "/index.php?x=1", "203.0.113.7", 2101)
NOT_FOUND = access(1, T0, 404, "/favicon.ico", "198.51.100.23", 2102)
FAILED = access(2, T0, 500, "/report.php", "203.0.113.7", 2103)
FATAL = php_fatal(T0)
AH = apache_error(T0, 2103, "192.0.2.44", "AH01071: Got error", level="error")


def test_default_filter_shows_everything() -> None:
    f = LogFilter()
    assert f.is_default
    assert all(f.matches(r) for r in (OK, NOT_FOUND, FAILED, FATAL, AH))
    assert f.describe() == ""


def test_regex_searches_text_and_continuation_lines() -> None:
    assert LogFilter(text="500").matches(FAILED)
    assert not LogFilter(text="500").matches(OK)
    assert LogFilter(text=r"array_merge\(\)").matches(FATAL)  # only in a stack trace line
    assert LogFilter(text="fatal").matches(FATAL)  # lower case: case-insensitive
    assert not LogFilter(text="FATAL").matches(FATAL)  # a capital: case-sensitive


@pytest.mark.parametrize("text", ["(", "[a-", "*x", "a{2,1}"])
def test_bad_regex_is_a_filter_error_with_a_readable_message(text: str) -> None:
    with pytest.raises(FilterError, match="bad regular expression"):
        LogFilter(text=text)
    with pytest.raises(FilterError):
        LogFilter().with_text(text)


def test_hidden_sources() -> None:
    f = LogFilter().toggle_source("access")
    assert not f.matches(OK) and f.matches(FATAL)
    assert f.toggle_source("access").is_default


def test_level_cycle_and_access_status_ranks() -> None:
    f = LogFilter()
    levels = []
    for _ in range(3):
        f = f.next_level()
        levels.append(f.min_level)
    assert levels == ["warn", "error", ""]
    warn = LogFilter(min_level="warn")
    assert warn.matches(NOT_FOUND) and warn.matches(FAILED) and not warn.matches(OK)
    err = LogFilter(min_level="error")
    assert err.matches(FAILED) and err.matches(FATAL) and not err.matches(NOT_FOUND)
    assert not warn.matches(rec(level="unparsed"))
    assert effective_level(FAILED) == "error" and effective_level(NOT_FOUND) == "warn"


def test_http_errors_only_narrows_access_records() -> None:
    f = LogFilter().toggle_http_errors()
    assert f.http_errors
    assert not f.matches(OK)
    assert f.matches(NOT_FOUND) and f.matches(FAILED)
    assert f.matches(FATAL)  # other logs are unchanged
    assert f.toggle_http_errors().is_default


def test_pin_matches_client_or_path_or_pid() -> None:
    f = LogFilter().pin(client="203.0.113.7:40000", url="/report.php", pid=2103)
    assert f.client == "203.0.113.7"
    assert f.matches(OK)  # same client
    assert f.matches(FAILED)  # same client and path
    assert f.matches(AH)  # same pid
    assert not f.matches(NOT_FOUND)
    assert "pin" in f.describe()


def test_narrows() -> None:
    f = LogFilter(text="a")
    assert f.toggle_source("x").narrows(f)
    assert f.next_level().narrows(f)
    assert f.toggle_http_errors().narrows(f)
    assert not f.narrows(f.toggle_source("x"))
    assert not LogFilter(text="b").narrows(f)


def test_spans_and_describe() -> None:
    f = LogFilter(text="o")
    assert f.spans("foo") == [(1, 2), (2, 3)]
    assert LogFilter(text="x*").spans("abc") == []  # empty matches are not highlighted
    assert LogFilter(text="5..", min_level="warn", http_errors=True).describe() == (
        "/5../ · warn+ · http 4xx/5xx"
    )


def test_field_helpers() -> None:
    assert strip_port("1.2.3.4:5678") == "1.2.3.4"
    assert strip_port("[::1]:80") == "::1"
    assert strip_port("::1") == "::1"
    assert record_client(AH) == "192.0.2.44"
    assert record_path(OK) == "/index.php"
    assert record_path(rec(fields={"request": "POST /a/b?c HTTP/1.1"})) == "/a/b"
    assert record_path(rec()) == ""


def test_redact() -> None:
    assert (
        redact('203.0.113.7 "GET /a.php?user=bob HTTP/1.1"') == '203.0.x.x "GET /a.php?… HTTP/1.1"'
    )


def test_filters_metrics_and_log_index_are_headless() -> None:
    import subprocess
    import sys

    code = (
        "import sys, console.view.filters, console.view.metrics, console.view.logindex; "
        "sys.exit('textual' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_lamptops_own_status_polls_are_not_shown() -> None:
    from datetime import UTC, datetime

    from console.core.events import LogRecord
    from console.sources.status.http import USER_AGENT
    from console.view.filters import LogFilter

    def rec(agent: str, url: str) -> LogRecord:
        return LogRecord(
            ts=datetime(2026, 11, 26, tzinfo=UTC),
            source="access",
            kind="apache-access",
            level="info",
            text=f"GET {url}",
            fields={"user_agent": agent, "url": url},
        )

    own = rec(USER_AGENT, "/server-status?auto")
    curl = rec("curl/7.88.1", "/server-status?auto")
    assert not LogFilter().matches(own)
    assert LogFilter().matches(curl)
