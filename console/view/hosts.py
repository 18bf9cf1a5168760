"""The host lines: one line per host at the top of the console when it follows several.

Each line says, for one host: its name (the remote's own hostname beside it where it differs),
how busy its Apache is (busy/limit), how much memory is used, the newest alert with its age,
and the state of its link in words when it is not up (``fleet-b: ssh: connection refused ·
retry in 20 s``). The figures come from the snapshot shown (:attr:`Snapshot.hosts`), so a
frozen or rewound screen shows every host at the same instant. Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from console.core.fleet import HostShot
from console.core.recorder import Snapshot
from console.core.text import bound, clean, mask_secrets
from console.view.alertline import ago
from console.view.elide import cells, cut_end
from console.view.metrics import human_bytes

#: Longest text quoted from a remote (a link's message, an alert's rule and message).
MAX_QUOTED = 300
#: Widest host name column; longer names are cut.
NAME_ROOM = 16

#: (text, style) pieces of a line: the widget colours them by style name.
Piece = tuple[str, str]


def inert(text: object, limit: int = MAX_QUOTED) -> str:
    """Remote text made one inert line: one line, secrets masked, controls escaped, bounded."""
    return clean(mask_secrets(bound(" ".join(str(text).split()), limit)))


@dataclass(frozen=True, slots=True)
class HostRow:
    """What one host line shows."""

    name: str
    label: str
    """The name, with the host's own name beside it where it differs."""
    local: bool
    status: str
    """The link: ``local``, ``connecting``, ``up`` or ``down``."""
    words: str = ""
    """The link in words when not up: ``ssh: connection refused · retry in 20 s``."""
    busy: int | None = None
    limit: int | None = None
    mem_used: int | None = None
    mem_total: int | None = None
    alert: str = ""
    """The newest alert: its rule (or message)."""
    alert_age: float | None = None
    """Seconds since that alert, at the instant shown."""

    @property
    def saturation(self) -> float:
        return self.busy / self.limit if self.busy is not None and self.limit else 0.0

    @property
    def mem_ratio(self) -> float:
        used, total = self.mem_used, self.mem_total
        return used / total if used is not None and total else 0.0


def samples_of(snap: Snapshot, shot: HostShot) -> Snapshot:
    """The snapshot holding ``shot``'s samples: its own, or the hub's for the local host."""
    return shot.samples if shot.samples is not None else snap


def link_words(shot: HostShot, now: datetime) -> str:
    """The link in words when it is not up; ``""`` when it is (or the host is local)."""
    link = shot.link
    if link.status in ("up", "local"):
        return ""
    message = inert(link.message)
    if link.status == "connecting":
        since = link.since
        secs = f" {max(0, int((now - since).total_seconds()))} s" if since is not None else ""
        return f"{message or 'connecting…'}{secs}"
    words = message or "down"
    if link.retry_at is not None:
        left = math.ceil((link.retry_at - now).total_seconds())
        words += f" · retry in {left} s" if left > 0 else " · retrying…"
    return words


def host_rows(
    snap: Snapshot, *, local_alert: tuple[str, datetime] | None = None
) -> tuple[HostRow, ...]:
    """One row per host of ``snap`` at its instant; ``local_alert``: the local host's newest
    alert (rule, when), from the console's own alert list."""
    now = snap.taken_at
    rows = []
    for shot in snap.hosts:
        own = samples_of(snap, shot)
        status, system = own.latest_status, own.latest_system
        alert: tuple[str, datetime] | None = None
        if shot.local:
            alert = local_alert
        elif shot.alerts:
            newest = shot.alerts[-1]
            alert = (inert(newest.rule or newest.message, 60), newest.ts)
        if alert is not None and alert[1] > now:
            alert = None
        rows.append(
            HostRow(
                name=inert(shot.name, 100),
                label=inert(shot.label, 200),
                local=shot.local,
                status=shot.link.status,
                words=link_words(shot, now),
                busy=status.busy if status is not None else None,
                limit=status.limit if status is not None else None,
                mem_used=system.mem_used if system is not None else None,
                mem_total=system.mem_total if system is not None else None,
                alert=alert[0] if alert is not None else "",
                alert_age=(now - alert[1]).total_seconds() if alert is not None else None,
            )
        )
    return tuple(rows)


def _level(ratio: float, warn: float, crit: float) -> str:
    return "crit" if ratio >= crit else "warn" if ratio >= warn else "value"


def host_line(
    row: HostRow, width: int, name_width: int, *, shown: bool = False, label: bool = False
) -> list[Piece]:
    """``row`` as pieces that fit ``width`` cells; ``label``: the name column holds the
    host's own name beside its name (wide screens). What goes first when it does not fit: the
    memory total, then the alert's age, then the alert; the last piece is cut."""
    mark: Piece = ("▶ " if shown else "  ", "mark")
    if row.words:
        # the link is not up: its words are what matters (``fleet-b: ssh: connection refused``)
        style = "crit" if row.status == "down" else "muted"
        return [mark, (cut_end(f"{row.name}: {row.words}", max(1, width - 2)), style)]
    name = cut_end(row.label if label else row.name, name_width).ljust(name_width)
    pieces: list[Piece] = []
    for step in range(4):
        pieces = [mark, (name, "name"), *_figures(row, step)]
        if sum(cells(t) for t, _ in pieces) <= width:
            return pieces
    fitted: list[Piece] = []
    used = 0
    for text, style in pieces:
        room = width - used
        if room <= 0:
            break
        text = cut_end(text, room) if cells(text) > room else text
        fitted.append((text, style))
        used += cells(text)
    return fitted


def _figures(row: HostRow, step: int) -> list[Piece]:
    """Busy/limit, memory and the alert; ``step`` 1 drops the memory total, 2 the alert's
    age, 3 the alert."""
    pieces: list[Piece] = [("  ", "")]
    if row.busy is not None and row.limit is not None:
        busy = f"{row.busy}/{row.limit}".rjust(7)
        pieces += [("busy ", "label"), (busy, _level(row.saturation, 0.7, 0.9)), ("  ", "")]
    else:
        pieces += [("busy       -", "muted"), ("  ", "")]
    if row.mem_used is not None and row.mem_total:
        used = human_bytes(row.mem_used)
        text = f"{used}/{human_bytes(row.mem_total)}" if step < 1 else used
        text += f" {row.mem_ratio:.0%}"
        level = _level(row.mem_ratio, 0.75, 0.9)
        pieces += [("mem ", "label"), (text.rjust(14 if step < 1 else 9), level)]
    else:
        pieces += [("mem -", "muted")]
    if row.alert and step < 3:
        pieces += [("  ⚠ ", "warn"), (row.alert, "warn")]
        if row.alert_age is not None and step < 2:
            pieces.append((f" {ago(row.alert_age)}", "muted"))
    return pieces


def name_width(rows: Sequence[HostRow], *, label: bool = False) -> int:
    """The width of the name column: the longest name (``label``: with the host's own name
    beside it), at most :data:`NAME_ROOM` (twice that with labels)."""
    most = NAME_ROOM * (2 if label else 1)
    names = (r.label if label else r.name for r in rows if not r.words)
    return max(4, min(most, max((cells(n) for n in names), default=4)))


def compact_entry(row: HostRow, *, shown: bool = False) -> list[Piece]:
    """A host in a few cells, for many hosts on few lines: ``▶web1 150/150 92%``."""
    mark = ("▶", "mark") if shown else (" ", "mark")
    name = cut_end(row.name, 12)
    if row.words:
        return [mark, (name, "name"), (" down" if row.status == "down" else " …", "crit")]
    busy = f" {row.busy}/{row.limit}" if row.busy is not None else " -"
    mem = f" {row.mem_ratio:.0%}" if row.mem_total else ""
    return [
        mark,
        (name, "name"),
        (busy, _level(row.saturation, 0.7, 0.9)),
        (mem, _level(row.mem_ratio, 0.75, 0.9)),
        (" ⚠" if row.alert else "", "warn"),
    ]


def compact_lines(rows: Sequence[HostRow], width: int, lines: int, shown: str) -> list[list[Piece]]:
    """Every host's :func:`compact_entry`, packed into at most ``lines`` lines of ``width``
    cells; hosts whose link is down first, and what does not fit counted (``+3 more``)."""
    order = sorted(rows, key=lambda r: (not r.words, False))
    out: list[list[Piece]] = [[]]
    used = 0
    for i, row in enumerate(order):
        entry = compact_entry(row, shown=row.name == shown)
        size = sum(cells(t) for t, _ in entry) + 2
        if used + size > width:
            if len(out) == lines:
                more = f"+{len(order) - i} more"
                last = out[-1]
                while last and used + len(more) > width:
                    text, _ = last.pop()
                    used -= cells(text)
                last.append((more, "muted"))
                break
            out.append([])
            used = 0
        out[-1] += [*entry, ("  ", "")]
        used += size
    return out
