"""The log pane: every source interleaved by time, a virtual view over a snapshot's records.

Only the lines on screen are rendered (the Line API: ``render_line``), and rendered lines are
cached by record, so a burst of new records costs one repaint. The pane keeps the positions of
the records its filter lets through and extends that list with each new snapshot's records,
re-filtering the whole ring only when the filter itself changes.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.events import MouseScrollUp
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.events import LogRecord
from console.filters import LogFilter, effective_level, http_status, redact
from console.logindex import LogIndex

#: Source tags take one of these colours, by the source's position (the 1..9 key order).
SOURCE_COLOURS = 6

_LEVEL_WORD = {
    "crit": "CRIT",
    "error": "ERROR",
    "warn": "WARN",
    "notice": "NOTE",
    "info": "INFO",
    "debug": "DEBUG",
    "unparsed": "?",
}
_LEVEL_CLASS = {
    "crit": "logview--error",
    "error": "logview--error",
    "warn": "logview--warn",
    "notice": "logview--notice",
    "debug": "logview--muted",
    "unparsed": "logview--muted",
}
#: Control characters would reach the terminal as commands: show them as a middle dot.
_CONTROLS = {i: "·" for i in (*range(0, 9), *range(10, 32), 127)} | {9: " "}


def clean(text: str) -> str:
    return text.translate(_CONTROLS)


class LogView(ScrollView, can_focus=True):
    """Log records, one line each (plus continuation lines when expanded), newest last."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "logview--time",
        "logview--error",
        "logview--warn",
        "logview--notice",
        "logview--muted",
        "logview--match",
        "logview--cursor",
        *(f"logview--src-{i}" for i in range(SOURCE_COLOURS)),
    }
    DEFAULT_CSS = """
    LogView { overflow-x: hidden; overflow-y: auto; }
    LogView > .logview--time { color: $text-muted; }
    LogView > .logview--error { color: $error; text-style: bold; }
    LogView > .logview--warn { color: $warning; }
    LogView > .logview--notice { color: $foreground; }
    LogView > .logview--muted { color: $text-muted; }
    LogView > .logview--match { background: $warning 40%; text-style: bold; }
    LogView > .logview--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    LogView > .logview--src-0 { color: $text-primary; }
    LogView > .logview--src-1 { color: $text-success; }
    LogView > .logview--src-2 { color: $text-accent; }
    LogView > .logview--src-3 { color: $text-secondary; }
    LogView > .logview--src-4 { color: $foreground; text-style: bold; }
    LogView > .logview--src-5 { color: $text-muted; text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open",
            "detail",
            show=False,
            id="open-record",
            tooltip="logs: open the selected record (all lines, all fields)",
        ),
        Binding(
            "up,k",
            "move(-1)",
            "previous record",
            show=False,
            id="log-up",
            tooltip="logs: previous record (stops following)",
        ),
        Binding(
            "down,j",
            "move(1)",
            "next record",
            show=False,
            id="log-down",
            tooltip="logs: next record",
        ),
        Binding(
            "pageup", "page(-1)", "page up", show=False, id="log-page-up", tooltip="logs: page up"
        ),
        Binding(
            "pagedown",
            "page(1)",
            "page down",
            show=False,
            id="log-page-down",
            tooltip="logs: page down",
        ),
        Binding(
            "home",
            "home",
            "oldest record",
            show=False,
            id="log-home",
            tooltip="logs: oldest record",
        ),
        Binding(
            "end",
            "follow",
            "follow",
            show=False,
            id="follow",
            tooltip="follow the newest records again",
        ),
    ]

    records: var[tuple[LogRecord, ...]] = var((), always_update=True)
    """The records of the snapshot on screen, oldest first."""
    filter: var[LogFilter] = var(LogFilter())
    """Which records are shown."""
    expanded: var[bool] = var(False)
    """Show continuation lines (stack traces, query text) under their record."""
    follow: var[bool] = var(True)
    """Keep the newest record in view; moving up turns it off."""
    sources: var[tuple[str, ...]] = var(())
    """Source names in key order; a source's position picks its colour."""
    zone: var[tzinfo] = var(UTC)
    """Zone the times are shown in."""
    redacted: var[bool] = var(False)
    """Mask client addresses and query strings."""

    class Selected(Message):
        """The user asked for the detail of a record."""

        def __init__(self, record: LogRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.index = LogIndex()
        """The records that pass the filter, and the rows they take."""
        self._cursor: int | None = None
        """Ordinal of the selected record (None: the newest)."""
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(2048)

    # -- what the app reads --------------------------------------------------------------------
    @property
    def shown(self) -> int:
        """How many records pass the filter."""
        return len(self.index)

    @property
    def matched(self) -> tuple[LogRecord, ...]:
        """The records that pass the filter, oldest first."""
        return self.index.records()

    @property
    def selected(self) -> LogRecord | None:
        j = self._cursor_index()
        return None if j is None else self.index.record(j)

    # -- following the snapshot -------------------------------------------------------------------
    def watch_records(self, records: tuple[LogRecord, ...]) -> None:
        removed = self.index.sync(records)
        if removed is not None:
            self._update_size(removed)

    def watch_filter(self, new: LogFilter) -> None:
        self.index.set_filter(new)
        self._relayout()

    def watch_expanded(self, expanded: bool) -> None:
        self.index.set_expanded(expanded)
        self._relayout()

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._to_end()

    def _watch_sources(self) -> None:
        self._relayout()

    def _watch_zone(self) -> None:
        self._relayout()

    def _watch_redacted(self) -> None:
        self._relayout()

    def _relayout(self) -> None:
        self._cache.clear()
        self._update_size(0)

    def _update_size(self, removed_rows: int) -> None:
        size = Size(0, self.index.rows)
        grew = size != self.virtual_size
        self.virtual_size = size
        if self.follow:
            self._to_end()
            if grew:  # the scroll range follows the new size only after a refresh
                self.call_after_refresh(self._to_end)
        else:
            if removed_rows:
                self.scroll_to(y=max(0, self.scroll_y - removed_rows), animate=False)
            self._clamp_cursor()
        self.refresh()

    # -- cursor and scrolling ----------------------------------------------------------------------
    def _cursor_index(self) -> int | None:
        if not self.index:
            return None
        if self._cursor is None:
            return len(self.index) - 1
        return self.index.index_of(self._cursor)

    def _clamp_cursor(self) -> None:
        j = self._cursor_index()
        self._cursor = None if j is None else self.index.ordinal(j)

    def _to_end(self) -> None:
        if not self.follow:
            return
        self._cursor = None
        height = self.scrollable_content_region.height
        self.scroll_to(y=max(0, self.index.rows - height), animate=False)
        self.refresh()

    def _select(self, j: int) -> None:
        if not self.index:
            return
        last = len(self.index) - 1
        j = max(0, min(j, last))
        self._cursor = self.index.ordinal(j)
        row, height = self.index.row_of(j)
        view = self.scrollable_content_region.height
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False)
        elif row + min(height, view) > self.scroll_y + view:
            self.scroll_to(y=row + min(height, view) - view, animate=False)
        if j == last and self.scroll_y >= self.max_scroll_y:
            self.follow = True
        self.refresh()

    def action_move(self, step: int) -> None:
        j = self._cursor_index()
        if j is None:
            return
        if step < 0:
            self.follow = False
        self._select(j + step)

    def action_page(self, direction: int) -> None:
        j = self._cursor_index()
        if j is None:
            return
        if direction < 0:
            self.follow = False
        self._select(j + direction * max(1, self.scrollable_content_region.height - 1))

    def action_home(self) -> None:
        self.follow = False
        self._select(0)

    def action_follow(self) -> None:
        self.follow = True

    def action_open(self) -> None:
        record = self.selected
        if record is not None:
            self.post_message(self.Selected(record))

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        self.follow = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if round(new) < round(old) and round(new) < round(self.max_scroll_y):
            self.follow = False

    def on_resize(self) -> None:
        self._cache.clear()
        if self.follow:
            self.call_after_refresh(self._to_end)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- drawing ---------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        where = self.index.locate(self.scroll_offset.y + y)
        if where is None:
            return Strip.blank(width, base)
        j, sub = where
        cursor = self.has_focus and j == self._cursor_index()
        key = (self.index.ordinal(j), sub, cursor)
        strip = self._cache.get(key)
        if strip is None or strip.cell_length != width:
            strip = self._render_row(self.index.record(j), sub, width, cursor)
            self._cache[key] = strip
        return strip

    def _tag_width(self) -> int:
        return max(4, min(10, max((len(s) for s in self.sources), default=4)))

    def _render_row(self, rec: LogRecord, sub: int, width: int, cursor: bool) -> Strip:
        style = self.get_component_rich_style
        base = self.rich_style
        tag_width = self._tag_width()
        indent = 9 + tag_width + 1 + 6 + 2
        if sub == 0:
            line = Text(no_wrap=True, end="", style=base)
            line.append(rec.ts.astimezone(self.zone).strftime("%H:%M:%S "), style("logview--time"))
            try:
                colour = self.sources.index(rec.source) % SOURCE_COLOURS
            except ValueError:
                colour = SOURCE_COLOURS - 1
            line.append(
                rec.source[:tag_width].ljust(tag_width) + " ", style(f"logview--src-{colour}")
            )
            status = http_status(rec) if rec.kind == "apache-access" else None
            level = effective_level(rec)
            word = str(status) if status is not None else _LEVEL_WORD.get(level, level.upper())
            level_class = _LEVEL_CLASS.get(level)
            line.append(f"{word[:5]:<5} ", style(level_class) if level_class else base)
            mark = ("▾ " if self.expanded else "▸ ") if rec.lines else "  "
            line.append(mark, style("logview--muted"))
            body = rec.text
        else:
            line = Text(" " * (indent - 2) + "│ ", style=style("logview--muted"), no_wrap=True)
            body = rec.lines[sub - 1]
        body = clean(body[: max(0, width - indent) + 200])
        if self.redacted:
            body = redact(body)
        start = len(line)
        line.append(body, style("logview--muted") if sub else base)
        match = style("logview--match")
        for a, b in self.filter.spans(body):
            line.stylize(match, start + a, start + b)
        line.truncate(width, overflow="ellipsis", pad=True)
        if cursor:
            line.stylize(style("logview--cursor"))
        return Strip(line.render(self.app.console)).crop_extend(0, width, base)
