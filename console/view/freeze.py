"""Whether the console shows live data or one pinned snapshot, and what the screen says about it.

Freezing is "stop handing new snapshots": while :attr:`FreezeState.frozen` the panes keep
showing :attr:`FreezeState.snapshot` while collection goes on. A saved bundle opened with
``lamptop open`` is frozen from the start and for good: it has no live data to go back to.
While frozen the instant shown can be moved back through what the frozen snapshot holds
(:meth:`FreezeState.step`, :meth:`FreezeState.shift`; :mod:`console.view.rewind`): the panes
then show the snapshot cut at that instant. Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from console.core.recorder import Snapshot
from console.core.timefmt import clock
from console.view import rewind


class FreezeState:
    """The snapshot the panes are pinned to (if any), the bundle being read, a save under way."""

    def __init__(self, bundle: tuple[Snapshot, str] | None = None) -> None:
        self.snapshot: Snapshot | None = bundle[0] if bundle is not None else None
        """The snapshot every pane shows instead of live data (cut at :attr:`instant` when
        rewound); None while live."""
        self.whole: Snapshot | None = self.snapshot
        """The snapshot taken when the screen was frozen (the bundle's): what rewinding cuts."""
        self._steps: tuple[datetime, ...] | None = None
        """The sample instants of :attr:`whole` (:func:`console.view.rewind.marks`), once
        asked for."""
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

    @property
    def instant(self) -> datetime | None:
        """The instant the panes show (None while live)."""
        return None if self.snapshot is None else self.snapshot.taken_at

    @property
    def rewound(self) -> bool:
        """The panes show an instant before the one frozen."""
        return self.whole is not None and self.snapshot is not self.whole

    @property
    def back(self) -> float:
        """How many seconds before the instant frozen the panes show (0 when not rewound)."""
        if self.whole is None or self.snapshot is None:
            return 0.0
        return (self.whole.taken_at - self.snapshot.taken_at).total_seconds()

    def freeze(self, snap: Snapshot) -> None:
        """Pin the panes to ``snap``."""
        if not self.read_only:
            self.snapshot = self.whole = snap
            self._steps = None

    def thaw(self) -> None:
        """Back to live data (a bundle stays as it is: it has none)."""
        if not self.read_only:
            self.snapshot = self.whole = None
            self._steps = None

    # -- rewinding ----------------------------------------------------------------------------
    def steps(self) -> tuple[datetime, ...]:
        if self._steps is None:
            self._steps = rewind.marks(self.whole) if self.whole is not None else ()
        return self._steps

    def step(self, samples: int) -> bool:
        """Show the instant ``samples`` samples later (earlier when negative); whether the
        instant shown changed. Nothing while live."""
        whole, at = self.whole, self.instant
        if whole is None or at is None:
            return False
        return self.show_at(rewind.step(whole, self.steps(), at, samples))

    def shift(self, seconds: float) -> bool:
        """Show the instant ``seconds`` later (earlier when negative); whether it changed."""
        whole, at = self.whole, self.instant
        if whole is None or at is None:
            return False
        return self.show_at(rewind.shift(whole, self.steps(), at, seconds))

    def show_at(self, instant: datetime) -> bool:
        """Show ``instant`` (the instant frozen or later: not rewound); whether it changed."""
        whole = self.whole
        if whole is None or instant == self.instant:
            return False
        self.snapshot = rewind.cut(whole, instant)
        return True

    def to_save(self, tail: float) -> Snapshot | None:
        """What ``s`` saves: the snapshot frozen; when rewound, cut ``tail`` seconds after the
        instant shown (a bundle's window ends there, with the usual tail where there is one)."""
        whole, snap = self.whole, self.snapshot
        if whole is None or snap is None or not self.rewound:
            return snap
        return rewind.cut(whole, snap.taken_at + timedelta(seconds=tail))

    def arrived_since(self, total: int) -> int:
        """Records received since the freeze, given the recorder's :attr:`total` now."""
        return 0 if self.whole is None else total - self.whole.total

    def banner(self, zone: tzinfo, total: int) -> str:
        """The banner's text (empty: no banner): when it was frozen, what arrived since, the
        keys; for a bundle, what it is; when rewound, the instant shown and how far back."""
        snap, whole = self.snapshot, self.whole
        if snap is None or whole is None:
            return ""
        keys = "saving a snapshot…" if self.saving else "space: live · s: save"
        if self.rewound:
            back = rewind.offset_text(snap.taken_at, whole.taken_at)
            where = f"{clock(snap.taken_at, zone)} · {back} · [ ] sample · {{ }} 10 s"
            return f"{where} · {self.bundle}" if self.bundle is not None else f"{where} · {keys}"
        if self.bundle is not None:
            return f"read-only · [ ] rewind · {self.bundle}"
        since = self.arrived_since(total)
        records = f"{since:,} new record{'' if since == 1 else 's'}"
        return f"at {clock(snap.taken_at, zone)} · {records} · [ ] rewind · {keys}"

    def header_note(self, title_note: str) -> str:
        """The header's word in reverse: the mode's (``DEMO``), then ``FROZEN`` or ``BUNDLE``."""
        notes = [title_note] if title_note else []
        return " ".join([*notes, self.word] if self.frozen else notes)
