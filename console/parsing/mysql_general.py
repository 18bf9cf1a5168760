"""MariaDB / MySQL general query log.

What real logs hold (MariaDB 10.11, samples in ``tests/fixtures/mysql/``)::

    /usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:
    Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock
    Time\t\t    Id Command\tArgument
    261126 15:07:42\t  2815 Query\tSELECT '# Time: ...' AS tricky, 'multi
    line
    string' AS ml, SLEEP(0.3)
    \t\t  2815 Query\tSELECT 'Grüße 日本語 🚀' AS unicode_literal, SLEEP(0.25)
    \t\t  2821 Connect\tapp@localhost on shop using TCP/IP
    \t\t  2821 Connect\tAccess denied for user 'app'@'localhost' (using password: YES)
    \t\t  2832 Quit\t

* The time (``YYMMDD H:MM:SS``, local time, no zone) is written only when the second changed
  since the previous line; the other lines start with two tabs and belong to that second. The
  parser keeps the last time it read and stamps those lines with it (``ts_from_line`` stays
  True). A line read before any stamp (a tail that starts mid-second, a file emptied by
  copytruncate) has the arrival time and ``ts_from_line=False``.
* MySQL 5.7 and 8 stamp every line in UTC: ``2026-11-26T15:07:42.123456Z\t   12 Query\t...``.
* Each line is ``thread command<TAB>argument``; the argument of ``Quit`` is empty. A query
  keeps its newlines: the lines after the first join the entry as they are.
* The three-line header is written when the log is opened: at server start and again in the
  middle of the file at every ``FLUSH LOGS`` / reopen. It is its own ``info`` record with
  ``fields["event"] == "header"``, stamped with the last time read (the log's current second),
  else its arrival time. The time carries across a header, as the server does.
* A failed login is a second ``Connect`` line of the same thread whose argument is ``Access
  denied for user 'app'@'localhost' (using password: YES)``: ``warn``, ``event="access_denied"``.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from console.core.events import Level, LogRecord

from .base import SUMMARY_MAX, MultilineParser
from .timeutil import TimeCache, parse_iso, parse_mysql_short

_ENTRY = re.compile(
    r"(?:(?P<short>\d{6} [ \d]\d:\d\d:\d\d)\t"
    r"|(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\t"
    r"|\t\t)"
    r" *(?P<thread>\d+) (?P<command>[A-Z][A-Za-z_]*(?: [A-Za-z_]+){0,3})\t(?P<arg>.*)",
    re.S,
)
_CONNECT = re.compile(r"(?P<user>[^@\s]*)@(?P<host>\S*)(?: on (?P<db>\S*))?(?: using (?P<via>.*))?")
_DENIED = re.compile(r"Access denied for user '(?P<user>[^']*)'@'(?P<host>[^']*)'")


def is_header(line: str) -> bool:
    """The first line of the header the server writes when it opens the log."""
    return line.endswith(" started with:") and ", Version: " in line


def _header_cont(line: str) -> bool:
    """The ``Tcp port:`` and ``Time  Id Command  Argument`` lines of the header."""
    if line[:9].lower() == "tcp port:":
        return True
    return line.startswith("Time") and "Command" in line and "Argument" in line


def _maybe_entry(line: str) -> bool:
    """A cheap test before the regex: entries start with two tabs or a digit."""
    return line[:2] == "\t\t" or line[:1].isdigit()


def one_line(text: str, limit: int = SUMMARY_MAX) -> str:
    """``text`` with every run of whitespace made one space, about ``limit`` characters."""
    return " ".join(text[: limit + 200].split())[:limit]


class MysqlGeneralParser(MultilineParser):
    """The general query log: one record per command, one per header (see the module docstring).

    Command fields: ``thread`` (int), ``command`` (``Query``, ``Connect``, ``Quit``, ``Prepare``,
    ``Execute``, ``Close stmt``, ``Init DB``...), ``argument`` (the text after the tab, lines
    joined by newlines). ``Connect`` adds ``user`` and ``host``, and ``db`` and ``via``
    (``Socket``, ``TCP/IP``) when written; ``Init DB`` adds ``db``. ``lines`` holds the lines of
    a multi-line argument after the first. Header fields: ``event="header"``, ``server``,
    ``version``, ``tcp_port``, ``socket``.
    """

    kind = "mysql-general"

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(source, zone=zone)
        zone_ = self.zone
        self._short = TimeCache(lambda s: parse_mysql_short(s, zone_))
        self._iso = TimeCache(lambda s: parse_iso(s, zone_))
        self._last: datetime | None = None
        """The most recent time written in the log: lines without one belong to it."""

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        if not lines:
            return 0.0
        hits = 0
        for ln in lines:
            if _maybe_entry(ln):
                hits += _ENTRY.match(ln) is not None
            elif is_header(ln) or (ln.startswith("Time") and " Id Command" in ln):
                hits += 1
        # Query text can run for many lines; two commands in five lines is already telling.
        return min(1.0, 2.5 * hits / len(lines))

    def is_start(self, line: str) -> bool:
        if _maybe_entry(line):
            return _ENTRY.match(line) is not None
        return is_header(line)

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        if is_header(first):
            return self._header(first, cont, arrival)
        m = _ENTRY.match(first)
        if m is None:  # only start lines get here; kept for safety
            return [self.unparsed(ln, arrival) for ln in (first, *cont) if ln.strip()]
        stamp = m["short"] or m["iso"]
        if stamp:
            own = (self._short if m["short"] else self._iso)(stamp)
            if own is not None:
                self._last = own
        ts = self._last
        thread = int(m["thread"])
        command = m["command"]
        arg = m["arg"]
        argument = "\n".join((arg, *cont)) if cont else arg
        fields: dict[str, Any] = {"thread": thread, "command": command, "argument": argument}
        level: Level = "info"
        if command == "Connect":
            denied = _DENIED.match(arg)
            if denied is not None:
                level = "warn"
                fields["event"] = "access_denied"
                fields["user"] = denied["user"]
                fields["host"] = denied["host"]
            elif (c := _CONNECT.fullmatch(arg)) is not None:
                fields["user"] = c["user"]
                fields["host"] = c["host"]
                if c["db"] is not None:
                    fields["db"] = c["db"] or None
                if c["via"]:
                    fields["via"] = c["via"]
        elif command == "Init DB":
            fields["db"] = arg.strip()
        text = f"{thread} {command}"
        if argument:
            text = f"{text} {one_line(argument)}"
        return [
            self.record(
                ts or arrival,
                level,
                text,
                lines=tuple(cont),
                fields=fields,
                raw=first,
                ts_from_line=ts is not None,
            )
        ]

    def _header(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        """The header record; lines after it that are not header lines stand alone."""
        server, _, rest = first.partition(", Version: ")
        version = rest[: -len(" started with:")].rstrip(".")
        fields: dict[str, Any] = {"event": "header", "server": server, "version": version}
        own: list[str] = []
        stray: list[LogRecord] = []
        for ln in cont:
            if not stray and len(own) < 2 and _header_cont(ln):
                own.append(ln)
                if ln[:9].lower() == "tcp port:":
                    port, _, sock = ln[9:].partition("Unix socket:")
                    port = port.strip().rstrip(",")
                    if port.isdigit():
                        fields["tcp_port"] = int(port)
                    fields["socket"] = sock.strip()
            elif ln.strip():
                stray.append(self.unparsed(ln, arrival))
        ts = self._last
        header = self.record(
            ts or arrival,
            "info",
            f"log opened: {server} {version}",
            lines=tuple(own),
            fields=fields,
            raw=first,
            ts_from_line=ts is not None,
        )
        return [header, *stray]


__all__ = ["MysqlGeneralParser", "is_header", "one_line"]
