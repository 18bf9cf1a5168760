"""Requests being served now (mod_status ExtendedStatus), oldest first, with worker memory."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive

from console.core.events import ServerChild
from console.view.filters import redact
from console.view.metrics import InFlight, human_bytes, human_duration
from widgets.drawn import DrawnText

#: Seconds after which a request's age is shown as a warning, then as an error.
SLOW, STUCK = 10.0, 60.0
#: Resident bytes after which a worker's memory is shown as a warning, then as an error.
FAT, HUGE = 96 * 1024 * 1024, 256 * 1024 * 1024


def _columns(width: int, hosts: bool = False) -> list[tuple[str, int, str]]:
    """(name, width, align) of the columns that fit; the request takes what is left;
    ``hosts``: rows of several hosts, each with its host's tag first."""
    cols = [("HOST", 4, "left")] if hosts else []
    cols += [("PID", 7, "right"), ("M", 1, "left"), ("AGE", 6, "right"), ("RSS", 5, "right")]
    if width >= 60:
        cols.append(("CLIENT", 15, "left"))
    if width >= 100:
        cols.append(("VHOST", 18, "left"))
    used = sum(w + 1 for _, w, _ in cols)
    cols.append(("REQUEST", max(1, width - used), "left"))
    return cols


class InFlightTable(DrawnText, can_focus=True):
    """One row per busy worker with a request: pid, state, age, memory, client, vhost, request.

    The rows come again with every status sample, most of them as they were (on a busy server
    the ages move): the table is built again and only the lines that changed are repainted
    (:class:`DrawnText`).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "inflight--header",
        "inflight--cursor",
        "inflight--warn",
        "inflight--error",
        "inflight--stale",
    }
    DEFAULT_CSS = """
    InFlightTable { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    InFlightTable > .inflight--header { color: $text-muted; text-style: bold; }
    InFlightTable > .inflight--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    InFlightTable > .inflight--warn { color: $warning; }
    InFlightTable > .inflight--error { color: $error; text-style: bold; }
    InFlightTable > .inflight--stale { color: $text-disabled; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "pin",
            "its logs",
            id="pin-request",
            tooltip="requests: show the logs of its client, URL path or process",
        ),
        Binding(
            "up,k",
            "move(-1)",
            "previous request",
            show=False,
            id="request-up",
            tooltip="requests: previous",
        ),
        Binding(
            "down,j",
            "move(1)",
            "next request",
            show=False,
            id="request-down",
            tooltip="requests: next",
        ),
    ]

    rows: reactive[tuple[InFlight, ...]] = reactive((), repaint=False)
    """Requests in flight, oldest first."""
    stale: reactive[bool] = reactive(False, repaint=False)
    """The rows come from an old sample: draw them greyed."""
    processes: reactive[tuple[ServerChild, ...]] = reactive((), repaint=False)
    """Apache's processes as /proc shows them: drawn under the greyed rows while stale (they
    change every second: a repaint only while they are drawn)."""
    redacted: reactive[bool] = reactive(False, repaint=False)
    """Mask client addresses and query strings."""
    cursor: reactive[int] = reactive(0, repaint=False)
    """Index of the selected row."""

    class Pinned(Message):
        """The user asked for the logs of a request."""

        def __init__(self, row: InFlight) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._top = 0
        self._key: tuple[int | None, str] | None = None
        """The worker the user picked (its pid and slot): the selection follows it."""
        self.ended: tuple[int | None, str] | None = None
        """The picked worker's request is no longer in flight: nothing is selected, and the
        table says so until the user picks another."""

    def watch_processes(self) -> None:
        if self.stale:
            self.redraw()

    def watch_stale(self) -> None:
        self.redraw()

    def watch_redacted(self) -> None:
        self.redraw()

    def watch_cursor(self) -> None:
        self.redraw()

    def watch_rows(self, rows: tuple[InFlight, ...]) -> None:
        self._follow(rows)
        self.redraw()

    def _follow(self, rows: tuple[InFlight, ...]) -> None:
        # The rows are sorted again every second: the selection follows the worker picked,
        # never a place in the table; until one is picked, the oldest request is.
        key = self._key
        if key is not None:
            for i, row in enumerate(rows):
                if (row.pid, row.slot) == key:
                    self.cursor = i
                    self.ended = None
                    return
            self.ended = key
        self.cursor = min(self.cursor, max(0, len(rows) - 1))

    @property
    def selected(self) -> InFlight | None:
        if self.ended is not None:
            return None
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def action_move(self, step: int) -> None:
        rows = self.rows
        if not rows:
            return
        if self.ended is not None:
            self.ended = None  # the first move picks the row where the ended one was
            self.cursor = min(self.cursor, len(rows) - 1)
        else:
            self.cursor = max(0, min(len(rows) - 1, self.cursor + step))
        self._key = (rows[self.cursor].pid, rows[self.cursor].slot)
        self.redraw()

    def action_pin(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Pinned(row))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def draw(self) -> Text:
        width, height = self.size.width, self.size.height
        style = self.get_component_rich_style
        cols = _columns(width, any(r.host for r in self.rows))
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        header = " ".join(
            name.rjust(w) if align == "right" else name.ljust(w) for name, w, align in cols
        )
        out.append(header[:width], style("inflight--header"))
        kids = self.processes if self.stale else ()
        if not self.rows and not kids:
            out.append("\nno request in flight", style("inflight--stale"))
            return out
        if kids:
            # the status page is dark: the last table (greyed) above what /proc still tells
            shown = min(len(self.rows), max(0, (height - 3) // 2))
            for row in self.rows[:shown]:
                out.append("\n")
                out.append_text(self._row(row, cols, False))
            out.append_text(self._processes(kids, width, height - 1 - shown))
            return out
        ended = self.ended
        visible = max(1, height - 1 - (ended is not None and height > 3))
        if self.cursor < self._top:
            self._top = self.cursor
        elif self.cursor >= self._top + visible:
            self._top = self.cursor - visible + 1
        self._top = max(0, min(self._top, max(0, len(self.rows) - visible)))
        picked = self.cursor if ended is None else -1
        for i in range(self._top, min(len(self.rows), self._top + visible)):
            out.append("\n")
            out.append_text(self._row(self.rows[i], cols, i == picked))
        if ended is not None and height > 3:
            said = f"pid {ended[0] or '-'}: its request ended · ↑↓ picks another"
            out.append("\n" + said[:width], style("inflight--stale"))
        return out

    def _processes(self, kids: tuple[ServerChild, ...], width: int, room: int) -> Text:
        """Apache's processes from /proc, busiest first: pid, state, CPU, RSS, age."""
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        if room < 2:
            return out
        young = sum(1 for k in kids if k.age < 60)
        said = f"/proc: {len(kids)} apache processes, {young} started in the last minute"
        out.append("\n" + said[:width], style("inflight--header"))
        out.append("\n" + "    PID S   CPU   RSS    AGE"[:width], style("inflight--header"))
        busiest = sorted(kids, key=lambda k: (k.cpu or 0.0, k.rss), reverse=True)
        for k in busiest[: max(0, room - 2)]:
            cpu = "-" if k.cpu is None else f"{k.cpu:.0f}%"
            age, rss = human_duration(k.age), human_bytes(k.rss)
            line = f"{k.pid:>7} {k.state:1} {cpu:>5} {rss:>5} {age:>6}"
            warn = style("inflight--error") if k.state == "D" else Style()
            out.append("\n" + line[:width], warn)
        return out

    def _row(self, row: InFlight, cols: list[tuple[str, int, str]], selected: bool) -> Text:
        style = self.get_component_rich_style
        grey = style("inflight--stale") if self.stale else None

        def level(value: float | None, warn: float, error: float) -> Style:
            if grey is not None:
                return grey
            if value is not None and value >= error:
                return style("inflight--error")
            if value is not None and value >= warn:
                return style("inflight--warn")
            return Style()

        client, request = row.client, row.request
        if self.redacted:
            client, request = redact(client), redact(request)
        cells = {
            "HOST": (row.host, grey or Style()),
            "PID": (str(row.pid or "-"), grey or Style()),
            "M": (row.mode, grey or Style()),
            "AGE": (human_duration(row.seconds), level(row.seconds, SLOW, STUCK)),
            "RSS": (
                human_bytes(row.rss) if row.rss is not None else "-",
                level(row.rss, FAT, HUGE),
            ),
            "CLIENT": (client, grey or Style()),
            "VHOST": (row.vhost.removesuffix(":80").removesuffix(":443"), grey or Style()),
            "REQUEST": (request, grey or Style()),
        }
        line = Text(no_wrap=True, end="")
        for n, (name, w, align) in enumerate(cols):
            value, cell_style = cells[name]
            value = value if len(value) <= w else value[: max(0, w - 1)] + "…"
            line.append(value.rjust(w) if align == "right" else value.ljust(w), cell_style)
            if n < len(cols) - 1:
                line.append(" ")
        if selected and self.has_focus:
            line.stylize(style("inflight--cursor"))
        return line
