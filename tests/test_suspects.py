"""The likely culprit: one script holding the workers and the memory, named with its figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.core.events import LogRecord, StatusSample, SystemSample, Worker
from console.core.recorder import Snapshot
from console.incident.report import make_report
from console.incident.rules import Trigger
from console.view.suspects import suspects

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
MB = 1024 * 1024
URL = "http://127.0.0.1/server-status"


def worker(slot: int, pid: int, request: str, seconds: float = 10.0) -> Worker:
    return Worker(
        slot=str(slot),
        pid=pid,
        mode="W",
        cpu=0.0,
        seconds=seconds,
        req_ms=0.0,
        client=f"203.0.113.{slot}",
        vhost="shop",
        request=request,
    )


def incident() -> tuple[list[StatusSample], list[SystemSample], list[LogRecord]]:
    rows = [worker(i, 100 + i, f"GET /report.php?id={i} HTTP/1.1", 20.0 + i) for i in range(9)]
    rows.append(worker(9, 109, "GET /index.php HTTP/1.1", 1.0))
    rows.append(worker(10, 110, "GET /server-status?auto HTTP/1.1", 0.0))  # lamptop's own
    status = StatusSample(
        ts=T0,
        url=URL,
        fields={},
        scoreboard="W" * 10,
        counts={"W": 10},
        workers=tuple(rows),
        busy=10,
        limit=10,
        extended=True,
    )
    rss = {100 + i: 64 * MB for i in range(9)} | {109: 20 * MB, 110: 15 * MB}
    system = SystemSample(
        ts=T0,
        mem_total=1024 * MB,
        mem_used=900 * MB,
        mem_available=124 * MB,
        swap_total=0,
        swap_used=0,
        load1=9.0,
        load5=5.0,
        load15=2.0,
        cpu_percent=100.0,
        rss_by_pid=rss,
    )

    def access(sec: float, path: str, code: int, client: str = "198.51.100.7") -> LogRecord:
        return LogRecord(
            ts=T0 - timedelta(seconds=sec),
            source="access",
            kind="apache-access",
            level="error" if code >= 500 else "info",
            text=f"{client} GET {path}",
            fields={
                "url": path,
                "status": code,
                "client": client,
                "duration_us": 9_500_000 if "report" in path else 2_000,
            },
        )

    records = [
        access(50 - i * 0.7, f"/report.php?id={i}", 500 if i % 10 == 0 else 200) for i in range(62)
    ]
    records += [access(40 - i, "/static/site.css", 200) for i in range(25)]  # calm, busy
    records += [access(90, "/report.php?id=old", 200)]  # before the minute: not counted
    records += [
        LogRecord(
            ts=T0 - timedelta(seconds=30 - i),
            source="php",
            kind="php-error",
            level="error",
            text="PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted "
            "(tried to allocate 20480 bytes) in /var/www/html/report.php on line 41",
        )
        for i in range(14)
    ]
    records.sort(key=lambda r: r.ts)
    return [status], [system], records


def test_the_script_holding_workers_and_memory_comes_first_with_its_figures() -> None:
    status, system, records = incident()
    found = suspects(status, system, records, at=T0)
    assert [s.path for s in found] == ["/report.php", "/index.php"]
    first = found[0]
    assert (first.workers, first.rss, first.requests, first.errors) == (9, 576 * MB, 62, 7)
    assert first.line() == (
        "/report.php: 9 of 10 workers, 64 MB each, 576 MB = 56 % of RAM, oldest 28 s; "
        "62 requests in the last minute (7 answered 5xx), slowest 9.5 s; "
        '14 "Allowed memory size" fatals'
    )
    assert first.short() == "suspect /report.php 9/10 576 MB 14 fatals"
    assert all("server-status" not in s.path for s in found)  # lamptop's own poll left out


def test_without_a_worker_table_the_logs_still_name_the_failing_script() -> None:
    status, system, records = incident()
    blind = [
        StatusSample(
            ts=T0,
            url=URL,
            fields={},
            scoreboard="W" * 10,
            counts={"W": 10},
            busy=10,
            limit=10,
            extended=False,
        )
    ]
    found = suspects(blind, system, records, at=T0)
    assert found[0].path == "/report.php" and found[0].workers == 0
    assert found[0].errors == 7 and found[0].fatals == 14
    assert suspects([], [], [], at=T0) == []


def test_report_md_opens_with_the_verdict() -> None:
    status, system, records = incident()
    snap = Snapshot(
        taken_at=T0, records=tuple(records), status=tuple(status), system=tuple(system), states={}
    )
    text = make_report(
        snap,
        Trigger("rule", T0, rule="workers_near_limit"),
        host="web1",
        start=T0 - timedelta(minutes=5),
        end=T0,
    )
    lines = text.splitlines()
    assert lines[2] == "## Likely culprit"
    assert lines[4].startswith("**`/report.php`**: 9 of 10 workers, 64 MB each, 576 MB")
    assert "- `/index.php`: 1 of 10 workers" in text
    # errors grouped by message say how many clients they came from
    row = next(line for line in text.splitlines() if "`access`" in line and "report.php" in line)
    assert row.startswith("| 7 | 1 |")


async def test_the_screen_names_the_suspect_while_saturated() -> None:
    from console.core.clock import ManualClock
    from console.core.recorder import Recorder
    from tests.support.app import make_app

    status, system, records = incident()
    recorder = Recorder(reorder=0, clock=ManualClock(T0))
    recorder.add_records(records)
    recorder.release(force=True)
    recorder.add_system(system[0])
    recorder.add_status(status[0])
    app = make_app(recorder=recorder)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        title = app.panes.workers.border_subtitle or ""
        assert "suspect /report.php 9/10 576 MB 14 fatals" in title
        calm = StatusSample(
            ts=T0,
            url=URL,
            fields={},
            scoreboard="W_________",
            counts={"W": 1, "_": 9},
            busy=1,
            limit=10,
            extended=True,
        )
        recorder.add_status(calm)
        await pilot.pause(1.5)
        assert "suspect" not in (app.panes.workers.border_subtitle or "")


def test_report_html_draws_the_timeline_of_the_window() -> None:
    import xml.etree.ElementTree as ET

    from console.incident.report_html import make_report_html

    status, system, records = incident()
    snap = Snapshot(
        taken_at=T0, records=tuple(records), status=tuple(status), system=tuple(system), states={}
    )
    trigger = Trigger("rule", T0, rule="workers_near_limit")
    start = T0 - timedelta(minutes=2)
    md = make_report(snap, trigger, host="web1", start=start, end=T0)
    page = make_report_html(md, snap, trigger, host="web1", start=start, end=T0)
    svg = ET.fromstring(page[page.index("<svg") : page.index("</svg>") + 6])
    ns = "{http://www.w3.org/2000/svg}"
    lines = svg.findall(f"{ns}polyline")
    assert len(lines) == 2  # workers busy, memory (no swap on this machine)
    bars = [r for r in svg.findall(f"{ns}rect") if r.get("fill") == "#dc2626"]
    assert bars and sum(1 for _ in bars) <= 13  # 7 5xx in the minute, in 10 s buckets
    texts = [t.text for t in svg.iter(f"{ns}text")]
    assert "workers busy of 10" in texts and "workers_near_limit" in texts
    assert "<td><code>/report.php</code></td>" in page or "<code>/report.php</code>" in page


def test_php_fpm_processes_count_for_the_script_they_run() -> None:
    from tests.support.stack_scripted import fpm_process, fpm_sample

    procs = tuple(fpm_process(7000 + n, f"/report.php?month={n}", 10.0 + n) for n in range(4))
    procs += (fpm_process(7100, "/cart.php", 1.0), fpm_process(7101, "/x.php", 50.0, state="Idle"))
    rss = {7000 + n: 120 * MB for n in range(4)} | {7100: 20 * MB, 7101: 900 * MB}
    system = SystemSample(T0, 1024 * MB, 900 * MB, 124 * MB, 0, 0, 1, 1, 1, 50, rss_by_pid=rss)
    found = suspects([], [system], [], at=T0, fpm=[fpm_sample(procs)])
    top = found[0]
    assert (top.path, top.php, top.php_rss, top.oldest) == ("/report.php", 4, 480 * MB, 13.0)
    assert "4 PHP-FPM processes, 120 MB each, 480 MB = 47 % of RAM" in top.line()
    assert top.short() == "suspect /report.php 4 php 480 MB"
    assert [s.path for s in found] == ["/report.php", "/cart.php"]  # the idle one holds nothing
    # a sample taken after the moment asked about is not used
    later = fpm_sample(procs, ts=T0 + timedelta(seconds=5))
    assert suspects([], [system], [], at=T0, fpm=[later]) == []
