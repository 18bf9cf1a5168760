"""Base of the PHP-FPM and MySQL panes: summary lines, a header, rows with a cursor.

The selected row is kept by its key (a pid, a thread id) while rows come and go around it, so
the cursor follows a process rather than a place. ``enter`` posts :class:`RowTable.Chosen`
with the row; the app decides what to show.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import ClassVar, Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.binding import Binding, BindingType
from textual.message import Message

from widgets.drawn import PlainWidget

Row = TypeVar("Row")

#: (name, width, align); a width of 0 takes what is left.
Column = tuple[str, int, str]


def fit(value: str, width: int, align: str = "left") -> str:
    """``value`` cut to ``width`` with an ellipsis, padded to it."""
    if len(value) > width:
        value = value[: max(0, width - 1)] + "…"
    return value.rjust(width) if align == "right" else value.ljust(width)


def cells_line(columns: Sequence[Column], cells: Mapping[str, tuple[str, Style | None]]) -> Text:
    """One row: each column's (value, style) from ``cells``, fitted and joined by spaces."""
    line = Text(no_wrap=True, end="")
    for n, (name, w, align) in enumerate(columns):
        value, style = cells[name]
        line.append(fit(value, w, align), style or "")
        if n < len(columns) - 1:
            line.append(" ")
    return line


def layout(columns: Sequence[Column], width: int) -> list[Column]:
    """Columns with the flexible one (width 0) given the room the others leave."""
    used = sum(w + 1 for _, w, _ in columns if w)
    return [(n, w or max(1, width - used), a) for n, w, a in columns]


class RowTable(PlainWidget, Generic[Row], can_focus=True):
    """Summary lines, then a header and one or more lines per row, the selected one marked."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rows--header",
        "rows--cursor",
        "rows--warn",
        "rows--error",
        "rows--dim",
    }
    DEFAULT_CSS = """
    RowTable { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    RowTable > .rows--header { color: $text-muted; text-style: bold; }
    RowTable > .rows--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    RowTable > .rows--warn { color: $warning; }
    RowTable > .rows--error { color: $error; text-style: bold; }
    RowTable > .rows--dim { color: $text-disabled; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up,k",
            "move(-1)",
            "previous",
            show=False,
            id="row-up",
            tooltip="php-fpm, mysql: previous row",
        ),
        Binding(
            "down,j",
            "move(1)",
            "next",
            show=False,
            id="row-down",
            tooltip="php-fpm, mysql: next row",
        ),
        Binding(
            "enter",
            "choose",
            "detail",
            id="row-detail",
            tooltip="php-fpm, mysql: the selected process or query in full",
        ),
    ]

    class Chosen(Message):
        """The user asked for the whole of a row."""

        def __init__(self, table: RowTable[object], row: object) -> None:
            super().__init__()
            self.table = table
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cursor = 0
        self._top = 0
        self._key: Hashable | None = None
        self._rows: tuple[Row, ...] = ()

    # -- what subclasses give ----------------------------------------------------------------
    def summary(self, width: int) -> list[Text]:
        """Lines above the table."""
        return []

    def columns(self, width: int) -> list[Column]:
        raise NotImplementedError

    def row_key(self, row: Row) -> Hashable:
        raise NotImplementedError

    def row_lines(self, row: Row, columns: list[Column], width: int) -> list[Text]:
        """The row's first line, then any under it."""
        raise NotImplementedError

    def empty(self) -> str:
        return "nothing running"

    # -- rows and the cursor -------------------------------------------------------------------
    @property
    def rows(self) -> tuple[Row, ...]:
        return self._rows

    def set_rows(self, rows: tuple[Row, ...]) -> None:
        """New rows; the selected one stays selected when it is still there."""
        if rows == self._rows:
            return
        self._rows = rows
        if self._key is not None:
            for i, row in enumerate(rows):
                if self.row_key(row) == self._key:
                    self.cursor = i
                    break
            else:
                self.cursor = min(self.cursor, max(0, len(rows) - 1))
        self.refresh()

    @property
    def selected(self) -> Row | None:
        return self._rows[self.cursor] if 0 <= self.cursor < len(self._rows) else None

    def action_move(self, step: int) -> None:
        if self._rows:
            self.cursor = max(0, min(len(self._rows) - 1, self.cursor + step))
            self._key = self.row_key(self._rows[self.cursor])
            self.refresh()

    def action_choose(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Chosen(self, row))  # type: ignore[arg-type]

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- drawing -------------------------------------------------------------------------------
    def render(self) -> RenderResult:
        width, height = self.size.width, self.size.height
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        lines = self.summary(width)
        for line in lines:
            if out:
                out.append("\n")
            out.append_text(line)
        cols = self.columns(width)
        room = height - len(lines) - 1
        if room < 1:
            return out
        if out:
            out.append("\n")
        header = " ".join(fit(n, w, a) for n, w, a in cols)
        out.append(header[:width], style("rows--header"))
        if not self._rows:
            out.append("\n" + self.empty()[:width], style("rows--dim"))
            return out
        # lines only for the rows that can show: from the top (or the cursor above it) to a
        # screenful past the cursor (a processlist can hold 2000 rows; a pane shows a few)
        rows = self._rows
        cursor = min(self.cursor, len(rows) - 1)
        first = min(self._top, cursor)
        blocks = {
            i: self.row_lines(rows[i], cols, width)
            for i in range(first, min(len(rows), max(cursor + 1, first) + room))
        }
        top = first
        while top < cursor and sum(len(blocks[i]) for i in range(top, cursor + 1)) > room:
            top += 1
        self._top = top
        drawn: list[Text] = []
        for i in range(top, len(rows)):
            block = blocks.get(i)
            if block is None or (len(drawn) + len(block) > room and drawn):
                break
            if i == cursor and self.has_focus:
                block[0].stylize(style("rows--cursor"))
            drawn += block
        for line in drawn[:room]:
            out.append("\n")
            out.append_text(line)
        return out

    def level(self, value: float, warn: float, error: float) -> Style:
        """A figure's style by how bad it is."""
        if value >= error:
            return self.get_component_rich_style("rows--error")
        if value >= warn:
            return self.get_component_rich_style("rows--warn")
        return Style()
