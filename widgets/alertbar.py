"""The alert bar: one line under the logs with the newest alert, its age and what came of it.

It takes a row only while there is an alert (a calm server keeps every row for data) and never
covers a pane: the log pane shrinks by one row when the first alert comes. The line is
:func:`console.view.alertline.alert_line` at the bar's width; its colour is the alert's level
(a rule's warning, a bundle that could not be saved in the error colour).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive

from console.view.alertline import alert_line
from console.view.alerts import Alert
from widgets.drawn import DrawnText

ROLES = ("icon", "time", "rule", "message", "outcome", "error", "path", "also", "more")


class AlertBar(DrawnText):
    """The newest of :attr:`alerts` in one line; hidden while there is none."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"alertbar--{role}" for role in ROLES}
    DEFAULT_CSS = """
    AlertBar { height: 1; display: none; background: $panel; padding: 0 1; }
    AlertBar.-shown { display: block; }
    AlertBar.-warning { background: $warning 15%; }
    AlertBar.-error { background: $error 25%; }
    AlertBar > .alertbar--icon { text-style: bold; }
    AlertBar.-warning > .alertbar--icon { color: $text-warning; }
    AlertBar.-error > .alertbar--icon { color: $text-error; }
    AlertBar.-info > .alertbar--icon { color: $text-success; }
    AlertBar > .alertbar--time { color: $text-muted; }
    AlertBar > .alertbar--rule { text-style: bold; }
    AlertBar > .alertbar--outcome { text-style: bold; }
    AlertBar > .alertbar--error { color: $text-error; text-style: bold; }
    AlertBar > .alertbar--path { color: $text-accent; }
    AlertBar > .alertbar--also { color: $text-muted; }
    AlertBar > .alertbar--more { color: $text-muted; }
    """

    alerts: reactive[tuple[Alert, ...]] = reactive((), repaint=False)
    """Every alert, newest first."""
    now: reactive[datetime | None] = reactive(None, repaint=False)
    """The time ages are counted to; None shows none (a bundle being read)."""
    zone: reactive[tzinfo] = reactive(UTC, repaint=False)
    """Zone the times are shown in."""

    def watch_alerts(self, alerts: tuple[Alert, ...]) -> None:
        level = alerts[0].level if alerts else ""
        self.set_class(bool(alerts), "-shown")
        for name in ("warning", "error", "info"):
            self.set_class(name == level, f"-{name}")
        self.redraw()

    def watch_now(self) -> None:
        self.redraw()

    def watch_zone(self) -> None:
        self.redraw()

    def draw(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        width = self.content_region.width or self.size.width
        for text, role in alert_line(self.alerts, width, self.now, self.zone):
            style = self.get_component_rich_style(f"alertbar--{role}") if role in ROLES else ""
            line.append(text, style)
        line.truncate(width, overflow="ellipsis")  # the model counts cells; this makes sure
        return line
