"""Rewinding the frozen screen: ``[`` ``]`` one sample back or forward, ``{`` ``}`` ten seconds.

The instant lives in the app's :class:`~console.view.freeze.FreezeState`, which cuts the frozen
snapshot there (:func:`console.view.rewind.cut`); every pane is then handed the cut snapshot as
it would be a live one, and the log pane follows its newest record: the last lines written
before that instant. Plain functions of the app, which binds them (only while frozen:
:func:`console.tui.keys.allowed`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.view.rewind import JUMP_SECONDS

if TYPE_CHECKING:
    from console.tui.app import LamptopApp


def step(app: LamptopApp, samples: int) -> None:
    """``[`` / ``]``: the moment ``samples`` status samples later (earlier when negative)."""
    if app.freeze.step(samples):
        _show(app)


def jump(app: LamptopApp, seconds: float = JUMP_SECONDS) -> None:
    """``{`` / ``}``: the moment ``seconds`` later (earlier when negative)."""
    if app.freeze.shift(seconds):
        _show(app)


def _show(app: LamptopApp) -> None:
    snap = app.freeze.snapshot
    if snap is None:
        return
    app.panes.log.follow = True  # the logs end at the instant shown, as they did then
    app.show_snapshot(snap)
