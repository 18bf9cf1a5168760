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
        _queue(app)


def jump(app: LamptopApp, seconds: float = JUMP_SECONDS) -> None:
    """``{`` / ``}``: the moment ``seconds`` later (earlier when negative)."""
    if app.freeze.shift(seconds):
        _queue(app)


def _queue(app: LamptopApp) -> None:
    """Show the instant once the keys already typed are handled: a held ``[`` moves the
    instant at each repeat but redraws the panes (filing the log records again, the costly
    part) once for all of them."""
    if not app.rewind_queued:
        app.rewind_queued = True
        app.call_later(_show, app)


def _show(app: LamptopApp) -> None:
    app.rewind_queued = False
    snap = app.freeze.snapshot
    if snap is None or not app.freeze.frozen or not app.is_running:
        return
    app.panes.log.follow = True  # the logs end at the instant shown, as they did then
    app.show_snapshot(snap)
