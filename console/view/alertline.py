"""The newest alert in one line of a given width, and every alert as lines for the list.

A line keeps what matters when it must be cut: the rule and what came of it (the bundle's
path, or why it was not saved) stay; the rules that joined become a count, the time gives way
to the age, the message is cut at its end and a path in its middle (it keeps its start and the
bundle's name). Pure Python: no Textual.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Literal

from console.core.timefmt import clock
from console.view.alerts import Alert, Level

Role = Literal["icon", "time", "rule", "message", "outcome", "error", "path", "also", "more", "gap"]
Piece = tuple[str, Role]
"""A run of the line and what it is (the bar styles each role)."""

ICONS: dict[Level, str] = {"warning": "⚠", "error": "✗", "info": "✓"}
#: The fewest cells a cut message, error or path keeps (with its ``…``).
MIN_MESSAGE = 12
MIN_ERROR = 16
MIN_PATH = 16


def cells(text: str) -> int:
    """Terminal cells ``text`` takes (wide characters two, combining marks none)."""
    return sum(_cell(c) for c in text)


def _cell(c: str) -> int:
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def _take(chars: Sequence[str], width: int) -> list[str]:
    out: list[str] = []
    used = 0
    for c in chars:
        used += _cell(c)
        if used > width:
            break
        out.append(c)
    return out


def cut_end(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ``…`` at the end when cut."""
    if cells(text) <= width:
        return text
    if width <= 0:
        return ""
    return "".join(_take(text, width - 1)) + "…"


def cut_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its middle replaced by ``…`` (a path keeps its
    start and, longer, its end: the bundle's name)."""
    if cells(text) <= width:
        return text
    if width <= 1:
        return "…" if width == 1 else ""
    head = (width - 1) // 3
    tail = _take(text[::-1], width - 1 - head)
    return "".join(_take(text, head)) + "…" + "".join(reversed(tail))


def cut_path(path: str, width: int) -> str:
    """``path`` in at most ``width`` cells: its middle elided, keeping the last name whole
    (``/var/…/20261202T132041Z-web1-workers_near_limit``), else its end."""
    if cells(path) <= width:
        return path
    head, sep, name = path.rpartition("/")
    if not sep or cells(name) + 2 > width:
        return cut_middle(path, width)
    keep = _take(head, width - cells(name) - 2)
    return "".join(keep) + "…/" + name


def least_path(path: str) -> int:
    """The fewest cells a path is shown in: its last name whole, after ``…/``."""
    head, sep, name = path.rpartition("/")
    return min(cells(path), cells(name) + 2) if sep else min(cells(path), MIN_PATH)


def ago(seconds: float) -> str:
    """``34 s ago``, ``5 min ago``, ``2 h ago``, ``3 d ago``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    if s < 86400:
        return f"{s // 3600} h ago"
    return f"{s // 86400} d ago"


def result(alert: Alert, now: datetime | None) -> str:
    """What came of it (:attr:`Alert.result`); while its bundle waits, the seconds left."""
    if alert.due is None or now is None:
        return alert.result
    left = math.ceil((alert.due - now).total_seconds())
    return f"saving a bundle in {left} s" if left > 0 else "saving a bundle…"


def _also(alert: Alert, short: bool) -> str:
    names = list(dict.fromkeys(j.rule for j in alert.joined))
    if not names:
        return ""
    if short:
        return f"+{len(names)} rule{'s' if len(names) > 1 else ''}"
    return "also fired: " + ", ".join(names)


#: What each step leaves out or shortens, cumulatively.
JOINED_COUNTED, HINT_SHORT, AGE_ONLY, NO_RULE_WORD, NO_JOINED, NO_MESSAGE = range(1, 7)


def _pieces(
    alert: Alert,
    more: int,
    step: int,
    now: datetime | None,
    zone: tzinfo | None,
    path: bool = True,
) -> list[Piece]:
    """The line's pieces, the last one the count of other alerts; less at each ``step``;
    ``path``: the bundle's path after ``saved`` (else the list has it)."""
    pieces: list[Piece] = [(ICONS[alert.level] + " ", "icon")]
    when = clock(alert.at, zone)
    if now is not None and alert.kind != "bundle":
        age = ago((now - alert.at).total_seconds())
        when = age if step >= AGE_ONLY else f"{when} ({age})"
    pieces.append((when, "time"))
    title = alert.rule if step >= NO_RULE_WORD and alert.rule else alert.title
    pieces.append((" " + title, "rule"))
    if alert.message and alert.kind != "key" and step < NO_MESSAGE:
        pieces += [(": ", "rule"), (alert.message, "message")]
    said = result(alert, now)
    if said:
        pieces += [(" · ", "gap"), (said, "outcome")]
        if alert.error:
            pieces += [(": ", "outcome"), (alert.error, "error")]
        elif alert.path and path:
            pieces += [(": ", "outcome"), (alert.path, "path")]
    also = _also(alert, short=step >= JOINED_COUNTED)
    if also and step < NO_JOINED:
        pieces += [(" · ", "gap"), (also, "also")]
    if more:
        pieces.append((f"+{more} more · a: list" if step < HINT_SHORT else f"+{more} · a", "more"))
    else:
        pieces.append(("a: list" if step < HINT_SHORT else "a", "more"))
    return pieces


#: How a piece that may be cut is cut, and in which order the room left over is given.
FLEX: dict[str, Callable[[str, int], str]] = {
    "error": cut_middle,
    "path": cut_path,
    "message": cut_end,
}


def _fit(pieces: list[Piece], width: int, least: dict[str, int]) -> list[Piece] | None:
    """The pieces in ``width`` cells, the count of other alerts right-aligned after at least
    two spaces; a piece of :data:`FLEX` is cut to the room left, but to no fewer cells than
    ``least`` gives it (None: it does not fit)."""
    *body, more = pieces
    flex = {role: cells(t) for t, role in body if role in FLEX}
    room = width - 2 - cells(more[0])
    room -= sum(cells(t) for t, role in body if role not in FLEX)
    given = {role: min(n, least.get(role, n)) for role, n in flex.items()}
    room -= sum(given.values())
    if room < 0:
        return None
    for role in FLEX:  # the rest goes to the error, then the path, then the message
        if role in flex:
            extra = min(flex[role] - given[role], room)
            given[role] += extra
            room -= extra
    out = [(FLEX[role](t, given[role]) if role in FLEX else t, role) for t, role in body]
    used = sum(cells(t) for t, _ in out) + cells(more[0])
    return [*out, (" " * (width - used), "gap"), more]


def alert_line(
    alerts: Sequence[Alert], width: int, now: datetime | None = None, zone: tzinfo | None = None
) -> tuple[Piece, ...]:
    """The newest alert in ``width`` cells: icon, time and age, rule, message, what came of it
    (the bundle's path, or the error), the other rules of the incident, and how many more
    alerts there are, right-aligned. The whole message is kept while shortening the rest can
    make room; then it is cut; the rule and what came of it stay longest. ``now``: None gives
    no age."""
    if not alerts or width <= 0:
        return ()
    alert, more = alerts[0], len(alerts) - 1
    whole = {"error": MIN_ERROR, "path": least_path(alert.path)}
    cut = {**whole, "message": MIN_MESSAGE}
    # the whole message and the bundle's name first; then the message cut, after the age
    # alone (the list has the time); then no path
    tries = [
        (step, fewest, path)
        for path in (True, False)
        for fewest, first in ((whole, 0), (cut, AGE_ONLY))
        for step in range(first, NO_MESSAGE)
    ]
    tries += [(NO_MESSAGE, whole, False), (NO_MESSAGE, {"error": 1}, False)]
    for step, fewest, path in tries:
        fitted = _fit(_pieces(alert, more, step, now, zone, path), width, fewest)
        if fitted is not None:
            return tuple(fitted)
    out: list[Piece] = []  # narrower than the rule and its outcome: cut at the end
    room = width
    for text, role in _pieces(alert, more, NO_MESSAGE, now, zone, path=False)[:-1]:
        if room <= 0:
            break
        text = cut_end(text, room)
        out.append((text, role))
        room -= cells(text)
    return tuple(out)


LineKind = Literal["head", "body", "path"]
Line = tuple[tuple[Piece, ...], LineKind]
"""A line of the list and what it is: its head, a line under it (indented, wrapped), or a
path (at the left edge, never wrapped)."""


def describe(alert: Alert, zone: tzinfo | None, now: datetime | None = None) -> tuple[Line, ...]:
    """An alert in the list (``a``): when and how long ago, what, what came of it with the
    bundle's full path on a line of its own, and the rules that joined it."""
    age = f" · {ago((now - alert.at).total_seconds())}" if now is not None else ""
    when = f"{alert.at.astimezone(zone):%Y-%m-%d %H:%M:%S}{age}"
    head: tuple[Piece, ...] = ((ICONS[alert.level] + " ", "icon"), (alert.title, "rule"))
    lines: list[Line] = [((*head, ("  " + when, "time")), "head")]
    if alert.message and alert.kind != "key":
        lines.append((((alert.message, "message"),), "body"))
    if alert.error:
        lines.append(((("NOT saved: ", "outcome"), (alert.error, "error")), "body"))
    elif said := result(alert, now):
        lines.append((((said + (":" if alert.path else ""), "outcome"),), "body"))
    if alert.path:
        lines.append((((alert.path, "path"),), "path"))
    for j in alert.joined:
        where = "joined its bundle" if j.in_bundle else "after its bundle"
        also = f"also {clock(j.at, zone)} rule {j.rule} ({where}): "
        lines.append((((also, "also"), (j.message, "message")), "body"))
    return tuple(lines)
