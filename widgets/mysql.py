"""The MySQL/MariaDB pane: connections against the limit, then running queries, longest first.

``enter`` shows the whole of the selected query (the app opens it in a box)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.text import Text

from console.core.stack import MysqlThread
from console.view.filters import redact
from console.view.metrics import human_duration
from console.view.stackpanes import ServerLine
from widgets.rowtable import Column, RowTable, cells_line, layout

#: Seconds after which a query is shown as a warning, then as an error.
SLOW, STUCK = 5.0, 30.0


class MysqlView(RowTable[MysqlThread]):
    """The server's line and its running queries."""

    DEFAULT_CSS: ClassVar[str] = "MysqlView { height: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.server: ServerLine | None = None
        self.note = "no MySQL/MariaDB server: give --mysql (lamptop sources says why)"
        self.redacted = False

    def show(self, server: ServerLine | None, threads: tuple[MysqlThread, ...], note: str) -> None:
        if (server, note) != (self.server, self.note):
            self.server, self.note = server, note
            self.refresh()
        self.set_rows(threads)

    def summary(self, width: int) -> list[Text]:
        out = []
        if self.server is not None:
            ratio = self.server.ratio
            out.append(Text(self.server.text(width)[:width], self.level(ratio, 0.75, 0.9)))
        if self.note:
            style = "rows--warn" if self.server is not None else "rows--dim"
            out.append(Text(self.note[:width], self.get_component_rich_style(style)))
        return out

    def columns(self, width: int) -> list[Column]:
        cols: list[Column] = [("ID", 7, "right")]
        if width >= 60:
            cols.append(("USER", 10, "left"))
        if width >= 90:
            cols.append(("DB", 10, "left"))
        cols.append(("SECS", 5, "right"))
        if width >= 100:
            cols.append(("STATE", 18, "left"))
        cols.append(("QUERY", 0, "left"))
        return layout(cols, width)

    def row_key(self, row: MysqlThread) -> Hashable:
        return row.id

    def empty(self) -> str:
        return "no query running" if self.server is not None else ""

    def row_lines(self, row: MysqlThread, columns: list[Column], width: int) -> list[Text]:
        mask = redact if self.redacted else str
        cells = {
            "ID": (str(row.id), None),
            "USER": (mask(row.user), None),
            "DB": (row.db or "-", None),
            "SECS": (human_duration(row.time), self.level(row.time, SLOW, STUCK)),
            "STATE": (row.state or row.command, None),
            "QUERY": (mask(" ".join(row.info.split())), None),
        }
        line = cells_line(columns, cells)
        return [line]


def describe_thread(row: MysqlThread, redacted: bool = False) -> Text:
    """A thread in full: its fields, then the whole query."""
    mask = redact if redacted else str
    out = Text()
    fields = [
        ("id", str(row.id)),
        ("user", mask(row.user)),
        ("host", mask(row.host)),
        ("db", row.db or "-"),
        ("command", row.command),
        ("time", f"{row.time:.1f} s"),
        ("state", row.state or "-"),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        out.append(f"{key:>{width}}  ", "bold")
        out.append(value + "\n")
    out.append("\n")
    out.append(mask(row.info) or "(no statement)")
    return out
