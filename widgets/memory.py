"""Memory: used memory over the last minutes, swap beside it, services and growing processes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from console.core.events import ProcInfo
from console.view.elide import cut_end
from console.view.metrics import ServiceTrend, human_bytes
from console.view.panes import MemoryModel
from widgets.drawn import DrawnText, set_title

#: Columns of the swap sparkline at least: ``swap 100%`` stands over it.
SWAP_MIN = 9
#: Columns of the swap sparkline on a wide pane: ``swap 142M 28%`` stands over it.
SWAP_WIDE = 13
#: Shorter service names, for a trend line that would not fit.
SHORT_SERVICE = {"php-fpm": "fpm"}

#: Eighths of a cell, from empty to full, for the bars of the sparklines.
BLOCKS = " ▁▂▃▄▅▆▇█"


def spark_rows(fractions: list[float], rows: int) -> list[str]:
    """Bars of ``rows`` cells high for values from 0.0 to 1.0, top row first."""
    out = []
    for r in range(rows - 1, -1, -1):
        line = []
        for f in fractions:
            eighths = round(max(0.0, min(1.0, f)) * rows * 8) - r * 8
            if r == 0 and f > 0.0:
                eighths = max(1, eighths)  # a little used still shows: an empty chart looks broken
            line.append(BLOCKS[max(0, min(8, eighths))])
        out.append("".join(line))
    return out


def trend_words(
    trends: Sequence[ServiceTrend], width: int
) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The separator and each service's (name, RSS, arrow shown, way it moved) on a line of
    ``width`` cells: two spaces apart, else one, else ``fpm`` for php-fpm, else an arrow only
    where it moved, else none (the size's colour says it)."""
    sep, words = "", []
    for sep, names, steady, moved in (
        ("  ", {}, True, True),
        (" ", {}, True, True),
        (" ", SHORT_SERVICE, True, True),
        (" ", SHORT_SERVICE, False, True),
        (" ", SHORT_SERVICE, False, False),
    ):
        words = [
            (
                names.get(t.name, t.name),
                human_bytes(t.rss),
                t.arrow if (steady if t.arrow == "→" else moved) else "",
                t.arrow,
            )
            for t in trends
        ]
        if len(sep.join(f"{n} {r}{a}" for n, r, a, _ in words)) <= width:
            break
    return sep, words


class MemoryView(DrawnText):
    """Used memory and swap as sparklines, RSS per service with a trend, the top processes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "memory--ok",
        "memory--warn",
        "memory--crit",
        "memory--label",
        "memory--muted",
        "memory--up",
        "memory--down",
    }
    DEFAULT_CSS = """
    MemoryView { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    MemoryView > .memory--ok { color: $success; }
    MemoryView > .memory--warn { color: $warning; }
    MemoryView > .memory--crit { color: $error; text-style: bold; }
    MemoryView > .memory--label { text-style: bold; }
    MemoryView > .memory--muted { color: $text-muted; }
    MemoryView > .memory--up { color: $warning; text-style: bold; }
    MemoryView > .memory--down { color: $success; }
    """

    model: reactive[MemoryModel | None] = reactive(None, repaint=False)
    """What to draw; None before the first reading."""

    lines: reactive[tuple[str, ...]] = reactive((), repaint=False)
    """Several hosts at once: one line per host, drawn instead of :attr:`model` (the
    histories of different hosts do not add up)."""

    def _watch_lines(self) -> None:
        self._watch_model(self.model)

    def _watch_model(self, model: MemoryModel | None) -> None:
        # how far back the sparklines reach, where it reads: in the pane's title
        title = "memory" if model is None else f"memory · {model.span}"
        title = "memory · by host" if self.lines else title
        set_title(self, title)  # the title's row alone, and only when it changed
        self.redraw()

    def _level(self, ratio: float) -> Style:
        name = "crit" if ratio >= 0.9 else "warn" if ratio >= 0.75 else "ok"
        return self.get_component_rich_style(f"memory--{name}")

    def draw(self) -> Text:
        width, height = self.size.width, self.size.height
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        m = self.model
        if self.lines:
            for i, line in enumerate(self.lines[: max(1, height)]):
                out.append(("\n" if i else "") + cut_end(line, width))
            return out
        if m is None:
            out.append("waiting for the first reading…", style("memory--muted"))
            return out
        mem_ratio, swap_ratio = m.mem_ratio, m.swap_ratio
        swap_width = max(SWAP_MIN, width // 4, SWAP_WIDE if width >= 48 else 0)
        swap_width = swap_width if m.swap_total else 0
        mem_width = max(1, width - swap_width - (1 if swap_width else 0))
        out.append_text(self._head(m, mem_width, swap_width))

        trends, top = m.trends, m.top
        fixed = 1 + (1 if trends else 0) + (1 if top else 0)
        spark_height = max(1, min(4, height - fixed - min(len(top), 2)))
        mem_bars = spark_rows(m.mem_columns(mem_width), spark_height)
        swap_bars = spark_rows(m.swap_columns(swap_width), spark_height)
        for i in range(spark_height):
            out.append("\n")
            out.append(mem_bars[i].rjust(mem_width), self._level(mem_ratio))
            if swap_width:
                out.append(" ")
                out.append(swap_bars[i].rjust(swap_width), self._level(swap_ratio))

        if trends:
            out.append("\n")
            out.append_text(self._trends(trends, width))
        rows_left = height - 1 - spark_height - (1 if trends else 0)
        if top and rows_left > 1:
            out.append("\n")
            out.append_text(self._top(top[: rows_left - 1], width))
        return out

    def _head(self, m: MemoryModel, mem_width: int, swap_width: int) -> Text:
        """Memory's figures over its sparkline, swap's over the swap sparkline (its label)."""
        style = self.get_component_rich_style
        head = Text(no_wrap=True, end="")
        head.append("mem ", style("memory--label"))
        total = f"/{human_bytes(m.mem_total)}" if mem_width >= 18 else ""
        head.append(f"{human_bytes(m.mem_used)}{total} ")
        head.append(f"{m.mem_ratio:.0%}", self._level(m.mem_ratio))
        if not swap_width:
            return head
        swap = Text(no_wrap=True, end="")
        swap.append("swap ", style("memory--label"))
        used = f"{human_bytes(m.swap_used)} "
        pct = f"{m.swap_ratio:.0%}"
        if len(f"swap {used}{pct}") <= swap_width:  # else the header bar shows the bytes
            swap.append(used)
        swap.append(pct, self._level(m.swap_ratio) if m.swap_used else Style())
        # over the swap sparkline, from its first column: its label
        start = max(mem_width + 1, head.cell_len + 2)
        head.append(" " * (start - head.cell_len))
        head.append_text(swap)
        return head

    def _trends(self, trends: tuple[ServiceTrend, ...], width: int) -> Text:
        """``apache 92M↑  php-fpm 506M↑  mysql 181M→``, tighter when that does not fit."""
        style = self.get_component_rich_style
        colours = {"↑": "memory--up", "↓": "memory--down"}
        sep, words = trend_words(trends, width)
        line = Text(no_wrap=True, end="")
        for i, (name, rss, arrow, way) in enumerate(words):
            if i:
                line.append(sep)
            line.append(f"{name} ", style("memory--label"))
            line.append(rss, style(colours[way]) if way in colours and not arrow else Style())
            line.append(arrow, style(colours.get(arrow, "memory--muted")))
        return line

    def _top(self, procs: tuple[ProcInfo, ...], width: int) -> Text:
        """The biggest processes, a header over columns that line up with it: pid, RSS, what
        it grew since lamptop first saw it (``new``: born since), and the name in full."""
        style = self.get_component_rich_style
        pid_width = max(3, *(len(str(p.pid)) for p in procs))
        table = Text(no_wrap=True, end="")
        table.append(f"{'pid':>{pid_width}} {'rss':>5} {'grew':>5} process", style("memory--muted"))
        for proc in procs:
            table.append("\n")
            table.append(f"{proc.pid:>{pid_width}} {human_bytes(proc.rss):>5} ")
            if proc.new:
                table.append(f"{'new':>5}", style("memory--up"))
            elif proc.growth > 0:
                table.append(f"{'+' + human_bytes(proc.growth):>5}", style("memory--up"))
            else:
                table.append(f"{human_bytes(proc.growth):>5}", style("memory--muted"))
            table.append(" " + cut_end(proc.name, width - pid_width - 13))
        return table
