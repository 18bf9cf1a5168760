"""How the incident looks at 80x24 with an alert: in the bar under the logs, and listed (``a``)
(SVG baselines, over the scripted incident on a fixed clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from console.core.config import Config
from console.core.events import SystemSample
from console.core.timefmt import iso
from console.incident.rules import DEFAULTS, RuleBook, build_rules
from console.incident.watch import IncidentWatch, Saved
from console.tui.app import LamptopApp
from tests.support.scripted import T0, fixed_clock, php_fatal, scripted_recorder

BUNDLE = Path("/var/lib/lamptop/snapshots/20250314T130126Z-web1-memory_high")
MB = 1024 * 1024


def alert_app(tmp_path: Path) -> LamptopApp:
    """The scripted incident with an incident watch whose bundle waits an hour: its alert is
    told by the watch itself, its bundle saved is handed over as the watch hands it."""
    recorder = scripted_recorder()
    only = ("memory_high", "log_trouble")
    rules = RuleBook(build_rules({n: {"enabled": n in only} for n in DEFAULTS}))
    incidents = IncidentWatch(recorder, rules, tmp_path / "snaps", tail=3600)
    app = LamptopApp(
        recorder, config=Config(timezone="UTC"), clock=fixed_clock, incidents=incidents
    )
    app.host = "web1"
    return app


async def incident(pilot: Pilot[Any]) -> None:
    """Memory crosses its mark, PHP runs out of memory (one incident: one alert), and the
    incident's bundle is saved."""
    app = pilot.app
    assert isinstance(app, LamptopApp) and app.incidents is not None
    watch = app.incidents
    total = 985 * MB
    high = SystemSample(
        ts=T0 - timedelta(seconds=34),
        mem_total=total,
        mem_used=int(total * 0.93),
        mem_available=int(total * 0.07),
        swap_total=0,
        swap_used=0,
        load1=4.2,
        load5=2.0,
        load15=1.0,
        cpu_percent=78.0,
        cpu_count=2,
    )
    watch.on_system(high)  # what the recorder calls: memory_high fires, its bundle waits
    watch.on_records((php_fatal(T0 - timedelta(seconds=3)),))  # log_trouble joins it
    fired = watch.pending
    assert fired is not None and fired.rule == "memory_high"
    (fatal,) = [t for t in watch.rules.fired if t.rule == "log_trouble"]
    joined = [{"rule": fatal.rule, "at": iso(fatal.at), "message": fatal.message}]
    assert watch.on_saved is not None
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
