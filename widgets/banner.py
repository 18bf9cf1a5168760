"""The line that says the screen is not live: frozen, or a saved bundle being read."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive

from widgets.drawn import PlainWidget


class FrozenBanner(PlainWidget):
    """One line across the screen, shown only while :attr:`text` is set."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"banner--word", "banner--text"}
    DEFAULT_CSS = """
    FrozenBanner { height: 1; background: $warning 20%; display: none; }
    FrozenBanner.-shown { display: block; }
    FrozenBanner > .banner--word { color: $warning; text-style: bold reverse; }
    FrozenBanner > .banner--text { color: $text; }
    """

    word: reactive[str] = reactive("FROZEN")
    """The word in reverse at the start (``FROZEN``, ``BUNDLE``)."""
    text: reactive[str] = reactive("")
    """What follows it; empty hides the banner."""

    def watch_text(self, text: str) -> None:
        self.set_class(bool(text), "-shown")
        if self.is_attached:  # toasts sit on the line under it (lamptop.tcss)
            self.screen.set_class(bool(text), "-banner")

    def render(self) -> RenderResult:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(f" {self.word} ", self.get_component_rich_style("banner--word"))
        line.append(f" {self.text}", self.get_component_rich_style("banner--text"))
        return line
