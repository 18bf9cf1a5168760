"""Memory: used memory over the last minutes, swap beside it, services and growing processes."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from console.view.metrics import human_bytes
from console.view.panes import MemoryModel
from widgets.drawn import DrawnText

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

    def _watch_model(self) -> None:
        self.redraw()

    def _level(self, ratio: float) -> Style:
        name = "crit" if ratio >= 0.9 else "warn" if ratio >= 0.75 else "ok"
        return self.get_component_rich_style(f"memory--{name}")

    def draw(self) -> Text:
        width, height = self.size.width, self.size.height
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        m = self.model
        if m is None:
            out.append("waiting for the first reading…", style("memory--muted"))
            return out
        mem_ratio, swap_ratio = m.mem_ratio, m.swap_ratio
        swap_width = max(4, width // 4) if m.swap_total else 0
        mem_width = max(1, width - swap_width - (1 if swap_width else 0))

        head = Text(no_wrap=True, end="")
        head.append("mem ", style("memory--label"))
        total = f"/{human_bytes(m.mem_total)}" if width >= 40 else ""
        head.append(f"{human_bytes(m.mem_used)}{total} ")
        head.append(f"{mem_ratio:.0%}", self._level(mem_ratio))
        if m.swap_total:
            head.append("  swap ", style("memory--label"))
            head.append(f"{human_bytes(m.swap_used)} ")
            head.append(f"{swap_ratio:.0%}", self._level(swap_ratio) if m.swap_used else Style())
        head.append(f"  {m.minutes}m", style("memory--muted"))
        out.append_text(head)

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
            for t in trends:
                out.append(f"{t.name} ", style("memory--label"))
                arrow_style = {"↑": "memory--up", "↓": "memory--down"}.get(t.arrow, "memory--muted")
                out.append(f"{human_bytes(t.rss)}")
                out.append(t.arrow, style(arrow_style))
                out.append("  ")
        rows_left = height - 1 - spark_height - (1 if trends else 0)
        if top and rows_left > 0:
            out.append("\n")
            out.append("top ", style("memory--label"))
            out.append("pid     rss   grew  name", style("memory--muted"))
            for proc in top[: max(0, rows_left - 1)]:
                out.append("\n    ")
                out.append(f"{proc.pid:<7} {human_bytes(proc.rss):>5} ")
                grew = (
                    f"+{human_bytes(proc.growth)}" if proc.growth > 0 else human_bytes(proc.growth)
                )
                out.append(f"{grew:>6}", style("memory--up") if proc.growth > 0 else Style())
                out.append(f"  {proc.name}")
        return out
