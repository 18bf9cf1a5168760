"""Whether the console shows live data or one pinned snapshot, and what the screen says about it.

Freezing is "stop handing new snapshots": while :attr:`FreezeState.frozen` the panes keep
showing :attr:`FreezeState.snapshot` while collection goes on. A saved bundle opened with
``lamptop open`` is frozen from the start and for good: it has no live data to go back to.
Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

from datetime import tzinfo

from console.core.recorder import Snapshot
from console.core.timefmt import clock


class FreezeState:
    """The snapshot the panes are pinned to (if any), the bundle being read, a save under way."""

    def __init__(self, bundle: tuple[Snapshot, str] | None = None) -> None:
        self.snapshot: Snapshot | None = bundle[0] if bundle is not None else None
        """The snapshot every pane shows instead of live data; None while live."""
        self.bundle: str | None = bundle[1] if bundle is not None else None
        """What the saved bundle being read is (``lamptop open``); None for a live console."""
        self.saving = False
        """A bundle asked for by hand is being written."""

    @property
    def frozen(self) -> bool:
        return self.snapshot is not None

    @property
    def read_only(self) -> bool:
        """A saved bundle is shown: nothing to go live to, nothing new to save."""
        return self.bundle is not None

    @property
    def word(self) -> str:
        """The word the header and the banner show while frozen."""
        return "BUNDLE" if self.read_only else "FROZEN"

    def freeze(self, snap: Snapshot) -> None:
        """Pin the panes to ``snap``."""
        if not self.read_only:
            self.snapshot = snap

    def thaw(self) -> None:
        """Back to live data (a bundle stays as it is: it has none)."""
        if not self.read_only:
            self.snapshot = None

    def arrived_since(self, total: int) -> int:
        """Records received since the freeze, given the recorder's :attr:`total` now."""
        return 0 if self.snapshot is None else total - self.snapshot.total

    def banner(self, zone: tzinfo, total: int) -> str:
        """The banner's text (empty: no banner): when it was frozen, what arrived since, the
        keys; for a bundle, what it is."""
        if self.bundle is not None:
            return f"{self.bundle} · read-only · q quits"
        snap = self.snapshot
        if snap is None:
            return ""
        since = self.arrived_since(total)
        keys = "saving a snapshot…" if self.saving else "space: live · s: save"
        records = f"{since:,} record{'' if since == 1 else 's'}"
        return f"at {clock(snap.taken_at, zone)} · {records} arrived since · {keys}"

    def header_note(self, title_note: str) -> str:
        """The header's word in reverse: the mode's (``DEMO``), then ``FROZEN`` or ``BUNDLE``."""
        notes = [title_note] if title_note else []
        return " ".join([*notes, self.word] if self.frozen else notes)
