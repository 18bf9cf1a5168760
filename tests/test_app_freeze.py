"""Freeze, save and open: the flight recorder seen from the keyboard."""

from __future__ import annotations

import json
import re
import stat
import time
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from console.core.config import Config
from console.core.recorder import Recorder
from console.incident.bundle_read import read_bundle
from console.incident.rules import DEFAULTS as DEFAULT_RULES
from console.incident.rules import RuleBook, build_rules
from console.incident.watch import IncidentWatch
from console.tui.app import LamptopApp
from console.view.freeze import FreezeState
from console.view.panes import memory_model
from tests.support.scripted import ScriptedEngine, fixed_clock, scripted_recorder
from tests.support.wait import async_wait_for
from widgets.banner import FrozenBanner
from widgets.header import HeaderBar
from widgets.logview import LogView
from widgets.memory import MemoryView
from widgets.scoreboard import ScoreboardView

SIZE = (120, 40)


# -- the freeze state on its own ---------------------------------------------------------------
def test_freeze_state_pins_a_snapshot_and_says_what_arrived_since() -> None:
    snap = scripted_recorder().snapshot()
    state = FreezeState()
    assert not state.frozen and not state.read_only and state.snapshot is None
    assert state.banner(UTC, snap.total + 5) == ""
    assert state.header_note("DEMO") == "DEMO" and state.header_note("") == ""
    state.freeze(snap)
    assert state.frozen and state.snapshot is snap and state.word == "FROZEN"
    assert state.arrived_since(snap.total + 1) == 1
    assert state.banner(UTC, snap.total + 1) == (
        "at 13:02:00 · 1 new record · [ ] rewind · space: live · s: save"
    )
    later = state.banner(timezone(timedelta(hours=1)), snap.total + 1234)
    assert later == "at 14:02:00 · 1,234 new records · [ ] rewind · space: live · s: save"
    assert state.header_note("DEMO") == "DEMO FROZEN" and state.header_note("") == "FROZEN"
    state.saving = True
    assert (
        state.banner(UTC, snap.total)
        == "at 13:02:00 · 0 new records · [ ] rewind · saving a snapshot…"
    )
    state.saving = False
    state.thaw()
    assert not state.frozen and state.snapshot is None
    assert state.banner(UTC, snap.total) == "" and state.header_note("DEMO") == "DEMO"


def test_a_bundle_is_frozen_for_good() -> None:
    snap = scripted_recorder().snapshot()
    state = FreezeState((snap, "20250314-130200-key"))
    assert state.frozen and state.read_only and state.snapshot is snap
    assert state.word == "BUNDLE" and state.header_note("") == "BUNDLE"
    assert state.banner(UTC, 0) == "read-only · [ ] rewind · 20250314-130200-key"
    state.thaw()
    state.freeze(scripted_recorder().snapshot())
    assert state.snapshot is snap  # no live data to go back to, nothing else to pin


# -- the console -----------------------------------------------------------------------------
def live_app(tmp_path: Path, snapdir: Path | None = None) -> tuple[LamptopApp, IncidentWatch]:
    recorder = scripted_recorder()
    incidents = IncidentWatch(
        recorder,
        RuleBook(build_rules({"memory_high": {"enabled": False}})),
        snapdir or tmp_path / "snaps",
        window=3600,
    )
    app = LamptopApp(
        recorder,
        config=Config(timezone="UTC"),
        engine=ScriptedEngine(recorder),  # type: ignore[arg-type]
        clock=fixed_clock,
        incidents=incidents,
    )
    return app, incidents


async def test_freeze_holds_the_screen_while_collection_goes_on(tmp_path: Path) -> None:
    app, _ = live_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        await pilot.press("space")
        log = app.query_one(LogView)
        frozen_count = len(log.records)
        assert app.freeze.snapshot is not None
        # what the frozen screen holds; more may have arrived while the key was handled
        total_at_freeze = app.freeze.snapshot.total
        banner = app.query_one(FrozenBanner)

        def arrived() -> int:
            found = re.search(r"(\d+) new records?", banner.text)
            return int(found.group(1)) if found else 0

        # the scripted source adds a record every 0.1 s: collection never stops, and the
        # banner (drawn by the refreshes meanwhile) counts them
        await async_wait_for(lambda: arrived() >= 5, why=lambda: banner.text)
        assert app.freeze.frozen and banner.display
        assert app.recorder.total >= total_at_freeze + 5
        assert len(log.records) == frozen_count  # those refreshes left the panes alone
        assert "FROZEN" in app.query_one(HeaderBar).note
        # filtering works on the frozen data
        await pilot.press("slash", "5", "0", "0", "enter")
        await pilot.pause()
        assert log.matched and all("500" in r.text for r in log.matched)
        assert len(log.records) == frozen_count
        await pilot.press("escape", "space")
        await async_wait_for(lambda: not banner.display and app.shown_snapshot is not None)
        assert not app.freeze.frozen
        assert app.shown_snapshot is app.live_snapshot
        assert app.shown_snapshot is not None and app.shown_snapshot.total > total_at_freeze


async def test_save_writes_a_bundle_that_opens_with_the_same_data(tmp_path: Path) -> None:
    app, incidents = live_app(tmp_path)
    notes: list[str] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.3)
        await pilot.press("s")
        await async_wait_for(lambda: incidents.saved, what="the bundle to be saved")
        await async_wait_for(lambda: len(app._notifications) > 0, what="a notification")
        assert app.freeze.frozen
        frozen = app.freeze.snapshot
        notes = [n.message for n in app._notifications]
        paths = [a.path for a in app.alerts.alerts]
    assert frozen is not None
    assert len(incidents.saved) == 1 and incidents.saved[0].path is not None
    path = incidents.saved[0].path
    assert notes == [f"saved: {path.name}"]  # a short toast; the whole path in the alert bar
    assert paths == [str(path)]
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in path.iterdir())
    assert (path / "screen.svg").read_text().lstrip().startswith("<svg")
    doc = json.loads((path / "snapshot.json").read_text())
    assert doc["trigger"]["kind"] == "key"

    snap, _ = read_bundle(path)
    assert [r.text for r in snap.records] == [r.text for r in frozen.records]
    assert snap.latest_status is not None and frozen.latest_status is not None
    assert snap.latest_status.scoreboard == frozen.latest_status.scoreboard
    assert [s.mem_used for s in snap.system] == [s.mem_used for s in frozen.system]

    # lamptop open: the same console, read-only, showing the bundle
    opened = LamptopApp(
        Recorder(), config=Config(timezone="UTC"), clock=fixed_clock, bundle=(snap, path.name)
    )
    async with opened.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = opened.query_one(LogView)
        assert [r.text for r in log.records] == [r.text for r in frozen.records]
        board = opened.query_one(ScoreboardView)
        assert board.sample is not None
        assert board.sample.scoreboard == frozen.latest_status.scoreboard
        memory = opened.query_one(MemoryView)
        assert memory.model is not None and memory.model == memory_model(frozen.system[-400:])
        banner = opened.query_one(FrozenBanner)
        assert banner.word == "BUNDLE" and path.name in banner.text
        await pilot.press("space")  # freeze/save do nothing in a bundle
        await pilot.press("s")
        await pilot.pause()
        assert opened.freeze.frozen
        await pilot.press("e")  # reading keys work
        await pilot.pause()
        assert opened.log_filter.min_level == "warn"
        assert all(
            r.level in ("warn", "error", "crit") or r.kind == "apache-access" for r in log.matched
        )


async def test_save_into_an_unwritable_place_says_so_and_keeps_running(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app, incidents = live_app(tmp_path, snapdir=blocker / "snaps")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.2)
        await pilot.press("s")
        await async_wait_for(lambda: incidents.saved, what="the attempt to be over")

        def errors() -> list[Any]:
            return [n for n in app._notifications if n.severity == "error"]

        await async_wait_for(errors, what="an error notification")
        assert incidents.saved[0].path is None
        assert "NOT saved" in errors()[0].message
        (alert,) = app.alerts.alerts  # the alert bar says why, in the error colour
        assert alert.level == "error" and "cannot create" in alert.error
        await pilot.press("space")  # still alive, still answering keys
        await async_wait_for(lambda: not app.freeze.frozen, what="the console to go live again")
    assert blocker.read_text() == "x"  # the file in the way was not touched


async def test_s_returns_at_once_and_the_bundle_holds_the_frozen_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import console.incident.watch

    write = console.incident.watch.write_bundle

    def slow_write(*args: Any, **kw: Any) -> Path:
        time.sleep(0.5)  # a slow disk: the console must keep answering meanwhile
        return write(*args, **kw)

    monkeypatch.setattr(console.incident.watch, "write_bundle", slow_write)
    app, incidents = live_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.3)
        banner = app.query_one(FrozenBanner)
        texts: list[str] = []

        def shown(text: str) -> None:
            texts.append(text)

        app.watch(banner, "text", shown, init=False)
        said: list[str] = []  # every toast, though each replaces the one before
        notify = app.notify

        def told(message: str, **kw: Any) -> None:
            said.append(message)
            notify(message, **kw)

        app.notify = told  # type: ignore[method-assign]
        await pilot.press("s")
        await pilot.press("s")  # again while the first is written: said, not saved twice
        await pilot.press("x")  # and the keys still work
        assert app.log_filter.http_errors
        await async_wait_for(lambda: incidents.saved, what="the bundle to be saved")
        await async_wait_for(
            lambda: texts and texts[-1].endswith("space: live · s: save"),
            why=lambda: texts[-3:],
            what="the banner to be back to the keys",
        )
    assert len(incidents.saved) == 1 and incidents.saved[0].path is not None
    assert said == ["a snapshot is being saved…", f"saved: {incidents.saved[0].path.name}"]
    assert any("saving a snapshot" in t for t in texts)
    assert texts[-1].endswith("space: live · s: save")
    svg = (incidents.saved[0].path / "screen.svg").read_text()
    assert "FROZEN" in svg and "new&#160;record" in svg  # the banner, drawn before the picture


async def test_one_alert_per_incident_and_it_names_the_other_rules(
    tmp_path: Path,
) -> None:
    from console.core.events import SystemSample
    from tests.support.scripted import T0

    recorder = scripted_recorder()
    only = ("memory_high", "load_high")
    rules = RuleBook(build_rules({n: {"enabled": n in only} for n in DEFAULT_RULES}))
    incidents = IncidentWatch(recorder, rules, tmp_path / "snaps", window=3600, tail=0.2)
    app = LamptopApp(
        recorder, config=Config(timezone="UTC"), clock=fixed_clock, incidents=incidents
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        gb = 1 << 30
        recorder.add_system(  # memory at 97 % and load 20 on 2 cores: both rules fire at once
            SystemSample(
                ts=T0,  # now, by the recorder's (stopped) clock: the bundle waits only its tail
                mem_total=gb,
                mem_used=int(gb * 0.97),
                mem_available=gb // 33,
                swap_total=0,
                swap_used=0,
                load1=20.0,
                load5=5.0,
                load15=2.0,
                cpu_percent=100.0,
                cpu_count=2,
            )
        )
        await async_wait_for(lambda: incidents.saved, what="the bundle to be saved")
        await async_wait_for(
            lambda: app.alerts.alerts and app.alerts.alerts[0].path, what="the saved alert"
        )
        await pilot.pause(0.2)  # nothing else is said after it (checked below)
        alerts = app.alerts.alerts
        notes = list(app._notifications)
    assert len(incidents.rules.fired) == 2 and len(incidents.saved) == 1
    assert [a.rule for a in alerts] == [incidents.saved[0].trigger.rule]
    other = next(r for r in only if r != incidents.saved[0].trigger.rule)
    assert [j.rule for j in alerts[0].joined] == [other]
    assert alerts[0].path == str(incidents.saved[0].path)
    assert not notes  # rules never toast
