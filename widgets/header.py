"""The header: which server, how busy, how loaded, and whether every source can be read."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive

from console.core.events import SourceState, StatusSample, SystemSample
from console.core.timefmt import clock
from console.view.metrics import Rates, human_bytes, human_duration
from widgets.drawn import DrawnText


class HeaderBar(DrawnText):
    """Two lines: Apache (version, uptime, traffic, workers), then the machine and lamptop.

    Its figures are assigned every second, and mostly only the clock moves: each assignment
    builds the two lines again and repaints only a line that changed (:class:`DrawnText`).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "header--title",
        "header--label",
        "header--value",
        "header--warn",
        "header--crit",
        "header--note",
        "header--muted",
    }
    DEFAULT_CSS = """
    HeaderBar { height: 2; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    HeaderBar > .header--title { color: $accent; text-style: bold; }
    HeaderBar > .header--label { color: $text-muted; }
    HeaderBar > .header--value { text-style: bold; }
    HeaderBar > .header--warn { color: $warning; text-style: bold; }
    HeaderBar > .header--crit { color: $error; text-style: bold; }
    HeaderBar > .header--note { color: $warning; text-style: bold reverse; }
    HeaderBar > .header--muted { color: $text-muted; }
    """

    host: reactive[str] = reactive("", repaint=False)
    """The machine's name."""
    status: reactive[StatusSample | None] = reactive(None, repaint=False)
    """The latest status sample."""
    rates: reactive[Rates | None] = reactive(None, repaint=False)
    """Traffic between the last two status samples (None: they cannot tell)."""
    system: reactive[SystemSample | None] = reactive(None, repaint=False)
    """The latest system sample."""
    problems: reactive[tuple[SourceState, ...]] = reactive((), repaint=False)
    """Sources that are not ok."""
    note: reactive[str] = reactive("", repaint=False)
    """A word shown in reverse (``DEMO``, ``FROZEN``)."""
    now: reactive[datetime | None] = reactive(None, repaint=False)
    """The time shown on the right, to the second."""
    zone: reactive[tzinfo] = reactive(UTC, repaint=False)
    """Zone the time is shown in."""

    def _watch_host(self) -> None:
        self.redraw()

    def _watch_status(self) -> None:
        self.redraw()

    def _watch_rates(self) -> None:
        self.redraw()

    def _watch_system(self) -> None:
        self.redraw()

    def _watch_problems(self) -> None:
        self.redraw()

    def _watch_note(self) -> None:
        self.redraw()

    def _watch_now(self) -> None:
        self.redraw()

    def _watch_zone(self) -> None:
        self.redraw()

    def _pair(self, line: Text, label: str, value: str, value_class: str = "header--value") -> None:
        style = self.get_component_rich_style
        line.append(f"{label} ", style("header--label"))
        line.append(value, style(value_class))
        line.append("  ")

    def draw(self) -> Text:
        style = self.get_component_rich_style
        width = self.size.width
        wide = width >= 110
        # what goes first when the line is too long (the FROZEN word at 80 columns): drop
        # whole figures, never cut one in the middle
        first = self._first(wide, frozenset())
        for drop in (("kB/s",), ("kB/s", "idle"), ("kB/s", "idle", "up")):
            if first.cell_len <= width:
                break
            first = self._first(wide, frozenset(drop))
        second = Text(no_wrap=True, overflow="ellipsis", end="")
        sys = self.system
        if sys is None:
            second.append("no system reading yet  ", style("header--muted"))
        else:
            per_core = sys.load1 / max(1, sys.cpu_count)
            level = "header--crit" if per_core >= 2 else "header--warn" if per_core >= 1 else ""
            load = f"{sys.load1:.2f}"
            if wide:
                load += f" {sys.load5:.2f} {sys.load15:.2f}"
            self._pair(second, "load", load, level or "header--value")
            ratio = sys.mem_used / sys.mem_total if sys.mem_total else 0.0
            level = "header--crit" if ratio >= 0.9 else "header--warn" if ratio >= 0.75 else ""
            self._pair(
                second,
                "mem",
                f"{human_bytes(sys.mem_used)}/{human_bytes(sys.mem_total)}",
                level or "header--value",
            )
            if sys.swap_total:
                self._pair(second, "swap", human_bytes(sys.swap_used))
            self._pair(second, "cpu", f"{sys.cpu_percent:.0f}%")
            self_use = f"{sys.self_cpu:.1f}% {human_bytes(sys.self_rss)}"
            self._pair(second, "lamptop" if wide else "self", self_use)
        right = Text(end="")
        if self.problems:
            n = len(self.problems)
            right.append(f"⚠ {n} source{'s' if n > 1 else ''} ", style("header--warn"))
        if self.now is not None:
            right.append(clock(self.now, self.zone), style("header--muted"))
        room = width - right.cell_len
        if room > 0 and second.cell_len > room:
            second.truncate(room, overflow="ellipsis")
        second.append(" " * max(0, room - second.cell_len))
        second.append_text(right)
        first.append("\n")
        first.append_text(second)
        return first

    def _first(self, wide: bool, drop: frozenset[str]) -> Text:
        """The first line: host, Apache, uptime, rates, busy and idle (without ``drop``)."""
        style = self.get_component_rich_style
        first = Text(no_wrap=True, overflow="ellipsis", end="")
        if wide:
            first.append("lamptop ", style("header--title"))
        if self.note:
            first.append(f" {self.note} ", style("header--note"))
            first.append(" ")
        first.append(f"{self.host}  ", style("header--value"))
        current = self.status
        if current is None:
            first.append("no mod_status yet  ", style("header--muted"))
            return first
        version = current.server_version.split(" ", 1)[0] or "Apache"
        if not wide:
            version = version.removeprefix("Apache/")
        first.append(f"{version} {current.mpm}  ", style("header--muted"))
        if "up" not in drop:
            self._pair(first, "up", human_duration(current.uptime))
        rates = self.rates
        if rates is not None:
            self._pair(first, "req/s", f"{rates.requests:.1f}")
            if "kB/s" not in drop:
                self._pair(first, "kB/s", f"{rates.kbytes:.0f}")
        ratio = current.busy / current.limit if current.limit else 0.0
        level = "header--crit" if ratio >= 0.9 else "header--warn" if ratio >= 0.7 else ""
        busy = f"{current.busy}/{current.limit}"
        self._pair(first, "busy", busy, level or "header--value")
        if "idle" not in drop:
            self._pair(first, "idle", f"{current.idle}")
        first.rstrip()
        return first
