from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.core.clock import ManualClock
from console.core.events import LogRecord, StatusSample, SystemSample
from console.incident.rules import DEFAULTS, RuleBook, RuleError, build_rules
from tests.support.wait import async_wait_for

T0 = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
GB = 1024**3
MB = 1024**2


def sysmp(sec: float, used: int, *, swap: int = 0, load: float = 0.2) -> SystemSample:
    return SystemSample(
        ts=T0 + timedelta(seconds=sec),
        mem_total=GB,
        mem_used=used,
        mem_available=GB - used,
        swap_total=GB,
        swap_used=swap,
        load1=load,
        load5=load,
        load15=load,
        cpu_percent=10,
        cpu_count=2,
    )


def status(sec: float, busy: int, limit: int = 20) -> StatusSample:
    sb = "W" * busy + "_" * (limit - busy)
    return StatusSample(
        ts=T0 + timedelta(seconds=sec),
        url="u",
        fields={},
        scoreboard=sb,
        counts={"W": busy, "_": limit - busy},
        busy=busy,
        idle=limit - busy,
        limit=limit,
    )


def access(sec: float, code: int) -> LogRecord:
    return LogRecord(
        ts=T0 + timedelta(seconds=sec),
        source="access",
        kind="apache-access",
        level="error" if code >= 500 else "info",
        text=f"GET / {code}",
        fields={"status": code, "url": "/report.php"},
    )


def only(name: str, **settings: object) -> RuleBook:
    cfg = {n: {"enabled": n == name} for n in DEFAULTS}
    cfg[name].update(settings)
    return RuleBook(build_rules(cfg))


def test_memory_jump_fires_on_a_sharp_rise_and_respects_cooldown() -> None:
    book = only("memory_jump", percent=15.0, seconds=30.0, cooldown=60.0)
    fired = []
    used = 400 * MB
    for sec in range(0, 200, 2):
        if 20 <= sec < 40:
            used += 20 * MB  # +200 MB in 20 s: ~20 % of 1 GiB
        fired += book.on_system(sysmp(sec, used))
    assert len(fired) == 1
    t = fired[0]
    assert t.rule == "memory_jump" and t.kind == "rule"
    assert t.values["percent"] >= 15
    assert "memory used rose" in t.message


def test_a_slow_drift_does_not_fire_memory_jump() -> None:
    book = only("memory_jump")
    used = 400 * MB
    fired = []
    for sec in range(0, 600, 2):
        used += MB // 2
        fired += book.on_system(sysmp(sec, used))
    assert fired == []


def test_memory_high_fires_again_only_after_cooldown() -> None:
    book = only("memory_high", percent=90.0, cooldown=30.0)
    fired = []
    for sec in range(0, 100):
        fired += book.on_system(sysmp(sec, int(GB * 0.95)))
    assert [round((f.at - T0).total_seconds()) for f in fired] == [0, 30, 60, 90]


def test_workers_near_limit_needs_to_hold() -> None:
    book = only("workers_near_limit", ratio=0.9, seconds=5.0)
    fired = []
    for sec in range(0, 4):
        fired += book.on_status(status(sec, 19))
    fired += book.on_status(status(4, 5))  # dips: the clock restarts
    for sec in range(5, 12):
        fired += book.on_status(status(sec, 20))
    assert len(fired) == 1
    assert fired[0].at == T0 + timedelta(seconds=10)
    assert fired[0].values["busy"] == 20


def test_http_5xx_burst() -> None:
    book = only("http_5xx_burst", count=10, seconds=10.0)
    calm = [access(i * 0.1, 200) for i in range(50)] + [access(5, 500) for _ in range(9)]
    assert book.on_records(tuple(calm), T0 + timedelta(seconds=5)) == []
    fired = book.on_records((access(6, 503),), T0 + timedelta(seconds=6))
    assert len(fired) == 1 and fired[0].values["count"] == 10


def test_load_and_swap() -> None:
    book = only("load_high", per_core=2.0)
    assert book.on_system(sysmp(0, GB // 2, load=3.9)) == []
    assert len(book.on_system(sysmp(1, GB // 2, load=4.1))) == 1
    book = only("swap_growing", mb=64.0, seconds=60.0)
    assert book.on_system(sysmp(0, GB // 2, swap=10 * MB)) == []
    assert len(book.on_system(sysmp(30, GB // 2, swap=80 * MB))) == 1


@pytest.mark.parametrize(
    "text",
    [
        "AH00161: server reached MaxRequestWorkers setting, consider raising the setting",
        "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate)",
        "Too many connections",
        "Out of memory: Killed process 1234 (apache2)",
        "WARNING: [pool www] server reached pm.max_children setting (8), consider raising it",
    ],
)
def test_log_records_that_announce_trouble(text: str) -> None:
    book = only("log_trouble")
    rec = LogRecord(ts=T0, source="x", kind="apache-error", level="error", text=text)
    fired = book.on_records((rec,), T0)
    assert len(fired) == 1 and fired[0].values["source"] == "x"


def test_old_trouble_read_back_at_start_does_not_fire() -> None:
    book = only("log_trouble")
    text = "[mpm_prefork:error] AH00161: server reached MaxRequestWorkers setting"
    old = LogRecord(
        ts=T0 - timedelta(hours=3), source="x", kind="apache-error", level="error", text=text
    )
    assert book.on_records((old,), T0) == []
    recent = LogRecord(
        ts=T0 - timedelta(seconds=30), source="x", kind="apache-error", level="error", text=text
    )
    assert len(book.on_records((recent,), T0)) == 1


def test_quiet_records_do_not_fire() -> None:
    book = only("log_trouble")
    rec = LogRecord(ts=T0, source="x", kind="apache-error", level="notice", text="AH00094 ok")
    assert book.on_records((rec,), T0) == []


@pytest.mark.parametrize(
    ("cfg", "needle"),
    [
        ({"nope": {}}, "unknown rule"),
        ({"memory_high": {"percent": "high"}}, "rules.memory_high.percent"),
        ({"memory_high": {"colour": 1}}, "rules.memory_high.colour"),
        ({"log_trouble": {"patterns": ["(unclosed"]}}, "bad regular expression"),
    ],
)
def test_bad_rule_settings_are_clear_errors(cfg: dict, needle: str) -> None:
    with pytest.raises(RuleError, match=needle.replace(".", r"\.")):
        build_rules(cfg)


async def test_one_incident_one_bundle(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Rules firing while a bundle waits for its tail join it; soon after, nothing new."""
    import asyncio

    from console.core.recorder import Recorder
    from console.incident.watch import IncidentWatch

    now = datetime.now(UTC)
    recorder = Recorder(reorder=0, clock=ManualClock(now))
    cfg = {n: {"enabled": n in ("memory_high", "load_high")} for n in DEFAULTS}
    told: list[tuple[str | None, str]] = []
    incidents = IncidentWatch(
        recorder,
        RuleBook(build_rules(cfg)),
        tmp_path,
        tail=0.3,
        min_gap=60.0,
        on_trigger=lambda t, outcome, joined: told.append((t.rule, outcome)),
    )
    task = asyncio.create_task(incidents.run())
    try:
        recorder.add_system(
            SystemSample(
                ts=now,
                mem_total=GB,
                mem_used=int(GB * 0.95),
                mem_available=0,
                swap_total=0,
                swap_used=0,
                load1=20,
                load5=1,
                load15=1,
                cpu_percent=1,
                cpu_count=2,
            )
        )
        await async_wait_for(lambda: incidents.saved, what="the bundle to be saved")
        later = now + timedelta(seconds=30)
        recorder.add_system(
            SystemSample(
                ts=later,
                mem_total=GB,
                mem_used=int(GB * 0.99),
                mem_available=0,
                swap_total=0,
                swap_used=0,
                load1=1,
                load5=1,
                load15=1,
                cpu_percent=1,
                cpu_count=2,
            )
        )
        await asyncio.sleep(0.5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(rules_fired := incidents.rules.fired) == 2, rules_fired
    assert len(incidents.saved) == 1
    saved = incidents.saved[0]
    assert saved.trigger.rule == "memory_high"
    assert [a["rule"] for a in saved.trigger.values["also_fired"]] == ["load_high"]
    report = (saved.path / "report.md").read_text()
    assert "Also fired" in report and "`load_high`" in report
    assert told == [
        ("memory_high", "saving a bundle in 0.3 s"),
        ("load_high", "noted in the bundle of rule memory_high"),
    ]


def test_a_rule_soon_after_a_bundle_says_none_is_saved(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from console.core.recorder import Recorder
    from console.incident.watch import IncidentWatch

    recorder = Recorder(reorder=0, clock=ManualClock(T0))
    cfg = {n: {"enabled": n == "memory_high"} for n in DEFAULTS}
    told: list[tuple[str, bool]] = []
    incidents = IncidentWatch(
        recorder,
        RuleBook(build_rules(cfg)),
        tmp_path,
        min_gap=60.0,
        on_trigger=lambda t, outcome, joined: told.append((outcome, joined)),
    )
    incidents._last_rule_bundle = T0 - timedelta(seconds=12)  # a rule's bundle was just written
    recorder.add_system(sysmp(0, int(GB * 0.97)))
    # the same incident: the console names it in that bundle's alert, no alert of its own
    assert told == [("no new bundle: the last was saved 12 s ago", True)]
