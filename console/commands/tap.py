"""What ``lamptop record`` runs beside its printer: a *tap* on the recorder (``--stream``).

A tap hears every event the recorder tells its listeners, every rule fire and saved bundle,
runs as a task for as long as ``record`` does (it may end the run by setting ``stop``), and
is closed last, after the final release and bundles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from console.core.recorder import RecorderListener
from console.incident.rules import Trigger
from console.incident.watch import Saved


class Tap(RecorderListener, Protocol):
    def on_trigger(self, t: Trigger, outcome: str, joined: bool = False) -> None: ...

    def on_saved(self, s: Saved) -> None: ...

    async def run(self, sources: Sequence[str], stop: asyncio.Event) -> None:
        """Until cancelled, or until it sets ``stop`` to end the run."""
        ...

    async def close(self) -> None: ...


def triggers_to(*taps: Tap | object) -> Callable[[Trigger, str, bool], None]:
    """One ``on_trigger`` telling each of ``taps`` (the printer, then the taps)."""
    calls = [getattr(t, "on_trigger") for t in taps]  # noqa: B009

    def tell(t: Trigger, outcome: str, joined: bool = False) -> None:
        for call in calls:
            call(t, outcome, joined)

    return tell


def saved_to(*taps: Tap | object) -> Callable[[Saved], None]:
    """One ``on_saved`` telling each of ``taps``."""
    calls = [getattr(t, "on_saved") for t in taps]  # noqa: B009

    def tell(s: Saved) -> None:
        for call in calls:
            call(s)

    return tell
