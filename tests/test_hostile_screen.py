"""Hostile log text on screen: alerts, titles, the log pane, the detail view and the saved screen.

Text reaches the console cleaned (no control character survives the tail), but ``[markup]`` is
ordinary text: it must show as typed, never style, never become a clickable action, never crash
the console with a MarkupError.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from console.core.clock import ManualClock
from console.core.events import LogRecord
from console.core.recorder import Recorder
from console.core.text import clean
from console.incident.rules import DEFAULTS, RuleBook, build_rules
from console.incident.watch import IncidentWatch
from console.view.filters import LogFilter
from tests.support.app import log_lines, make_app
from tests.support.scripted import T0, scripted_recorder
from tests.support.wait import async_wait_for
from widgets.logview import LogView

SIZE = (160, 40)
MARKUP = [
    "[bold red]x[/]",
    "stray [/] close",
    "[@click=app.screenshot('victim.conf','/tmp')]click me[/]",
    "\x1b]0;title\x07 [link=https://evil.example]l[/link]",
]


def fatal(i: int, payload: str) -> LogRecord:
    text = clean(
        f"{payload} PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to "
        "allocate 20480 bytes) in /var/www/x.php on line 3"
    )
    return LogRecord(
        ts=T0,
        source="php",
        kind="php-error",
        level="error",
        text=text,
        lines=(clean(payload),),
        fields={"message": text},
    )


def hostile_recorder() -> Recorder:
    recorder = scripted_recorder(clock=ManualClock(T0))
    recorder.add_records([fatal(i, p) for i, p in enumerate(MARKUP)])
    recorder.release(force=True)
    return recorder


async def test_a_rule_alert_quoting_markup_shows_it_as_text(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    recorder = scripted_recorder(clock=clock)
    rules = RuleBook(build_rules({n: {"enabled": n == "log_trouble"} for n in DEFAULTS}))
    incidents = IncidentWatch(recorder, rules, tmp_path / "snaps", window=60, tail=0.1)
    app = make_app(recorder=recorder, incidents=incidents)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        recorder.add_records([fatal(0, "stray [/] close [bold]x[/bold]")])
        clock.advance(1)  # past the reorder window: released on the next tick
        await async_wait_for(lambda: app.alerts.alerts, what="the rule's alert")
        await pilot.pause(0.2)
        assert app.is_running  # no MarkupError
        [alert] = app.alerts.alerts
        assert alert.rule == "log_trouble" and "stray [/] close [bold]x[/bold]" in alert.message

        # the alert bar is drawn on a later refresh: wait for it on screen, then keep that screen
        def drawn() -> str | None:
            shot = app.export_screenshot()
            return shot if "stray [/] close" in shot.replace("&#160;", " ") else None

        svg = await async_wait_for(drawn, what="the alert on screen")
    ET.fromstring(svg)
    assert "stray [/] close" in svg.replace("&#160;", " ")


async def test_markup_in_records_titles_and_detail_is_plain_text() -> None:
    app = make_app(recorder=hostile_recorder())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        shown = "\n".join(log_lines(app))
        assert "[bold red]x[/]" in shown and "\\x1b]0;title\\x07" in shown
        # a pinned client or URL is quoted in the logs title: as text, whatever it holds
        app.log_filter = LogFilter(client="[/]", url="/[@click=app.quit]q[/]")
        await pilot.pause(0.3)
        title = app.query_one("#logs-pane").border_title or ""
        assert app.is_running
        assert "[/]" in (app.query_one("#logs-pane")._border_title or "").plain  # type: ignore[union-attr]
        assert "@click" in title  # present, escaped: not an action
        app.log_filter = LogFilter()
        await pilot.pause(0.3)
        log = app.query_one(LogView)
        log.focus()
        await pilot.press("end", "enter")
        await pilot.pause(0.3)
        assert app.is_running
        assert type(app.screen).__name__ != "Screen"  # the detail view opened
        svg = app.export_screenshot()
    ET.fromstring(svg)
    assert "\x1b" not in svg
