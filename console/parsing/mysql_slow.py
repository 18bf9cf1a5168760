"""MariaDB / MySQL slow query log.

What real logs hold (MariaDB 10.11, ``log_slow_verbosity=full``; samples in
``tests/fixtures/mysql/``)::

    # Time: 261126 15:07:42                 only when the second changed since the last entry
    # User@Host: app[app] @ localhost [127.0.0.1]
    # Thread_id: 2815  Schema: shop  QC_hit: No
    # Query_time: 0.300293  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0
    # Rows_affected: 0  Bytes_sent: 210      ... Pages_*, Full_scan/Tmp_table*, Filesort*
    # explain: id  select_type  ...          tab-separated, not always there
    use `shop`;                              when the default database changed
    SET timestamp=1795705662;                when the query started (epoch seconds)
    SELECT ... ;                             the query, as many lines as it has, then ";"

MySQL 8 writes ``# Time: 2026-11-26T15:07:42.123456Z`` and ``... [] Id: 8`` on the User@Host
line. When the log is opened (server start, ``FLUSH LOGS``) a three-line banner
(``/usr/sbin/mariadbd, Version: ... started with:`` / ``Tcp port: ...`` / ``Time  Id Command
Argument``) is written, also in the middle of the file.

Where an entry ends. Query text is written as it was sent, so a line of it can look like a
header (a string literal holding ``# Time: ...``). Inside the query text a ``# Time:`` or
``# User@Host:`` line (or a banner line) only *may* start the next entry. It is held as a
candidate and counts as a real boundary when both hold:

* it is confirmed by what follows: header lines (``#``) up to a ``# Query_time:`` line (for a
  banner: a ``Tcp port:`` line). A header-like line inside a literal is followed by more query
  text, which drops the candidate and keeps every line in the query.
* the query text before it is not inside a string literal, quoted identifier or ``/* */``
  comment (a small SQL lexer: ``'`` ``"`` `````, backslash escapes, doubled quotes, ``--``, ``#``
  comments). This also rejects a whole fake entry quoted inside a literal.

The lexer runs once per boundary, not per line, and starts after a line the tail cut short
(`` …[cut: N bytes]``: the cut may have removed a literal's end). Should it misread a query (a
literal that ends in a backslash under ``NO_BACKSLASH_ESCAPES``), entries would be glued; a
confirmed boundary therefore always splits once the query text is over :data:`GLUE_LIMIT`
lines. A caller's :meth:`~MysqlSlowParser.flush` takes a pending candidate as real.

Time. ``SET timestamp=N`` (the query's start) is used when present; otherwise the entry's own
``# Time:`` line, otherwise the most recent ``# Time:`` seen, since the server writes it only
when the second changes. ``# Time:`` and the banner are read in the parser's zone (MariaDB
writes local time).

Records. Every query is one ``warn`` record (the slow log only holds what the server judged
slow or asked to be logged): ``fields["event"] == "query"``. A banner is one ``info`` record
with ``event == "header"``, stamped with its arrival time (it has none of its own).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any

from console.core.events import LogRecord

from .base import SUMMARY_MAX, MultilineParser
from .timeutil import TimeCache, parse_iso, parse_mysql_short

#: Lines of query text past which a confirmed boundary splits even inside a "literal".
GLUE_LIMIT = 1000

_NONE, _META, _BODY, _BANNER = range(4)
_STARTS = ("# Time: ", "# User@Host: ")

_KV = re.compile(r"(\w+): ?(\S*)")
_USER = re.compile(
    r"# User@Host: (?P<user>[^\[\s]*)\[(?P<priv>[^\]]*)\] @ (?P<host>\S*) \[(?P<ip>[^\]]*)\]"
    r"(?:\s+Id:\s*(?P<id>\d+))?"
)
_SQL_TOKEN = re.compile(r"\\.|''|\"\"|``|['\"`]|--(?=\s|$)|#|/\*|\*/|\n", re.S)


def sql_open(text: str) -> bool:
    """True when ``text`` ends inside a string literal, quoted identifier or block comment."""
    state = ""  # a quote character, "*" in /* */, "-" in a line comment
    for m in _SQL_TOKEN.finditer(text):
        tok = m.group()
        if state == "":
            if tok in ("'", '"', "`"):
                state = tok
            elif tok == "/*":
                state = "*"
            elif tok == "#" or tok == "--":
                state = "-"
        elif state == "-":
            if tok == "\n":
                state = ""
        elif state == "*":
            if tok == "*/":
                state = ""
        elif tok == state or (state == "`" and tok == "\\`"):
            state = ""
    return state not in ("", "-")


def _after_cut(body: list[str]) -> list[str]:
    """The lines after the last one a reader cut short (`` …[cut: N bytes]``, see the tail).

    What the cut removed may have closed a literal, so the lexer starts after it.
    """
    for k in range(len(body) - 1, -1, -1):
        ln = body[k]
        if ln.endswith(" bytes]") and " …[cut: " in ln[-40:]:
            return body[k + 1 :]
    return body


def _is_banner(line: str) -> bool:
    return line.endswith(" started with:") and ", Version: " in line


def _banner_cont(line: str) -> bool:
    return line.startswith("Tcp port:") or (line.startswith("Time") and " Command" in line)


def _value(v: str) -> Any:
    if v == "Yes":
        return True
    if v == "No":
        return False
    if v.isdigit():
        return int(v)
    try:
        return float(v)
    except ValueError:
        return v


def _one_line(body: list[str]) -> str:
    """The query on one line, whitespace collapsed, at most about SUMMARY_MAX characters."""
    words: list[str] = []
    size = 0
    for ln in body:
        for w in ln.split():
            words.append(w)
            size += len(w) + 1
        if size > SUMMARY_MAX:
            break
    return " ".join(words)


class MysqlSlowParser(MultilineParser):
    """The slow query log: one record per query, one per banner (see the module docstring).

    Query fields: ``user``, ``host``, ``ip``, ``thread_id``, ``schema``, ``db`` (from ``use``),
    ``query`` (the text, lines joined by newlines), and every ``Key: value`` of the ``#`` lines
    with the key lower-cased: ``query_time``, ``lock_time``, ``rows_sent``, ``rows_examined``,
    ``rows_affected``, ``bytes_sent``, ``full_scan``, ``tmp_table_on_disk``, ``filesort``...
    (``Yes``/``No`` as bool, numbers as numbers), ``explain`` (the rows, tab-separated) when
    present, ``logged_at`` (the ``# Time:`` stamp) and ``partial`` when the entry's start
    was not read. ``lines`` holds the query text.
    """

    kind = "mysql-slow"

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(source, zone=zone)
        zone_ = self.zone
        self._short = TimeCache(lambda s: parse_mysql_short(s, zone_))
        self._iso = TimeCache(lambda s: parse_iso(s, zone_))
        self._epoch = TimeCache(lambda s: datetime.fromtimestamp(int(s), UTC))
        self._lines: list[str] = []
        self._at: datetime | None = None
        self._phase = _NONE
        self._body_at = 0
        self._has_user = False
        self._cand: int | None = None
        """Index in ``_lines`` of a header line met inside the query text, not yet confirmed."""
        self._last_time: datetime | None = None

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        if not lines:
            return 0.0
        keyed = ("# Time: ", "# User@Host: ", "# Thread_id: ", "# Query_time: ", "SET timestamp=")
        heads = sum(1 for ln in lines if ln.startswith(keyed))
        return min(1.0, 3.0 * heads / len(lines))

    @property
    def pending(self) -> bool:
        return bool(self._lines)

    def is_start(self, line: str) -> bool:
        return line.startswith(_STARTS) or _is_banner(line)

    def feed(self, lines: Iterable[str], arrival: datetime) -> list[LogRecord]:
        out: list[LogRecord] = []
        for line in lines:
            self._line(line, arrival, out)
        return out

    def flush(self, arrival: datetime) -> list[LogRecord]:
        out: list[LogRecord] = []
        if self._cand is not None:
            self._split(out)
        if self._lines:
            out.extend(self._end())
        return out

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        return self._build([first, *cont], arrival)

    # -- line by line -------------------------------------------------------------------

    def _line(self, line: str, arrival: datetime, out: list[LogRecord]) -> None:
        phase = self._phase
        if phase == _BODY:
            if self._cand is not None:
                if self._lines[self._cand].startswith("#"):
                    if line.startswith("#"):
                        self._lines.append(line)
                        if line.startswith("# Query_time:"):
                            self._split(out)
                        return
                elif line.startswith("Tcp port:"):
                    self._split(out)
                    self._lines.append(line)
                    return
                self._cand = None
            if line.startswith(_STARTS) or _is_banner(line):
                body = self._lines[self._body_at :]
                if len(body) > GLUE_LIMIT or not sql_open("\n".join(_after_cut(body))):
                    self._cand = len(self._lines)
            self._lines.append(line)
        elif phase == _META:
            if line.startswith("#"):
                if line.startswith("# Time: ") or (
                    line.startswith("# User@Host: ") and self._has_user
                ):
                    out.extend(self._end())
                    self._start(line, arrival)
                else:
                    self._has_user = self._has_user or line.startswith("# User@Host: ")
                    self._lines.append(line)
            elif _is_banner(line):
                out.extend(self._end())
                self._start(line, arrival)
            else:
                self._lines.append(line)
                if line.startswith("SET timestamp="):
                    self._phase, self._body_at = _BODY, len(self._lines)
                elif line.strip() and not line.startswith("use "):
                    self._phase, self._body_at = _BODY, len(self._lines) - 1
        elif phase == _BANNER and _banner_cont(line):
            self._lines.append(line)
        else:
            if phase == _BANNER:
                out.extend(self._end())
            if line.startswith(("#", "use ", "SET timestamp=")) or _is_banner(line):
                self._start(line, arrival)
            elif line.strip():
                out.append(self.unparsed(line, arrival))

    def _start(self, line: str, arrival: datetime) -> None:
        self._lines = [line]
        self._at = arrival
        self._cand = None
        self._has_user = line.startswith("# User@Host: ")
        if _is_banner(line):
            self._phase = _BANNER
        elif line.startswith("SET timestamp="):
            self._phase, self._body_at = _BODY, 1
        else:
            self._phase = _META

    def _split(self, out: list[LogRecord]) -> None:
        """The candidate is a real boundary: end the entry before it, go on from it."""
        cut = self._cand
        assert cut is not None and self._at is not None
        head, rest = self._lines[:cut], self._lines[cut:]
        out.extend(self._build(head, self._at))
        self._lines, self._cand = rest, None
        self._phase = _BANNER if _is_banner(rest[0]) else _META
        self._has_user = any(ln.startswith("# User@Host: ") for ln in rest)

    def _end(self) -> list[LogRecord]:
        lines, at = self._lines, self._at
        self._lines, self._at, self._cand, self._phase = [], None, None, _NONE
        assert at is not None
        return self._build(lines, at) if lines else []

    # -- one entry ----------------------------------------------------------------------

    def _build(self, lines: list[str], arrival: datetime) -> list[LogRecord]:
        if _is_banner(lines[0]):
            return [self._banner(lines, arrival)]
        kv: dict[str, Any] = {}
        explain: list[str] = []
        user: re.Match[str] | None = None
        time_text: str | None = None
        epoch: str | None = None
        db: str | None = None
        i, n = 0, len(lines)
        while i < n:
            ln = lines[i]
            if ln.startswith("#"):
                if ln.startswith("# Time: "):
                    time_text = ln[8:].strip()
                elif ln.startswith("# User@Host: "):
                    user = _USER.match(ln)
                elif ln.startswith("# explain: "):
                    explain.append(ln[11:])
                elif len(ln) > 2:
                    for k, v in _KV.findall(ln):
                        kv[k.lower()] = _value(v)
            elif ln.startswith("SET timestamp="):
                epoch = ln[14:].rstrip("; ")
                i += 1
                break
            elif ln.startswith("use "):
                db = ln[4:].rstrip("; ").strip("`")
            elif ln.strip():
                break
            i += 1
        body = lines[i:]
        while body and not body[-1].strip():
            body.pop()
        own: datetime | None = None
        if time_text:
            own = (self._iso if "-" in time_text else self._short)(time_text)
            if own is not None:
                self._last_time = own
        if user is None and not kv and not body:
            return []  # a lone ``# Time:`` line: it only sets the time
        ts = (self._epoch(epoch) if epoch else None) or own or self._last_time
        fields: dict[str, Any] = {
            "event": "query",
            "user": None,
            "host": None,
            "ip": None,
            "thread_id": None,
            "schema": None,
            "query_time": None,
            "lock_time": None,
            "rows_sent": None,
            "rows_examined": None,
            "rows_affected": None,
        }
        fields.update(kv)
        if user is not None:
            fields["user"] = user["user"] or user["priv"]
            fields["host"] = user["host"] or None
            fields["ip"] = user["ip"] or None
            if user["id"]:
                fields["thread_id"] = int(user["id"])
        if fields["schema"] == "":
            fields["schema"] = None
        fields["db"] = db
        fields["query"] = "\n".join(body)
        if explain:
            fields["explain"] = tuple(explain)
        if own is not None:
            fields["logged_at"] = own
        if not lines[0].startswith(_STARTS):
            fields["partial"] = True
        qt = fields["query_time"]
        took = f"{qt:.3f}s" if isinstance(qt, int | float) else "?s"
        who = f"{fields['user'] or '?'}@{fields['host'] or fields['ip'] or '?'}"
        text = f"{took} {fields['schema'] or db or '-'} {who} {_one_line(body)}"
        return [
            self.record(
                ts or arrival,
                "warn",
                text,
                lines=tuple(body),
                fields=fields,
                raw=lines[0],
                ts_from_line=ts is not None,
            )
        ]

    def _banner(self, lines: list[str], arrival: datetime) -> LogRecord:
        server, _, rest = lines[0].partition(", Version: ")
        version = rest[: -len(" started with:")].rstrip(".")
        fields: dict[str, Any] = {"event": "header", "server": server, "version": version}
        for ln in lines[1:]:
            if ln.startswith("Tcp port:"):
                port, _, sock = ln[9:].partition("Unix socket:")
                if port.strip().isdigit():
                    fields["tcp_port"] = int(port)
                fields["socket"] = sock.strip()
        return self.record(
            arrival,
            "info",
            f"log opened: {server} {version}",
            lines=tuple(lines[1:]),
            fields=fields,
            raw=lines[0],
            ts_from_line=False,
        )


__all__ = ["GLUE_LIMIT", "MysqlSlowParser", "sql_open"]
