"""The console over the scripted incident, and what its panes show."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from console.core.config import Config
from console.tui.app import LamptopApp
from tests.support.scripted import fixed_clock, scripted_recorder
from widgets.logview import LogView


def make_app(**kw: object) -> LamptopApp:
    """A console on the scripted recorder (or ``recorder=``), in UTC, on a fixed clock."""
    recorder = kw.pop("recorder", None) or scripted_recorder()
    config = kw.pop("config", None) or Config(timezone="UTC")
    app = LamptopApp(recorder, config=config, clock=fixed_clock, **kw)  # type: ignore[arg-type]
    app.host = "web1"
    return app


def screen_text(widget: Widget) -> str:
    """The plain text a widget renders."""
    rendered = widget.render()
    assert isinstance(rendered, Text)
    return rendered.plain


def log_lines(app: LamptopApp) -> list[str]:
    """The lines the log pane shows, top to bottom."""
    log = app.query_one(LogView)
    return [log.render_line(y).text for y in range(log.size.height)]
