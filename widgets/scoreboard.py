"""The Apache scoreboard: a cell per worker slot coloured by state, a legend and a gauge.

When the status source is in trouble the pane says why, and keeps the last scoreboard it
saw, greyed, with its age. A new sample costs a repaint only when what is drawn changes, and a
layout only when the height the pane needs changes.
"""

from __future__ import annotations

import math
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive

from console.core.events import SourceState, StatusSample
from console.view.metrics import saturation
from widgets.drawn import DrawnText

#: Scoreboard characters, what they mean, and the component class that colours them.
MODES: tuple[tuple[str, str, str], ...] = (
    ("W", "sending", "scoreboard--write"),
    ("R", "reading", "scoreboard--read"),
    ("K", "keepalive", "scoreboard--keepalive"),
    ("C", "closing", "scoreboard--other"),
    ("L", "logging", "scoreboard--other"),
    ("D", "dns", "scoreboard--other"),
    ("S", "starting", "scoreboard--other"),
    ("I", "cleanup", "scoreboard--other"),
    ("G", "graceful", "scoreboard--graceful"),
    ("_", "idle", "scoreboard--idle"),
    (".", "open", "scoreboard--open"),
)
#: Most rows of cells drawn when the pane sizes itself (tall screens).
MAX_ROWS = 4
_CLASS = {ch: cls for ch, _, cls in MODES}
_NAME = {ch: name for ch, name, _ in MODES}


def cell_rows(scoreboard: str, width: int, rows: int) -> list[str]:
    """The scoreboard cut into rows of ``width``; past ``rows`` rows, open slots are summed up.

    When the whole string does not fit, trailing open slots (``.``) become ``+N open`` and
    what still does not fit ends in ``…``.
    """
    if width <= 0 or rows <= 0 or not scoreboard:
        return []
    if len(scoreboard) <= width * rows:
        return [scoreboard[i : i + width] for i in range(0, len(scoreboard), width)]
    used = scoreboard.rstrip(".")
    tail = f" +{len(scoreboard) - len(used)} open" if len(used) < len(scoreboard) else ""
    text = used + tail
    if len(text) > width * rows:
        text = text[: width * rows - 1] + "…"
    return [text[i : i + width] for i in range(0, len(text), width)]


class ScoreboardView(DrawnText):
    """Slots by state, counts, and how full the server is."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "scoreboard--write",
        "scoreboard--read",
        "scoreboard--keepalive",
        "scoreboard--other",
        "scoreboard--graceful",
        "scoreboard--idle",
        "scoreboard--open",
        "scoreboard--stale",
        "scoreboard--problem",
        "scoreboard--gauge-ok",
        "scoreboard--gauge-warn",
        "scoreboard--gauge-crit",
        "scoreboard--gauge-empty",
    }
    DEFAULT_CSS = """
    ScoreboardView { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    ScoreboardView > .scoreboard--write { color: $warning; text-style: bold; }
    ScoreboardView > .scoreboard--read { color: $accent; text-style: bold; }
    ScoreboardView > .scoreboard--keepalive { color: $primary; }
    ScoreboardView > .scoreboard--other { color: $secondary; }
    ScoreboardView > .scoreboard--graceful { color: $text-muted; }
    ScoreboardView > .scoreboard--idle { color: $success; }
    ScoreboardView > .scoreboard--open { color: $text-disabled; }
    ScoreboardView > .scoreboard--stale { color: $text-disabled; }
    ScoreboardView > .scoreboard--problem { color: $warning; text-style: bold; }
    ScoreboardView > .scoreboard--gauge-ok { color: $success; }
    ScoreboardView > .scoreboard--gauge-warn { color: $warning; }
    ScoreboardView > .scoreboard--gauge-crit { color: $error; }
    ScoreboardView > .scoreboard--gauge-empty { color: $text-disabled; }
    """

    sample: reactive[StatusSample | None] = reactive(None, repaint=False)
    """The latest status sample."""
    problem: reactive[SourceState | None] = reactive(None, repaint=False)
    """The status source's state when it is not ok."""
    age: reactive[int | None] = reactive(None, repaint=False)
    """Whole seconds since :attr:`sample` was taken (shown while there is a problem)."""
    note: reactive[str] = reactive("", repaint=False)
    """Shown when there is nothing else to show (e.g. no status URL is known)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shape: tuple[bool, int, int] | None = None
        """What :meth:`get_content_height` depends on, at the last layout."""

    def _changed(self) -> None:
        sample = self.sample
        shape = (sample is None, len(sample.scoreboard) if sample else 0, len(self._problem_text()))
        if shape != self._shape:
            self._shape = shape
            self.refresh(layout=True)
        else:
            self.redraw()

    _watch_sample = _watch_problem = _watch_age = _watch_note = _changed

    def _problem_text(self) -> str:
        problem = self.problem
        if problem is None:
            return ""
        head = f"⚠ {problem.status}"
        if self.sample is not None and self.age is not None:
            head += f" · last seen {self.age} s ago"
        head += f" · {problem.message or 'no answer'}"
        if problem.hint:
            head += f" ({problem.hint})"
        return head

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """Room for the problem (up to 2 lines, 6 with no scoreboard yet), the cells (up to
        MAX_ROWS) and the summary."""
        width = max(1, width)
        most = 2 if self.sample is not None else 6
        lines = min(most, math.ceil(len(self._problem_text()) / width))
        if self.sample is None:
            return max(1, lines)
        cells = math.ceil(len(self.sample.scoreboard) / width) if self.sample.scoreboard else 0
        return lines + min(MAX_ROWS, cells) + 1

    def draw(self) -> Text:
        width, height = self.size.width, self.size.height
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        sample, problem = self.sample, self.problem
        stale = problem is not None
        lines_left = height
        if problem is not None:
            head = Text(self._problem_text(), style=style("scoreboard--problem"))
            most = 2 if sample is not None else 6
            keep = max(1, min(most, lines_left - (1 if sample else 0)))
            wrapped = head.wrap(self.app.console, max(1, width)) if keep > 1 else [head]
            for line in list(wrapped)[:keep]:
                out.append_text(line)
                out.append("\n")
            lines_left -= min(keep, len(wrapped))
        if sample is None:
            if problem is None:
                out.append(self.note or "waiting for mod_status…", style("scoreboard--open"))
            return out
        grey = style("scoreboard--stale") if stale else None
        # Short of room while stale, the (stale) summary gives way to the message.
        summary = lines_left >= 2 or not stale
        for row in cell_rows(sample.scoreboard, width, max(1, lines_left - summary)):
            for ch in row:
                out.append(ch, grey or style(_CLASS.get(ch, "scoreboard--other")))
            out.append("\n")
        if summary:
            out.append_text(self._summary(sample, width, grey))
        else:
            out.rstrip()
        return out

    def _summary(self, sample: StatusSample, width: int, grey: Style | None) -> Text:
        style = self.get_component_rich_style
        ratio = saturation(sample)
        level = "crit" if ratio >= 0.9 else "warn" if ratio >= 0.7 else "ok"
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(f"busy {sample.busy}/{sample.limit} ")
        bar = max(6, min(24, width // 5))
        filled = math.ceil(ratio * bar) if sample.busy else 0
        line.append("█" * filled, grey or style(f"scoreboard--gauge-{level}"))
        line.append("░" * (bar - filled), grey or style("scoreboard--gauge-empty"))
        line.append(f" {ratio:.0%} ", grey or style(f"scoreboard--gauge-{level}"))
        wide = width - line.cell_len > 60
        for ch, name, cls in MODES:
            count = sample.counts.get(ch, 0)
            if not count:
                continue
            line.append(" ")
            line.append(ch, grey or style(cls))
            line.append(f" {name} {count}" if wide else f"{count}")
        return line
