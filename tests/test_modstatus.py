"""mod_status parsing over every captured ``?auto`` and HTML page (2.4.71, prefork and event)."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.core.events import ProcessRow, Worker
from console.incident.serialize import status_to_dict
from console.parsing.modstatus import (
    NotModStatus,
    auto_from_html,
    build_sample,
    count_scoreboard,
    parse_auto,
    parse_html,
    parse_status_text,
    uptime_seconds,
)
from tests.support.paths import FIXTURES
from tests.support.status_pages import OLDER_PAGE

STATUS = FIXTURES / "status"
TS = datetime(2026, 11, 26, 15, 4, 43, tzinfo=UTC)
AUTO_FILES = sorted(STATUS.glob("*/auto_*.txt"))
HTML_FILES = sorted(STATUS.glob("*/html_*.html"))
#: Scoreboard characters each MPM showed during the captures.
SEEN_CHARS = {"prefork": set("_WKRCLGS."), "event": set("_WKRCG.")}
#: The HTML pages also caught an L (logging) under event.
HTML_CHARS = set("_WKRCLGS.")
#: ?auto keys that must never come back as text.
NUMERIC_KEYS = (
    "ServerUptimeSeconds",
    "Load1",
    "Load5",
    "Load15",
    "Total Accesses",
    "Total kBytes",
    "Total Duration",
    "CPUUser",
    "CPUSystem",
    "CPUChildrenUser",
    "CPUChildrenSystem",
    "Uptime",
    "BusyWorkers",
    "GracefulWorkers",
    "IdleWorkers",
)
EVENT_KEYS = (
    "Processes",
    "Stopping",
    "ConnsTotal",
    "ConnsAsyncWaitIO",
    "ConnsAsyncWriting",
    "ConnsAsyncKeepAlive",
    "ConnsAsyncClosing",
)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_corpus_is_complete() -> None:
    assert len(AUTO_FILES) == 286
    assert len(HTML_FILES) == 92


# -- ?auto ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", AUTO_FILES, ids=_id)
def test_auto_every_capture(path: Path) -> None:
    mpm = path.parent.name
    fields = parse_auto(_read(path))
    assert fields["Host"] == "127.0.0.1"
    assert fields["ServerVersion"] == "Apache/2.4.71 (Debian)"
    assert fields["ServerMPM"] == mpm
    assert fields["Server Built"] == "2026-11-12T08:58:41"
    assert str(fields["CurrentTime"]).startswith("Thursday, 26-Nov-2026 ")
    for key in NUMERIC_KEYS:
        assert isinstance(fields[key], int | float), key
    assert isinstance(fields["Total Accesses"], int)
    assert isinstance(fields["Load1"], float)
    for key in EVENT_KEYS:
        assert (key in fields) == (mpm == "event"), key
    # The per-request averages exist only once there were requests and uptime.
    has_rate = fields["Uptime"] != 0 and fields["Total Accesses"] != 0
    assert ("ReqPerSec" in fields) == has_rate

    sample = build_sample(TS, "http://127.0.0.1/server-status", _read(path))
    sb = sample.scoreboard
    assert sb == fields["Scoreboard"]
    assert set(sb) <= SEEN_CHARS[mpm]
    assert sample.mpm == mpm
    assert sample.limit == len(sb)
    if mpm == "prefork":
        assert sample.limit == 20
    else:
        assert 60 <= sample.limit <= 90
    assert sum(sample.counts.values()) == len(sb)
    assert sample.idle == sb.count("_") == fields["IdleWorkers"]
    assert sample.busy == len(sb) - sb.count("_") - sb.count(".")
    # Apache's own BusyWorkers leaves out G (gracefully finishing) and S (starting).
    g, s = sb.count("G"), sb.count("S")
    assert fields["BusyWorkers"] == sample.busy - g - s
    if mpm == "event":
        assert fields["GracefulWorkers"] == 0  # even with G in the scoreboard
    else:
        assert fields["GracefulWorkers"] == g
    assert sample.uptime == float(fields["ServerUptimeSeconds"])  # type: ignore[arg-type]
    assert sample.total_accesses == fields["Total Accesses"]
    assert sample.extended is False and sample.workers == ()


def test_auto_exact_fields() -> None:
    fields = parse_auto(_read(STATUS / "prefork/auto_000.txt"))
    assert fields == {
        "Host": "127.0.0.1",
        "ServerVersion": "Apache/2.4.71 (Debian)",
        "ServerMPM": "prefork",
        "Server Built": "2026-11-12T08:58:41",
        "CurrentTime": "Thursday, 26-Nov-2026 15:04:43 UTC",
        "RestartTime": "Thursday, 26-Nov-2026 15:01:29 UTC",
        "ParentServerConfigGeneration": 1,
        "ParentServerMPMGeneration": 0,
        "ServerUptimeSeconds": 193,
        "ServerUptime": "3 minutes 13 seconds",
        "Load1": 0.14,
        "Load5": 0.19,
        "Load15": 0.11,
        "Total Accesses": 339,
        "Total kBytes": 2566,
        "Total Duration": 84735,
        "CPUUser": 12.04,
        "CPUSystem": 0.13,
        "CPUChildrenUser": 0,
        "CPUChildrenSystem": 0,
        "CPULoad": 6.3057,
        "Uptime": 193,
        "ReqPerSec": 1.75648,
        "BytesPerSec": 13614.4,
        "BytesPerReq": 7750.99,
        "DurationPerReq": 249.956,
        "BusyWorkers": 1,
        "GracefulWorkers": 0,
        "IdleWorkers": 3,
        "Scoreboard": "_W__................",
    }


def test_auto_right_after_restart() -> None:
    fields = parse_auto(_read(STATUS / "prefork/auto_166.txt"))
    for key in ("ReqPerSec", "BytesPerSec", "BytesPerReq", "DurationPerReq"):
        assert key not in fields
    assert fields["ServerUptime"] == ""
    assert fields["CPULoad"] == 0.0  # written as "0.e+79"
    assert fields["CPUSystem"] == 0.1  # written as ".1"
    sample = build_sample(TS, "u", _read(STATUS / "prefork/auto_166.txt"))
    assert sample.counts == {"_": 1, "W": 1, "S": 1, ".": 17}
    assert (sample.busy, sample.idle, sample.limit) == (2, 1, 20)
    assert sample.uptime == 0.0 and sample.total_accesses == 0

    event = build_sample(TS, "u", _read(STATUS / "event/auto_189.txt"))
    assert "ReqPerSec" not in event.fields
    assert (event.busy, event.idle, event.limit) == (1, 19, 60)
    assert event.fields["Processes"] == 2 and event.fields["Stopping"] == 0


def test_auto_graceful_prefork_and_event() -> None:
    prefork = build_sample(TS, "u", _read(STATUS / "prefork/auto_089.txt"))
    assert prefork.scoreboard == "WG_SCGGGGGGGGGGCGGGG"
    assert prefork.counts["G"] == 15 and prefork.fields["GracefulWorkers"] == 15
    assert (prefork.busy, prefork.idle) == (19, 1)

    event = build_sample(TS, "u", _read(STATUS / "event/auto_105.txt"))
    assert event.fields["GracefulWorkers"] == 0
    assert event.counts["G"] == 23 and event.counts["W"] == 4
    assert event.busy == 27 and event.fields["BusyWorkers"] == 4
    assert event.fields["Stopping"] == 4 and event.fields["Processes"] == 6

    wide = build_sample(TS, "u", _read(STATUS / "event/auto_335.txt"))
    assert wide.limit == 90
    assert wide.fields["Processes"] == 9 and wide.fields["Stopping"] == 5


def test_auto_unknown_keys_and_odd_numbers() -> None:
    text = (
        "www.example.com\n"
        "ServerVersion: Apache/2.4.99 (Unix)\n"
        "ServerMPM: worker\n"
        "Total Accesses: 12\n"
        "SomethingNew: 42\n"
        "Odd Key: .5\n"
        "Ratio: -1.5e+03\n"
        "Words: not a number 7\n"
        "Empty:\n"
        "Scoreboard: __W_K.\n"
    )
    fields = parse_auto(text)
    assert fields["Host"] == "www.example.com"
    assert fields["SomethingNew"] == 42
    assert fields["Odd Key"] == 0.5
    assert fields["Ratio"] == -1500.0
    assert fields["Words"] == "not a number 7"
    assert fields["Empty"] == ""
    sample = build_sample(TS, "u", text)
    assert (sample.mpm, sample.busy, sample.idle, sample.limit) == ("worker", 2, 3, 6)
    assert sample.total_kbytes is None and sample.uptime is None


def test_auto_ipv6_host_line_and_crlf() -> None:
    fields = parse_auto("::1\r\nServerMPM: event\r\nScoreboard: _W\r\n")
    assert fields["Host"] == "::1"
    assert fields["Scoreboard"] == "_W"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world\n",
        '{"pool": "www", "active processes": 3}',
        "<html><body><h1>It works!</h1></body></html>",
        "\n\n  <!DOCTYPE html>\n<title>Login</title>",
        "key: value\nother: 3\n",
    ],
    ids=["empty", "words", "json", "html", "doctype", "other-keys"],
)
def test_auto_rejects_what_is_not_mod_status(text: str) -> None:
    with pytest.raises(NotModStatus):
        parse_auto(text)


def test_auto_rejects_the_html_status_page() -> None:
    with pytest.raises(NotModStatus):
        parse_auto(_read(STATUS / "prefork/html_000.html"))


def test_count_scoreboard() -> None:
    assert count_scoreboard("") == {}
    assert count_scoreboard("_W__....GG") == {"_": 3, "W": 1, ".": 4, "G": 2}


# -- HTML ----------------------------------------------------------------------------------------


def _sum_row(text: str) -> list[int] | None:
    m = re.search(r"<tr><td>Sum</td>((?:<td>[^<]*</td>)+)</tr>", text)
    if m is None:
        return None
    cells = re.findall(r"<td>([^<]*)</td>", m.group(1))
    return [int(c) for i, c in enumerate(cells) if i != 3]  # column 3 is &nbsp;


@pytest.mark.parametrize("path", HTML_FILES, ids=_id)
def test_html_every_capture(path: Path) -> None:
    mpm = path.parent.name
    text = _read(path)
    workers, processes, info = parse_html(text)
    assert info["Server MPM"] == mpm
    assert info["Server Version"] == "Apache/2.4.71 (Debian)"
    assert info["extended"] is True
    sb = str(info["Scoreboard"])
    assert set(sb) <= HTML_CHARS
    assert len(sb) == 20 if mpm == "prefork" else 60 <= len(sb) <= 90
    # The table walks every slot Apache may use, beyond the scoreboard shown: not bounded by it.
    assert workers
    # Every row Apache printed in the table, counted independently.
    assert len(workers) == len(re.findall(r"<tr><td><b>\d+-\d+</b></td>", text))
    for w in workers:
        assert re.fullmatch(r"\d+-\d+", w.slot)
        assert w.mode in HTML_CHARS
        assert (w.pid is None) == (w.mode == ".")
        assert w.cpu >= 0 and w.seconds >= 0 and w.req_ms >= 0
        assert w.client in {f"127.0.0.{i}" for i in range(1, 10)} | {"::1", ""}
        assert w.protocol in ("http/1.1", "")
        assert "&amp;" not in w.request
    # The request lines, read independently: the last cell of each row, unescaped.
    raw_requests = re.findall(r"<td nowrap>([^<]*)</td></tr>", text)
    assert [w.request for w in workers] == [html.unescape(r) for r in raw_requests]
    # The worker table's non-idle rows and the scoreboard come from two passes over a live
    # scoreboard, so they may differ by a slot or two, never by more.
    busy_rows = sum(1 for w in workers if w.mode not in "_.")
    assert abs(busy_rows - sum(1 for c in sb if c not in "_.")) <= 3
    if mpm == "prefork":
        assert processes == ()
        return
    assert processes
    expected = _sum_row(text)
    assert expected is not None
    got = [
        len(processes),
        sum(p.stopping != "no" for p in processes),
        sum(p.conns_total for p in processes),
        sum(p.threads_busy for p in processes),
        sum(p.threads_graceful for p in processes),
        sum(p.threads_idle for p in processes),
        sum(p.async_wait_io or 0 for p in processes),
        sum(p.async_writing for p in processes),
        sum(p.async_keep_alive for p in processes),
        sum(p.async_closing for p in processes),
    ]
    assert got == expected
    for p in processes:
        assert p.pid is not None
        assert p.stopping in ("no", "yes", "yes (old gen)")
        assert p.conns_accepting in ("yes", "no")
        assert p.async_wait_io == 0
        assert p.threads_busy + p.threads_idle <= 10  # ThreadsPerChild 10


def test_html_prefork_rows_exact() -> None:
    workers, processes, info = parse_html(_read(STATUS / "prefork/html_000.html"))
    assert processes == ()
    assert info["Scoreboard"] == "___W................"
    assert info["Total accesses"] == "340 - Total Traffic: 2.5 MB - Total Duration: 84736"
    assert [w.slot for w in workers] == ["0-0", "1-0", "2-0", "3-0"]
    assert workers[0] == Worker(
        slot="0-0",
        pid=19293,
        mode="_",
        cpu=6.04,
        seconds=16.0,
        req_ms=0.0,
        client="127.0.0.3",
        vhost="",
        request="",
        protocol="http/1.1",
        accesses=0,
    )
    assert workers[3] == Worker(
        slot="3-0",
        pid=19773,
        mode="W",
        cpu=3.01,
        seconds=0.0,
        req_ms=0.0,
        client="127.0.0.1",
        vhost="localhost:80",
        request="GET /server-status HTTP/1.1",
        protocol="http/1.1",
        accesses=0,
    )


def test_html_event_rows_exact() -> None:
    workers, processes, info = parse_html(_read(STATUS / "event/html_311.html"))
    assert info["Server MPM"] == "event"
    assert workers[0] == Worker(
        slot="0-4",
        pid=26304,
        mode="W",
        cpu=0.0,
        seconds=1.0,
        req_ms=0.0,
        client="127.0.0.1",
        vhost="api.example.test:8080",
        request="GET /app/slow.php HTTP/1.0",
        protocol="http/1.1",
        accesses=1,
    )
    assert [p.pid for p in processes] == [26304, 26305, 26419]
    assert all(p.threads_busy == 10 for p in processes)


def test_html_event_stopping_processes() -> None:
    _, processes, info = parse_html(_read(STATUS / "event/html_105.html"))
    assert len(processes) == 6
    assert processes[0] == ProcessRow(
        slot=0,
        pid=25977,
        stopping="yes (old gen)",
        conns_total=7,
        conns_accepting="no",
        threads_busy=0,
        threads_graceful=0,
        threads_idle=0,
        async_wait_io=0,
        async_writing=0,
        async_keep_alive=0,
        async_closing=0,
    )
    assert processes[5] == ProcessRow(5, 26134, "no", 0, "yes", 6, 0, 4, 0, 0, 0, 0)
    assert len(str(info["Scoreboard"])) == 60


def test_html_wrapped_scoreboard_is_joined() -> None:
    # Apache breaks the <pre> scoreboard every 64 slots.
    text = _read(STATUS / "event/html_342.html")
    assert "<pre>" in text and "\n" in text.split("<pre>")[1].split("</pre>")[0]
    _, _, info = parse_html(text)
    assert len(str(info["Scoreboard"])) == 90


def test_html_entities_in_request_line() -> None:
    workers, _, _ = parse_html(_read(STATUS / "event/html_000.html"))
    assert "GET /app/sleep.php?s=2.2&n=3 HTTP/1.1" in {w.request for w in workers}


def test_html_columns_found_by_header() -> None:
    # Older releases: no Protocol or Dur column, no graceful or wait-io column, other order.
    workers, processes, info = parse_html(OLDER_PAGE)
    assert workers == (
        Worker(
            slot="0-0",
            pid=4711,
            mode="W",
            cpu=0.5,
            seconds=12.0,
            req_ms=3.0,
            client="203.0.113.5",
            vhost="example.com:443",
            request="POST /checkout?id=1&x=2 HTTP/1.1",
            protocol="",
            accesses=2,
        ),
    )
    assert processes == (ProcessRow(0, 4711, "no", 3, "yes", 2, 0, 23, None, 1, 2, 0),)
    assert info["Scoreboard"] == "W_K_"


def test_html_without_worker_table_is_not_extended() -> None:
    page = OLDER_PAGE.split('<table border="0">')[0] + "</body></html>"
    workers, processes, info = parse_html(page)
    assert workers == () and len(processes) == 1
    assert info["extended"] is False


@pytest.mark.parametrize(
    "text",
    [
        "<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>",
        "<html><body><table><tr><th>Name</th><th>Size</th></tr></table></body></html>",
        "plain words",
        "",
    ],
    ids=["index", "other-table", "text", "empty"],
)
def test_html_rejects_other_pages(text: str) -> None:
    with pytest.raises(NotModStatus):
        parse_html(text)


# -- samples -------------------------------------------------------------------------------------

PAIRS = [
    (p, p.with_name(p.name.replace("html_", "auto_").replace(".html", ".txt"))) for p in HTML_FILES
]
PAIRS = [(h, a) for h, a in PAIRS if a.exists()]


@pytest.mark.parametrize(("html", "auto"), PAIRS, ids=[_id(h) for h, _ in PAIRS])
def test_build_sample_from_both_pages(html: Path, auto: Path) -> None:
    sample = build_sample(TS, "http://127.0.0.1/server-status", _read(auto), _read(html))
    assert sample.extended is True
    assert sample.workers and sample.mpm == html.parent.name
    assert sample.limit == len(sample.scoreboard)
    assert (len(sample.processes) > 0) == (sample.mpm == "event")
    data = status_to_dict(sample)
    again = json.loads(json.dumps(data))
    assert again["scoreboard"] == sample.scoreboard
    assert again["counts"] == dict(Counter(sample.scoreboard))
    assert len(again["workers"]) == len(sample.workers)
    assert again["ts"] == "2026-11-26T15:04:43Z"
    assert again["workers"][0]["slot"] == sample.workers[0].slot


def test_parse_status_text_takes_either_page() -> None:
    from_html = parse_status_text(_read(STATUS / "event/html_311.html"), TS, "saved")
    assert from_html.mpm == "event" and from_html.extended
    assert from_html.limit == 60 and from_html.busy == 30 and from_html.idle == 0
    assert from_html.fields["BusyWorkers"] == 30  # the page's summary line
    assert from_html.fields["Load1"] == 0.87 and from_html.total_accesses == 87
    from_auto = parse_status_text(_read(STATUS / "event/auto_311.txt"), TS)
    assert (from_auto.busy, from_auto.idle) == (23, 7) and from_auto.workers == ()
    assert from_auto.fields["BusyWorkers"] == 23


def test_build_sample_rejects_html_given_as_auto() -> None:
    with pytest.raises(NotModStatus):
        build_sample(TS, "u", _read(STATUS / "event/html_311.html"))
    with pytest.raises(NotModStatus):
        build_sample(TS, "u", _read(STATUS / "event/auto_311.txt"), "<html><h1>Hi</h1></html>")


def _clock(value: object) -> datetime:
    return datetime.strptime(str(value), "%A, %d-%b-%Y %H:%M:%S %Z")


@pytest.mark.parametrize("path", HTML_FILES, ids=_id)
def test_auto_from_html_every_capture(path: Path) -> None:
    text = _read(path)
    fields = parse_auto(auto_from_html(text))
    _, _, info = parse_html(text)
    assert fields["ServerMPM"] == path.parent.name
    assert fields["Scoreboard"] == info["Scoreboard"]
    for key in ("Load1", "Total Accesses", "CPUUser", "BusyWorkers", "IdleWorkers"):
        assert isinstance(fields[key], int | float), key
    # The uptime in words agrees with the ?auto of the same poll, once the time between the
    # two fetches (seconds, under saturation) is taken off.
    auto = path.with_name(path.name.replace("html_", "auto_").replace(".html", ".txt"))
    if auto.exists():
        other = parse_auto(_read(auto))
        if other["RestartTime"] == fields["RestartTime"]:
            apart = _clock(fields["CurrentTime"]) - _clock(other["CurrentTime"])
            got = int(fields["ServerUptimeSeconds"]) - int(other["ServerUptimeSeconds"])
            assert abs(got - apart.total_seconds()) <= 1
    sb = str(fields["Scoreboard"])
    assert fields["IdleWorkers"] == sb.count("_")


def test_auto_from_html_exact() -> None:
    fields = parse_auto(auto_from_html(_read(STATUS / "prefork/html_000.html")))
    assert fields == {
        "ServerVersion": "Apache/2.4.71 (Debian)",
        "ServerMPM": "prefork",
        "Server Built": "2026-11-12T08:58:41",
        "CurrentTime": "Thursday, 26-Nov-2026 15:04:43 UTC",
        "RestartTime": "Thursday, 26-Nov-2026 15:01:29 UTC",
        "ParentServerConfigGeneration": 1,
        "ParentServerMPMGeneration": 0,
        "ServerUptime": "3 minutes 13 seconds",
        "ServerUptimeSeconds": 193,
        "Load1": 0.14,
        "Load5": 0.19,
        "Load15": 0.11,
        "Total Accesses": 340,
        "Total Duration": 84736,
        "CPUUser": 12.04,
        "CPUSystem": 0.14,
        "CPUChildrenUser": 0,
        "CPUChildrenSystem": 0,
        "CPULoad": 6.31,
        "BusyWorkers": 1,
        "GracefulWorkers": 0,
        "IdleWorkers": 3,
        "Scoreboard": "___W................",
    }


# -- ExtendedStatus Off (pages taken from this Debian apache2 with ExtendedStatus Off) --------


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_extended_status_off_pages(mpm: str) -> None:
    auto = _read(STATUS / "extended_off" / f"{mpm}.txt")
    page = _read(STATUS / "extended_off" / f"{mpm}.html")
    fields = parse_auto(auto)
    assert "Total Accesses" not in fields and "CPULoad" not in fields
    workers, processes, info = parse_html(page)
    assert workers == () and info["extended"] is False
    # The "PID Key" <pre> ("9087 in state: W") is not taken for the scoreboard.
    assert set(str(info["Scoreboard"])) <= set("_WC.")
    assert len(str(info["Scoreboard"])) == (10 if mpm == "prefork" else 20)
    assert (len(processes) > 0) == (mpm == "event")
    sample = build_sample(TS, "u", auto, page)
    assert sample.extended is False and sample.workers == ()
    assert sample.mpm == mpm and sample.total_accesses is None
    assert sample.busy == 1 and sample.limit == len(sample.scoreboard)
    from_page = parse_status_text(page, TS)
    assert from_page.busy == len(from_page.scoreboard) - from_page.scoreboard.count(
        "_"
    ) - from_page.scoreboard.count(".")
    assert from_page.busy >= 1


def test_uptime_seconds() -> None:
    assert uptime_seconds("") == 0
    assert uptime_seconds("1 second") == 1
    assert uptime_seconds("3 minutes 13 seconds") == 193
    assert uptime_seconds("2 days 1 hour 0 minutes 5 seconds") == 2 * 86400 + 3600 + 5
