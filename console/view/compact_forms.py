"""Forms of requests and queries for the log pane's rows: access lines (Apache's and
PHP-FPM's) and MySQL slow-log entries, each as wide as a row allows.

See :mod:`console.view.compact`, which picks the form of a record by its kind.
Pure: no Textual, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.parsing.apache_access import duration_text, size_text
from console.view.elide import cells, cut_end, elide_url
from console.view.filters import redact
from console.view.metrics import human_bytes

#: How much of a text, URL or query is looked at (a row shows a few hundred cells at most).
LOOK = 4096
#: How much of the end of a longer text is kept with its start (a PHP location is last).
LOOK_TAIL = 1024


def bounded(text: str) -> str:
    """``text`` whole, or its start and end when it is very long (lines reach 64 KiB)."""
    if len(text) <= LOOK:
        return text
    return text[: LOOK - LOOK_TAIL] + " … " + text[-LOOK_TAIL:]


def plain(text: str) -> str:
    """Text for a row: cleaned where it entered (core.text), only tabs are left to replace."""
    return text.replace("\t", " ")


# -- requests ----------------------------------------------------------------------------------
# (sizes and durations as the parser writes them: size_text, duration_text)


#: A URL is given at least this many cells before the client is shortened for it.
URL_ROOM = 16
#: An address is cut to this many cells when the URL needs the room (IPv6 runs to 39).
CLIENT_ROOM = 15
#: Rows this wide show an access line's vhost, cut to VHOST_ROOM.
VHOST_WIDTH = 72
VHOST_ROOM = 24


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def request_row(
    who: str,
    method: str,
    url: str,
    width: int,
    *,
    vhost: str = "",
    size: str = "",
    tail: tuple[str, ...] = (),
    who_room: int = CLIENT_ROOM,
) -> str:
    """``[vhost] who method url [size] [tail]`` in ``width`` cells: whole while it fits,
    the size dropped first, then the URL cut in its middle (and ``who`` cut to ``who_room``
    when the URL would get less than :data:`URL_ROOM`). The vhost shows on wide rows only
    (from :data:`VHOST_WIDTH`), cut to :data:`VHOST_ROOM`, so the columns after it stay put."""
    if vhost and width >= VHOST_WIDTH:
        who = _join(cut_end(vhost, VHOST_ROOM), who)
    for s in (size, ""):
        line = _join(who, method, url, s, *tail)
        if cells(line) <= width:
            return line
    fixed = cells(_join(who, method, *tail)) + 1
    if width - fixed < min(URL_ROOM, cells(url)) and cells(who) > who_room:
        who = cut_end(who, who_room)
        fixed = cells(_join(who, method, *tail)) + 1
    if width - fixed < 4:
        return cut_end(_join(who, method, url), width)
    return _join(who, method, elide_url(url, width - fixed), *tail)


def access_form(fields: Mapping[str, Any], width: int, *, redacted: bool = False) -> str | None:
    """An Apache access line without its status (the level column shows it)."""
    url = fields.get("url")
    if not isinstance(url, str):
        return None
    if not url and not fields.get("method"):  # ``"GARBAGE"``, ``"-"``: the request as sent
        url = f'"{fields.get("request") or "-"}"'
    clean = redact if redacted else str
    size = fields.get("bytes")
    duration = duration_text(fields)
    return request_row(
        plain(clean(str(fields.get("client") or "-"))),
        plain(str(fields.get("method") or "")),
        plain(clean(bounded(url))),
        width,
        vhost=plain(str(fields.get("vhost") or "")),
        size=size_text(size) if isinstance(size, int) else "",
        tail=(duration,) if duration else (),
    )


def fpm_access_form(fields: Mapping[str, Any], width: int, *, redacted: bool = False) -> str | None:
    """A PHP-FPM access line: request, status, duration, memory; the URL cut in its middle."""
    url = fields.get("url")
    status = fields.get("status")
    if not isinstance(url, str) or not isinstance(status, int):
        return None
    clean = redact if redacted else str
    client = fields.get("client")
    tail = [str(status)]
    ms = fields.get("duration_ms")
    if isinstance(ms, int | float):
        tail.append(f"{ms / 1000:.1f}s" if ms >= 1000 else f"{ms:.1f}ms")
    kb = fields.get("memory_kb")
    if isinstance(kb, int):
        tail.append(human_bytes(kb * 1024))
    return request_row(
        plain(clean(str(client))) if client and client != "-" else "",
        plain(str(fields.get("method") or "")),
        plain(clean(bounded(url))),
        width,
        tail=tuple(tail),
    )


# -- MySQL -------------------------------------------------------------------------------------
def select_list_elided(query: str) -> str:
    """``SELECT a, b, (SELECT ...) AS c FROM t WHERE ...`` → ``SELECT … FROM t WHERE ...``:
    the tables and conditions say which query it is, the columns rarely do."""
    if query[:7].upper() != "SELECT ":
        return query
    depth, quote, i, n = 0, "", 7, len(query)
    while i < n:
        ch = query[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and query[i : i + 6].upper() == " FROM " and i > 9:
            return "SELECT …" + query[i:]
        i += 1
    return query


def slow_form(fields: Mapping[str, Any], width: int, *, redacted: bool = False) -> str | None:
    """A slow-log entry: time, schema, user, the query on one line (its columns elided)."""
    qt, query = fields.get("query_time"), fields.get("query")
    if not isinstance(qt, int | float) or not isinstance(query, str):
        return None
    took = f"{qt:.1f}s" if qt >= 1 else f"{qt * 1000:.0f}ms"
    db = plain(str(fields.get("schema") or fields.get("db") or "-"))
    user = plain(str(fields.get("user") or "?"))
    host = plain(str(fields.get("host") or fields.get("ip") or "?"))
    q = " ".join(query[:LOOK].split())
    if redacted:
        q, host = redact(q), redact(host)
    # who asked, on rows wide enough for it: the same columns on every row
    who = "" if width < SLOW_WHO_WIDTH else user if host in _LOCAL else f"{user}@{host}"
    line = _join(took, db, cut_end(who, SLOW_WHO_ROOM), q)
    if cells(line) <= width:
        return line
    return _join(took, db, cut_end(who, SLOW_WHO_ROOM), select_list_elided(q))


#: Rows this wide show who ran a slow query (``root``, ``app@10.0.0.5``), cut to SLOW_WHO_ROOM.
SLOW_WHO_WIDTH = 64
SLOW_WHO_ROOM = 24
_LOCAL = frozenset({"localhost", "127.0.0.1", "::1"})
