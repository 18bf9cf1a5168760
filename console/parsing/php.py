"""PHP's own ``error_log`` file, and the reading of a PHP message shared with php-fpm's log.

What real logs hold (PHP 8.2, samples in ``tests/fixtures/php/``):

* ``[26-Nov-2026 15:01:35 UTC] PHP Fatal error:  Uncaught ...``: two spaces after the level,
  the zone of ``date.timezone`` written by name (``UTC``, ``Europe/Berlin``).
* An uncaught exception runs on: ``Stack trace:``, ``#0 ...``, ``  thrown in ... on line N``,
  and for a chain a blank line and ``Next PaymentException: ...``. All of it is one entry.
* Messages keep their raw newlines (exception messages, ``error_log()`` text), so a
  continuation line can look like anything; only a timestamp at the start of a line begins
  a new entry.
* ``error_log()`` writes ``[date] text`` with no ``PHP`` level: level ``notice``.
* With Xdebug, the stack trace comes as stamped entries of their own (``[date] PHP Stack
  trace:``, ``[date] PHP   1. {main}() /path.php:0``); they join the entry before them, without
  their stamps.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from console.core.events import Level, LogRecord

from .base import MultilineParser
from .timeutil import TimeCache, parse_dmy

#: PHP's names for its error types (``main.c``), mapped to lamptop's levels.
PHP_LEVELS: dict[str, Level] = {
    "Fatal error": "error",
    "Recoverable fatal error": "error",
    "Catchable fatal error": "error",
    "Parse error": "error",
    "Unknown error": "error",
    "Warning": "warn",
    "Notice": "notice",
    "Deprecated": "info",
    "Strict Standards": "info",
}
#: Level of a message with no ``PHP <Level>:`` prefix (``error_log()`` calls).
PLAIN_LEVEL: Level = "notice"

_LEVEL_ALT = "|".join(sorted((re.escape(k) for k in PHP_LEVELS), key=len, reverse=True))
#: ``PHP Warning:  text`` or plain text; ``Uncaught Class`` names the exception.
PHP_MESSAGE = (
    rf"(?:PHP (?P<lvl>{_LEVEL_ALT}):\s+)?"
    r"(?P<msg>(?:Uncaught (?P<exc>[A-Za-z_\\][\w\\]*)(?=[: ]))?.*)"
)
_PHP_MESSAGE = re.compile(PHP_MESSAGE)
_ENTRY = re.compile(
    r"\[(?P<ts>\d\d-[A-Z][a-z]{2}-\d{4} [\d:.]+(?: [^\]]+)?)\] " + PHP_MESSAGE,
)
#: ``... in /path on line 12`` / ``... in /path:12`` at the end; the last `` in `` wins.
_LOCATION = re.compile(r".* in (?P<file>.+?)(?: on line |:)(?P<line>\d+)\s*$")
#: How much of a line's end is searched for the location (bounds the regex's work).
_LOCATION_TAIL = 1024


def looks_dated(line: str) -> bool:
    """True for a line starting ``[26-Nov-2026 15:``, the stamp of PHP and php-fpm."""
    return (
        len(line) > 21
        and line[0] == "["
        and line[3] == "-"
        and line[7] == "-"
        and line[12] == " "
        and line[15] == ":"
    )


def _xdebug_frame(line: str) -> str | None:
    """The text of a stamped Xdebug stack line (``PHP Stack trace:``, ``PHP   1. ...``)."""
    close = line.find("] ", 21)
    rest = line[close + 2 :] if close > 0 else ""
    if rest.startswith("PHP Stack trace:") or (
        rest.startswith("PHP  ") and rest[3:].lstrip()[:1].isdigit()
    ):
        return rest
    return None


def php_fields(
    php_level: str | None, message: str, exception: str | None, cont: list[str]
) -> tuple[Level, dict[str, Any]]:
    """Level and fields of one PHP message: its first line's parts and its continuation lines.

    ``message`` runs on through the continuation lines up to ``Stack trace:``; ``file`` and
    ``line`` come from the last line (``thrown in ...`` for exceptions, else the message's own
    `` in ... on line N``); ``exceptions`` lists a chain (``Uncaught A`` ... ``Next B``).
    """
    fields: dict[str, Any] = {"php_level": php_level}
    parts = [message]
    in_message = True
    chain: list[str] = [exception] if exception else []
    for text in cont:
        if text.startswith(("Stack trace:", "PHP Stack trace:")):
            in_message = False
        elif text.startswith("Next ") and len(text) > 5:
            chain.append(text[5:].split(None, 1)[0].rstrip(":"))
        elif in_message:
            parts.append(text)
    fields["message"] = "\n".join(parts)
    if exception:
        fields["exception"] = exception
        if len(chain) > 1:
            fields["exceptions"] = tuple(chain)
    if php_level is not None:
        loc = _LOCATION.match(cont[-1][-_LOCATION_TAIL:]) if cont else None
        loc = loc or _LOCATION.match(message[-_LOCATION_TAIL:])
        if loc is not None:
            fields["file"] = loc["file"]
            fields["line"] = int(loc["line"])
        return PHP_LEVELS[php_level], fields
    return PLAIN_LEVEL, fields


def parse_php_message(text: str) -> tuple[str | None, str, str | None]:
    """``(php_level, message, exception)`` of a message without its timestamp."""
    m = _PHP_MESSAGE.match(text)
    assert m is not None  # every group is optional: it always matches
    return m["lvl"], m["msg"], m["exc"]


class PhpErrorParser(MultilineParser):
    """PHP's ``error_log`` file: one record per entry, continuation lines kept in ``lines``.

    Fields: ``php_level`` (``Fatal error``... or None for ``error_log()`` text), ``message``,
    ``file`` and ``line`` when the entry names them, ``exception`` for an uncaught exception
    and ``exceptions`` for a chain.
    """

    kind = "php-error"

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(source, zone=zone)
        zone_ = self.zone
        self._time = TimeCache(lambda s: parse_dmy(s, zone_))

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        dated = [ln for ln in lines if looks_dated(ln)]
        if not dated:
            return 0.0
        hits = sum(1 for ln in dated if (m := _ENTRY.match(ln)) and " " in m["ts"][12:])
        return hits / len(dated)

    def is_start(self, line: str) -> bool:
        if not looks_dated(line):
            return False
        return not (self.pending and _xdebug_frame(line) is not None)

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        m = _ENTRY.match(first)
        ts = self._time(m["ts"]) if m is not None else None
        if m is None or ts is None:
            return [self.unparsed(first, arrival)] + [
                self.unparsed(c, arrival) for c in cont if c.strip()
            ]
        cont = [_xdebug_frame(c) or c if looks_dated(c) else c for c in cont]
        level, fields = php_fields(m["lvl"], m["msg"], m["exc"], cont)
        return [
            self.record(
                ts,
                level,
                first[m.end("ts") + 2 :],
                lines=tuple(cont),
                fields=fields,
                raw=first,
            )
        ]


__all__ = [
    "PHP_LEVELS",
    "PHP_MESSAGE",
    "PLAIN_LEVEL",
    "PhpErrorParser",
    "looks_dated",
    "parse_php_message",
    "php_fields",
]
