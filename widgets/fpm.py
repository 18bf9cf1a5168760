"""The PHP-FPM pane: each pool's line, then its busy processes, longest first.

Each busy process shows its pid, how long its request has run, its memory, the URI and, when
joined (:mod:`console.view.holds`), the client Apache is serving and, on a line under it, the
MySQL query it waits on: who holds what.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.text import Text

from console.view.filters import redact
from console.view.holds import Hold
from console.view.metrics import human_bytes, human_duration
from console.view.stackpanes import PoolLine
from widgets.rowtable import Column, RowTable, cells_line, fit, layout

#: Seconds after which a request is shown as a warning, then as an error.
SLOW, STUCK = 10.0, 60.0
#: Resident bytes after which a process is shown as a warning, then as an error.
FAT, HUGE = 96 * 1024 * 1024, 256 * 1024 * 1024


class FpmView(RowTable[Hold]):
    """Pools and their busy processes."""

    DEFAULT_CSS: ClassVar[str] = "FpmView { height: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pools: tuple[PoolLine, ...] = ()
        self.note = "no PHP-FPM status page: give --fpm-status (lamptop sources says why)"
        """What to say when there is no pool to show."""
        self.redacted = False

    def show(self, pools: tuple[PoolLine, ...], holds: tuple[Hold, ...], note: str) -> None:
        if (pools, note) != (self.pools, self.note):
            self.pools, self.note = pools, note
            self.refresh()
        self.set_rows(holds)

    def summary(self, width: int) -> list[Text]:
        if not self.pools:
            return [Text(self.note[:width], self.get_component_rich_style("rows--dim"))]
        out = []
        for pool in self.pools:
            style = self.get_component_rich_style("rows--error") if pool.full else None
            out.append(Text(pool.text(width)[:width], style or ""))
        if self.note:
            out.append(Text(self.note[:width], self.get_component_rich_style("rows--warn")))
        return out

    def columns(self, width: int) -> list[Column]:
        cols: list[Column] = [("PID", 7, "right"), ("SECS", 5, "right"), ("RSS", 5, "right")]
        if width >= 100:
            cols.append(("POOL", 8, "left"))
            cols.append(("LAST", 5, "right"))
        if width >= 70:
            cols.append(("CLIENT", 15, "left"))
        cols.append(("URI", 0, "left"))
        return layout(cols, width)

    def row_key(self, row: Hold) -> Hashable:
        return (row.pool, row.process.pid)

    def empty(self) -> str:
        return "no PHP request running" if self.pools else ""

    def row_lines(self, row: Hold, columns: list[Column], width: int) -> list[Text]:
        p = row.process
        mask = redact if self.redacted else str
        cells = {
            "PID": (str(p.pid), None),
            "SECS": (human_duration(p.duration), self.level(p.duration, SLOW, STUCK)),
            "RSS": (
                human_bytes(row.rss) if row.rss else "-",
                self.level(row.rss or 0, FAT, HUGE),
            ),
            "POOL": (row.pool, None),
            # the peak memory of the process's previous request (php-fpm says 0 while one runs)
            "LAST": (human_bytes(p.memory) if p.memory else "-", None),
            "CLIENT": (mask(row.client) or "-", None),
            "URI": (mask(p.uri if p.method == "GET" else f"{p.method} {p.uri}"), None),
        }
        line = cells_line(columns, cells)
        lines = [line]
        q = row.query
        if q is not None:
            what = " ".join((q.info or q.command.lower()).split())
            mark = "↳ mysql" if row.exact else "↳ ≈mysql"
            held = f"        {mark} #{q.id} {human_duration(q.time)} {mask(what)}"
            lines.append(Text(fit(held, width), self.level(q.time, SLOW, STUCK)))
        return lines


def describe_hold(hold: Hold, redacted: bool = False) -> Text:
    """A busy process in full: the request, the process, its client and its query."""
    mask = redact if redacted else str
    p = hold.process
    fields = [
        ("pool", hold.pool),
        ("pid", str(p.pid)),
        ("state", p.state),
        ("running", f"{p.duration:.1f} s"),
        ("request", mask(f"{p.method} {p.uri}")),
        ("script", p.script),
        ("rss", human_bytes(hold.rss) if hold.rss else "-"),
        ("requests", f"{p.requests} served by this process"),
    ]
    if hold.worker is not None:
        w = hold.worker
        fields.append(("apache", f"worker {w.slot} pid {w.pid} for {mask(w.client)}"))
    q = hold.query
    if q is not None:
        how = "its TCP connection" if hold.exact else "inferred from the times (Unix socket)"
        fields.append(("mysql", f"thread {q.id} {q.command} {q.time:.1f} s, matched by {how}"))
    width = max(len(k) for k, _ in fields)
    out = Text()
    for key, value in fields:
        out.append(f"{key:>{width}}  ", "bold")
        out.append(value + "\n")
    if q is not None and q.info:
        out.append("\n")
        out.append(mask(q.info))
    return out
