"""php-fpm pool access log (``access.log`` in a pool's config).

The layout is the pool's ``access.format``. Two are read:

* php-fpm's default, ``%R - %u %t "%m %r" %s``:
  ``127.0.0.1 -  26/Nov/2026:15:08:41 +0000 "GET /index.php" 200``.
* the example in Debian's ``www.conf``, ``%R - %u %t "%m %r%Q%q" %s %f %{mili}d %{kilo}M %C%%``
  (samples in ``tests/fixtures/php/``): ``- -  26/Nov/2026:15:08:41 +0000 "GET /index.php" 200
  /var/www/webapp/index.php 1.884 2048 0.00%`` (one line).

What real logs hold: ``%R`` is ``-`` when the pool listens on a unix socket, and ``%u`` is
empty without HTTP auth, which leaves two spaces before the time. The time has no brackets.

The line is read by its pieces, not by a compiled format: the time (``%t``, anywhere), the
words before it (client first, user last), the quoted request with the status after it, and
then the words after the status by their shape: the script (a path, or ``-``), the duration
(php-fpm prints it with three decimals), the memory (an integer) and the CPU (ends in ``%``).
Other directives and other orders are not recognised; words that fit none of these are kept in
``fields["extra"]``. The units of ``%d`` and ``%M`` come from ``fmt`` (the pool's
``access.format``) when given, else they are taken to be ``mili`` and ``kilo``.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from console.core.events import Level, LogRecord

from .base import LineParser
from .timeutil import TimeCache, parse_clf

_TIME = re.compile(r"(?<![\[\d])\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}(?!\])")
_REQUEST = re.compile(r' ?"(?P<request>.*?)" (?P<status>\d{3})(?= |$)')
_DURATION = re.compile(r"\d+\.\d+")

#: ``%{unit}d`` -> factor to milliseconds; ``%{unit}M`` -> factor to KiB.
_DURATION_UNITS = {"": 1000.0, "seconds": 1000.0, "mili": 1.0, "milli": 1.0, "micro": 0.001}
_MEMORY_UNITS = {"": 1 / 1024, "bytes": 1 / 1024, "kilo": 1.0, "mega": 1024.0}
_UNIT = re.compile(r"%(?:\{(\w*)\})?([dM])")


def _units(fmt: str | None) -> tuple[float, float]:
    """(to-ms, to-KiB) factors for the ``%d`` and ``%M`` of an ``access.format``."""
    to_ms, to_kb = 1.0, 1.0
    for arg, letter in _UNIT.findall((fmt or "").replace("%%", "")):
        if letter == "d":
            to_ms = _DURATION_UNITS.get(arg.lower(), to_ms)
        else:
            to_kb = _MEMORY_UNITS.get(arg.lower(), to_kb)
    return to_ms, to_kb


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FpmAccessParser(LineParser):
    """php-fpm access log lines (see the module docstring for the layouts read).

    Fields: ``client`` (``%R``, ``-`` on a unix socket), ``user`` (empty without auth),
    ``method``, ``url`` (``%r%Q%q``: path and query), ``status`` (int), and when the line has
    them ``script`` (None for ``-``), ``duration_ms`` (float), ``memory_kb`` (int), ``cpu``
    (percent, float) and ``extra`` (words not recognised). Level from the status: 5xx
    ``error``, 4xx ``warn``, else ``info``.
    """

    kind = "php-fpm-access"

    def __init__(
        self, source: str | None = None, *, zone: tzinfo | None = None, fmt: str | None = None
    ) -> None:
        super().__init__(source, zone=zone)
        self.fmt = fmt
        """The pool's ``access.format``, when known: only the units of %d and %M are read."""
        self._to_ms, self._to_kb = _units(fmt)
        self._clf = TimeCache(parse_clf)

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        if not lines:
            return 0.0
        hits = 0
        for ln in lines:
            t = _TIME.search(ln)
            hits += t is not None and _REQUEST.search(ln, t.end()) is not None
        return hits / len(lines)

    def parse_line(self, line: str, arrival: datetime) -> LogRecord:
        t = _TIME.search(line)
        if t is None:
            return self.unparsed(line, arrival)
        r = _REQUEST.search(line, t.end())
        if r is None:
            return self.unparsed(line, arrival)
        ts = self._clf(t.group())
        words = line[: t.start()].split(" ")
        if words and words[-1] == "":
            words.pop()
        client = words[0] if words and words[0] else "-"
        user = words[-1] if len(words) > 2 else ""
        request = r["request"]
        method, _, url = request.partition(" ")
        if not url:
            method, url = "", request
        status = int(r["status"])
        fields: dict[str, Any] = {
            "client": client,
            "user": user,
            "method": method,
            "url": url,
            "status": status,
        }
        self._tail(line[r.end() :], fields)
        level: Level = "error" if status >= 500 else "warn" if status >= 400 else "info"
        what = f"{method} {_short(url)}" if method else f'"{_short(request)}"'
        text = f"{what} {status}" if client == "-" else f"{client} {what} {status}"
        ms = fields.get("duration_ms")
        if ms is not None:
            text += f" {ms / 1000:.1f}s" if ms >= 1000 else f" {ms:.1f}ms"
        if "memory_kb" in fields:
            text += f" {fields['memory_kb']}K"
        return self.record(
            ts or arrival, level, text, fields=fields, raw=line, ts_from_line=ts is not None
        )

    def _tail(self, rest: str, fields: dict[str, Any]) -> None:
        """Sort the words after the status into script, duration, memory and CPU."""
        extra: list[str] = []
        for w in rest.split():
            if w[-1] == "%" and "cpu" not in fields and _DURATION.fullmatch(w[:-1]):
                fields["cpu"] = float(w[:-1])
            elif "script" not in fields and (w[0] == "/" or w == "-") and len(fields) == 5:
                fields["script"] = None if w == "-" else w
            elif "duration_ms" not in fields and _DURATION.fullmatch(w):
                fields["duration_ms"] = round(float(w) * self._to_ms, 6)
            elif "memory_kb" not in fields and w.isdigit():
                fields["memory_kb"] = int(int(w) * self._to_kb)
            else:
                extra.append(w)
        if extra:
            fields["extra"] = " ".join(extra)


__all__ = ["FpmAccessParser"]
