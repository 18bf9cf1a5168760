"""The detail of one log record: every line and every parsed field, in a modal screen."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Static

from console.core.events import LogRecord
from console.core.text import clean
from console.core.timefmt import iso, local_precise
from console.incident.redact import redact_record
from console.view.filters import redact as _redact


def redact(text: str) -> str:
    return _redact(clean(text))


def _value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    return clean(str(value))


def describe(record: LogRecord, zone: tzinfo, redacted: bool = False) -> Text:
    """The record as labelled lines: when, where from, level, fields, text and every line."""
    text = redact if redacted else clean
    if redacted:
        record = redact_record(record)
    out = Text()
    rows: list[tuple[str, str]] = [
        (
            "time",
            local_precise(record.ts, zone) + ("" if record.ts_from_line else " (arrival time)"),
        ),
        ("utc", iso(record.ts)),
        ("source", f"{record.source} ({record.kind})"),
        ("level", record.level),
    ]
    rows.extend((str(k), text(_value(v))) for k, v in record.fields.items())
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        out.append(f"{key:>{width}}  ", "bold")
        out.append(value + "\n")
    out.append("\n")
    out.append(text(record.text) + "\n", "bold")
    for line in record.lines:
        out.append("  " + text(line) + "\n")
    if record.raw and record.raw != record.text:
        out.append("\nas read:\n", "dim")
        out.append(text(record.raw) + "\n")
    return out


class TextScreen(ModalScreen[None]):
    """A text in a box over the screen. ``esc``, ``enter`` or ``q`` closes."""

    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > VerticalScroll {
        width: 90%; height: 85%;
        border: round $accent; border-title-color: $accent;
        background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "close", id="close-detail"),
    ]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = escape(self.title_text)
            box.border_subtitle = "esc close"
            yield Static(self.body, id="detail-body")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class DetailScreen(TextScreen):
    """One record, all of it."""

    def __init__(self, record: LogRecord, zone: tzinfo, *, redacted: bool = False) -> None:
        super().__init__(f"{record.source} · {record.level}", describe(record, zone, redacted))
        self.record = record
