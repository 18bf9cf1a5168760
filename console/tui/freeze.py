"""Freeze and save, from the keyboard and from spike rules.

Freezing pins every pane to one snapshot while collection goes on; saving freezes and writes a
bundle of what is frozen. The bundle is written in a thread by the flight recorder, so the
screen keeps answering keys while it is written; a notification gives its path when done.
"""

from __future__ import annotations

import asyncio
from datetime import tzinfo
from typing import TYPE_CHECKING

from textual.reactive import reactive, var

from console.core.recorder import Recorder, Snapshot
from console.core.timefmt import clock
from console.incident.rules import Trigger
from console.tui.keys import KeyedApp
from console.view.filters import redact
from widgets.banner import FrozenBanner
from widgets.drawn import set_changed
from widgets.header import HeaderBar

if TYPE_CHECKING:
    from console.incident.watch import IncidentWatch, Saved


class FreezingApp(KeyedApp):
    """The console's freeze and save actions; :meth:`refresh_panes` is the console's."""

    # An app's reactive repaints the whole screen when it changes: these only tell the panes,
    # which repaint what changed themselves.
    frozen: reactive[bool] = reactive(False, repaint=False)
    """The panes show :attr:`frozen_snapshot` instead of live data."""
    frozen_snapshot: var[Snapshot | None] = var(None, always_update=True)
    """The snapshot the panes are pinned to while :attr:`frozen`."""

    recorder: Recorder
    incidents: IncidentWatch | None
    """Spike rules and bundle writing; None where nothing can be saved."""
    title_note: str
    zone: tzinfo
    """Zone the banner's time is shown in."""
    _banner: FrozenBanner
    _header: HeaderBar
    _saving = False
    """A bundle asked for with ``s`` is being written."""

    def refresh_panes(self) -> None:
        raise NotImplementedError

    def show_frozen_note(self) -> None:
        """The banner: when the screen was frozen, what arrived since, what the keys do."""
        snap = self.frozen_snapshot
        if self.bundle is None and snap is not None:
            since = self.recorder.total - snap.total
            at = clock(snap.taken_at, self.zone)
            keys = "saving a snapshot…" if self._saving else "space: live · s: save"
            records = f"{since:,} record{'' if since == 1 else 's'}"
            set_changed(self._banner, "text", f"at {at} · {records} arrived since · {keys}")

    def watch_frozen(self, frozen: bool) -> None:
        if not hasattr(self, "_header"):
            return  # before mount
        if not frozen:
            self._banner.text = ""
        notes = [self.title_note] if self.title_note else []
        word = "BUNDLE" if self.bundle is not None else "FROZEN"
        self._header.note = " ".join([*notes, word] if frozen else notes)

    def action_freeze(self) -> None:
        """Pin every pane to a snapshot taken now, or go back to live."""
        if self.frozen:
            self.frozen = False
            self.frozen_snapshot = None
        else:
            self.frozen_snapshot = self.recorder.snapshot()
            self.frozen = True
        self.refresh_panes()

    def action_save(self) -> None:
        """Freeze (if live) and save a bundle of what is frozen; the writing runs in a thread."""
        if self.incidents is None:
            self.notify("nothing can be saved here", severity="warning")
            return
        if self._saving:
            self.notify("a snapshot is being saved…", timeout=2)
            return
        if not self.frozen:
            self.action_freeze()
        snap = self.frozen_snapshot
        if snap is None:
            return
        self._saving = True  # said in the banner: a notification would cost a re-layout
        self.show_frozen_note()
        self.run_worker(self._save(self.incidents, snap), name="save", group="save")

    async def _save(self, incidents: IncidentWatch, snap: Snapshot) -> None:
        try:
            # the screen as frozen (banner shown) goes into the bundle: wait for it to be drawn
            painted = asyncio.Event()
            self.call_after_refresh(painted.set)
            await painted.wait()
            await incidents.save(Trigger("key", snap.taken_at, message="saved by hand"), snap)
        finally:
            self._saving = False
            if self.frozen:
                self.show_frozen_note()

    def _rule_fired(self, trigger: Trigger, outcome: str, joined: bool = False) -> None:
        if joined:
            return  # one alert per incident: the others are named when its bundle is saved
        message = redact(trigger.message) if self.config.redact else trigger.message
        self.notify(
            f"{message}\n{outcome}",
            title=f"rule {trigger.rule}",
            severity="warning",
            timeout=10,
        )
        if self.config.snapshot_freeze_on_rule and not self.frozen:
            self.action_freeze()

    def _saved(self, result: Saved) -> None:
        if result.path is not None:
            also = [str(a["rule"]) for a in result.trigger.values.get("also_fired", ())]
            text = f"{result.path}\nalso fired: {', '.join(also)}" if also else f"{result.path}"
            self.notify(text, title="snapshot saved", timeout=15)
        else:
            self.notify(f"{result.error}", title="snapshot NOT saved", severity="error", timeout=30)
