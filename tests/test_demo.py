"""The built-in incident of ``lamptop demo``: its story, its files and pages, its server.

Everything the demo writes is read back with lamptop's real parsers; the page renderer is
checked byte for byte against pages a real Apache 2.4.71 served.
"""

from __future__ import annotations

import asyncio
import html as htmllib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from console.core.config import Config
from console.core.events import LogRecord, StatusSample, SystemSample
from console.core.recorder import Recorder
from console.core.stack import MysqlSample
from console.demo import (
    LOOP,
    OUTAGE_AT,
    RECOVERY_AT,
    Demo,
    DemoScenario,
    DemoServer,
    exit_on_signals,
    phase_at,
)
from console.demo.pages import PageInfo, Row, render_auto, render_html
from console.parsing import parse_lines
from console.parsing.modstatus import build_sample, parse_auto
from console.sources.engine import Engine
from console.sources.plan import make_plan
from tests.support.helpers import MemorySink
from tests.support.paths import FIXTURES, ROOT
from tests.support.wait import async_wait_for

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
KINDS = {
    "access": "apache-access",
    "error": "apache-error",
    "php": "php-error",
    "slow": "mysql-slow",
}
PREFORK = FIXTURES / "status" / "prefork"


def fixed() -> datetime:
    return T0


@dataclass
class Played:
    """One loop and a bit of the story, stepped a second at a time with a frozen clock."""

    scenario: DemoScenario
    phases: list[str] = field(default_factory=list)
    samples: list[tuple[str, float, StatusSample]] = field(default_factory=list)
    system: list[tuple[str, SystemSample, StatusSample]] = field(default_factory=list)
    fpm: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    mysql: list[tuple[str, MysqlSample]] = field(default_factory=list)
    records: dict[str, list[LogRecord]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Played:
    scenario = DemoScenario(tmp_path_factory.mktemp("demo"), seed=7, clock=fixed)
    out = Played(scenario)
    for _ in range(int(LOOP) + 20):
        scenario.step(1.0)
        phase = scenario.phase
        out.phases.append(phase)
        sample = build_sample(scenario.now, "demo", scenario.status_auto(), scenario.status_html())
        out.samples.append((phase, scenario.t % LOOP, sample))
        out.system.append((phase, scenario.system_sample(), sample))
        out.fpm.append((phase, json.loads(scenario.fpm_status())))
        out.mysql.append((phase, scenario.mysql_sample()))
    for name, kind in KINDS.items():
        text = scenario.paths[name].read_text(encoding="utf-8")
        out.records[name] = parse_lines(kind, text.splitlines(), zone=UTC, arrival=T0)
    return out


# -- the story -------------------------------------------------------------------------------------


def test_the_story_goes_through_every_phase_in_order(played: Played) -> None:
    order = [p for i, p in enumerate(played.phases) if i == 0 or played.phases[i - 1] != p]
    assert order == ["calm", "build-up", "outage", "recovery", "calm"]
    assert played.scenario.culprit == "/report.php"
    assert phase_at(OUTAGE_AT) == "outage" and phase_at(LOOP + 1) == "calm"
    # A visitor sees the outage within about 40 seconds, and the loop lasts 2-3 minutes.
    assert OUTAGE_AT <= 45 and 120 <= LOOP <= 180


def test_every_page_parses_as_prefork_with_twenty_slots(played: Played) -> None:
    for _, _, sample in played.samples:
        assert sample.mpm == "prefork" and sample.extended
        assert sample.limit == 20
        assert sample.server_version == "Apache/2.4.71 (Debian)"
        assert sample.busy == sum(1 for c in sample.scoreboard if c in "WKG")
        # The worker table and the scoreboard agree slot by slot.
        for worker in sample.workers:
            index = int(worker.slot.split("-")[0])
            assert sample.scoreboard[index] == worker.mode
            assert (worker.pid is None) == (worker.mode == ".")


def test_calm_is_mostly_idle_and_knows_nothing_of_the_report(played: Played) -> None:
    calm = [s for phase, pos, s in played.samples if phase == "calm" and pos < 25]
    assert calm
    for sample in calm:
        assert sample.counts.get("W", 0) <= 5
        assert sample.counts.get("_", 0) >= 3
        assert not any("/report.php" in w.request and w.mode == "W" for w in sample.workers)


def test_outage_fills_the_workers_with_report_php(played: Played) -> None:
    outage = [s for phase, pos, s in played.samples if phase == "outage" and pos >= OUTAGE_AT + 8]
    assert len(outage) > 40
    for sample in outage:
        assert sample.counts.get("W", 0) >= 14
    serving = [w for s in outage for w in s.workers if w.mode == "W"]
    on_report = [w for w in serving if w.request.startswith("GET /report.php?month=")]
    assert len(on_report) >= 0.8 * len(serving)
    assert all(w.request.endswith(" HTTP/1.1") and w.vhost for w in on_report)
    assert max(w.seconds for w in on_report) >= 4


def test_recovery_drains_the_workers(played: Played) -> None:
    late = [
        s for phase, pos, s in played.samples if phase == "recovery" and pos >= RECOVERY_AT + 20
    ]
    assert late
    for sample in late:
        assert sample.counts.get("W", 0) <= 5
        assert not any("/report.php" in w.request and w.mode in "WG" for w in sample.workers)


def test_memory_climbs_swaps_and_falls(played: Played) -> None:
    by_phase: dict[str, list[SystemSample]] = {}
    for phase, sys_sample, _ in played.system:
        by_phase.setdefault(phase, []).append(sys_sample)
    gib = 1024**3
    first = by_phase["calm"][0]
    assert first.mem_total == gib and first.swap_used == 0
    assert first.mem_used + first.mem_available == gib
    assert max(s.mem_used for s in by_phase["calm"][:25]) < 0.6 * gib
    peak = max(by_phase["outage"], key=lambda s: s.mem_used)
    assert peak.mem_used >= 0.93 * gib
    assert max(s.swap_used for s in by_phase["outage"]) > 0
    assert by_phase["recovery"][-1].mem_used < 0.6 * gib
    assert max(s.load1 for s in by_phase["outage"]) > 5 > first.load1
    services = {m.name for m in peak.services}
    assert services == {"apache", "php-fpm", "mysql"}
    # The PHP-FPM children that run the report grow by tens of MB; Apache's only proxy.
    children = [p for p in peak.top if p.name == "php-fpm8.2" and p.rss > 40 * 1024**2]
    assert children and max(p.growth for p in children) > 20 * 1024**2
    assert all(p.rss < 16 * 1024**2 for p in peak.top if p.name == "apache2")


def test_the_fpm_pool_fills_with_report_php_and_counts_it(played: Played) -> None:
    outage = [page for phase, page in played.fpm if phase == "outage"]
    calm = [page for phase, page in played.fpm if phase == "calm"]
    full = [p for p in outage if p["active processes"] == p["total processes"] == 20]
    assert full, "the pool reaches pm.max_children during the outage"
    running = [proc for proc in full[-1]["processes"] if proc["state"] == "Running"]
    on_report = [p for p in running if p["request uri"].startswith("/report.php?month=")]
    assert len(on_report) >= 15
    assert max(proc["request duration"] for proc in running) > 5_000_000  # microseconds
    assert outage[-1]["max children reached"] > calm[0]["max children reached"]
    assert outage[-1]["slow requests"] > calm[0]["slow requests"]
    assert max(p["active processes"] for p in calm) < 10
    # every FPM pid is a process the memory pane knows
    for (_, page), (_, sys_sample, _) in zip(played.fpm, played.system, strict=True):
        assert {proc["pid"] for proc in page["processes"]} <= set(sys_sample.rss_by_pid)


def test_the_report_query_runs_in_the_processlist(played: Played) -> None:
    outage = [s for phase, s in played.mysql if phase == "outage"]
    longest = max((t for s in outage for t in s.running), key=lambda t: t.time)
    assert "GROUP BY month, c.name" in longest.info and longest.time > 1.0
    assert longest.user == "app" and longest.db == "shop"
    assert max(s.connected for s in outage) > max(
        s.connected for p, s in played.mysql if p == "calm"
    )


def test_every_worker_pid_has_its_memory(played: Played) -> None:
    for _, sys_sample, status in played.system:
        pids = {w.pid for w in status.workers if w.pid is not None}
        assert pids <= set(sys_sample.rss_by_pid)


# -- the files, read with lamptop's parsers ------------------------------------------------------


@pytest.mark.parametrize("name", list(KINDS))
def test_logs_parse_without_unparsed_lines(played: Played, name: str) -> None:
    records = played.records[name]
    assert records
    unparsed = [r.raw for r in records if r.level == "unparsed"]
    assert unparsed == []
    entries = [r for r in records if r.fields.get("event") != "header"]
    assert len(entries) == played.scenario.counts[name]


def test_access_log_holds_the_500s_of_the_report(played: Played) -> None:
    records = played.records["access"]
    report = [r for r in records if str(r.fields.get("url", "")).startswith("/report.php")]
    assert Counter(r.fields["status"] for r in report)[500] > 50
    assert Counter(r.fields["status"] for r in records)[200] > 300
    line = played.scenario.paths["access"].read_text().splitlines()[0]
    assert re.fullmatch(
        r'\S+ - - \[26/Nov/2026:15:0\d:\d\d \+0000\] "(GET|POST) \S+ HTTP/1\.1" \d{3} \d+'
        r' "[^"]*" "[^"]*"',
        line,
    )


def test_php_log_has_the_memory_fatal_and_one_record_per_stack_trace(played: Played) -> None:
    records = played.records["php"]
    fatal = (
        "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate"
        " 20480 bytes) in /var/www/html/report.php on line 42"
    )
    assert any(r.text == fatal for r in records)
    traced = [r for r in records if r.lines]
    assert traced
    for record in traced:
        assert record.level == "error"
        assert record.lines[0] == "Stack trace:"
        assert record.lines[-1].startswith("  thrown in ")
    text = played.scenario.paths["php"].read_text()
    assert text.count("Stack trace:") == len(traced)
    assert "Failed to open stream: Permission denied" in text  # the cache that never fills


def test_apache_error_log_says_max_request_workers_once_per_loop(played: Played) -> None:
    texts = [r.text for r in played.records["error"]]
    assert sum("AH00161: server reached MaxRequestWorkers setting" in t for t in texts) == 1
    assert any("AH00171: Graceful restart requested" in t for t in texts)
    first = played.scenario.paths["error"].read_text().splitlines()[0]
    assert re.match(
        r"\[Thu Nov 26 15:0\d:\d\d\.\d{6} 2026\] \[\w+:\w+\] \[pid (\d+):tid \1\] ", first
    )


def test_slow_log_holds_the_report_query(played: Played) -> None:
    queries = [r for r in played.records["slow"] if r.fields.get("event") == "query"]
    report = [r for r in queries if "GROUP BY month" in r.fields["query"]]
    assert len(report) > 50
    times = [float(r.fields["query_time"]) for r in report]
    assert 2.0 <= min(times) and max(times) <= 8.0 and max(times) > 4.0
    assert all("JOIN" in r.fields["query"] and "FROM orders" in r.fields["query"] for r in report)
    text = played.scenario.paths["slow"].read_text()
    assert text.startswith("/usr/sbin/mariadbd, Version: ")
    assert text.count("# Time: ") < len(queries)  # written only when the second changes


# -- determinism and time ------------------------------------------------------------------------


def play(workdir: Path, seed: int, clock: Callable[[], datetime] = fixed) -> dict[str, bytes]:
    scenario = DemoScenario(workdir, seed=seed, clock=clock, speed=2.0)
    for dt in (0.5, 1.5, 3.0) * 20:
        scenario.step(dt)
    out = {name: path.read_bytes() for name, path in scenario.paths.items()}
    out["auto"] = scenario.status_auto().encode()
    out["html"] = scenario.status_html().encode()
    return out


def test_same_seed_and_clock_give_identical_files(tmp_path: Path) -> None:
    a = play(tmp_path / "a", seed=3)
    b = play(tmp_path / "b", seed=3)
    assert a == b
    assert play(tmp_path / "c", seed=4)["access"] != a["access"]


def test_a_frozen_clock_advances_by_story_time_over_speed(tmp_path: Path) -> None:
    scenario = DemoScenario(tmp_path, seed=1, clock=fixed, speed=2.0)
    scenario.step(10.0)
    assert scenario.now == T0 + timedelta(seconds=5)
    assert "CurrentTime: Thursday, 26-Nov-2026 15:00:05 UTC" in scenario.status_auto()


def test_timestamps_follow_a_moving_clock(tmp_path: Path) -> None:
    now = [T0]
    scenario = DemoScenario(tmp_path, seed=1, clock=lambda: now[0])
    for _ in range(60):
        now[0] += timedelta(seconds=1)
        scenario.step(1.0)
    records = parse_lines(
        "apache-access", scenario.paths["access"].read_text().splitlines(), zone=UTC
    )
    assert records
    assert all(T0 <= r.ts <= now[0] for r in records)


def test_preroll_stamps_the_past(tmp_path: Path) -> None:
    scenario = DemoScenario(tmp_path, seed=1, clock=fixed)
    scenario.preroll(50.0)
    assert scenario.phase == "outage" and scenario.now == T0
    records = parse_lines(
        "apache-access", scenario.paths["access"].read_text().splitlines(), zone=UTC
    )
    assert min(r.ts for r in records) >= T0 - timedelta(seconds=51)


# -- the pages against a real Apache -------------------------------------------------------------


def _status_time(text: str) -> datetime:
    return datetime.strptime(text.split(", ")[1], "%d-%b-%Y %H:%M:%S UTC").replace(tzinfo=UTC)


@pytest.mark.parametrize("name", ["auto_005.txt", "auto_237.txt", "auto_229.txt"])
def test_auto_text_is_byte_for_byte_apache(name: str) -> None:
    real = (PREFORK / name).read_text()
    f = dict(line.split(": ", 1) for line in real.splitlines()[1:])
    info = PageInfo(
        now=_status_time(f["CurrentTime"]),
        restart=_status_time(f["RestartTime"]),
        config_generation=int(f["ParentServerConfigGeneration"]),
        mpm_generation=int(f["ParentServerMPMGeneration"]),
        uptime=int(f["ServerUptimeSeconds"]),
        load=(float(f["Load1"]), float(f["Load5"]), float(f["Load15"])),
        accesses=int(f["Total Accesses"]),
        kbytes=int(f["Total kBytes"]),
        duration_ms=int(f["Total Duration"]),
        cpu=(
            float(f["CPUUser"]),
            float(f["CPUSystem"]),
            float(f["CPUChildrenUser"]),
            float(f["CPUChildrenSystem"]),
        ),
        scoreboard=f["Scoreboard"],
    )
    assert render_auto(info) == real


_ROW = re.compile(
    r"<tr><td><b>(\d+)-(\d+)</b></td><td>([-\d]+)</td><td>(\d+)/(\d+)/(\d+)</td>"
    r"<td>(?:<b>)?(.)(?:</b>)?\n</td><td>([\d.]+)</td><td>(\d+)</td><td>(\d+)</td>"
    r"<td>(\d+)</td><td>([\d.]+)</td><td>([\d.]+)</td><td>([\d.]+)\n</td><td>(.*?)</td>"
    r"<td>(.*?)</td><td nowrap>(.*?)</td><td nowrap>(.*?)</td></tr>"
)


@pytest.mark.parametrize(
    ("name", "uptime", "kbytes"),
    [("html_237.html", 73, 23694), ("html_222.html", 58, 4904), ("html_000.html", 193, 2566)],
)
def test_html_page_is_byte_for_byte_apache(name: str, uptime: int, kbytes: int) -> None:
    real = (PREFORK / name).read_text(encoding="latin-1")

    def get(rx: str) -> str:
        m = re.search(rx, real)
        assert m is not None
        return m.group(1)

    rows = [
        Row(
            slot=int(v[0]),
            generation=int(v[1]),
            pid=None if v[2] == "-" else int(v[2]),
            acc=(int(v[3]), int(v[4]), int(v[5])),
            mode=v[6],
            cpu=float(v[7]),
            ss=int(v[8]),
            req_ms=int(v[9]),
            dur_ms=int(v[10]),
            conn_kb=float(v[11]),
            child_mb=float(v[12]),
            slot_mb=float(v[13]),
            client=htmllib.unescape(v[14]),
            protocol=v[15],
            vhost=htmllib.unescape(v[16]),
            request=htmllib.unescape(v[17]),
        )
        for v in _ROW.findall(real)
    ]
    cpu = re.search(r"CPU Usage: u([\d.]+) s([\d.]+) cu([\d.]+) cs([\d.]+)", real)
    assert cpu is not None and rows
    load = [float(x) for x in get(r"Server load: (.*?)</dt>").split()]
    info = PageInfo(
        now=_status_time(get(r"Current Time: (.*?)</dt>")),
        restart=_status_time(get(r"Restart Time: (.*?)</dt>")),
        config_generation=int(get(r"Config\. Generation: (\d+)")),
        mpm_generation=int(get(r"MPM Generation: (\d+)")),
        uptime=uptime,
        load=(load[0], load[1], load[2]),
        accesses=int(get(r"Total accesses: (\d+)")),
        kbytes=kbytes,
        duration_ms=int(get(r"Total Duration: (\d+)")),
        cpu=(float(cpu[1]), float(cpu[2]), float(cpu[3]), float(cpu[4])),
        scoreboard=get(r"<pre>(.*?)</pre>"),
    )
    assert render_html(info, rows) == real


# -- the server and the whole demo ---------------------------------------------------------------


def test_server_answers_like_mod_status_over_http(tmp_path: Path) -> None:
    scenario = DemoScenario(tmp_path, seed=2, clock=fixed)
    scenario.step(5.0)
    server = DemoServer(scenario)
    url = server.start()
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/server-status")
        with requests.Session() as http:
            auto = http.get(url + "?auto", timeout=5)
            assert auto.status_code == 200
            assert auto.headers["Content-Type"].startswith("text/plain")
            assert auto.headers["Server"] == "Apache/2.4.71 (Debian)"
            assert parse_auto(auto.text)["ServerMPM"] == "prefork"
            page = http.get(url, timeout=5)
            assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
            sample = build_sample(T0, url, auto.text, page.text)
            assert sample.extended and sample.workers and sample.limit == 20
            assert http.get(url.replace("/server-status", "/nope"), timeout=5).status_code == 404
    finally:
        server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "?auto", timeout=2)


def test_demo_config_watches_the_demo_and_cleans_up() -> None:
    with Demo(seed=2) as demo:
        workdir = demo.workdir
        assert workdir.is_dir() and workdir.name.startswith("lamptop-demo-")
        cfg = demo.config(Config(status_interval=0.5))
        assert cfg.discover is False and cfg.timezone == "UTC" and cfg.status_interval == 0.5
        assert cfg.status_url == demo.url
        plan = make_plan(cfg)
        assert [(p.name, p.kind) for p in plan.logs] == [
            ("access", "apache-access"),
            ("apache", "apache-error"),
            ("php", "php-error"),
            ("mysql-slow", "mysql-slow"),
        ]
        assert all(Path(p.path).parent == workdir for p in plan.logs)
        assert plan.status_url == demo.url
        assert requests.get(f"{demo.url}?auto", timeout=5).status_code == 200
    assert not workdir.exists()


def test_demo_keeps_a_workdir_it_did_not_make(tmp_path: Path) -> None:
    with Demo(workdir=tmp_path / "mine"):
        pass
    assert (tmp_path / "mine" / "access.log").exists()


async def test_demo_system_steps_the_story_and_delivers_samples() -> None:
    sink = MemorySink()
    with Demo(seed=3, speed=20.0) as demo:
        source = demo.system_source(sink)
        task = asyncio.create_task(source.run())
        try:  # one every interval / speed = 0.05 s
            await async_wait_for(lambda: len(sink.system) >= 5, what="five samples")
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        story = demo.scenario.t
    assert sink.states and sink.states[0].status == "ok" and sink.states[0].kind == "system"
    # five samples are four periods of 0.05 s apart at least: the story, at 20 times the pace,
    # went on 4 s at least (more when the machine is slow: it follows the clock)
    assert story >= 4.0
    sample = sink.system[-1]
    assert sample.self_rss > 0 and sample.scanned and sample.rss_by_pid


async def test_the_engine_runs_over_the_demo() -> None:
    recorder = Recorder(reorder=0.1)
    with Demo(seed=5, speed=10.0, start_at=OUTAGE_AT + 10) as demo:
        cfg = demo.config(Config(status_interval=0.2, system_interval=0.5))
        engine = Engine(cfg, recorder, make_plan(cfg), system=demo.system_source(recorder))
        task = asyncio.create_task(engine.run())

        def everything() -> bool:
            recorder.release(force=True)
            sources = {r.source for r in recorder.records}
            return bool(recorder.status and recorder.system and len(sources) == 4)

        try:
            await async_wait_for(everything, interval=0.1, what="samples and four log sources")
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert {r.source for r in recorder.records} == {"access", "apache", "php", "mysql-slow"}
    assert not [r for r in recorder.records if r.level == "unparsed"]
    status = recorder.status[-1]
    assert any("/report.php" in w.request for w in status.workers if w.mode == "W")
    assert recorder.system[-1].mem_total == 1024**3


# -- a signal ends the demo cleanly --------------------------------------------------------------


@pytest.fixture
def handlers() -> Iterator[None]:
    """SIGHUP and SIGTERM at their default, as in a process started from a terminal (a test
    runner started under ``nohup`` ignores SIGHUP, and so would the code under test); this
    process's handlers of the signals the test sends itself put back after."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGCONT)}
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    yield
    for sig, handler in saved.items():
        signal.signal(sig, signal.SIG_DFL if handler is None else handler)


@pytest.mark.usefixtures("handlers")
def test_sigterm_raises_system_exit_and_the_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    with pytest.raises(SystemExit) as caught, exit_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises long before this ends
    assert caught.value.code == 128 + signal.SIGTERM
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


@pytest.mark.usefixtures("handlers")
def test_in_an_event_loop_the_exit_waits_for_the_tasks_to_reach_an_await() -> None:
    steps: list[str] = []

    async def console() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            steps.append("console cancelled")
            raise

    async def main() -> None:
        task = asyncio.create_task(console())
        await asyncio.sleep(0)
        os.kill(os.getpid(), signal.SIGHUP)
        steps.append("the step that got the signal ran to its end")
        await task

    with pytest.raises(SystemExit) as caught, exit_on_signals():
        asyncio.run(main())
    assert caught.value.code == 128 + signal.SIGHUP
    assert steps == ["the step that got the signal ran to its end", "console cancelled"]


@pytest.mark.usefixtures("handlers")
def test_a_second_signal_cannot_cut_the_clean_up_short() -> None:
    cleaned, resumed = [], []
    # Textual resumes its terminal on SIGCONT; the kernel sends one with a hangup.
    signal.signal(signal.SIGCONT, lambda *_: resumed.append(True))
    with pytest.raises(SystemExit) as caught, exit_on_signals():
        try:
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(5)
        finally:
            for again in (signal.SIGHUP, signal.SIGTERM, signal.SIGCONT):
                os.kill(os.getpid(), again)
            time.sleep(0.05)
            cleaned.append(True)
    assert caught.value.code == 128 + signal.SIGHUP and cleaned and not resumed


@pytest.mark.usefixtures("handlers")
def test_a_hangup_ignored_on_entry_stays_ignored() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with exit_on_signals():
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.05)
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


def _demo_in_a_terminal(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``lamptop demo`` as the session leader of a new pseudo-terminal, as a terminal runs it."""
    env = {
        **os.environ,
        "TMPDIR": str(tmp_path),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm-256color",
        "PYTHONPATH": str(ROOT),
    }
    master, slave = os.openpty()
    # Signals ignored by the test runner (started under nohup, or in the background) would stay
    # ignored through exec, and the demo keeps them so: give the demo the default ones, as a
    # shell in a terminal does.
    take_the_terminal = (
        "import fcntl, os, signal, sys, termios\n"
        "for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):\n"
        "    signal.signal(sig, signal.SIG_DFL)\n"
        "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'console.cli', 'demo'])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", take_the_terminal],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    return proc, master


def _read(master: int, until: Callable[[bytes], bool], timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while not until(seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end is gone
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pseudo-terminal")
@pytest.mark.parametrize("how", ["terminal closes", "SIGTERM"])
def test_the_demo_removes_its_directory_when_a_signal_ends_it(tmp_path: Path, how: str) -> None:
    proc, master = _demo_in_a_terminal(tmp_path)
    try:
        shown = _read(master, lambda seen: b"DEMO" in seen, timeout=30)
        workdirs = list(tmp_path.glob("lamptop-demo-*"))
        assert b"DEMO" in shown and len(workdirs) == 1, shown[-2000:]
        assert (workdirs[0] / "access.log").exists()
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
            after = _read(master, lambda _: proc.poll() is not None, timeout=20)
            assert b"\x1b[?1049l" in after  # the console left the alternate screen
        else:
            os.close(master)  # the kernel hangs up the terminal: SIGHUP to its session
            master = -1
        code = proc.wait(timeout=20)
    finally:
        if master >= 0:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    expected = signal.SIGTERM if how == "SIGTERM" else signal.SIGHUP
    assert code == 128 + expected
    assert not workdirs[0].exists()


def test_the_demos_bundles_go_to_a_folder_of_their_own_named_demo(tmp_path: Path) -> None:
    from console.core.config import Config
    from console.core.recorder import Recorder
    from console.incident.rules import Trigger
    from console.incident.watch import IncidentWatch

    base = Config(snapshot_dir=None)
    with Demo(seed=1, speed=1.0) as demo:
        cfg = demo.config(base)
    assert Path(cfg.snapshot_dir or "").name == "demo"
    assert Path(cfg.snapshot_dir or "").parent.name == "snapshots"
    given = Config(snapshot_dir=str(tmp_path / "mine"))
    with Demo(seed=1, speed=1.0) as demo:
        demo_cfg = demo.config(given)
    assert demo_cfg.snapshot_dir == str(tmp_path / "mine")  # a dir the user chose is kept
    watch = IncidentWatch.for_config(demo_cfg, Recorder(), host="demo")
    saved = asyncio.run(watch.save(Trigger("key", T0, message="saved by hand")))
    assert saved.path is not None and "-demo-key" in saved.path.name
