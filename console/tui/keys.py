"""The console's keys: which work where, the help screen and the command palette.

One list of bindings (:data:`widgets.keys.KEYS`, plus those of the log pane and the requests
table) feeds the footer, the help screen and the palette. The help screen is imported when
first opened: the first frame does not need it. Plain functions of the app, which binds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input

from console.tui import hosts
from widgets.inflight import InFlightTable
from widgets.keys import HOST_ACTIONS, HOST_KEYS, KEYS, MAIN_ONLY, REWIND_ACTIONS
from widgets.logview import LogView
from widgets.rowtable import RowTable

if TYPE_CHECKING:
    from console.tui.app import LamptopApp
    from widgets.help import HelpRow


def allowed(app: LamptopApp, action: str) -> bool:
    """Main-screen keys do nothing under a modal screen or while the filter is typed (keys
    typed right after ``/`` can reach the app before the field does: they are the filter's,
    :func:`typed_early`); a bundle can neither thaw nor save; rewinding works only while
    frozen."""
    if action in MAIN_ONLY and isinstance(app.screen, ModalScreen):
        return False
    if action in TYPING_BLOCKS and typing(app):
        return False
    if action in REWIND_ACTIONS:
        return app.freeze.frozen
    if action in HOST_ACTIONS:
        return hosts.several(app)
    return not (action in ("freeze", "save") and app.freeze.read_only)


#: What a key typed into the filter must never do, even when it reaches the app.
TYPING_BLOCKS = (MAIN_ONLY - {"clear_filter"}) | {"quit"} | REWIND_ACTIONS


def typing(app: LamptopApp) -> bool:
    """The filter field has the focus."""
    focused = app.focused
    return isinstance(focused, Input) and focused.id == "filter-input"


def typed_early(app: LamptopApp, event: events.Key) -> None:
    """A printable key that reached the app while the filter field has the focus: it was
    typed before the field had it (a fast typist, a paste, a slow link); it goes there."""
    if event.is_printable and event.character and typing(app):
        field = app.focused
        assert isinstance(field, Input)
        event.stop()
        field.insert_text_at_cursor(event.character)


def key_bindings(app: LamptopApp) -> Iterator[tuple[Widget | App[Any] | Screen[Any], Binding]]:
    """The console's own bindings with the node that runs them, in help order."""
    seen: set[str] = set()
    for node, bindings in (
        (app, [*KEYS, *(HOST_KEYS if hosts.several(app) else ())]),
        (app.panes.log, LogView.BINDINGS),
        (app.panes.table, InFlightTable.BINDINGS),
        (app.panes.fpm, RowTable.BINDINGS),
    ):
        for binding in bindings:
            if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                seen.add(binding.id)
                yield node, binding


def help_rows(app: LamptopApp) -> tuple[HelpRow, ...]:
    """(keys, description, id) of every binding, with keys as remapped by the config."""
    from widgets.help import help_rows as rows

    bindings = [b for _, b in key_bindings(app)]
    return rows(bindings, app.config.keys, app.get_key_display)


def show_help(app: LamptopApp) -> None:
    from widgets.help import HelpScreen

    app.push_screen(HelpScreen(help_rows(app)))


def system_commands(app: LamptopApp, screen: Screen[Any]) -> Iterable[SystemCommand]:
    """The palette's commands beyond Textual's own: every key of the console, by what it does."""
    if isinstance(screen, ModalScreen):
        return
    for node, binding in key_bindings(app):
        assert binding.id is not None
        title = binding.tooltip or binding.description
        yield SystemCommand(
            title.capitalize(),
            f"key {app.get_key_display(binding)} · id {binding.id}",
            partial(node.run_action, binding.action),
        )
