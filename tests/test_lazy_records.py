"""Lazy access records: made from the line when read, and then exactly what an eager parse gives.

The access parser files the stock formats' lines as lazy records (time, level and the raw line
only). Every reader must see the same record as before: text, fields (in the same order),
JSON in bundles and on the stream, redaction, filters, the rules, equality, copies and pickles.
"""

from __future__ import annotations

import copy
import pickle
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from console.core.events import LogRecord, fold, make_lazy_record, make_record
from console.core.serialize import encode_json, record_json, record_to_dict
from console.core.text import clean_block
from console.core.wire import record_to_wire, records_line
from console.incident.redact import redact_record
from console.incident.report import logs_text
from console.incident.rules import RuleBook, build_rules
from console.parsing.apache_access import OWN_AGENT, AccessLogParser, is_own_request
from console.view.filters import LogFilter, record_client, record_path
from console.view.suspects import suspects
from tests.support.hostile import HOSTILE
from tests.support.paths import FIXTURES

ARRIVAL = datetime(2030, 1, 1, tzinfo=UTC)
STAMP = "[26/Nov/2026:15:01:35 +0000]"


def corpus() -> list[str]:
    """Real lines of every stock format, odd ones, and hostile strings in every field."""
    lines: list[str] = []
    for name in ("access_combined.log", "access_vhost_combined.log", "access_with_duration.log"):
        lines += (FIXTURES / "apache" / name).read_text(encoding="utf-8").splitlines()
    lines += [
        f'1.2.3.4 - - {STAMP} "GET /a?b=1 HTTP/1.1" 503 0 "-" "curl/8"',
        f'1.2.3.4 - alice {STAMP} "POST /login HTTP/1.1" 401 - "-" "-"',
        f'1.2.3.4 - - {STAMP} "GARBAGE" 400 0 "-" "-"',
        f'1.2.3.4 - - {STAMP} "GET /" 414 0 "-" "-"',
        f'1.2.3.4 - - {STAMP} "-" 408 0 "-" "-"',
        f'1.2.3.4 - - {STAMP} "GET /a b c HTTP/1.1" 200 5 "-" "-"',
        f'1.2.3.4 - - {STAMP} "GET /caf\\xc3\\xa9 HTTP/1.1" 200 5 "-" "say \\"hi\\""',
        f'1.2.3.4 - - {STAMP} "GET /x HTTP/1.1" - 0 "-" "-"',
        f'1.2.3.4 - - {STAMP} "GET /x HTTP/1.1" 0500 0 "-" "-"',
        f'1.2.3.4 - - {STAMP} "GET /x HTTP/1.1" 200 123456789 "-" "-" 12 12000000',
        f'1.2.3.4 - - {STAMP} "GET /x HTTP/1.1" 200 1 "-" "-" trailing words here',
        f'1.2.3.4 - - {STAMP} "GET /x HTTP/1.1" 200 1 "-" "-" ',
        '1.2.3.4 - - [31/Feb/2026:99:99:99 +0000] "GET /bad-time HTTP/1.1" 200 1 "-" "-"',
        f'1.2.3.4 - - {STAMP} "GET /server-status?auto HTTP/1.1" 200 9 "-" "{OWN_AGENT}1.0"',
        f'1.2.3.4 - - {STAMP} "GET /x HTTP/1.1" 200 9 "-" "not {OWN_AGENT}1.0"',
        f'1.2.3.4 - - {STAMP} "GET /{"long" * 100} HTTP/1.1" 200 1 "-" "-"',
        f'h.example:443 [::1]:5 - - {STAMP} "GET /v HTTP/2.0" 302 0 "https://r/" "ua"',
        f'1.2.3.4 - - {STAMP} "GET /common HTTP/1.0" 200 77',
        "not an access line at all",
    ]
    for i, bad in enumerate(HOSTILE):
        one = bad.replace("\n", " ").replace('"', '\\"')
        lines += [
            f'1.2.3.{i} - {one.replace(" ", "_") or "-"} {STAMP} "GET /{one} HTTP/1.1" 500 1 '
            f'"{one}" "{one}"',
            f'{one.replace(" ", "")}x - - {STAMP} "{one}" 404 0 "-" "-"',
        ]
    return lines + [clean_block(line) for line in lines]


LINES = corpus()


def both(lines: list[str]) -> tuple[list[LogRecord], list[LogRecord]]:
    lazy = AccessLogParser("access").feed(lines, ARRIVAL)
    eager = AccessLogParser("access", lazy=False).feed(lines, ARRIVAL)
    assert len(lazy) == len(eager) == len([ln for ln in lines if ln])
    return lazy, eager


def test_most_records_are_lazy_and_read_the_same() -> None:
    lazy, eager = both(LINES)
    assert sum(r.expand is not None for r in lazy) > len(lazy) * 0.8
    assert all(r.expand is None for r in eager)
    for a, b in zip(lazy, eager, strict=True):
        # what was set at once must already be what the whole parse gives
        assert (a.ts, a.level, a.ts_from_line, a.raw, a.source, a.kind) == (
            b.ts,
            b.level,
            b.ts_from_line,
            b.raw,
            b.source,
            b.kind,
        ), b.raw
        assert a.text == b.text, b.raw
        assert list(a.fields.items()) == list(b.fields.items()), b.raw  # the same order too
        assert a == b and b == a


def test_json_and_wire_are_the_same_text() -> None:
    lazy, eager = both(LINES)
    for a, b in zip(lazy, eager, strict=True):
        assert record_json(a) == record_json(b) == encode_json(record_to_dict(b))
        assert encode_json(record_to_wire(a)) == encode_json(record_to_wire(b))
    assert records_line(lazy) == records_line(eager)
    assert logs_text(lazy) == logs_text(eager)


def test_after_a_fold_the_same_is_made_again() -> None:
    lazy, eager = both(LINES)
    first = [(r.text, dict(r.fields)) for r in lazy]
    fold(lazy)
    for r in lazy:
        if r.expand is not None:
            with pytest.raises(AttributeError):
                object.__getattribute__(r, "text")
    assert [(r.text, dict(r.fields)) for r in lazy] == first
    fold(eager)  # nothing to fold: eager records keep what they hold
    assert all(object.__getattribute__(r, "fields") is not None for r in eager)


def test_fields_are_made_once_until_folded() -> None:
    r = AccessLogParser("access").feed([LINES[0]], ARRIVAL)[0]
    assert r.expand is not None
    assert r.fields is r.fields
    f = r.fields
    fold([r])
    assert r.fields is not f and r.fields == f


def test_copies_and_pickles_are_plain_records() -> None:
    lazy, eager = both(LINES[:40])
    for a, b in zip(lazy, eager, strict=True):
        for c in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
            assert c == b and c.expand is None
            assert list(c.fields.items()) == list(b.fields.items())
        moved = replace(a, seq=7)
        assert moved.expand is None and moved.text == b.text and moved.seq == 7


def test_redaction_copies_and_never_makes_again_from_the_raw_line() -> None:
    lazy, eager = both(LINES)
    for a, b in zip(lazy, eager, strict=True):
        ra, rb = redact_record(a), redact_record(b)
        assert ra == rb
        assert ra.expand is None
        assert record_json(ra) == record_json(rb)
        fold([ra])
        assert ra.text == rb.text  # still the masked text, not the line parsed again


def test_filters_rules_and_suspects_answer_the_same() -> None:
    lazy, eager = both(LINES)
    filters = [
        LogFilter(),
        LogFilter(min_level="warn"),
        LogFilter(min_level="error"),
        LogFilter(http_errors=True),
        LogFilter(text="curl"),
        LogFilter(text="GET /x"),
        LogFilter().pin(client="1.2.3.4"),
        LogFilter().pin(url="/app/warn.php"),
    ]
    for f in filters:
        assert [f.matches(r) for r in lazy] == [f.matches(r) for r in eager], f
    assert [is_own_request(r) for r in lazy] == [is_own_request(r) for r in eager]
    assert any(is_own_request(r) for r in lazy)
    assert [record_client(r) for r in lazy] == [record_client(r) for r in eager]
    assert [record_path(r) for r in lazy] == [record_path(r) for r in eager]
    now = datetime(2026, 11, 26, 15, 1, 36, tzinfo=UTC)  # a second after STAMP
    fires = []
    for records in (lazy, eager):
        book = RuleBook(build_rules({"http_5xx_burst": {"count": 3}}))
        fires.append([(t.rule, t.message) for t in book.on_records(records, now)])
    assert fires[0] == fires[1]
    assert "http_5xx_burst" in [rule for rule, _ in fires[0]]
    lazy_suspects = suspects((), (), lazy, at=now)
    eager_suspects = suspects((), (), eager, at=now)
    assert [s.line() for s in lazy_suspects] == [s.line() for s in eager_suspects]
    assert lazy_suspects


def test_a_lazy_record_reads_only_what_it_needs() -> None:
    made: list[str] = []

    def expand(rec: LogRecord) -> tuple[str, dict[str, object]]:
        made.append(rec.raw)
        return f"text of {rec.raw}", {"status": 200}

    t = ARRIVAL
    r = make_lazy_record(t, "access", "apache-access", "info", "RAW", expand)
    assert (r.ts, r.level, r.raw, r.lines, r.seq) == (t, "info", "RAW", (), 0)
    assert not made
    assert not is_own_request(r) and not made  # no agent's name in the line: no fields made
    assert LogFilter().matches(r) and not made
    assert r.text == "text of RAW" and r.fields == {"status": 200} and made == ["RAW"]
    assert r == make_record(
        t, "access", "apache-access", "info", "text of RAW", (), {"status": 200}, "RAW"
    )
    with pytest.raises(AttributeError):
        r.no_such_field  # noqa: B018


def test_log_trouble_reads_messages_not_requests() -> None:
    t0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)

    def rec(kind: str, text: str, sec: int = 0) -> LogRecord:
        return make_record(t0 + timedelta(seconds=sec), kind, kind, "error", text)

    book = RuleBook(build_rules())
    quiet = [rec("apache-error", f"AH01071: fine {i}") for i in range(50)]
    asking = [rec("apache-access", "1.2.3.4 GET /?q=AH00161 500")]
    assert book.on_records(quiet + asking, t0) == []
    saying = rec("apache-error", "AH00161: server reached MaxRequestWorkers setting", 1)
    fired = book.on_records(quiet + [saying] + quiet, t0 + timedelta(seconds=1))
    assert [t.values["match"] for t in fired] == ["AH00161"]
    assert fired[0].values["text"] == saying.text


@pytest.mark.parametrize(
    ("pattern", "texts", "fires"),
    [
        (r"^boom$", ["a", "boom", "b"], True),
        (r"^boom$", ["a boom", "boom b"], False),
        (r"end\s+start", ["the end", "start here"], False),  # not across two lines
        (r"x(?!\s)", ["abx", "y"], True),  # line by line: nothing follows x in its line
        (r"\Aboom", ["a", "boom"], True),
        (r"(?<!\S)boom", ["a", "boom"], True),
    ],
)
def test_log_trouble_patterns_mean_what_they_mean_on_one_line(
    pattern: str, texts: list[str], fires: bool
) -> None:
    t0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    book = RuleBook(build_rules({"log_trouble": {"patterns": [pattern]}}))
    records = [make_record(t0, "error", "apache-error", "error", t) for t in texts]
    assert bool(book.on_records(records, t0)) is fires


@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        ('%h %l %u %t "%r" %>s %b %D', f'1.2.3.4 - bob {STAMP} "GET /a?b HTTP/1.1" 200 - 1234'),
        (
            '%v %a %{X-Forwarded-For}i %t "%r" %>s %B %T %{ms}T',
            f'shop 1.2.3.4 9.9.9.9 {STAMP} "GET /x HTTP/1.1" 404 12 0 7',
        ),
        ("%h %t %U%q %m %s %>s %I", f"1.2.3.4 {STAMP} /p.php?x=1 POST 302 500 -"),
        ("%a %t %>s %Z", f"::1 {STAMP} - \\x1b]0;t\\x07"),
        ('%h %t "%r" %p %P', f'1.2.3.4 {STAMP} "GET /x HTTP/1.1" - 77'),
    ],
)
def test_custom_formats_read_the_same_lazily(fmt: str, line: str) -> None:
    lazy = AccessLogParser("access", fmt=fmt).feed([line], ARRIVAL)[0]
    eager = AccessLogParser("access", fmt=fmt, lazy=False).feed([line], ARRIVAL)[0]
    assert lazy.expand is not None and eager.level != "unparsed"
    assert (lazy.ts, lazy.level, lazy.ts_from_line) == (eager.ts, eager.level, eager.ts_from_line)
    assert list(lazy.fields.items()) == list(eager.fields.items())
    assert lazy.text == eager.text and record_json(lazy) == record_json(eager)
