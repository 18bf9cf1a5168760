"""What the app hands the panes from a snapshot: header figures, scoreboard, requests in flight,
memory, the PHP-FPM and MySQL views, the clock and the titles. Plain functions of the app,
called on the pacer's beats (:meth:`~console.tui.app.LamptopApp.tick`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.markup import escape

from console.core.recorder import Snapshot
from console.tui import alerting, stack
from console.view.filters import redact
from console.view.metrics import in_flight, latest_rates, problems, status_state
from console.view.panes import memory_model, pane_titles
from console.view.suspects import suspects
from widgets.drawn import set_changed, set_title
from widgets.header import HeaderBar
from widgets.sourcebar import rounded_rate

if TYPE_CHECKING:
    from console.tui.app import LamptopApp


def samples(app: LamptopApp, snap: Snapshot) -> None:
    """Header figures, scoreboard, requests in flight and memory: what changed."""
    panes = app.panes
    status, system = snap.latest_status, snap.latest_system
    old_status, old_system = app._samples_shown or (None, None)
    first = app._samples_shown is None
    app._samples_shown = (status, system)
    header = panes.header
    # the header's figures are set together and drawn once (each one's watcher would draw it)
    if status is not old_status or first:
        header.set_reactive(HeaderBar.status, status)
        header.set_reactive(HeaderBar.rates, latest_rates(snap.status))
    if system is not old_system or first:
        header.set_reactive(HeaderBar.system, system)
        panes.memory.model = memory_model(snap.system[-400:])
    if status is not old_status or system is not old_system or first:
        header.redraw()
    set_changed(header, "problems", problems(snap.states.values()))
    if status:
        set_changed(header, "host", str(status.fields.get("ServerName") or app.host))
    state = status_state(snap.states)
    problem = app.status_problem = state if state is not None and not state.ok else None
    set_changed(panes.board, "sample", status)
    set_changed(panes.board, "problem", problem)
    panes.workers.set_class(status is None and problem is not None, "-blind")
    if status is not old_status or system is not old_system or first:
        rss = system.rss_by_pid if system else None
        app.in_flight = in_flight(status, rss, exclude_path=app._status_path)
        set_changed(panes.table, "rows", app.in_flight)
        app.suspect = suspect(app, snap)
    set_changed(panes.table, "stale", problem is not None)
    stack.show(app, snap)
    set_changed(panes.table, "processes", system.children if system else ())


def suspect(app: LamptopApp, snap: Snapshot) -> str:
    """The suspect's line while nearly every worker is busy or a rule fired lately."""
    status = snap.latest_status
    if status is None:
        return ""
    fired = app.rule_fired_at
    busy = status.limit > 0 and status.busy >= 0.9 * status.limit
    # a rule that fires after the instant shown (rewound) is not recent (two seconds' slack for
    # a rule fired by a record a moment after the latest sample)
    recent = fired is not None and -2 <= (status.ts - fired).total_seconds() < 300
    if not (busy or recent):
        return ""
    if app.suspect and 0 <= (status.ts - app.suspect_at).total_seconds() < 5:
        return app.suspect  # it reads a minute of logs: every 5 s is enough
    app.suspect_at = status.ts
    found = suspects(
        snap.status[-30:],
        snap.system[-5:],
        snap.records,
        at=status.ts,
        most=1,
        fpm=snap.fpm[-16:],
    )
    return found[0].short() if found else ""


def second(app: LamptopApp) -> None:
    """The clock, the age of a stale scoreboard, the rates and the titles."""
    snap = app.shown_snapshot
    frozen = app.freeze.frozen and snap is not None
    now = snap.taken_at if frozen and snap is not None else app.clock.now()
    set_changed(app.panes.header, "now", now.replace(microsecond=0))
    status = snap.latest_status if snap is not None else None
    age = None
    if status is not None and app.status_problem is not None:
        age = int((now - status.ts).total_seconds())
    set_changed(app.panes.board, "age", age)
    rates = snap.rates if frozen and snap is not None else app.recorder.rates()
    shown = tuple(rounded_rate(rates.get(s, 0.0)) for s in app.log_sources)
    set_changed(app.panes.bar, "rates", shown)
    titles(app)
    freeze(app)


def freeze(app: LamptopApp) -> None:
    """The header's word and the banner: when the screen was frozen, what arrived since."""
    panes, state = app.panes, app.freeze
    set_changed(panes.header, "note", state.header_note(app.title_note))
    set_changed(panes.banner, "word", state.word)
    set_changed(panes.banner, "text", state.banner(app.zone, app.recorder.total))
    alerting.show(app)  # on this beat, frozen or not: the alert's age goes on


def titles(app: LamptopApp) -> None:
    # Small terminals hide panes (lamptop.tcss): the titles say which and the room they need.
    screen = app.panes.log.screen
    titles = pane_titles(
        app.log_filter,
        shown=len(app.log_index),
        total=len(app.log_index.ring),
        following=app.log_following,
        in_flight=len(app.in_flight),
        suspect=app.suspect,
        tiny=screen.has_class("-tiny"),
        cramped=screen.has_class("-cramped"),
    )
    logs, workers = app.panes.logs, app.panes.workers
    # titles quote the filter and a pinned request's client or URL: never markup, and
    # masked like every other client and query under --redact
    masked = redact(titles.logs) if app.config.redact else titles.logs
    # a changed title repaints its border row, not the pane and every pane inside it
    set_title(logs, escape(masked))
    title, sub = stack.titles(app, titles.workers, titles.workers_sub)
    set_title(workers, escape(title))
    set_title(logs, escape(titles.logs_sub), subtitle=True)
    set_title(workers, escape(sub), subtitle=True)
