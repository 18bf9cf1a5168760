"""Freeze and save, from the keyboard.

Freezing pins every pane to one snapshot while collection goes on (the state is the app's
:class:`~console.view.freeze.FreezeState`); saving freezes and writes a bundle of what is
frozen. The bundle is written in a thread by the flight recorder, so the screen keeps
answering keys while it is written; the alert bar gives its path when done
(:mod:`console.tui.alerting`, which also shows what the spike rules say).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from console.core.recorder import Snapshot
from console.incident.rules import Trigger
from widgets.toast import toast

if TYPE_CHECKING:
    from console.incident.watch import IncidentWatch
    from console.tui.app import LamptopApp


def toggle(app: LamptopApp) -> None:
    """Pin every pane to a snapshot taken now, or go back to live."""
    if app.freeze.frozen:
        app.freeze.thaw()
    else:
        app.freeze.freeze(app.recorder.snapshot())
    app.refresh_panes()


def save(app: LamptopApp) -> None:
    """Freeze (if live) and save a bundle of what is frozen; the writing runs in a thread."""
    incidents = app.incidents
    if incidents is None:
        toast(app, "nothing can be saved here", severity="warning")
        return
    if app.freeze.saving:
        toast(app, "a snapshot is being saved…", timeout=2)
        return
    if not app.freeze.frozen:
        toggle(app)
    snap = app.freeze.snapshot
    if snap is None:
        return
    app.freeze.saving = True  # said in the banner: a notification would cost a re-layout
    app.show_freeze()
    app.run_worker(_save(app, incidents, snap), name="save", group="save")


async def _save(app: LamptopApp, incidents: IncidentWatch, snap: Snapshot) -> None:
    try:
        # the screen as frozen (banner shown) goes into the bundle: wait for it to be drawn
        painted = asyncio.Event()
        app.call_after_refresh(painted.set)
        await painted.wait()
        await incidents.save(Trigger("key", snap.taken_at, message="saved by hand"), snap)
    finally:
        app.freeze.saving = False
        if app.freeze.frozen:
            app.show_freeze()
