"""The PHP-FPM status page parser, over the corpus's real ``?json&full`` pages and hostile ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.core.text import is_clean
from console.parsing.fpm_status import (
    MAX_PAGE,
    MAX_PROCESSES,
    MAX_URI,
    NotFpmStatus,
    load_page,
    parse_fpm_status,
)
from tests.support.paths import FIXTURES

PAGES = FIXTURES / "fpm_status"
TS = datetime(2026, 11, 26, 15, 13, 30, tzinfo=UTC)
JSON_PAGES = sorted(PAGES.glob("*.json"))
SATURATED = sorted(PAGES.glob("www_saturated_json_full_*.json"))
HOSTILE = ["\x1b[31mred", "\u202eevil", "a\nb", "\x07bell", "\x9bcsi", "x" * 100_000]


def test_the_page_at_max_children_in_every_field() -> None:
    sample = parse_fpm_status(
        (PAGES / "www_at_max_children.json").read_bytes(),
        ts=TS,
        source="php-fpm:www",
        target="unix:/run/php/php8.2-fpm.sock:/fpm-status",
        max_children=8,
    )
    assert (sample.ts, sample.source, sample.target) == (
        TS,
        "php-fpm:www",
        "unix:/run/php/php8.2-fpm.sock:/fpm-status",
    )
    assert (sample.pool, sample.process_manager, sample.start_time) == (
        "www",
        "dynamic",
        1795705716,
    )
    assert (sample.accepted, sample.listen_queue, sample.max_listen_queue) == (2960, 0, 0)
    assert sample.listen_queue_len == 0
    assert (sample.idle, sample.active, sample.total, sample.max_active) == (0, 8, 8, 8)
    assert (sample.max_children_reached, sample.slow_requests, sample.max_children) == (1, 40, 8)
    assert len(sample.processes) == 8
    first = sample.processes[0]
    assert first.pid == 30513 and first.state == "Running" and first.busy
    assert first.started == 1795706005 and first.requests == 20
    assert first.duration == pytest.approx(0.017029)  # 17029 µs
    assert (first.method, first.uri) == ("GET", "/app/sleep.php?s=1.1")
    assert first.script == "/var/www/webapp/app/sleep.php"
    assert (first.user, first.content_length, first.cpu, first.memory) == ("-", 0, 0.0, 0)
    status_row = [p for p in sample.processes if p.uri.startswith("/fpm-status")]
    assert [(p.pid, p.script) for p in status_row] == [(30753, "-")]
    # longest first; the status request (128 µs) is last
    assert sample.busy[0].duration == pytest.approx(1.000270)
    assert sample.busy[-1].pid == 30753


@pytest.mark.parametrize("path", JSON_PAGES, ids=lambda p: p.name)
def test_every_corpus_page_agrees_with_its_json(path: Path) -> None:
    raw = json.loads(path.read_text())
    sample = parse_fpm_status(path.read_text(), ts=TS)
    assert sample.pool == raw["pool"]
    assert sample.accepted == raw["accepted conn"]
    assert (sample.idle, sample.active, sample.total) == (
        raw["idle processes"],
        raw["active processes"],
        raw["total processes"],
    )
    assert sample.max_children_reached == raw["max children reached"]
    listed = raw.get("processes", [])
    assert [p.pid for p in sample.processes] == [p["pid"] for p in listed]
    for proc, item in zip(sample.processes, listed, strict=True):
        assert proc.duration == pytest.approx(item["request duration"] / 1e6)
        assert proc.memory == item["last request memory"]
        assert proc.busy == (item["state"] != "Idle")


def test_the_saturation_run_climbs_to_max_children_then_frees_children() -> None:
    samples = [parse_fpm_status(p.read_bytes(), ts=TS) for p in SATURATED]
    assert len(samples) == 12
    reached = [s.max_children_reached for s in samples]
    assert reached == sorted(reached) and reached[0] == 0 and reached[-1] == 1
    assert max(s.active for s in samples) == 8
    full = [s for s in samples if s.idle == 0 and s.active == s.total == 8]
    assert full, "the pool was at pm.max_children in the corpus"
    # once the load stops, finished children show their last request's memory and CPU
    last = samples[-1]
    idle = [p for p in last.processes if not p.busy]
    assert idle and all(p.memory > 0 for p in idle)


def test_last_request_cpu_as_written() -> None:
    # php-fpm's CPU percent of a short request can be far above 100 (a real capture)
    sample = parse_fpm_status((PAGES / "www_event_fpm_311.json").read_bytes(), ts=TS)
    assert max(p.cpu for p in sample.processes) == pytest.approx(6329.11)


def test_ondemand_pool() -> None:
    sample = parse_fpm_status((PAGES / "api_json_full.json").read_bytes(), ts=TS)
    assert (sample.pool, sample.process_manager) == ("api", "ondemand")
    assert sample.max_children_reached == 2


def test_without_full_there_are_no_processes() -> None:
    sample = parse_fpm_status((PAGES / "www_json.json").read_bytes(), ts=TS)
    assert sample.processes == () and sample.total == 4


def test_keys_missing_in_older_versions_default() -> None:
    page = json.dumps(
        {
            "pool": "old",
            "process manager": "static",
            "accepted conn": 5,
            "processes": [{"pid": 7, "state": "Idle"}],
        }
    )
    sample = parse_fpm_status(page, ts=TS)
    assert (sample.pool, sample.accepted, sample.max_active, sample.slow_requests) == (
        "old",
        5,
        0,
        0,
    )
    (proc,) = sample.processes
    assert (proc.pid, proc.state, proc.duration, proc.uri, proc.method) == (7, "Idle", 0, "-", "-")
    assert (proc.script, proc.user, proc.cpu, proc.memory) == ("-", "-", 0.0, 0)


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("www_html_full.html", "html"),
        ("www_html.html", "html"),
        ("www_xml_full.xml", "xml"),
        ("www_plain.txt", "text"),
        ("www_full.txt", "text"),
        ("www_openmetrics.txt", "openmetrics"),
        ("www_ping.txt", "text"),
    ],
)
def test_the_other_formats_are_refused_by_name(name: str, what: str) -> None:
    with pytest.raises(NotFpmStatus) as info:
        parse_fpm_status((PAGES / name).read_bytes(), ts=TS)
    assert info.value.what == what
    if name == "www_plain.txt":
        assert "?json" in str(info.value)


@pytest.mark.parametrize(
    ("page", "what"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("{", "not-json"),
        ('{"pool": "www", ', "not-json"),
        ("[1, 2]", "text"),
        ('{"status": "ok"}', "json"),
        ("[" * 100_000, "text"),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "not-json"),  # nested past the decoder's depth
        ("File not found.\n", "text"),
        (b"\xff\xfe{\x00", "text"),
    ],
)
def test_what_is_not_the_status_json(page: str | bytes, what: str) -> None:
    with pytest.raises(NotFpmStatus) as info:
        parse_fpm_status(page, ts=TS)
    assert info.value.what == what, info.value


def test_a_page_past_4_mib_is_refused_before_decoding() -> None:
    page = '{"pool": "www", "x": "' + "a" * MAX_PAGE + '"}'
    with pytest.raises(NotFpmStatus) as info:
        load_page(page)
    assert info.value.what == "too-big"


def _page(**proc: object) -> str:
    base = {"pid": 1, "state": "Running", "request duration": 1_500_000}
    return json.dumps({"pool": "www", "processes": [{**base, **proc}]})


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_strings_are_cleaned_and_bounded(bad: str) -> None:
    page = json.dumps(
        {
            "pool": bad,
            "process manager": bad,
            "processes": [
                {
                    "pid": 1,
                    "state": bad,
                    "request method": bad,
                    "request uri": "/x?" + bad,
                    "script": bad,
                    "user": bad,
                }
            ],
        }
    )
    sample = parse_fpm_status(page, ts=TS)
    (proc,) = sample.processes
    texts = [sample.pool, sample.process_manager, proc.state, proc.method, proc.uri, proc.script]
    texts.append(proc.user)
    assert all(is_clean(t) for t in texts)
    assert len(proc.uri) <= MAX_URI and len(proc.script) <= 4096
    assert all(len(t) <= 256 for t in (sample.pool, proc.state, proc.method, proc.user))
    if bad.startswith("\x1b"):
        assert proc.uri == "/x?\\x1b[31mred" and sample.pool == "\\x1b[31mred"
    if bad.startswith("\u202e"):
        assert proc.uri == "/x?<U+202E>evil"
    if len(bad) > MAX_URI:
        assert proc.uri.endswith("[cut]")


def test_raw_control_characters_of_an_older_php_fpm_are_read_and_cleaned() -> None:
    # before PHP 8.1, php-fpm did not escape the URI in its JSON
    page = '{"pool":"www","processes":[{"pid":3,"state":"Running","request uri":"/a\x1b[2Jb"}]}'
    (proc,) = parse_fpm_status(page, ts=TS).processes
    assert proc.uri == "/a\\x1b[2Jb"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5, 0),
        (1e300, int(1e300)),
        ("12", 12),
        ("twelve", 0),
        (True, 0),
        (None, 0),
        ([1], 0),
        ({"a": 1}, 0),
        (float("nan"), 0),
        ("1" * 100, 0),
    ],
)
def test_odd_numbers_become_zero_or_their_value(value: object, expected: int) -> None:
    page = json.dumps({"pool": "www", "accepted conn": value, "processes": [{"pid": value}]})
    sample = parse_fpm_status(page, ts=TS)
    assert sample.accepted == expected
    assert sample.processes[0].pid == expected


def test_nan_and_infinity_in_durations_become_zero() -> None:
    page = (
        '{"pool":"www","processes":[{"pid":1,"request duration":NaN,'
        '"last request cpu":Infinity,"start time":-Infinity}]}'
    )
    (proc,) = parse_fpm_status(page, ts=TS).processes
    assert (proc.duration, proc.cpu, proc.started) == (0, 0.0, 0.0)


def test_the_number_of_processes_is_capped_and_odd_entries_skipped() -> None:
    items: list[object] = [{"pid": i, "state": "Idle"} for i in range(MAX_PROCESSES + 50)]
    items[0] = "not an object"
    items[1] = None
    sample = parse_fpm_status(json.dumps({"pool": "www", "processes": items}), ts=TS)
    assert len(sample.processes) == MAX_PROCESSES - 2
    assert sample.processes[0].pid == 2
    odd = parse_fpm_status(json.dumps({"pool": "www", "processes": {"a": 1}}), ts=TS)
    assert odd.processes == ()


def test_duration_is_microseconds() -> None:
    (proc,) = parse_fpm_status(_page(**{"request duration": 2_500_000}), ts=TS).processes
    assert proc.duration == 2.5
