"""The list of every alert of the session (``a``), newest first, in a modal screen.

Each alert gives its time and age, the rule, its message, what came of it, the rules that
joined it, and the bundle's full path on a line of its own, at the left edge and never wrapped
(wider than the screen, the list scrolls sideways), so a terminal can select it whole; ``c``
copies the chosen alert's path to the clipboard (OSC 52, through ssh and tmux when they pass
it on).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.view.alertline import Line, describe
from console.view.alerts import Alert
from widgets.toast import toast

ROLES = ("icon", "time", "rule", "message", "outcome", "error", "path", "also")


class AlertsScreen(ModalScreen[None]):
    """Every alert, newest first; ``up``/``down`` choose one, ``c`` copies its path."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"alerts--{role}" for role in ROLES}
    DEFAULT_CSS = """
    AlertsScreen { align: center top; }
    AlertsScreen > VerticalScroll {
        width: 100%; height: 100%;
        border-top: round $accent; border-bottom: round $accent;
        border-title-color: $accent; border-subtitle-color: $text-muted;
        background: $surface; padding: 0; overflow-x: auto; scrollbar-size-vertical: 1;
    }
    AlertsScreen .alert { height: auto; width: auto; min-width: 100%; padding: 0 0 1 0; }
    AlertsScreen .alert.-chosen { background: $accent 15%; }
    AlertsScreen .alert-head { width: 100%; height: auto; padding: 0 1; }
    AlertsScreen .alert-body { width: 100%; height: auto; padding: 0 1 0 3; }
    AlertsScreen .alert-path { width: auto; height: 1; text-wrap: nowrap; }
    AlertsScreen #alerts-none { padding: 0 1; color: $text-muted; }
    AlertsScreen > .alerts--icon { text-style: bold; }
    AlertsScreen > .alerts--time { color: $text-muted; }
    AlertsScreen > .alerts--rule { text-style: bold; }
    AlertsScreen > .alerts--outcome { text-style: bold; }
    AlertsScreen > .alerts--error { color: $text-error; text-style: bold; }
    AlertsScreen > .alerts--path { color: $text-accent; }
    AlertsScreen > .alerts--also { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,a,q", "dismiss", "close", id="close-alerts"),
        Binding("c", "copy", "copy path", id="copy-path"),
        Binding("up,k", "move(-1)", "previous", show=False, id="alerts-up"),
        Binding("down,j", "move(1)", "next", show=False, id="alerts-down"),
        Binding("pageup", "page(-1)", "page up", show=False, id="alerts-page-up"),
        Binding("pagedown", "page(1)", "page down", show=False, id="alerts-page-down"),
    ]

    def __init__(
        self,
        alerts: Sequence[Alert],
        zone: tzinfo | None,
        now: datetime | None = None,
        dropped: int = 0,
    ) -> None:
        super().__init__()
        self.alerts = tuple(alerts)
        self.zone = zone
        self.now = now
        self.dropped = dropped
        """Older alerts no longer kept."""
        self.chosen = 0
        """The alert whose path ``c`` copies."""

    def _line(self, line: Line) -> Static:
        """One line of an alert: the head, a line under it (indented, wrapped with its
        indent), or a path (at the left edge, never wrapped)."""
        pieces, kind = line
        text = Text(end="")
        for part, role in pieces:
            text.append(part, self._style(role))
        return Static(text, classes=f"alert-{kind}")

    def _style(self, role: str) -> Style:
        """A role's colour and weight, on the background of the line (the chosen alert's)."""
        full = self.get_component_rich_style(f"alerts--{role}")
        return Style(color=full.color, bold=full.bold, italic=full.italic)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            n = len(self.alerts)
            box.border_title = f"alerts · {n}" if n else "alerts"
            box.border_subtitle = "↑↓ choose · c copy path · esc close"
            if not self.alerts:
                yield Static(
                    "no alert yet: what the spike rules say, and every bundle saved, shows here",
                    id="alerts-none",
                )
            for i, alert in enumerate(self.alerts):
                with Vertical(classes="alert -chosen" if i == 0 else "alert"):
                    for line in describe(alert, self.zone, self.now):
                        yield self._line(line)
            if self.dropped:
                yield Static(f"{self.dropped} older alerts not kept", id="alerts-dropped")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).can_focus = False  # its keys are the screen's

    def action_move(self, step: int) -> None:
        """The next or previous alert; within an alert taller than the screen, a line."""
        box = self.query_one(VerticalScroll)
        entries = list(self.query(".alert"))
        if not entries:
            return
        shown = entries[self.chosen].virtual_region
        if step > 0 and shown.bottom > box.scroll_y + box.scrollable_content_region.height:
            box.scroll_down(animate=False)
            return
        if step < 0 and shown.y < box.scroll_y:
            box.scroll_up(animate=False)
            return
        self.chosen = max(0, min(len(entries) - 1, self.chosen + step))
        for i, entry in enumerate(entries):
            entry.set_class(i == self.chosen, "-chosen")
        entries[self.chosen].scroll_visible(animate=False, top=step > 0)

    def action_page(self, step: int) -> None:
        box = self.query_one(VerticalScroll)
        (box.scroll_page_down if step > 0 else box.scroll_page_up)(animate=False)

    def action_copy(self) -> None:
        """The chosen alert's bundle path to the clipboard, and a short note that it was."""
        alert = self.alerts[self.chosen] if self.alerts else None
        if alert is None or not alert.path:
            toast(self.app, "no bundle path in this alert")
            return
        self.app.copy_to_clipboard(alert.path)
        toast(self.app, f"copied: {alert.path.rstrip('/').rpartition('/')[2]}")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
