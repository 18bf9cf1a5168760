"""One line above the logs: each source with its number key and its rate; hidden ones dimmed."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive

from widgets.drawn import PlainWidget
from widgets.logview import SOURCE_COLOURS


def rounded_rate(rate: float) -> float:
    """``rate`` to the precision the bar shows (whole numbers from 10/s, else tenths): a rate
    that moves by less than that leaves the bar as it is, with no repaint."""
    if rate >= 9.95:
        return float(round(rate))
    return round(max(rate, 0.0), 1)


def format_rate(rate: float) -> str:
    shown = rounded_rate(rate)
    if shown >= 10:
        return f"{shown:.0f}/s"
    if shown > 0:
        return f"{shown:.1f}/s"
    return "0/s"


class SourceBar(PlainWidget):
    """``1 access 12/s  2 apache 0/s  3 php 0.4/s``: the keys that show and hide sources."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "sourcebar--key",
        "sourcebar--hidden",
        *(f"sourcebar--src-{i}" for i in range(SOURCE_COLOURS)),
    }
    DEFAULT_CSS = """
    SourceBar { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    SourceBar > .sourcebar--key { text-style: bold; }
    SourceBar > .sourcebar--hidden { color: $text-disabled; text-style: strike; }
    SourceBar > .sourcebar--src-0 { color: $text-primary; }
    SourceBar > .sourcebar--src-1 { color: $text-success; }
    SourceBar > .sourcebar--src-2 { color: $text-accent; }
    SourceBar > .sourcebar--src-3 { color: $text-secondary; }
    SourceBar > .sourcebar--src-4 { color: $foreground; text-style: bold; }
    SourceBar > .sourcebar--src-5 { color: $text-muted; text-style: bold; }
    """

    sources: reactive[tuple[str, ...]] = reactive(())
    """Source names in key order."""
    rates: reactive[tuple[float, ...]] = reactive(())
    """Records per second of each source, in the same order (see :func:`rounded_rate`)."""
    labels: reactive[tuple[str, ...]] = reactive(())
    """What each source is called in the bar, in the same order, when not its name (several
    hosts: the short host tag in front, ``f-a:access``)."""
    hidden: reactive[frozenset[str]] = reactive(frozenset())
    """Sources the log filter hides."""

    def render(self) -> RenderResult:
        style = self.get_component_rich_style
        line = Text(no_wrap=True, overflow="ellipsis")
        if not self.sources:
            line.append("no log sources yet", style("sourcebar--hidden"))
            return line
        for i, name in enumerate(self.sources):
            label = self.labels[i] if i < len(self.labels) else name
            rate = self.rates[i] if i < len(self.rates) else 0.0
            key = str(i + 1) if i < 9 else " "
            if name in self.hidden:
                line.append(f"{key} {label} off", style("sourcebar--hidden"))
            else:
                line.append(key, style("sourcebar--key"))
                line.append(f" {label}", style(f"sourcebar--src-{i % SOURCE_COLOURS}"))
                line.append(f" {format_rate(rate)}")
            line.append("  ")
        return line
