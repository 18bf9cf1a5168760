"""The host lines: one line per host under the header while the console follows several.

Hidden with one host. The lines are :func:`console.view.hosts.host_line` at the widget's
width; more hosts than :attr:`HostLines.most` lines pack into compact entries
(:func:`console.view.hosts.compact_lines`), those whose link is down first.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive

from console.view.hosts import HostRow, compact_lines, host_line, name_width
from widgets.drawn import DrawnText

#: From this width the name column has the host's own name beside its name.
WIDE = 100

STYLES = ("mark", "name", "label", "value", "warn", "crit", "muted")


class HostLines(DrawnText):
    """A line per host: name, busy/limit, memory, newest alert, the link when not up."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"hosts--{s}" for s in STYLES}
    DEFAULT_CSS = """
    HostLines { height: auto; display: none; background: $panel; text-wrap: nowrap; }
    HostLines.-shown { display: block; }
    HostLines > .hosts--mark { color: $accent; text-style: bold; }
    HostLines > .hosts--name { text-style: bold; }
    HostLines > .hosts--label { color: $text-muted; }
    HostLines > .hosts--value { text-style: bold; }
    HostLines > .hosts--warn { color: $warning; text-style: bold; }
    HostLines > .hosts--crit { color: $error; text-style: bold; }
    HostLines > .hosts--muted { color: $text-muted; }
    """

    rows: reactive[tuple[HostRow, ...]] = reactive((), repaint=False, layout=True)
    """One per host, in the fleet's order."""
    shown: reactive[str] = reactive("", repaint=False)
    """The host whose panes are shown (``*``: all of them)."""
    most: reactive[int] = reactive(3, repaint=False, layout=True)
    """Lines at most (the screen's height decides); more hosts go compact."""

    def watch_rows(self, rows: tuple[HostRow, ...]) -> None:
        self.set_class(len(rows) >= 2, "-shown")
        self.redraw()

    def watch_shown(self) -> None:
        self.redraw()

    def watch_most(self) -> None:
        self.redraw()

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self._lines(width))

    def _lines(self, width: int) -> list[list[tuple[str, str]]]:
        rows = self.rows
        if len(rows) < 2 or width <= 0:
            return []
        if len(rows) <= self.most:
            wide = width >= WIDE
            nw = name_width(rows, label=wide)
            return [
                host_line(r, width, nw, shown=self.shown in (r.name, "*"), label=wide) for r in rows
            ]
        return compact_lines(rows, width, max(1, self.most), self.shown)

    def draw(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        width = self.size.width
        for i, pieces in enumerate(self._lines(width)):
            if i:
                out.append("\n")
            for text, style in pieces:
                out.append(text, self.get_component_rich_style(f"hosts--{style}") if style else "")
        return out
