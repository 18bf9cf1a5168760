"""The footer: Textual's, rebuilt only when the keys it shows change.

Textual's footer rebuilds all of its key widgets each time the bindings may have changed (a
focus change, a keymap being set, the screen being shown), which at start-up happens five times
in a row for the same keys, about 25 ms each. This one asks for a rebuild only when the keys
it would show differ from those it shows, and only once while a rebuild is pending.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer

#: What the footer shows of one binding: key, action, label, enabled, tooltip.
ShownKey = tuple[str, str, str, bool, str]


def shown_keys(screen: Screen[Any]) -> tuple[ShownKey, ...]:
    """The bindings of ``screen`` that a footer shows, as plain values."""
    return tuple(
        (binding.key, binding.action, binding.description, enabled, tooltip)
        for _, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    )


class KeysFooter(Footer):
    """A :class:`~textual.widgets.Footer` that skips rebuilds which would change nothing."""

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._keys: tuple[ShownKey, ...] | None = None
        """The keys of the last rebuild."""
        self._queued = False
        """A rebuild is scheduled: it will read the bindings as they are then."""

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self._queued or (self._keys is not None and shown_keys(screen) == self._keys):
            return
        # the footer rebuilds itself after the next refresh, when it can (as Textual's does)
        self._queued = screen.app.app_focus and self.is_attached and screen is self.screen
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        self._queued = False
        if self.is_attached:
            self._keys = shown_keys(self.screen)
        await super().recompose()
