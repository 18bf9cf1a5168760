"""How the incident looks at 80x24 with an alert: in the bar under the logs, and listed (``a``)
(SVG baselines, over the scripted incident on a fixed clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from console.core.config import Config
from console.core.timefmt import iso
from console.incident.rules import RuleBook, Trigger
from console.incident.watch import IncidentWatch, Saved
from console.tui.app import LamptopApp
from tests.support.scripted import T0, fixed_clock, scripted_recorder

BUNDLE = Path("/var/lib/lamptop/snapshots/20250314T130126Z-web1-memory_high")


def alert_app(tmp_path: Path) -> LamptopApp:
    """The scripted incident with an incident watch that never saves by itself (no rules)."""
    recorder = scripted_recorder()
    incidents = IncidentWatch(recorder, RuleBook([]), tmp_path / "snaps", tail=3600)
    app = LamptopApp(
        recorder, config=Config(timezone="UTC"), clock=fixed_clock, incidents=incidents
    )
    app.host = "web1"
    return app


async def incident(pilot: Pilot[Any]) -> None:
    """Two rules of one incident and its bundle saved, told the way the incident watch does."""
    app = pilot.app
    assert isinstance(app, LamptopApp) and app.incidents is not None
    watch = app.incidents
    assert watch.on_trigger is not None and watch.on_saved is not None
    fired = Trigger(
        "rule", T0 - timedelta(seconds=34), "memory_high", "memory used 92% (906 of 985 MB)"
    )
    fatal = Trigger(
        "rule",
        T0 - timedelta(seconds=31),
        "log_trouble",
        "php says: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted "
        "(tried to allocate 20480 bytes) in /var/www/html/report.php on line 88",
    )
    watch.on_trigger(fired, "saving a bundle in 10 s", False)
    watch.on_trigger(fatal, "noted in the bundle of rule memory_high", True)
    joined = [{"rule": fatal.rule, "at": iso(fatal.at), "message": fatal.message}]
    watch.on_saved(Saved(replace(fired, values={"also_fired": joined}), BUNDLE))
    await pilot.pause()


def test_incident_with_an_alert_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(alert_app(tmp_path), terminal_size=(80, 24), run_before=incident)


def test_alert_list_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def listed(pilot: Pilot[Any]) -> None:
        await incident(pilot)
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(alert_app(tmp_path), terminal_size=(80, 24), run_before=listed)
