"""Alerts on screen: what the spike rules say goes to the alert bar, never over a pane.

The app keeps every alert of the session in :attr:`~console.tui.app.LamptopApp.alerts` (an
:class:`~console.view.alerts.AlertList`); the bar under the logs shows the newest, ``a`` lists
them all. A rule's alert is never a toast; a bundle saved by hand (``s``) gives one short toast
as well, since the user is waiting for it. ``--redact`` masks what an alert quotes as it masks
the bundle. Plain functions of the app, which the incident watch calls and the app binds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.core.timefmt import from_iso
from console.incident.redact import redact_trigger
from console.incident.rules import Trigger
from widgets.drawn import set_changed
from widgets.toast import toast

if TYPE_CHECKING:
    from console.incident.watch import Saved
    from console.tui.app import LamptopApp


def _shown(app: LamptopApp, trigger: Trigger) -> Trigger:
    """The trigger as the screen may quote it: masked under ``--redact``."""
    return redact_trigger(trigger) if app.config.redact else trigger


def rule_fired(app: LamptopApp, trigger: Trigger, outcome: str, joined: bool = False) -> None:
    """A spike rule fired: an alert in the bar (or, ``joined``, one more rule named in the
    alert of its incident); freeze when the config asks for it."""
    from console.tui.freeze import toggle

    app.rule_fired_at = trigger.at
    shown = _shown(app, trigger)
    watch = app.incidents
    waits = watch is not None and watch.pending is trigger and not joined
    due = trigger.at + timedelta(seconds=watch.tail) if waits and watch is not None else None
    rule = trigger.rule or trigger.kind
    app.alerts.fired(trigger.at, rule, shown.message, outcome, joined=joined, due=due)
    show(app)
    if not joined and app.config.snapshot_freeze_on_rule and not app.freeze.frozen:
        toggle(app)


def saved(app: LamptopApp, result: Saved) -> None:
    """A bundle was written, or could not be: its alert says where, or why not; a bundle
    saved by hand also gives a short toast."""
    trigger = result.trigger
    by_rule = trigger.kind == "rule"
    app.alerts.saved(
        trigger.at,
        "rule" if by_rule else "key",
        (trigger.rule or "") if by_rule else "",
        _shown(app, trigger).message,
        path=str(result.path) if result.path is not None else None,
        error=result.error,
    )
    show(app)
    if by_rule:
        return
    if result.path is not None:
        toast(app, f"saved: {result.path.name}")
    else:
        toast(app, "bundle NOT saved: the bar below says why", severity="error")


def bundle_opened(app: LamptopApp, doc: Mapping[str, Any], path: str | Path) -> None:
    """``lamptop open``: the bundle's trigger (and the rules that joined it) in the bar, from
    the first frame on (called before the app runs)."""
    fallback = app.freeze.snapshot.taken_at if app.freeze.snapshot is not None else None
    trigger = read_trigger(doc, fallback)
    if trigger is None:
        return
    shown = _shown(app, trigger)
    also = shown.values.get("also_fired")
    joined = [
        (str(a.get("rule", "?")), _time(a.get("at")) or trigger.at, str(a.get("message", "")))
        for a in (also if isinstance(also, list) else ())
        if isinstance(a, Mapping)
    ]
    rule = trigger.rule if trigger.kind == "rule" and trigger.rule else ""
    app.alerts.opened(trigger.at, rule, shown.message, str(Path(path).resolve()), joined)


def _time(value: object) -> datetime | None:
    try:
        return from_iso(value) if isinstance(value, str) else None
    except ValueError:
        return None


def read_trigger(doc: Mapping[str, Any], fallback: datetime | None) -> Trigger | None:
    """The trigger a bundle's ``snapshot.json`` names (its time, else ``fallback``)."""
    raw = doc.get("trigger")
    if not isinstance(raw, Mapping):
        return None
    at = _time(raw.get("at")) or fallback
    if at is None:
        return None
    values = raw.get("values")
    return Trigger(
        kind=str(raw.get("kind") or "?"),
        at=at,
        rule=str(raw["rule"]) if raw.get("rule") else None,
        message=str(raw.get("message") or ""),
        values=values if isinstance(values, Mapping) else {},
    )


def show(app: LamptopApp) -> None:
    """The bar's alerts and the time their ages count to (none for a bundle being read)."""
    bar = app.panes.alert_bar
    set_changed(bar, "zone", app.zone)
    set_changed(bar, "alerts", app.alerts.alerts)
    now = None if app.freeze.read_only else app.clock.now().replace(microsecond=0)
    set_changed(bar, "now", now)


def show_list(app: LamptopApp) -> None:
    """``a``: every alert of the session, with the full paths of their bundles."""
    from widgets.alerts import AlertsScreen

    now = None if app.freeze.read_only else app.clock.now()
    app.push_screen(AlertsScreen(app.alerts.alerts, app.zone, now, app.alerts.dropped))
