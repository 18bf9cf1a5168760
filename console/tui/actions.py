"""What the filter and log keys do: plain functions of the app, which binds them to its actions.

Each changes the app's own state (its :attr:`~console.tui.app.LamptopApp.log_filter`, its log
index) and the app hands the result to the panes; none reads a pane's state back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Input, Static

from console.view.filters import FilterError, LogFilter
from widgets.inflight import InFlightTable
from widgets.logview import LogView
from widgets.toast import toast

if TYPE_CHECKING:
    from console.tui.app import LamptopApp


def open_filter(app: LamptopApp) -> None:
    """Show the filter bar with the current expression, and type into it."""
    app.query_one("#filter-bar").add_class("-open")
    field = app.query_one("#filter-input", Input)
    field.value = app.log_filter.text
    # at once, not on the next refresh as ``focus()`` does: keys typed right after ``/``
    # (a fast typist, a paste, a slow link delivering them together) belong to the filter
    app.screen.set_focus(field, scroll_visible=False)


def filter_typed(app: LamptopApp, event: Input.Changed) -> None:
    """Filter as the expression is typed; one that does not compile is said and not used."""
    error = app.query_one("#filter-error", Static)
    try:
        app.log_filter = app.log_filter.with_text(event.value)
    except FilterError as exc:
        error.update(Content(str(exc)))  # quotes the pattern typed: never markup
        event.input.add_class("-invalid")
        return
    error.update("")
    event.input.remove_class("-invalid")


def filter_submitted(app: LamptopApp, event: Input.Submitted) -> None:
    """``enter``: keep the filter and go back to the logs (the bar stays while it filters)."""
    if not app.log_filter.text:
        app.query_one("#filter-bar").remove_class("-open")
    app.panes.log.focus()


def clear_filter(app: LamptopApp) -> None:
    """Everything shown again: expression, level, 4xx/5xx, pins and hidden sources."""
    app.log_filter = LogFilter()
    field = app.query_one("#filter-input", Input)
    with field.prevent(Input.Changed):
        field.value = ""
    field.remove_class("-invalid")
    app.query_one("#filter-error", Static).update("")
    app.query_one("#filter-bar").remove_class("-open")
    if app.focused is field or app.focused is None:
        app.panes.log.focus()


def toggle_source(app: LamptopApp, number: int) -> None:
    """Show or hide log source ``number``; a number with no source says which there are."""
    sources = app.log_sources
    if 1 <= number <= len(sources):
        app.log_filter = app.log_filter.toggle_source(sources[number - 1])
        return
    listed = " · ".join(f"{i} {name}" for i, name in enumerate(sources, 1)) or "none yet"
    toast(app, f"no log source {number}: {listed}")


def cycle_level(app: LamptopApp) -> None:
    app.log_filter = app.log_filter.next_level()


def http_errors(app: LamptopApp) -> None:
    app.log_filter = app.log_filter.toggle_http_errors()


def pin_request(app: LamptopApp, event: InFlightTable.Pinned) -> None:
    """The logs of the request picked in the requests table: its client, URL path or process."""
    row = event.row
    app.log_filter = app.log_filter.pin(client=row.client, url=row.path, pid=row.pid)
    app.panes.log.focus()


def toggle_expand(app: LamptopApp) -> None:
    """Show or hide continuation lines under their record."""
    app.log_index.set_expanded(not app.log_index.expanded)
    app.panes.log.relayout()


def follow(app: LamptopApp) -> None:
    app.panes.log.follow = True


def open_record(app: LamptopApp, event: LogView.Selected) -> None:
    from widgets.detail import DetailScreen  # on first use: the first frame does without

    app.push_screen(DetailScreen(event.record, app.zone, redacted=app.config.redact))
