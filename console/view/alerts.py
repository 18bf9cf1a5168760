"""Alerts: what the spike rules said and what came of each, newest first, and the line to show.

The console never covers a pane with a rule's alert: the newest alert sits in a one-line bar
under the logs (``widgets/alertbar.py``, the line from :mod:`console.view.alertline`), with its
age and what came of it (a bundle being saved, its path, or why it was not saved), and ``a``
lists them all. One incident is one
alert: rules that fire while its bundle waits for its tail, or soon after it was saved, are
named in it (:class:`~console.incident.watch.IncidentWatch` groups them the same way).

An alert changes as its incident goes on (pending, then saved or failed); a change is news, so
the alert moves to the front. Everything quoted is cleaned where it enters (a rule's message
quotes a log line or a query). Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from console.core.text import bound, clean, mask_secrets

#: Alerts kept for the session: the oldest go first (and are counted).
MAX_ALERTS = 100
#: Longest message, error or path kept (characters).
MAX_TEXT = 1000

AlertKind = Literal["rule", "key", "bundle"]
"""``rule``: a spike rule fired; ``key``: a bundle saved by hand (``s``); ``bundle``: the
trigger of the bundle being read (``lamptop open``)."""
Level = Literal["warning", "error", "info"]


def _inert(text: object, limit: int = MAX_TEXT) -> str:
    """Outside text made one inert line: secrets masked, controls escaped, bounded."""
    return clean(mask_secrets(bound(" ".join(str(text).split()), limit)))


@dataclass(frozen=True)
class Joined:
    """A rule of the same incident, named in its alert."""

    rule: str
    at: datetime
    message: str
    in_bundle: bool
    """It fired while the bundle waited for its tail: the bundle's report lists it."""


@dataclass(frozen=True)
class Alert:
    """One incident (or one bundle saved by hand): when, which rule, what it said, what came."""

    at: datetime
    kind: AlertKind
    rule: str = ""
    message: str = ""
    outcome: str = ""
    """What came of it while no bundle is written: ``saving a bundle in 10 s``, ``no new
    bundle: …``."""
    path: str = ""
    """The bundle's full path, once saved."""
    error: str = ""
    """Why the bundle could not be saved."""
    joined: tuple[Joined, ...] = ()
    """Other rules of the same incident, in the order they fired."""
    due: datetime | None = None
    """When its bundle is to be saved, while it waits for its tail."""

    @property
    def pending(self) -> bool:
        """Its bundle waits for its tail."""
        return self.due is not None

    @property
    def level(self) -> Level:
        if self.error:
            return "error"
        return "warning" if self.rule else "info"

    @property
    def title(self) -> str:
        """``rule NAME``, ``bundle by hand``, ``trigger`` (a bundle not saved by a rule)."""
        if self.rule:
            return f"rule {self.rule}"
        return "bundle by hand" if self.kind == "key" else "trigger"

    @property
    def result(self) -> str:
        """What came of it, without the path or the error: ``NOT saved``, ``saved``, the
        outcome (``saving a bundle in 10 s``); nothing for a bundle being read."""
        if self.error:
            return "NOT saved"
        if self.path:
            return "" if self.kind == "bundle" else "saved"
        return self.outcome


class AlertList:
    """Every alert of the session, newest first, at most ``limit`` (the oldest dropped)."""

    def __init__(self, limit: int = MAX_ALERTS) -> None:
        self.limit = max(1, limit)
        self._alerts: list[Alert] = []
        self.dropped = 0
        """Alerts dropped to keep the list bounded."""

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Newest first: the last one added or changed leads."""
        return tuple(self._alerts)

    def __len__(self) -> int:
        return len(self._alerts)

    def add(self, alert: Alert) -> Alert:
        """Put ``alert`` in front (the news), dropping the oldest beyond the limit."""
        self._alerts.insert(0, alert)
        while len(self._alerts) > self.limit:
            self._alerts.pop()
            self.dropped += 1
        return alert

    def _front(self, old: Alert, new: Alert) -> Alert:
        self._alerts.remove(old)
        return self.add(new)

    def fired(
        self,
        at: datetime,
        rule: str,
        message: str,
        outcome: str,
        *,
        joined: bool = False,
        due: datetime | None = None,
    ) -> Alert:
        """A rule fired; ``joined``: it belongs to the incident of the newest rule alert;
        ``due``: its bundle is to be saved then (it waits for its tail)."""
        rule, message, outcome = _inert(rule, 100), _inert(message), _inert(outcome)
        incident = next((a for a in self._alerts if a.kind == "rule"), None)
        if joined and incident is not None:
            one = Joined(rule, at, message, in_bundle=incident.pending)
            return self._front(incident, replace(incident, joined=(*incident.joined, one)))
        return self.add(Alert(at, "rule", rule, message, outcome, due=due))

    def saved(
        self,
        at: datetime,
        kind: AlertKind,
        rule: str,
        message: str,
        *,
        path: str | None = None,
        error: str | None = None,
    ) -> Alert:
        """A bundle was written (``path``) or not (``error``): for a rule's incident, its
        alert says so; a bundle saved by hand is an alert of its own."""
        where, why = _inert(path or ""), _inert(error or "")
        rule, message = _inert(rule, 100), _inert(message)
        if kind == "rule":
            for alert in self._alerts:
                if alert.kind == "rule" and alert.rule == rule and alert.at == at:
                    done = replace(alert, due=None, outcome="", path=where, error=why)
                    return self._front(alert, done)
        return self.add(Alert(at, kind, rule, message, path=where, error=why))

    def opened(
        self,
        at: datetime,
        rule: str,
        message: str,
        path: str,
        joined: Sequence[tuple[str, datetime, str]] = (),
    ) -> Alert:
        """The trigger of a bundle being read (``lamptop open``): its rule (none for a bundle
        saved by hand), its message, its path, and the rules that joined it (rule, when,
        message)."""
        also = tuple(Joined(_inert(r, 100), t, _inert(m), in_bundle=True) for r, t, m in joined)
        alert = Alert(at, "bundle", _inert(rule, 100), _inert(message), path=_inert(path))
        return self.add(replace(alert, joined=also))
