"""The Prometheus metrics of ``lamptop record --metrics``: the figures read from a recorder,
their labels when strangers chose them, and the exposition read back by prometheus-client's
own parsers (text 0.0.4 and OpenMetrics)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from console.core.clock import ManualClock
from console.core.events import (
    ServiceMem,
    SourceState,
    StatusSample,
    SystemSample,
    Worker,
    make_record,
)
from console.core.recorder import Recorder
from console.incident.metrics_families import LamptopCollector
from console.incident.metrics_state import (
    LABEL_MAX,
    OTHER,
    MetricsState,
    MetricsTally,
    label,
    read_state,
    top_scripts,
)
from console.incident.rule_base import Trigger
from console.incident.watch import Saved
from console.parsing.modstatus import count_scoreboard
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.stack_samples import fpm, mysql, thread

T0 = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
URL = "http://127.0.0.1/server-status"
Parsed = dict[str, dict[tuple[tuple[str, str], ...], float]]


def worker(slot: int, request: str, seconds: float = 3.0, mode: str = "W") -> Worker:
    return Worker(
        slot=f"0-{slot}",
        pid=1000 + slot,
        mode=mode,
        cpu=0.0,
        seconds=seconds,
        req_ms=0.0,
        client="203.0.113.5",
        vhost="example.com",
        request=request,
    )


def status(
    ts: datetime, scoreboard: str, requests: tuple[str, ...] = (), accesses: int = 100
) -> StatusSample:
    counts = count_scoreboard(scoreboard)
    return StatusSample(
        ts=ts,
        url=URL,
        fields={},
        scoreboard=scoreboard,
        counts=counts,
        workers=tuple(worker(i, r, seconds=float(i)) for i, r in enumerate(requests)),
        total_accesses=accesses,
        busy=sum(n for ch, n in counts.items() if ch not in "_."),
        idle=counts.get("_", 0),
        limit=len(scoreboard),
        extended=bool(requests),
    )


def system(ts: datetime, services: tuple[ServiceMem, ...] = ()) -> SystemSample:
    return SystemSample(
        ts=ts,
        mem_total=8 << 30,
        mem_used=6 << 30,
        mem_available=2 << 30,
        swap_total=1 << 30,
        swap_used=1 << 20,
        load1=3.5,
        load5=2.0,
        load15=1.0,
        cpu_percent=75.0,
        services=services,
        scanned=bool(services),
    )


def render(state: MetricsState, *, openmetrics: bool = False) -> Parsed:
    """``state`` written as a scrape would, then parsed back: {sample: {labels: value}}."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LamptopCollector(lambda: state))
    if openmetrics:
        text = openmetrics_latest(registry).decode()
        families = list(openmetrics_families(text))
    else:
        text = generate_latest(registry).decode()
        families = list(text_string_to_metric_families(text))
    assert_inert(text.replace("\n", " "), "the exposition")
    out: Parsed = {}
    for family in families:
        assert family.name.startswith("lamptop_")
        assert family.documentation
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def by(parsed: Parsed, name: str, key: str) -> dict[str, float]:
    return {dict(labels)[key]: v for labels, v in parsed.get(name, {}).items()}


def recorder() -> tuple[Recorder, ManualClock]:
    clock = ManualClock(T0)
    return Recorder(clock=clock, reorder=0.0), clock


def test_workers_by_state_sum_to_the_slots_and_unknown_characters_are_other() -> None:
    rec, clock = recorder()
    rec.add_status(status(clock.now(), "WWKR_S..CLGI" + "?" * 3 + "_" * 5))
    parsed = render(read_state(rec, MetricsTally()))
    workers = by(parsed, "lamptop_apache_workers", "state")
    limit = parsed["lamptop_apache_workers_limit"][()]
    assert limit == 20
    assert sum(workers.values()) == limit
    assert workers == {
        "waiting": 6,
        "starting": 1,
        "reading": 1,
        "sending": 2,
        "keepalive": 1,
        "dns": 0,
        "closing": 1,
        "logging": 1,
        "graceful": 1,
        "idle_cleanup": 1,
        "open": 2,
        "other": 3,
    }
    assert parsed["lamptop_apache_requests_total"][()] == 100


def test_requests_per_second_from_two_polls() -> None:
    rec, clock = recorder()
    rec.add_status(status(clock.now(), "W___", accesses=100))
    clock.advance(2.0)
    rec.add_status(status(clock.now(), "W___", accesses=150))
    parsed = render(read_state(rec, MetricsTally()))
    assert parsed["lamptop_apache_requests_per_second"][()] == pytest.approx(25.0)


def test_in_flight_scripts_are_bounded_to_the_busiest_then_other() -> None:
    requests = tuple(f"GET /s{i % 7}.php?id={i} HTTP/1.1" for i in range(30))
    requests += ("GET /server-status?auto HTTP/1.1",)  # lamptop's own poll: not counted
    sample = status(T0, "W" * 31 + "_", requests)
    scripts = top_scripts(sample, 3)
    assert [s.name for s in scripts] == ["/s0.php", "/s1.php", "/s2.php", OTHER]
    assert [s.count for s in scripts] == [5, 5, 4, 16]
    assert sum(s.count for s in scripts) == 30
    assert scripts[0].oldest == 28.0  # the slowest /s0.php request: i = 28
    rec, clock = recorder()
    rec.add_status(sample)
    parsed = render(read_state(rec, MetricsTally(), scripts=3))
    flying = by(parsed, "lamptop_apache_inflight_requests", "script")
    assert len(flying) == 4
    assert flying[OTHER] == 16
    assert by(parsed, "lamptop_apache_inflight_oldest_seconds", "script").keys() == flying.keys()


def test_hostile_label_values_are_cleaned_bounded_and_read_back_whole() -> None:
    paths = [
        '/q"uote.php',
        "/back\\slash.php",
        "/esc\x1b[31mred.php",
        "/bidi\u202egnp.php",
        "/nul\x00.php",
        "/" + "x" * 10_000,
    ]
    rec, clock = recorder()
    rec.add_status(status(clock.now(), "W" * 10, tuple(f"GET {p} HTTP/1.1" for p in paths)))
    # strangers' strings where the other labels come from: pool names, log source names
    for i, text in enumerate(HOSTILE):
        rec.add_fpm(fpm(0, pool=f"pool{i}{text}"))
    rec.set_state(SourceState(clock.now(), "log\nwith\r\x1b]0;t\x07", "apache-error", "ok"))
    rec.add_records(
        [make_record(clock.now(), "log\nwith\r\x1b]0;t\x07", "apache-error", "error", "x")]
    )
    rec.release(force=True)
    for openmetrics in (False, True):
        parsed = render(read_state(rec, MetricsTally(), scripts=20), openmetrics=openmetrics)
        flying = set(by(parsed, "lamptop_apache_inflight_requests", "script"))
        assert '/q"uote.php' in flying
        assert "/back\\slash.php" in flying
        assert "/esc\\x1b[31mred.php" in flying
        assert "/bidi<U+202E>gnp.php" in flying
        assert "/nul\\x00.php" in flying
        long = [s for s in flying if s.startswith("/xxx")]
        assert len(long) == 1 and len(long[0]) == LABEL_MAX and long[0].endswith("[cut]")
        pools = set(by(parsed, "lamptop_fpm_listen_queue", "pool"))
        assert len(pools) == len(HOSTILE)
        assert pools == {label(f"pool{i}{text}") for i, text in enumerate(HOSTILE)}
        sources = by(parsed, "lamptop_log_lines_total", "source")
        assert sources == {"log\\x0awith\\x0d\\x1b]0;t\\x07": 1}


def test_stale_samples_are_not_exported() -> None:
    rec, clock = recorder()
    rec.add_status(status(clock.now(), "W_"))
    rec.add_system(system(clock.now()))
    rec.add_mysql(mysql(0))
    clock.advance(31.0)
    parsed = render(read_state(rec, MetricsTally()))
    assert "lamptop_apache_workers" not in parsed
    assert "lamptop_memory_used_bytes" not in parsed
    assert "lamptop_mysql_max_connections" not in parsed
    assert parsed["lamptop_build_info"] == {(("version", "0.1.0"),): 1.0}


def test_memory_swap_and_service_rss() -> None:
    rec, clock = recorder()
    services = (ServiceMem("apache", 300 << 20, 11), ServiceMem("mysql", 900 << 20, 1))
    rec.add_system(system(clock.now(), services))
    clock.advance(1.0)
    rec.add_system(system(clock.now()))  # between scans: the last scan's services stand
    parsed = render(read_state(rec, MetricsTally()))
    assert parsed["lamptop_memory_used_bytes"][()] == 6 << 30
    assert parsed["lamptop_memory_total_bytes"][()] == 8 << 30
    assert parsed["lamptop_swap_used_bytes"][()] == 1 << 20
    assert parsed["lamptop_cpu_busy_ratio"][()] == 0.75
    assert by(parsed, "lamptop_service_rss_bytes", "service") == {
        "apache": 300 << 20,
        "mysql": 900 << 20,
    }
    assert by(parsed, "lamptop_service_processes", "service")["apache"] == 11


def test_lines_errors_and_their_rates_per_source() -> None:
    rec, clock = recorder()
    tally = MetricsTally()
    rec.subscribe(tally)
    rec.set_state(SourceState(clock.now(), "access", "apache-access", "ok"))
    rec.set_state(SourceState(clock.now(), "php", "php-error", "unreadable", "permission denied"))
    rec.set_state(SourceState(clock.now(), "system", "system", "ok"))
    first = read_state(rec, tally)  # the first mark: no rate yet
    assert first.line_rates == {"access": 0.0, "php": 0.0}
    levels = ["info"] * 20 + ["error"] * 5 + ["crit"] * 2 + ["warn"] * 3
    rec.add_records([make_record(clock.now(), "access", "apache-access", lv, "x") for lv in levels])  # type: ignore[arg-type]
    rec.release(force=True)
    clock.advance(2.0)
    parsed = render(read_state(rec, tally))
    assert by(parsed, "lamptop_log_lines_total", "source") == {"access": 30, "php": 0}
    assert by(parsed, "lamptop_log_errors_total", "source") == {"access": 7, "php": 0}
    assert by(parsed, "lamptop_log_lines_per_second", "source")["access"] == 15.0
    assert by(parsed, "lamptop_log_errors_per_second", "source")["access"] == 3.5
    up = {dict(k)["source"]: (dict(k)["kind"], v) for k, v in parsed["lamptop_source_up"].items()}
    assert up == {
        "access": ("apache-access", 1),
        "php": ("php-error", 0),
        "system": ("system", 1),
    }
    assert parsed["lamptop_records_dropped_total"][()] == 0


def test_rule_fires_and_bundles_are_counted() -> None:
    tally = MetricsTally()
    fired = Trigger("rule", T0, rule="workers_near_limit", message="9 of 10 busy")
    tally.on_trigger(fired, "saving a bundle in 10 s")
    tally.on_trigger(fired, "noted", True)
    tally.on_trigger(Trigger("rule", T0, rule="http_5xx_burst"), "saving")
    tally.on_saved(Saved(fired, None, "disk full"))
    tally.on_saved(Saved(fired, Path("/tmp/b")))
    rec, _ = recorder()
    parsed = render(read_state(rec, tally))
    assert by(parsed, "lamptop_rule_fires_total", "rule") == {
        "workers_near_limit": 2,
        "http_5xx_burst": 1,
    }
    assert parsed["lamptop_bundles_written_total"][()] == 1
    assert parsed["lamptop_bundle_failures_total"][()] == 1


def test_php_fpm_and_mysql_figures() -> None:
    rec, clock = recorder()
    rec.add_fpm(fpm(0, pool="www", active=5, idle=1, queue=7, reached=3, max_children=6))
    rec.add_fpm(fpm(0, pool="api", active=1, idle=3, max_children=None))
    rec.add_fpm(fpm(0, pool="www", active=6, idle=0, queue=9, reached=4, max_children=6))
    threads = (thread(1, 12.5, "SELECT SLEEP(20)"), thread(2, 300.0, "", command="Sleep"))
    rec.add_mysql(
        mysql(0, connected=40, max_connections=50, threads=threads, status={"Threads_running": 3})
    )
    parsed = render(read_state(rec, MetricsTally()))
    procs = {
        (dict(k)["pool"], dict(k)["state"]): v for k, v in parsed["lamptop_fpm_processes"].items()
    }
    assert procs == {
        ("www", "active"): 6,
        ("www", "idle"): 0,
        ("api", "active"): 1,
        ("api", "idle"): 3,
    }
    assert by(parsed, "lamptop_fpm_max_children", "pool") == {"www": 6}
    assert by(parsed, "lamptop_fpm_listen_queue", "pool") == {"www": 9, "api": 0}
    assert by(parsed, "lamptop_fpm_max_children_reached_total", "pool")["www"] == 4
    assert parsed["lamptop_mysql_threads_connected"][()] == 40
    assert parsed["lamptop_mysql_threads_running"][()] == 3
    assert parsed["lamptop_mysql_max_connections"][()] == 50
    assert parsed["lamptop_mysql_longest_query_seconds"][()] == 12.5


def test_no_sample_yet_still_gives_a_valid_page() -> None:
    rec, _ = recorder()
    parsed = render(read_state(rec, MetricsTally()))
    assert "lamptop_apache_workers" not in parsed
    assert parsed["lamptop_process_cpu_seconds_total"][()] > 0
    assert parsed["lamptop_bundles_written_total"][()] == 0


def test_the_ring_is_read_from_its_newest_end() -> None:
    rec, clock = recorder()
    for i in range(900):
        rec.add_system(system(clock.now() - timedelta(seconds=900 - i)))
    rec.add_system(system(clock.now()))
    state = read_state(rec, MetricsTally())
    assert state.system is rec.system[-1]
