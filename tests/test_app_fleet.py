"""The console with several hosts, from the keyboard: host lines, h and H, freeze, save, open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from console.core.config import Config
from console.core.fleet import Link, RemoteAlert
from console.core.recorder import Recorder
from console.incident.bundle_read import read_bundle
from console.incident.rules import RuleBook, build_rules
from console.incident.watch import IncidentWatch
from console.tui.app import LamptopApp
from tests.support.app import log_lines, screen_text
from tests.support.fleet_scripted import fleet_app, scripted_fleet
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.scripted import T0, fixed_clock
from tests.support.wait import async_wait_for
from widgets.header import HeaderBar
from widgets.hosts import HostLines
from widgets.inflight import InFlightTable
from widgets.memory import MemoryView
from widgets.sourcebar import SourceBar

SIZE = (80, 24)


def _hosts(app: LamptopApp) -> list[str]:
    return screen_text(app.query_one(HostLines)).splitlines()


async def test_host_lines_show_every_host_and_the_link_down_in_words() -> None:
    app = fleet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = _hosts(app)
        assert len(lines) == 3
        assert lines[0].startswith("▶ web1")
        assert "150/150" in lines[1] and "workers_near_limit" in lines[1]
        assert lines[2].strip() == "fleet-b: ssh: connection refused · retry in 20 s"
        assert "web1" in screen_text(app.query_one(HeaderBar)).splitlines()[0]
        logs = "\n".join(log_lines(app))
        assert "f-a:access" in logs and "web1:access" in logs
        assert "f-a:access" in screen_text(app.query_one(SourceBar))


async def test_h_shows_the_next_host_and_capital_h_all_hosts() -> None:
    app = fleet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.query_one(InFlightTable).rows[0].pid == 2101
        await pilot.press("h")
        await pilot.pause()
        assert app.host_shown == "fleet-a"
        table = app.query_one(InFlightTable)
        assert table.rows[0].pid == 4100 and len(table.rows) == 12
        header = screen_text(app.query_one(HeaderBar)).splitlines()[0]
        assert header.startswith("fleet-a (shop-a)") and "150/150" in header
        assert _hosts(app)[1].startswith("▶ fleet-a")
        await pilot.press("H")
        await pilot.pause()
        assert app.host_shown == "*"
        rows = app.query_one(InFlightTable).rows
        assert {r.host for r in rows} == {"web1", "f-a"}  # fleet-b is down: not summed
        header = screen_text(app.query_one(HeaderBar)).splitlines()[0]
        assert header.startswith("2 of 3 hosts (up)") and "165/300" in header
        memory = screen_text(app.query_one(MemoryView))
        assert "fleet-a" in memory and "fleet-b" in memory
        await pilot.press("H")
        await pilot.pause()
        assert app.host_shown == "web1" and app.query_one(MemoryView).lines == ()


async def test_host_keys_are_off_with_one_host() -> None:
    from tests.support.app import make_app

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("h")
        assert app.host_shown == "" and not app.query_one(HostLines).display
        assert app.check_action("next_host", ()) is False


async def test_freeze_holds_every_host_and_a_link_back_shows_only_when_live() -> None:
    fleet = scripted_fleet()
    app = fleet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        b = fleet.hosts[2]
        fleet.set_link(b, Link("up", hostname="fleet-b"))
        fleet.sink(fleet.hosts[1]).add_alert(RemoteAlert(T0, "memory_high", "new"))
        app.tick()
        await pilot.pause()
        assert "connection refused" in _hosts(app)[2]  # frozen: as it was
        await pilot.press("space")
        await pilot.pause()
        app.tick()
        await pilot.pause()
        lines = _hosts(app)
        assert "connection refused" not in lines[2] and "15/150" in lines[2]
        assert "memory_high" in lines[1]


async def test_rewinding_moves_every_host_back() -> None:
    app = fleet_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("h", "space", "left_curly_bracket", "left_curly_bracket")
        await pilot.pause()
        snap = app.shown_snapshot
        assert snap is not None and snap.taken_at < T0
        a = snap.hosts[1].samples
        assert a is not None and a.latest_status is not None
        assert a.latest_status.ts <= snap.taken_at
        assert "workers_near_limit" not in _hosts(app)[1]  # it fired after the instant


async def test_s_saves_one_bundle_of_every_host_and_open_shows_them(tmp_path: Path) -> None:
    fleet = scripted_fleet()
    incidents = IncidentWatch(
        fleet.hub, RuleBook(build_rules({})), tmp_path / "snaps", window=3600, host="web1"
    )
    app = fleet_app(fleet, incidents=incidents)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await async_wait_for(lambda: incidents.saved, what="the bundle")
    path = incidents.saved[0].path
    assert path is not None
    doc = json.loads((path / "snapshot.json").read_text())
    assert doc["schema_version"] == 3
    assert [h["name"] for h in doc["hosts"]] == ["web1", "fleet-a", "fleet-b"]
    assert doc["hosts"][2]["link"]["message"] == "ssh: connection refused"
    assert len(doc["hosts"][1]["status"]) == 60 and doc["hosts"][1]["status"][-1]["busy"] == 150
    report = (path / "report.md").read_text()
    assert "## Hosts" in report and "## lamptop snapshot: `fleet-a`" in report
    assert "`/export.php`" in report and "`rule workers_near_limit`" in report
    logs = (path / "logs.txt").read_text()
    assert "web1:access" in logs and "fleet-a:access" in logs
    snap, _ = read_bundle(path)
    assert [h.name for h in snap.hosts] == ["web1", "fleet-a", "fleet-b"]
    opened = LamptopApp(Recorder(), config=Config(timezone="UTC"), bundle=(snap, "b"))
    async with opened.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert len(_hosts(opened)) == 3 and "connection refused" in _hosts(opened)[2]
        await pilot.press("h")
        await pilot.pause()
        assert opened.query_one(InFlightTable).rows[0].pid == 4100


async def test_hostile_remote_texts_stay_inert_on_screen(tmp_path: Path) -> None:
    fleet = scripted_fleet()
    a, b = fleet.hosts[1], fleet.hosts[2]
    text = "".join(HOSTILE)
    fleet.set_link(a, Link("up", hostname=text))
    fleet.set_link(b, Link("down", text, retry_at=T0))
    fleet.sink(a).add_alert(RemoteAlert(T0, text, text))
    app = fleet_app(fleet, config=Config(timezone="UTC"))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        for line in _hosts(app):
            assert_inert(line, "host line")
        svg: Any = app.export_screenshot()
        assert "<script>" not in svg and "\x1b" not in svg
        await pilot.press("h")
        await pilot.pause()
        assert_inert(screen_text(app.query_one(HeaderBar)), "header")
    assert fixed_clock.now() == T0
