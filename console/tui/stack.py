"""The top-left pane's views: Apache's workers, PHP-FPM's pools, MySQL's queries.

At 80x24 there is room for one table beside the memory pane, so the pane shows one view at a
time and ``w`` goes to the next (only views with a source, or samples in a bundle, take part).
Plain functions of the app, which binds them; the data comes from the snapshot shown, through
the view models of :mod:`console.view.stackpanes` and :mod:`console.view.holds`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.core.events import SourceState
from console.core.recorder import Snapshot
from console.core.stack import MysqlThread
from console.view.holds import Hold, holds
from console.view.stackpanes import pool_lines, server_line
from widgets.fpm import describe_hold
from widgets.mysql import describe_thread
from widgets.rowtable import RowTable

if TYPE_CHECKING:
    from console.tui.app import LamptopApp

VIEWS = ("workers", "php-fpm", "mysql")
#: Source state kinds of the PHP-FPM and MySQL pollers.
FPM_KIND, MYSQL_KIND = "php-fpm-status", "mysql"


def _states(snap: Snapshot, kind: str) -> list[SourceState]:
    return [s for s in snap.states.values() if s.kind == kind]


def views(snap: Snapshot | None) -> tuple[str, ...]:
    """The views that have something to show: a source watching, or samples."""
    if snap is None:
        return VIEWS[:1]
    out = ["workers"]
    if snap.fpm or _states(snap, FPM_KIND):
        out.append("php-fpm")
    if snap.mysql or _states(snap, MYSQL_KIND):
        out.append("mysql")
    return tuple(out)


def _note(states: list[SourceState], absent: str) -> str:
    """What a source that is not ok says, with its fix; ``absent`` when there is no source."""
    if not states:
        return absent
    bad = [s for s in states if not s.ok]
    if not bad:
        return ""
    s = bad[0]
    return f"{s.source}: {s.message}" + (f" ({s.hint})" if s.hint else "")


def show(app: LamptopApp, snap: Snapshot) -> None:
    """Hand the PHP-FPM and MySQL panes their part of ``snap``."""
    panes = app.panes
    system = snap.latest_system
    rss = system.rss_by_pid if system is not None else None
    latest = snap.latest_fpm
    app.holds = holds(latest, snap.latest_status, snap.latest_mysql, rss)
    recent = snap.fpm[-64 * max(1, len(latest)) :]
    fpm_note = _note(_states(snap, FPM_KIND), "no PHP-FPM status page: see lamptop sources")
    panes.fpm.show(pool_lines(recent), app.holds, fpm_note)
    mysql = snap.mysql[-64:]
    line = server_line(mysql)
    threads = snap.mysql[-1].running if mysql else ()
    mysql_note = _note(_states(snap, MYSQL_KIND), "no MySQL/MariaDB server: see lamptop sources")
    panes.mysql.show(line, threads, mysql_note)
    shown = views(snap)
    if app.view not in shown:
        set_view(app, "workers")


def set_view(app: LamptopApp, view: str) -> None:
    """Show ``view`` in the top-left pane; focus moves with it when it was in the pane."""
    app.view = view
    pane = app.panes.workers
    for name in VIEWS:
        pane.set_class(name == view, f"-view-{name}")
    focused = app.focused
    table = {"workers": app.panes.table, "php-fpm": app.panes.fpm, "mysql": app.panes.mysql}[view]
    if focused is not None and focused in pane.query("*").nodes and focused is not table:
        table.focus()
    app.update_titles()


def next_view(app: LamptopApp) -> None:
    """``w``: the next view that has something to show."""
    shown = views(app.shown_snapshot)
    i = shown.index(app.view) if app.view in shown else -1
    set_view(app, shown[(i + 1) % len(shown)])


def titles(app: LamptopApp, workers_title: str, workers_sub: str) -> tuple[str, str]:
    """The pane's title and subtitle for the view shown, with the key to the next view."""
    shown = views(app.shown_snapshot)
    view = app.view
    if view == "php-fpm":
        busy = len(app.holds)
        title, sub = "php-fpm", f"{busy} busy" if busy else ""
    elif view == "mysql":
        running = len(app.panes.mysql.rows)
        title, sub = "mysql", f"{running} running" if running else ""
    else:
        title, sub = workers_title, workers_sub
    if len(shown) > 1:
        after = shown[(shown.index(view) + 1) % len(shown)] if view in shown else shown[0]
        title += f" · w {after}"
    return title, sub


def chosen(app: LamptopApp, event: RowTable.Chosen) -> None:
    """``enter`` on a PHP-FPM or MySQL row: all of it in a box."""
    from widgets.detail import TextScreen  # on first use: the first frame does without

    row = event.row
    redacted = app.config.redact
    if isinstance(row, MysqlThread):
        app.push_screen(TextScreen(f"mysql thread {row.id}", describe_thread(row, redacted)))
    elif isinstance(row, Hold):
        title = f"php-fpm {row.pool} · pid {row.process.pid}"
        app.push_screen(TextScreen(title, describe_hold(row, redacted)))
