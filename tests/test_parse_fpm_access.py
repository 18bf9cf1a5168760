"""php-fpm pool access log: the real corpus file (custom access.format) and the default layout."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from console.core.events import LogRecord
from console.parsing import detect_kind, make_parser
from console.parsing.fpm_access import FpmAccessParser
from tests.support.paths import FIXTURES

ACCESS = FIXTURES / "php" / "fpm_access.log"
ARRIVAL = datetime(2030, 1, 1, tzinfo=UTC)
RUN_START = datetime(2026, 11, 26, 14, 58, tzinfo=UTC)
RUN_END = datetime(2026, 11, 26, 15, 17, tzinfo=UTC)


def lines_of() -> list[str]:
    lines = ACCESS.read_text(encoding="utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def parse(lines: list[str], **kw: object) -> list[LogRecord]:
    parser = FpmAccessParser("test", **kw)  # type: ignore[arg-type]
    return parser.feed(lines, ARRIVAL) + parser.flush(ARRIVAL)


@pytest.fixture(scope="module")
def access() -> list[LogRecord]:
    return parse(lines_of())


def test_every_line_parses_with_times_and_levels(access: list[LogRecord]) -> None:
    lines = lines_of()
    assert len(lines) == 1000 and len(access) == len(lines)
    assert not [r for r in access if r.level == "unparsed"]
    assert all(r.ts_from_line and RUN_START <= r.ts <= RUN_END for r in access)
    assert all(r.ts.tzinfo is UTC and r.kind == "php-fpm-access" for r in access)
    assert [r.raw for r in access] == lines
    # Every field of the custom format on every line.
    assert {frozenset(r.fields) for r in access} == {
        frozenset(
            ("client", "user", "method", "url", "status", "script", "duration_ms", "memory_kb")
            + ("cpu",)
        )
    }


def test_status_and_level_match_the_file(access: list[LogRecord]) -> None:
    statuses = Counter(int(ln.split('" ', 1)[1].split()[0]) for ln in lines_of())
    assert statuses == {200: 966, 500: 22, 404: 6, 302: 2, 429: 2, 503: 2}
    assert Counter(r.fields["status"] for r in access) == statuses
    assert Counter(r.level for r in access) == {"info": 968, "error": 24, "warn": 8}
    for r in access:
        status = r.fields["status"]
        assert r.level == ("error" if status >= 500 else "warn" if status >= 400 else "info")


def test_fields_of_the_custom_format(access: list[LogRecord]) -> None:
    first = access[0]
    assert dict(first.fields) == {
        "client": "-",
        "user": "",
        "method": "GET",
        "url": "/index.php",
        "status": 200,
        "script": "/var/www/webapp/index.php",
        "duration_ms": 1.884,
        "memory_kb": 2048,
        "cpu": 0.0,
    }
    assert first.ts == datetime(2026, 11, 26, 15, 8, 41, tzinfo=UTC)
    assert first.text == "GET /index.php 200 1.9ms 2048K"
    status = access[1]
    assert status.fields["url"] == "/fpm-status?json&full" and status.fields["script"] is None
    users = Counter(r.fields["user"] for r in access)
    assert users[""] == 994 and {"alice", "bob", "mallory"} <= set(users)
    methods = Counter(r.fields["method"] for r in access)
    assert methods == {"GET": 981, "POST": 13, "DELETE": 2, "PUT": 2, "OPTIONS": 2}
    slow = max(access, key=lambda r: r.fields["duration_ms"])
    assert slow.fields["duration_ms"] > 1000 and slow.text.endswith("s 2048K")


def test_chunk_boundaries_do_not_matter(access: list[LogRecord]) -> None:
    lines = lines_of()
    parser = FpmAccessParser("test")
    out: list[LogRecord] = []
    rng = random.Random("fpm-access")
    i = 0
    while i < len(lines):
        n = rng.randint(1, 40)
        out += parser.feed(lines[i : i + n], ARRIVAL)
        i += n
    assert out + parser.flush(ARRIVAL) == access
    assert not parser.pending


def test_the_default_layout() -> None:
    lines = [
        '127.0.0.1 -  26/Nov/2026:15:08:41 +0000 "GET /index.php" 200',
        '- - alice 26/Nov/2026:16:08:41 +0100 "POST /admin/save.php" 503',
        '10.0.0.5 -  26/Nov/2026:15:08:42 +0000 "GET /a b.php" 404',
    ]
    a, b, c = parse(lines)
    assert dict(a.fields) == {
        "client": "127.0.0.1",
        "user": "",
        "method": "GET",
        "url": "/index.php",
        "status": 200,
    }
    assert a.text == "127.0.0.1 GET /index.php 200" and a.level == "info"
    assert b.ts == datetime(2026, 11, 26, 15, 8, 41, tzinfo=UTC)
    assert (b.fields["user"], b.level, b.text) == ("alice", "error", "POST /admin/save.php 503")
    assert (c.fields["url"], c.level) == ("/a b.php", "warn")
    assert FpmAccessParser.sniff(lines) == 1.0


def test_units_come_from_the_format() -> None:
    line = '- -  26/Nov/2026:15:08:41 +0000 "GET /x.php" 200 /srv/x.php 0.250 2097152 12.50%'
    default = parse([line])[0]
    assert (default.fields["duration_ms"], default.fields["memory_kb"]) == (0.25, 2097152)
    fmt = '%R - %u %t "%m %r%Q%q" %s %f %d %M %C%%'
    own = make_parser("php-fpm-access", zone=UTC, fmt=fmt)
    rec = own.feed([line], ARRIVAL)[0]
    assert (rec.fields["duration_ms"], rec.fields["memory_kb"]) == (250.0, 2048)
    assert rec.fields["cpu"] == 12.5
    micro = parse([line], fmt="%s %{micro}d %{mega}M")[0]
    assert (micro.fields["duration_ms"], micro.fields["memory_kb"]) == (0.00025, 2147483648)


def test_unknown_words_are_kept_and_garbage_is_unparsed() -> None:
    line = '- -  26/Nov/2026:15:08:41 +0000 "GET /x.php" 200 /srv/x.php 1.000 2048 0.00% www 4242'
    rec = parse([line])[0]
    assert rec.fields["extra"] == "www 4242" and rec.fields["memory_kb"] == 2048
    bad = parse(["NOTICE: access log file re-opened", '26/Nov/2026:15:08:41 +0000 "GET /"'])
    assert [r.level for r in bad] == ["unparsed", "unparsed"]
    assert all(r.ts == ARRIVAL and not r.ts_from_line for r in bad)


def test_apache_access_lines_are_not_fpm_lines() -> None:
    apache = (FIXTURES / "apache" / "access_combined.log").read_text().splitlines()[:200]
    assert FpmAccessParser.sniff(apache) == 0.0
    assert detect_kind(lines_of()) == "php-fpm-access"
