"""Alerts in the console: a rule's alert goes to the bar under the logs and never covers a pane,
one incident is one alert, ``a`` lists them with their bundles' paths, ``s`` gives one short
toast, a failed save is an error alert, ``--redact`` masks what alerts quote, and a bundle being
read shows its trigger in the bar."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.widgets._toast import Toast

from console.core.config import Config
from console.core.events import SystemSample
from console.core.recorder import Recorder
from console.incident.rules import DEFAULTS as DEFAULT_RULES
from console.incident.rules import RuleBook, Trigger, build_rules
from console.incident.watch import IncidentWatch
from console.tui.alerting import bundle_opened, read_trigger
from console.tui.app import LamptopApp
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.scripted import T0, ScriptedEngine, fixed_clock, scripted_recorder
from tests.support.wait import async_wait_for
from widgets.alertbar import AlertBar
from widgets.alerts import AlertsScreen

SIZE = (80, 24)
GB = 1 << 30


def bar_text(app: LamptopApp) -> str:
    rendered = app.query_one(AlertBar).render()
    assert isinstance(rendered, Text)
    return rendered.plain


def watched_app(
    tmp_path: Path,
    *,
    rules: tuple[str, ...] = ("memory_high", "load_high"),
    snapdir: Path | None = None,
    redact: bool = False,
) -> tuple[LamptopApp, IncidentWatch]:
    """The scripted console with the incident watch, only ``rules`` enabled."""
    recorder = scripted_recorder()
    incidents = IncidentWatch(
        recorder,
        RuleBook(build_rules({n: {"enabled": n in rules} for n in DEFAULT_RULES})),
        snapdir or tmp_path / "snaps",
        window=3600,
        tail=0.2,
    )
    app = LamptopApp(
        recorder,
        config=Config(timezone="UTC", redact=redact),
        engine=ScriptedEngine(recorder),  # type: ignore[arg-type]
        clock=fixed_clock,
        incidents=incidents,
    )
    app.host = "web1"
    return app, incidents


def high_memory_and_load() -> SystemSample:
    """Memory at 97 % and load 20 on 2 cores: memory_high and load_high fire at once."""
    return SystemSample(
        ts=T0,  # now, by the recorder's (stopped) clock: the bundle waits only its tail
        mem_total=GB,
        mem_used=int(GB * 0.97),
        mem_available=GB // 33,
        swap_total=0,
        swap_used=0,
        load1=20.0,
        load5=5.0,
        load15=2.0,
        cpu_percent=100.0,
        cpu_count=2,
    )


async def test_a_rule_goes_to_the_bar_one_alert_per_incident_and_no_toast(
    tmp_path: Path,
) -> None:
    app, incidents = watched_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.2)
        bar = app.query_one(AlertBar)
        logs_height = app.panes.logs.region.height
        assert not bar.display and bar.region.height == 0  # no row while there is no alert
        app.recorder.add_system(high_memory_and_load())
        await async_wait_for(lambda: incidents.saved, what="the bundle to be saved")
        await async_wait_for(lambda: "saved" in bar_text(app), why=lambda: bar_text(app))
        await pilot.pause(0.2)
        fired = incidents.rules.fired
        assert len(fired) == 2 and len(incidents.saved) == 1
        saved = incidents.saved[0]
        (alert,) = app.alerts.alerts  # two rules, one incident: one alert
        assert alert.rule == saved.trigger.rule and alert.path == str(saved.path)
        other = next(r for r in ("memory_high", "load_high") if r != alert.rule)
        assert [j.rule for j in alert.joined] == [other] and alert.joined[0].in_bundle
        # the bar holds it, on a row of its own under the logs: nothing covers a pane
        assert bar.display and bar.has_class("-warning")
        logs = app.panes.logs.region
        assert bar.region.height == 1 and bar.region.y >= logs.bottom
        assert logs.height == logs_height - 1
        assert "following" in app.panes.logs.border_subtitle  # its indicator stays in view
        text = bar_text(app)
        assert f"rule {alert.rule}" in text or f" {alert.rule}" in text
        assert "saved" in text and "+1 rule" in text
        assert not app._notifications  # a rule never toasts


async def test_while_its_bundle_waits_the_bar_counts_down(tmp_path: Path) -> None:
    app, incidents = watched_app(tmp_path)
    incidents.tail = 3600.0  # the bundle waits an hour: the alert stays pending
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause(0.2)
        incidents.on_system(high_memory_and_load())  # as the recorder hands it over
        await pilot.pause()
        (alert,) = app.alerts.alerts
        assert incidents.pending is not None and alert.rule == incidents.pending.rule
        assert alert.pending and alert.due == T0 + timedelta(seconds=3600)
        assert "saving a bundle in 3600 s" in bar_text(app)  # the clock is stopped at T0
        assert not app._notifications


async def test_a_lists_every_alert_with_its_bundle_path(tmp_path: Path) -> None:
    app, incidents = watched_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.2)
        app.recorder.add_system(high_memory_and_load())
        await async_wait_for(lambda: incidents.saved, what="the rule's bundle")
        await pilot.press("s")
        await async_wait_for(lambda: len(incidents.saved) == 2, what="the bundle saved by hand")
        await async_wait_for(lambda: len(app.alerts) == 2, what="its alert")
        paths = [str(s.path) for s in incidents.saved]
        await pilot.press("a")
        await async_wait_for(lambda: isinstance(app.screen, AlertsScreen), what="the list")
        screen = app.screen
        await pilot.pause()
        shown = [str(w.render()) for w in screen.query(".alert-path")]
        assert shown == list(reversed(paths))  # newest first, each path whole on its line
        lines = [w.region for w in screen.query(".alert-path")]
        assert all(r.height == 1 and r.x == 0 for r in lines)
        assert screen.query_one(".alert").has_class("-chosen")
        heads = [str(w.render()) for w in screen.query(".alert-head")]
        assert heads[0].startswith("✓ bundle by hand") and "rule " in heads[1]
        await pilot.press("j")
        chosen = [w for w in screen.query(".alert") if w.has_class("-chosen")]
        assert len(chosen) == 1 and chosen[0] is list(screen.query(".alert"))[1]
        await pilot.press("x")  # main-screen keys do nothing under the list
        assert not app.log_filter.http_errors
        await pilot.press("a")
        await async_wait_for(lambda: not isinstance(app.screen, AlertsScreen), what="closed")
        await pilot.press("a", "escape")
        await async_wait_for(lambda: not isinstance(app.screen, AlertsScreen), what="esc closes")


async def test_c_copies_the_chosen_path(tmp_path: Path) -> None:
    app, incidents = watched_app(tmp_path)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.2)
        await pilot.press("a")
        await async_wait_for(lambda: isinstance(app.screen, AlertsScreen), what="the list")
        await pilot.press("c")  # nothing yet: said, nothing copied
        await async_wait_for(lambda: app._notifications, what="the note")
        assert not copied and "no bundle path" in list(app._notifications)[0].message
        await pilot.press("escape", "s")
        await async_wait_for(lambda: incidents.saved, what="the bundle")
        await async_wait_for(lambda: app.alerts.alerts and app.alerts.alerts[0].path, what="path")
        await pilot.press("a", "c")
        await async_wait_for(lambda: copied, what="the copy")
    assert copied == [str(incidents.saved[0].path)]


async def test_s_gives_one_short_toast_and_the_path_in_the_bar(tmp_path: Path) -> None:
    app, incidents = watched_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.2)

        def toasted(n: int) -> bool:
            notes = list(app._notifications)
            return len(incidents.saved) == n and bool(notes) and "saved: " in notes[-1].message

        for n in (1, 2):  # the second replaces the first: one toast at a time
            await pilot.press("s")
            await async_wait_for(
                lambda n=n: toasted(n), why=lambda: [x.message for x in app._notifications]
            )
        await pilot.pause(0.1)
        path = incidents.saved[-1].path
        assert path is not None
        (note,) = app._notifications
        assert note.message == f"saved: {path.name}" and note.timeout <= 4
        assert note.severity == "information" and not note.title
        alert = app.alerts.alerts[0]
        assert alert.kind == "key" and alert.path == str(path) and alert.level == "info"
        assert len(app.alerts) == 2
        assert "bundle by hand · saved" in bar_text(app) and "+1" in bar_text(app)
        # one line on the top panes' border, under the frozen banner: it covers no data
        await async_wait_for(lambda: list(app.screen.query(Toast)), what="the toast drawn")
        await pilot.pause(0.2)
        (shown,) = app.screen.query(Toast)
        top = app.query_one("#top").region
        assert shown.region.height == 1 and shown.region.y == top.y == 3
        assert not shown.region.overlaps(app.panes.logs.region)
        await pilot.press("space", "9")  # live again: no banner, the border is a row higher
        await async_wait_for(
            lambda: [t for t in app.screen.query(Toast) if "no log source" in str(t.render())],
            what="the next toast",
        )
        await pilot.pause(0.2)
        (shown,) = app.screen.query(Toast)  # it replaced the one before
        assert shown.region.y == app.query_one("#top").region.y == 2


async def test_a_failed_save_is_an_error_alert(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app, incidents = watched_app(tmp_path, snapdir=blocker / "snaps")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.2)
        app.recorder.add_system(high_memory_and_load())
        await async_wait_for(lambda: incidents.saved, what="the attempt to be over")
        bar = app.query_one(AlertBar)
        await async_wait_for(lambda: bar.has_class("-error"), why=lambda: bar_text(app))
        (alert,) = app.alerts.alerts
        assert alert.level == "error" and "cannot create" in alert.error and not alert.path
        assert "NOT saved: " in bar_text(app) and bar_text(app).startswith("✗ ")
        assert not app._notifications  # a rule's bundle: the bar says it, no toast
        await pilot.press("s")  # by hand: the bar and one toast in the error colour
        await async_wait_for(lambda: len(incidents.saved) == 2, what="the second attempt")
        await async_wait_for(lambda: app._notifications, what="the toast")
        (note,) = app._notifications
        assert note.severity == "error" and "NOT saved" in note.message
        assert app.alerts.alerts[0].kind == "key" and app.alerts.alerts[0].error


async def test_redact_masks_what_an_alert_quotes(tmp_path: Path) -> None:
    app, incidents = watched_app(tmp_path, redact=True)
    secret = "client 203.0.113.7 GET /login.php?token=hunter2"
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause(0.2)
        assert incidents.on_trigger is not None
        first = Trigger("rule", T0, "log_trouble", f"apache says: {secret}")
        also = Trigger("rule", T0, "http_5xx_burst", f"joined: {secret}")
        incidents.on_trigger(first, "saving a bundle in 10 s", False)
        incidents.on_trigger(also, "noted in the bundle of rule log_trouble", True)
        await pilot.pause()
        (alert,) = app.alerts.alerts
        for text in (alert.message, alert.joined[0].message, bar_text(app)):
            assert "203.0.113.7" not in text and "hunter2" not in text
        assert "203.0.x.x" in alert.message
        await pilot.press("a")
        await async_wait_for(lambda: isinstance(app.screen, AlertsScreen), what="the list")
        await pilot.pause()
        listed = " ".join(str(w.render()) for w in app.screen.query(".alert-body"))
        assert "log_trouble" in listed or "203.0.x.x" in listed
        assert "203.0.113.7" not in listed and "hunter2" not in listed


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_hostile_text_in_a_rule_stays_inert_on_screen(hostile: str) -> None:
    app = LamptopApp(scripted_recorder(), config=Config(timezone="UTC"), clock=fixed_clock)
    async with app.run_test(size=(120, 30)) as pilot:
        from console.tui.alerting import rule_fired

        trigger = Trigger("rule", T0, "log_trouble", f"php says: {hostile} [bold]x[/] \x1b[31m")
        rule_fired(app, trigger, f"saving {hostile}")
        await pilot.pause()
        assert_inert(bar_text(app), "the alert bar")
        assert "[bold]x[/]" in app.alerts.alerts[0].message
        await pilot.press("a")
        await async_wait_for(lambda: isinstance(app.screen, AlertsScreen), what="the list")
        await pilot.pause()
        for widget in app.screen.query(".alert-body, .alert-head"):
            assert_inert(str(widget.render()), "the alert list")


async def test_a_bundle_being_read_shows_its_trigger_in_the_bar(tmp_path: Path) -> None:
    snap = scripted_recorder().snapshot()
    doc = {
        "trigger": {
            "kind": "rule",
            "rule": "workers_near_limit",
            "at": "2025-03-14T13:01:26Z",
            "message": "20 of 20 workers busy for 5 s",
            "values": {
                "also_fired": [
                    {"rule": "http_5xx_burst", "at": "2025-03-14T13:01:28Z", "message": "x"},
                    "not a mapping",
                    {"rule": "load_high", "at": "no time", "message": "load 9"},
                ]
            },
        }
    }
    name = "20250314T130126Z-web1-workers_near_limit"
    opened = LamptopApp(
        Recorder(), config=Config(timezone="UTC"), clock=fixed_clock, bundle=(snap, name)
    )
    bundle_opened(opened, doc, tmp_path / name)
    async with opened.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = bar_text(opened)
        assert text.startswith("⚠ 13:01:26 ") and "workers_near_limit" in text
        assert "ago" not in text  # a bundle's trigger has no age
        (alert,) = opened.alerts.alerts
        assert alert.kind == "bundle" and alert.path == str((tmp_path / name).resolve())
        joined = [(j.rule, j.at) for j in alert.joined]
        assert joined == [("http_5xx_burst", T0 - timedelta(seconds=32)), ("load_high", alert.at)]
        await pilot.press("a")
        await async_wait_for(lambda: isinstance(opened.screen, AlertsScreen), what="the list")
        await pilot.pause()
        assert [str(w.render()) for w in opened.screen.query(".alert-path")] == [alert.path]


def test_a_bundle_trigger_is_read_defensively() -> None:
    assert read_trigger({}, T0) is None
    assert read_trigger({"trigger": "x"}, T0) is None
    assert read_trigger({"trigger": {"at": "bad"}}, None) is None
    t = read_trigger({"trigger": {"kind": "key", "at": "bad", "values": []}}, T0)
    assert t is not None and t.at == T0 and t.kind == "key" and t.rule is None and t.values == {}


async def test_sources_and_rules_start_once_the_first_frame_is_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``lamptop`` builds its sources and rules after the first frame (their imports and the
    discovery would keep the screen blank); the rules are hooked up before the sources run."""
    from textual.screen import Screen

    frames: list[int] = []
    paint = Screen._compositor_refresh

    def counted(screen: Screen[Any]) -> None:
        frames.append(1)
        paint(screen)

    monkeypatch.setattr(Screen, "_compositor_refresh", counted)
    recorder = scripted_recorder()
    made: dict[str, Any] = {}

    def start() -> tuple[Any, IncidentWatch]:
        made["frames"] = len(frames)
        incidents = IncidentWatch(recorder, RuleBook(build_rules({})), tmp_path / "snaps")
        made["incidents"] = incidents
        return ScriptedEngine(recorder), incidents

    app = LamptopApp(recorder, config=Config(timezone="UTC"), clock=fixed_clock, start=start)
    async with app.run_test(size=SIZE) as pilot:
        before = sum(recorder.counts.values())
        await async_wait_for(lambda: sum(recorder.counts.values()) > before, what="live records")
        await pilot.pause()
        assert made["frames"] >= 1
        assert app.incidents is made["incidents"] and app.incidents.on_saved is not None
        assert app.start is None and {w.name for w in app.workers} >= {"incidents", "source access"}
