"""The log pane: every source interleaved by time, a virtual view over a snapshot's records.

The pane draws a :class:`~console.view.logindex.LogIndex` it is given: the app keeps the index
up to date with each snapshot, the filter and whether continuation lines show, and tells the
pane what changed (:meth:`LogView.records_synced`, :meth:`LogView.relayout`). The pane owns
only where it is: the selected record, the scroll position and whether it follows the newest
record (it says when that changes, :class:`LogView.FollowChanged`).

Only the lines on screen are rendered (the Line API: ``render_line``), and rendered lines are
cached by record, so a burst of new records costs one repaint. New records repaint the pane
only when they change what is on screen: while it follows, or while the view is not full.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.events import MouseScrollUp
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.core.events import LogRecord
from console.core.timefmt import clock
from console.view.compact import compact_line, compact_record, source_tags
from console.view.filters import effective_level, http_status
from console.view.fleetview import log_tags
from console.view.logindex import LogIndex
from widgets.drawn import PlainWidget
from widgets.keys import LOG_KEYS

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


class LogView(PlainWidget, ScrollView, can_focus=True):
    """Log records, one line each (plus continuation lines when expanded), newest last.

    A :class:`~widgets.drawn.PlainWidget`: component styles kept, no links (Textual would
    otherwise restyle every line of every repaint)."""

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
    BINDINGS: ClassVar[list[BindingType]] = LOG_KEYS

    follow: var[bool] = var(True)
    """Keep the newest record in view; moving up turns it off."""
    sources: var[tuple[str, ...]] = var(())
    """Source names in key order; a source's position picks its colour."""
    zone: var[tzinfo] = var(UTC)
    """Zone the times are shown in."""
    redacted: var[bool] = var(False)
    """Mask client addresses and query strings."""
    hosts: var[tuple[tuple[str, bool], ...]] = var(())
    """Several hosts: each row's source tag has its host's in front (``f-a:access``)."""

    class Selected(Message):
        """The user asked for the detail of a record."""

        def __init__(self, record: LogRecord) -> None:
            super().__init__()
            self.record = record

    class FollowChanged(Message):
        """The pane started or stopped following the newest record."""

        def __init__(self, follow: bool) -> None:
            super().__init__()
            self.follow = follow

    def __init__(
        self, index: LogIndex | None = None, *, name: str | None = None, id: str | None = None
    ) -> None:
        super().__init__(name=name, id=id)
        self.index = index if index is not None else LogIndex()
        """The records that pass the filter, and the rows they take (kept by the app)."""
        self._cursor: int | None = None
        """Ordinal of the selected record (None: the newest)."""
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(2048)
        self._base: Style | None = None
        """The pane's own style (background, colour), worked out once: see :meth:`_base_style`."""

    # -- what it shows -------------------------------------------------------------------------
    @property
    def records(self) -> Sequence[LogRecord]:
        """The records of the snapshot on screen, oldest first."""
        return self.index.ring

    @property
    def expanded(self) -> bool:
        """Continuation lines (stack traces, query text) show under their record."""
        return self.index.expanded

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

    # -- following the index -------------------------------------------------------------------
    def records_synced(self, removed: int | None) -> None:
        """The index took a new snapshot's records; ``removed``: what
        :meth:`~console.view.logindex.LogIndex.sync` returned (None: nothing changed)."""
        if removed is not None:
            # a late line filed before the end changes rows on screen: repaint them
            self._update_size(removed, appended=not self.index.placed)

    def relayout(self) -> None:
        """Anything in the index may have changed (the filter, continuation lines shown)."""
        self._cache.clear()
        self._update_size(0)

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._to_end()
        self._anchor()
        self.post_message(self.FollowChanged(follow))

    def _watch_sources(self) -> None:
        self.relayout()

    def _watch_zone(self) -> None:
        self.relayout()

    def _watch_redacted(self) -> None:
        self.relayout()

    def _watch_hosts(self) -> None:
        self.relayout()

    def _update_size(self, removed_rows: int, *, appended: bool = False) -> None:
        """Follow a new row count; ``appended``: only new rows at the end and ``removed_rows``
        dropped from the top changed (else anything may have)."""
        old_rows = self.virtual_size.height
        size = Size(0, self.index.rows)
        resized = size != self.virtual_size
        view = self.scrollable_content_region.height
        if resized:
            # A new row count changes the scroll range, not what is on screen. Only when the
            # scrollbar comes or goes does the layout change; else its thumb is told directly.
            self.set_reactive(LogView.virtual_size, size)
            if (size.height > view) != self.show_vertical_scrollbar:
                self.refresh(repaint=False, layout=True)
            elif self.show_vertical_scrollbar:
                self.vertical_scrollbar.window_virtual_size = size.height
            if self.scroll_y > self.max_scroll_y:  # fewer rows: the view moves up with them
                self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        if self.follow:
            self._to_end()
            if resized and not self.show_vertical_scrollbar and size.height > view:
                # scrolling starts once the layout has shown the scrollbar
                self.call_after_refresh(self._to_end)
        else:
            if removed_rows:
                self.scroll_to(y=max(0, self.scroll_y - removed_rows), animate=False)
            self._clamp_cursor()
            if appended and not removed_rows and old_rows >= self.scroll_y + view:
                return  # rows were added below a full view: nothing on screen moved
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
        if self._cursor is not None:  # the selection goes back to the newest record
            self._cursor = None
            self.refresh()
        height = self.scrollable_content_region.height
        self.scroll_to(y=max(0, self.index.rows - height), animate=False)

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
        self._anchor()

    def _anchor(self) -> None:
        """Tell the index which record tops the view, so that lines filed above it (late, by
        their time) or dropped keep it in place; none while following."""
        at = None if self.follow else self.index.locate(round(self.scroll_y))
        self.index.anchor = None if at is None else self.index.ordinal(at[0])

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
        self._base = None

    def _base_style(self) -> Style:
        """:attr:`rich_style` walks every ancestor's styles: work it out once per style change."""
        if self._base is None:
            self._base = self.rich_style
        return self._base

    # -- drawing ---------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        where = self.index.locate(self.scroll_offset.y + y)
        if where is None:
            return Strip.blank(width, self._base_style())
        j, sub = where
        cursor = self.has_focus and j == self._cursor_index()
        key = (self.index.ordinal(j), sub, cursor)
        strip = self._cache.get(key)
        if strip is None or strip.cell_length != width:
            strip = self._render_row(self.index.record(j), sub, width, cursor)
            self._cache[key] = strip
        return strip

    def _render_row(self, rec: LogRecord, sub: int, width: int, cursor: bool) -> Strip:
        """One row, built as segments: a row is drawn once, but rich's Text would cost more
        than everything else in it (same look as ``Text(...).truncate(width, "ellipsis")``)."""
        style = self.get_component_rich_style
        muted = style("logview--muted")
        hosts, names = self.hosts, self.sources
        tag_width, tags = log_tags(names, hosts, width) if hosts else source_tags(names, width)
        indent = 9 + tag_width + 1 + 6 + 2
        if sub == 0:
            line = base = self._base_style()
            try:
                colour = self.sources.index(rec.source) % SOURCE_COLOURS
            except ValueError:
                colour = SOURCE_COLOURS - 1
            status = http_status(rec) if rec.kind == "apache-access" else None
            level = effective_level(rec)
            word = str(status) if status is not None else _LEVEL_WORD.get(level, level.upper())
            level_class = _LEVEL_CLASS.get(level)
            mark = ("▾ " if self.index.expanded else "▸ ") if rec.lines else "  "
            parts = [
                Segment(
                    clock(rec.ts, self.zone) + " ",
                    base + style("logview--time"),
                ),
                Segment(
                    tags.get(rec.source, rec.source)[:tag_width].ljust(tag_width) + " ",
                    base + style(f"logview--src-{colour}"),
                ),
                Segment(f"{word[:5]:<5} ", base + style(level_class) if level_class else base),
                Segment(mark, base + muted),
            ]
            # the form of its kind that fits (console.view.compact): a plain cut loses the end
            body = compact_record(rec, width - indent, redacted=self.redacted)
        else:
            line = muted
            parts = [Segment(" " * (indent - 2) + "│ ", muted)]
            body = compact_line(rec.lines[sub - 1], width - indent, redacted=self.redacted)
        done = 0
        spans = self.index.filter.spans(body)
        if spans:
            match = line + style("logview--match")
            for a, b in spans:
                if a > done:
                    parts.append(Segment(body[done:a], line))
                parts.append(Segment(body[a:b], match))
                done = b
        if done < len(body):
            parts.append(Segment(body[done:], line))
        strip = Strip(parts)
        if strip.cell_length > width:
            # the last cell that fits becomes an ellipsis, in the style it had
            last = next(iter(strip.crop(width - 1, width)), None)
            ellipsis = Segment("…", last.style if last is not None else line)
            strip = Strip([*strip.crop(0, max(0, width - 1)), ellipsis])
        strip = strip.extend_cell_length(width, line)
        if cursor:
            over = style("logview--cursor")
            strip = Strip([Segment(t, (s or line) + over, c) for t, s, c in strip], width)
        return strip.crop_extend(0, width, self._base_style())
