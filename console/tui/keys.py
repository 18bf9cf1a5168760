"""The console's keys: which work where, the help screen and the command palette.

One list of bindings (:data:`widgets.keys.KEYS`, plus those of the log pane and the requests
table) feeds the footer, the help screen and the palette. The help screen is imported when
first opened: the first frame does not need it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

from console.core.config import Config
from console.core.recorder import Snapshot
from widgets.inflight import InFlightTable
from widgets.keys import KEYS, MAIN_ONLY
from widgets.logview import LogView

if TYPE_CHECKING:
    from widgets.help import HelpRow


class KeyedApp(App[int]):
    """The keys of the console, shared by every mode (live, demo, a saved bundle)."""

    BINDINGS: ClassVar[list[BindingType]] = KEYS

    config: Config
    """Remapped keys come from ``[keys]`` in the config file."""
    bundle: tuple[Snapshot, str] | None
    """(snapshot, what it is) of a saved bundle shown read-only: freezing and saving are off."""
    _logs: LogView
    _table: InFlightTable

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_ONLY and isinstance(self.screen, ModalScreen):
            return False
        if action in ("freeze", "save") and self.bundle is not None:
            return False
        return True

    def key_bindings(self) -> Iterable[tuple[Widget | App[Any] | Screen[Any], Binding]]:
        """The console's own bindings with the node that runs them, in help order."""
        log, table = self._logs, self._table
        seen: set[str] = set()
        for node, bindings in (
            (self, KEYS),
            (log, LogView.BINDINGS),
            (table, InFlightTable.BINDINGS),
        ):
            for binding in bindings:
                if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                    seen.add(binding.id)
                    yield node, binding

    def help_rows(self) -> tuple[HelpRow, ...]:
        """(keys, description, id) of every binding, with keys as remapped by the config."""
        from widgets.help import help_rows

        bindings = [b for _, b in self.key_bindings()]
        return help_rows(bindings, self.config.keys, self.get_key_display)

    def action_help(self) -> None:
        from widgets.help import HelpScreen

        self.push_screen(HelpScreen(self.help_rows()))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ModalScreen):
            return
        for node, binding in self.key_bindings():
            assert binding.id is not None
            title = binding.tooltip or binding.description
            yield SystemCommand(
                title.capitalize(),
                f"key {binding.key} · id {binding.id}",
                partial(node.run_action, binding.action),
            )
