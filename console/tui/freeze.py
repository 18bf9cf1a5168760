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
from console.core.timefmt import iso
from console.incident.rules import Trigger
from console.tui import hosts
from console.view.freeze import FreezeState
from widgets.toast import toast

if TYPE_CHECKING:
    from console.incident.watch import IncidentWatch
    from console.tui.app import LamptopApp


def toggle(app: LamptopApp) -> None:
    """Pin every pane to a snapshot taken now, or go back to live."""
    if app.freeze.frozen:
        app.freeze.thaw()
    else:
        app.freeze.freeze(hosts.take(app))
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
    snap = app.freeze.to_save(incidents.tail)
    trigger = rewound_trigger(app.freeze)
    if snap is None or trigger is None:
        return
    app.freeze.saving = True  # said in the banner: a notification would cost a re-layout
    app.show_freeze()
    app.run_worker(_save(app, incidents, snap, trigger), name="save", group="save")


def rewound_trigger(state: FreezeState) -> Trigger | None:
    """The trigger of a bundle saved by hand: the instant shown, and when rewound, that it
    was chosen so and how far before the instant frozen."""
    shown, whole = state.snapshot, state.whole
    if shown is None or whole is None:
        return None
    if not state.rewound:
        return Trigger("key", shown.taken_at, message="saved by hand")
    back = round(state.back)
    return Trigger(
        "key",
        shown.taken_at,
        message=f"saved by hand at an instant chosen by rewinding, {back} s before the screen "
        "was frozen",
        values={"rewound_seconds": back, "frozen_at": iso(whole.taken_at)},
    )


async def _save(
    app: LamptopApp, incidents: IncidentWatch, snap: Snapshot, trigger: Trigger
) -> None:
    try:
        # the screen as frozen (banner shown) goes into the bundle: wait for it to be drawn
        painted = asyncio.Event()
        app.call_after_refresh(painted.set)
        await painted.wait()
        await incidents.save(trigger, snap)
    finally:
        app.freeze.saving = False
        if app.freeze.frozen:
            app.show_freeze()
