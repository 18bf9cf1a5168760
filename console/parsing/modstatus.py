"""mod_status pages: the ``?auto`` text and the ExtendedStatus HTML page, to a StatusSample.

Pure functions, no I/O and no clock. What the pages look like (Apache 2.4.71, prefork and
event, captured in ``tests/fixtures/status/``):

* ``?auto`` begins with a bare host name line, then ``Key: value`` lines. Keys may hold spaces
  (``Total Accesses``); floats may lack the leading zero (``.55``) or look like ``0.e+79``;
  the per-request averages are missing right after a restart; event adds keys prefork lacks.
* the HTML page has a per-worker table (``Srv PID Acc M CPU SS Req Dur Conn Child Slot Client
  Protocol VHost Request``) when ExtendedStatus is on, and under event a per-process table
  with two header rows (``Connections``/``Threads``/``Async connections`` span sub-columns).
  Columns are found by their header, so a release that drops or adds one still parses.
* ``GracefulWorkers`` reads 0 under event while the scoreboard holds dozens of ``G``: counts
  come from the scoreboard string itself, never from the summary keys.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from console.core.events import ProcessRow, StatusSample, Worker
from console.parsing.modstatus_html import (
    BUSY_CHARS,
    MAX_SLOTS,
    NotModStatus,
    auto_from_html,
    number,
    parse_html,
    read_page,
    uptime_seconds,
)

__all__ = [
    "BUSY_CHARS",
    "MAX_SLOTS",
    "NotModStatus",
    "auto_from_html",
    "build_sample",
    "count_scoreboard",
    "number",
    "parse_auto",
    "parse_html",
    "parse_status_text",
    "read_page",
    "QUIET_MODES",
    "request_path",
    "sample_from_html",
    "uptime_seconds",
]

#: Scoreboard/worker modes of a slot that serves no request: idle (``_``) and open (``.``).
QUIET_MODES = frozenset("_.")


#: A URL's parts before its path, and its path (what ``urlsplit(url).path`` gives).
_URL_PATH = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://[^/?#]*)?([^?#]*)")


def url_path(url: str) -> str:
    """The path of a URL or a request target: ``/a/b.php?x=1#f`` → ``/a/b.php``,
    ``http://h:80/x?y`` → ``/x``. Never raises (``urlsplit`` does, on a stranger's ``//[x``),
    and a target that starts with its path (nearly every one) costs two string searches."""
    if url[:1] == "/" and url[1:2] != "/":
        q = url.find("?")
        if q >= 0:
            url = url[:q]
        h = url.find("#")
        return url if h < 0 else url[:h]
    m = _URL_PATH.match(url)
    return m.group(1) if m is not None else ""


def request_path(request: str) -> str:
    """``GET /a/b.php?x=1 HTTP/1.1`` → ``/a/b.php``; ``""`` when there is no path.

    Takes a request line, a bare target, or a full URL after a method (``GET http://h/x``).
    """
    parts = request.split()
    target = parts[1] if len(parts) >= 2 else (parts[0] if parts else "")
    if not target.startswith("/") and "://" not in target:
        return ""
    return url_path(target)


#: ``?auto`` keys of which at least one must be present for text to count as mod_status.
_AUTO_MARKERS = ("Scoreboard", "BusyWorkers", "IdleWorkers", "ServerMPM", "Total Accesses")

_KEY_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9 _./-]*):(?: (.*)|)$")
#: Keys whose values stay text even when they look like numbers.
_TEXT_KEYS = frozenset({"Scoreboard", "ServerVersion", "Server Built", "ServerUptime"})


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:512].lower()
    return head.startswith("<") or "<html" in head or "<!doctype" in head


def parse_auto(text: str) -> dict[str, object]:
    """Parse ``server-status?auto``: every ``Key: value`` line, numbers as int or float.

    The bare first line (the host name Apache prints) is kept as ``Host``. Keys lamptop does
    not know are kept as given. Raises :class:`NotModStatus` for HTML or text with none of
    the keys mod_status always writes.
    """
    if _looks_like_html(text):
        raise NotModStatus("HTML where the ?auto text was expected")
    out: dict[str, object] = {}
    first = True
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _KEY_LINE.match(line)
        if m is None:
            if first and " " not in line:
                out["Host"] = line
            first = False
            continue
        first = False
        key, value = m.group(1).strip(), (m.group(2) or "").strip()
        out[key] = value if key in _TEXT_KEYS else number(value)
    if not any(k in out for k in _AUTO_MARKERS):
        raise NotModStatus("no mod_status keys (Scoreboard, BusyWorkers...) in the text")
    return out


def count_scoreboard(sb: str) -> dict[str, int]:
    """How many slots show each scoreboard character, e.g. ``{"_": 3, "W": 1, ".": 16}``."""
    return dict(Counter(sb))


# -- samples -----------------------------------------------------------------------------------


def _opt_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _opt_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def build_sample(
    ts: datetime, url: str, auto_text: str, html_text: str | None = None
) -> StatusSample:
    """One :class:`StatusSample` from a ``?auto`` text and, optionally, the HTML page.

    Counts, busy, idle and limit come from the ``?auto`` scoreboard, counted character by
    character; workers and the event per-process rows from the HTML page. Raises
    :class:`NotModStatus` when either is not mod_status.
    """
    fields = parse_auto(auto_text)
    workers: tuple[Worker, ...] = ()
    processes: tuple[ProcessRow, ...] = ()
    extended = False
    if html_text is not None:
        workers, processes, info = parse_html(html_text)
        extended = bool(info["extended"])
    scoreboard = str(fields.get("Scoreboard", ""))
    if len(scoreboard) > MAX_SLOTS:
        raise NotModStatus(
            f"a scoreboard of {len(scoreboard):,} slots, more than the {MAX_SLOTS:,} any Apache "
            "has: not read"
        )
    counts = count_scoreboard(scoreboard)
    return StatusSample(
        ts=ts,
        url=url,
        fields=fields,
        scoreboard=scoreboard,
        counts=counts,
        workers=workers,
        processes=processes,
        server_version=str(fields.get("ServerVersion", "")),
        mpm=str(fields.get("ServerMPM", "")),
        uptime=_opt_float(fields.get("ServerUptimeSeconds", fields.get("Uptime"))),
        total_accesses=_opt_int(fields.get("Total Accesses")),
        total_kbytes=_opt_float(fields.get("Total kBytes")),
        busy=sum(counts.get(c, 0) for c in BUSY_CHARS),
        idle=counts.get("_", 0),
        limit=len(scoreboard),
        extended=extended,
    )


def sample_from_html(ts: datetime, url: str, html_text: str) -> StatusSample:
    """A :class:`StatusSample` from the HTML page alone (a saved page, no ``?auto``)."""
    return build_sample(ts, url, auto_from_html(html_text), html_text)


def parse_status_text(text: str, ts: datetime, url: str = "") -> StatusSample:
    """A sample from a saved page of either form: ``?auto`` text or the HTML page."""
    if _looks_like_html(text):
        return sample_from_html(ts, url, text)
    return build_sample(ts, url, text)
