"""Several hosts in one console: the host lines, choosing the host the panes show, the log tags.

The app's snapshots carry every host (:attr:`~console.core.recorder.Snapshot.hosts`, taken by
:meth:`~console.core.fleet.Fleet.snapshot` at one instant, so freezing and rewinding hold every
host at the same instant); a bundle opened with ``lamptop open`` carries them too, so what is
here works the same on one. With one host nothing here changes the screen. ``h`` shows the next
host's workers, memory, PHP-FPM and MySQL; ``H`` all hosts at once where a pane can sum them
(:mod:`console.view.fleetview`). Plain functions of the app, which binds them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from console.core.recorder import Snapshot
from console.view.fleetview import (
    ALL,
    all_in_flight,
    counted,
    for_all,
    for_host,
    host_names,
    log_tags,
    memory_lines,
    next_choice,
    shot,
)
from console.view.hosts import host_rows, inert
from console.view.pacing import PacerFeed, recorded
from widgets.drawn import set_changed

if TYPE_CHECKING:
    from console.tui.app import LamptopApp

#: The host lines' most lines by the screen's height class; more hosts go compact.
MOST_LINES = {"-tiny": 1, "-short": 3, "-tall": 8}


def attach(app: LamptopApp) -> None:
    """Tell the app's pacer about every remote host's samples, as about the hub's."""
    fleet = app.fleet
    if fleet is None:
        return
    for host in fleet.hosts:
        if not host.local:
            feed = PacerFeed(app.pacer, app._recorder_changed, recorded(host.recorder))
            host.recorder.subscribe(feed)


def take(app: LamptopApp) -> Snapshot:
    """A snapshot of every host at one instant (of the hub alone without a fleet)."""
    return app.fleet.snapshot() if app.fleet is not None else app.recorder.snapshot()


def chosen(app: LamptopApp, snap: Snapshot) -> str:
    """The host the panes show (``*``: all), a host of ``snap``; ``""`` for one host."""
    names = host_names(snap)
    if not names:
        return ""
    current = app.host_shown
    if current != ALL and current not in names:
        current = app.host_shown = names[0]
    return current


def samples(app: LamptopApp, snap: Snapshot) -> None:
    """Hand the sample panes the chosen host's part of ``snap`` (as with one host), then the
    host lines and what all hosts at once change in the panes."""
    from console.tui import show

    choice = chosen(app, snap)
    if not choice:
        show.samples(app, snap)
        return
    view = for_all(snap) if choice == ALL else for_host(snap, choice)
    show.samples(app, view)
    panes = app.panes
    if choice == ALL:
        app.in_flight = all_in_flight(snap, app._status_path)
        set_changed(panes.table, "rows", app.in_flight)
        set_changed(panes.memory, "lines", memory_lines(snap))
        note = "all hosts: h shows one host's {}"
        panes.fpm.show((), (), note.format("PHP-FPM pools"))
        panes.mysql.show(None, (), note.format("MySQL queries"))
        up, every = len(counted(snap)), len(snap.hosts)
        label = f"all {every} hosts" if up == every else f"{up} of {every} hosts (up)"
    else:
        set_changed(panes.memory, "lines", ())
        host = shot(snap, choice)
        label = inert(host.label if host is not None else choice, 60)
    set_changed(panes.header, "host", label)
    lines(app, snap)


def lines(app: LamptopApp, snap: Snapshot) -> None:
    """The host lines at the instant of ``snap``."""
    newest = next((a for a in app.alerts.alerts if a.kind == "rule"), None)
    local = (newest.rule, newest.at) if newest is not None else None
    widget = app.panes.hosts
    set_changed(widget, "rows", host_rows(snap, local_alert=local))
    set_changed(widget, "shown", app.host_shown)
    height = next((m for c, m in MOST_LINES.items() if widget.screen.has_class(c)), 3)
    set_changed(widget, "most", height)


def second(app: LamptopApp) -> None:
    """Once a second while live: the links as they are now (a retry counts down, a host comes
    back) and the alerts' ages, over the samples shown."""
    snap, fleet = app.shown_snapshot, app.fleet
    if snap is None or fleet is None or not snap.hosts or app.freeze.frozen:
        return
    now = app.clock.now()
    hosts = []
    for h in snap.hosts:
        live = fleet.host(h.name)
        hosts.append(h if live is None else replace(h, link=live.link, alerts=tuple(live.alerts)))
    lines(app, replace(snap, taken_at=max(now, snap.taken_at), hosts=tuple(hosts)))


def sources(app: LamptopApp, snap: Snapshot) -> None:
    """The log pane's and the source bar's tags with the host in front (several hosts)."""
    hosts = snap.hosts
    log = app.panes.log
    pairs = tuple((h.name, h.local) for h in hosts) if len(hosts) >= 2 else ()
    set_changed(log, "hosts", pairs)
    if pairs:
        _, tags = log_tags(app.log_sources, pairs, 80)
        labels = tuple(tags.get(s, s) for s in app.log_sources)
    else:
        labels = ()
    set_changed(app.panes.bar, "labels", labels)


def _show_again(app: LamptopApp) -> None:
    app._samples_shown = None  # every pane again, for the host now chosen
    snap = app.shown_snapshot
    if snap is not None:
        samples(app, snap)
    app.update_titles()


def next_host(app: LamptopApp) -> None:
    """``h``: the next host's workers, memory, PHP-FPM and MySQL (from all hosts: the first)."""
    names = host_names(app.shown_snapshot)
    if len(names) >= 2:
        app.host_shown = next_choice(names, app.host_shown)
        _show_again(app)


def all_hosts(app: LamptopApp) -> None:
    """``H``: every host at once where a pane can sum them; again: the first host."""
    names = host_names(app.shown_snapshot)
    if len(names) >= 2:
        app.host_shown = next_choice(names, app.host_shown, every=True)
        _show_again(app)


def several(app: LamptopApp) -> bool:
    """The console shows several hosts (the host keys work, and show in the footer)."""
    return len(host_names(app.shown_snapshot)) >= 2
