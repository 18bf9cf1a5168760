"""MariaDB / MySQL error log (the slow log is in :mod:`console.parsing.mysql_slow`).

What real logs hold (MariaDB 10.11, samples in ``tests/fixtures/mysql/``):

* ``2026-11-26 15:01:15 0 [Note] message``: local time with no zone, then the thread id
  (0 for server threads). MySQL 8 writes ``2026-11-26T15:07:42.123456Z 0 [Warning]
  [MY-010055] [Server] message`` in UTC.
* ``mysqld_safe`` writes ``261126 15:01:15 mysqld_safe Starting ...`` (YYMMDD).
* ``Version: '10.11.19-...'  socket: '...'  port: 3306`` has no time: it is printed right after
  ``ready for connections`` and joins that record (its own ``info`` record when nothing came
  before it).
* An InnoDB deadlock report is 64 lines: ``[Note] InnoDB: *** ...`` lines from one thread
  mixed with unprefixed record dumps (``0: len 4; hex 80000001; asc     ;;``). Unprefixed lines
  always join the record before them; the prefixed lines of the report join the first one,
  ``Transactions deadlock detected``, up to ``*** WE ROLL BACK TRANSACTION``, so a deadlock
  is one record.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from console.core.events import Level, LogRecord, normalize_level

from .base import MultilineParser
from .mysql_slow import MysqlSlowParser
from .timeutil import TimeCache, parse_iso, parse_mysql_short

_ERROR_LINE = re.compile(
    r"(?:(?P<iso>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r"|(?P<short>\d{6} [ \d]\d:\d\d:\d\d))"
    r"\s+(?:(?P<thread>\d+)\s+)?"
    r"(?:\[(?P<level>[A-Za-z]+)\]\s*)?"
    r"(?:\[(?P<code>MY-\d+)\]\s*)?"
    r"(?:\[(?P<subsystem>[A-Za-z_]+)\]\s*)?"
    r"(?P<msg>.*)"
)
#: Message prefixes that name the part of the server speaking (MariaDB puts no brackets).
_SUBSYSTEMS = ("InnoDB", "WSREP", "Aria", "Mroonga", "Event Scheduler", "mysqld_safe")
_DEADLOCK = "deadlock detected, dumping detailed information"
_DEADLOCK_END = "WE ROLL BACK TRANSACTION"
_VERSION = "Version: '"


def _dated(line: str) -> bool:
    """A line that starts with one of the error log's stamps (checked by slicing, no regex)."""
    n = len(line)
    if n < 16 or not line[0].isdigit():
        return False
    if line[4] == "-" and line[7] == "-" and line[10] in " T" and line[13] == ":":
        return True
    return line[6] == " " and line[9] == ":" and line[12] == ":"


def _thread(line: str) -> str:
    """The thread column of a dated line (second word for ISO ``T`` stamps, else third)."""
    parts = line.split(None, 3)
    if len(parts) < 3:
        return ""
    return parts[1] if line[10:11] == "T" else parts[2]


def _version_fields(line: str) -> dict[str, Any]:
    def between(start: str, end: str) -> str | None:
        i = line.find(start)
        if i < 0:
            return None
        j = line.find(end, i + len(start))
        return line[i + len(start) : j] if j >= 0 else None

    fields: dict[str, Any] = {"version": between(_VERSION, "'")}
    socket = between("socket: '", "'")
    if socket is not None:
        fields["socket"] = socket
    port = between("port: ", " ")
    if port is not None and port.isdigit():
        fields["port"] = int(port)
    return fields


class MysqlErrorParser(MultilineParser):
    """The MariaDB/MySQL error log: one record per dated line plus its continuation lines.

    Fields: ``thread`` (int; None for mysqld_safe), ``level_word`` (``Note``, ``Warning``,
    ``ERROR``, ``System``), ``code`` (``MY-010055``, MySQL 8), ``subsystem`` (``Server``,
    ``InnoDB``, ``mysqld_safe``...), ``message``. A deadlock report has ``event="deadlock"``,
    ``queries`` (the statements of the transactions) and ``rolled_back``; its level is ``warn``
    although the server writes it as a Note. ``Version:`` adds ``version``, ``socket``, ``port``.
    """

    kind = "mysql-error"

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(source, zone=zone)
        zone_ = self.zone
        self._iso = TimeCache(lambda s: parse_iso(s, zone_))
        self._short = TimeCache(lambda s: parse_mysql_short(s, zone_))
        self._deadlock: str | None = None
        """Thread of the deadlock report being gathered, None outside one."""

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        if not lines:
            return 0.0
        hits = 0
        for ln in lines:
            if _dated(ln):
                m = _ERROR_LINE.match(ln)
                hits += m is not None and (m["level"] is not None or "mysqld_safe" in ln)
        return hits / len(lines)

    def is_start(self, line: str) -> bool:
        if not _dated(line):
            if line.startswith(_VERSION) and not self.pending:
                self._deadlock = None
                return True
            return False
        if self._deadlock is not None and self.pending:
            if _thread(line) == self._deadlock and "[Note]" in line and "InnoDB" in line:
                if _DEADLOCK_END in line:
                    self._deadlock = None
                return False
        self._deadlock = _thread(line) if _DEADLOCK in line else None
        return True

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        if first.startswith(_VERSION):
            return [
                self.record(
                    arrival,
                    "info",
                    first,
                    lines=tuple(cont),
                    fields=_version_fields(first),
                    raw=first,
                    ts_from_line=False,
                )
            ]
        m = _ERROR_LINE.match(first)
        ts: datetime | None = None
        if m is not None:
            ts = self._iso(m["iso"]) if m["iso"] else self._short(m["short"])
        if m is None or ts is None:
            return [self.unparsed(first, arrival)] + [
                self.unparsed(c, arrival) for c in cont if c.strip()
            ]
        msg = m["msg"]
        word = m["level"]
        subsystem = m["subsystem"]
        if subsystem is None:
            for name in _SUBSYSTEMS:
                if msg.startswith(name) and msg[len(name) : len(name) + 1] in (":", " "):
                    subsystem = name
                    break
        level: Level = normalize_level(word) if word else "info"
        if word is None and subsystem == "mysqld_safe" and "restarted" in msg:
            level = "warn"
        fields: dict[str, Any] = {
            "thread": int(m["thread"]) if m["thread"] else None,
            "level_word": word,
            "code": m["code"],
            "subsystem": subsystem,
            "message": msg,
        }
        text = msg
        if cont and (not msg.strip() or msg.rstrip().endswith(":")):
            # ``InnoDB: `` with the report on the next line: show where it goes on.
            nxt = next((c.strip() for c in cont if c.strip()), "")
            text = f"{msg.rstrip()} {nxt}"
        for c in cont:
            if c.startswith(_VERSION):
                fields.update(_version_fields(c))
        if _DEADLOCK in msg:
            level = "warn"
            fields["event"] = "deadlock"
            queries: list[str] = []
            take = False
            for c in cont:
                if take and c.strip():
                    queries.append(c)
                take = c.startswith(("MariaDB thread id ", "MySQL thread id "))
                if _DEADLOCK_END in c:
                    fields["rolled_back"] = c[c.index(_DEADLOCK_END) + len(_DEADLOCK_END) :].strip()
            fields["queries"] = tuple(queries)
        return [
            self.record(
                ts,
                level,
                text,
                lines=tuple(cont),
                fields=fields,
                raw=first,
            )
        ]


__all__ = ["MysqlErrorParser", "MysqlSlowParser"]
