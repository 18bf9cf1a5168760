"""php-fpm's master log and its slowlog.

What real logs hold (php-fpm 8.2, samples in ``tests/fixtures/php/``):

* Master log: ``[26-Nov-2026 15:08:41] WARNING: [pool api] child 24968 said into stderr:
  "NOTICE: PHP message: PHP Warning:  ..."``. The stamp has no zone: it is read in the
  parser's zone. With ``catch_workers_output`` every line a child writes to stderr is its own
  entry, so a stack trace arrives as ``"Stack trace:"``, ``"#0 ..."`` ... entries, and a message
  over ``log_limit`` is cut into a first entry and one continuation entry.
* ``server reached pm.max_children setting (8)`` (dynamic) and ``server reached max_children
  setting (6)`` (ondemand) say the same thing.
* Slowlog: blocks of ``[26-Nov-2026 15:08:55]  [pool www] pid 24907`` (two spaces), then
  ``script_filename = ...``, then ``[0x00007fcd95613160] usleep() /path.php:3`` frames, with a
  blank line between blocks.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from console.core.events import Level, LogRecord

from .base import MultilineParser
from .php import looks_dated, parse_php_message, php_fields
from .timeutil import TimeCache, parse_dmy

_FPM_LEVELS: dict[str, Level] = {
    "DEBUG": "debug",
    "NOTICE": "notice",
    "WARNING": "warn",
    "ERROR": "error",
    "ALERT": "crit",
    "SYSTEM": "info",
}
#: Stderr text that begins a message of its own (a child's zlog line, a PHP message).
_NEW_MESSAGE = tuple(f"{word}: " for word in _FPM_LEVELS)
_PHP_MESSAGE = "PHP message: "


def _stderr(line: str) -> tuple[str | None, str]:
    """``(prefix, text)`` of a ``... child N said into stderr: "text"`` line, else ``(None, "")``.

    The prefix runs from the level word to the opening quote; it names level, pool, child and
    stream, so two lines of one child's output have the same prefix.
    """
    close = line.find("] ")
    k = line.find(" said into std", close)
    if close < 0 or k < 0:
        return None, ""
    q = line.find('"', k)
    if q < 0:
        return None, ""
    text = line[q + 1 :]
    return line[close + 2 : q + 1], text[:-1] if text.endswith('"') else text


def _between(text: str, start: str, end: str) -> str | None:
    i = text.find(start)
    if i < 0:
        return None
    i += len(start)
    j = text.find(end, i)
    return text[i:j] if j >= 0 else None


def _event(msg: str, after_child: str | None, fields: dict[str, Any]) -> None:
    """Fields for the master's own messages (limits, slow and killed requests, children)."""
    if "max_children setting (" in msg:
        n = _between(msg, "max_children setting (", ")")
        fields["event"] = "max_children"
        if n is not None and n.isdigit():
            fields["max_children"] = int(n)
    elif " executing too slow (" in msg or " execution timed out (" in msg:
        slow = " executing too slow (" in msg
        fields["event"] = "slow" if slow else "timeout"
        fields["script"] = _between(msg, "script '", "'")
        fields["request"] = _between(msg, '(request: "', '")')
        secs = _between(msg, " too slow (" if slow else " timed out (", " sec)")
        try:
            fields["seconds"] = float(secs) if secs is not None else None
        except ValueError:
            pass
    elif after_child is not None and after_child.startswith(" exited "):
        fields["event"] = "exited"
        words = after_child.split()
        try:
            if words[1:3] == ["on", "signal"]:
                fields["signal"] = int(words[3])
                fields["signal_name"] = words[4].strip("()")
            elif words[1:3] == ["with", "code"]:
                fields["exit_code"] = int(words[3])
        except (IndexError, ValueError):
            pass
    elif after_child == " started":
        fields["event"] = "started"
    elif "seems busy" in msg:
        fields["event"] = "busy"
    elif msg.startswith("fpm is running, pid "):
        fields["event"] = "start"
        tail = msg[20:]
        if tail.isdigit():
            fields["master_pid"] = int(tail)
    elif msg.startswith("exiting, bye-bye"):
        fields["event"] = "stop"
    elif msg.endswith("log file re-opened"):
        fields["event"] = "reopen"


class FpmLogParser(MultilineParser):
    """The php-fpm master log: one record per entry.

    Lines a child wrote to stderr in one go (a stack trace, a multi-line message, the rest of
    a message cut at ``log_limit``) join the entry that began them when they come straight
    after it from the same pool and child; their text, unwrapped, is in ``lines``.

    Fields: ``fpm_level``, ``pool``, ``pid`` (the child), ``said_into_stderr`` (the first
    line's text), for PHP messages the fields of :func:`console.parsing.php.php_fields` and
    the PHP level as the record's level, and ``event`` (``max_children`` with
    ``max_children``, ``slow``/``timeout`` with ``script``, ``request``, ``seconds``,
    ``exited``, ``started``, ``busy``, ``start``, ``stop``, ``reopen``).
    """

    kind = "php-fpm"

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(source, zone=zone)
        zone_ = self.zone
        self._time = TimeCache(lambda s: parse_dmy(s, zone_))
        self._key: str | None = None

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        dated = [ln for ln in lines if looks_dated(ln)]
        if not dated:
            return 0.0
        hits = 0
        for ln in dated:
            close = ln.find("] ")
            word = ln[close + 2 :].partition(": ")[0]
            hits += " " not in ln[13:close] and word in _FPM_LEVELS
        return hits / len(dated)

    def is_start(self, line: str) -> bool:
        if not looks_dated(line):
            return False
        key, text = _stderr(line)
        if key is not None and key == self._key and self.pending:
            if not text.startswith(_NEW_MESSAGE):
                return False
        self._key = key
        return True

    def keep_continuation(self, line: str) -> bool:
        return bool(line.strip())

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        close = first.find("] ")
        ts = self._time(first[1:close]) if close > 0 else None
        word, sep, msg = first[close + 2 :].partition(": ")
        level = _FPM_LEVELS.get(word)
        if ts is None or not sep or level is None:
            return [self.unparsed(first, arrival)] + [
                self.unparsed(c, arrival) for c in cont if c.strip()
            ]
        fields: dict[str, Any] = {"fpm_level": word}
        who = ""
        if msg.startswith("[pool "):
            end = msg.find("] ")
            if end > 0:
                fields["pool"] = msg[6:end]
                who = msg[: end + 1]
                msg = msg[end + 2 :]
        after_child: str | None = None
        if msg.startswith("child "):
            j = 6
            while j < len(msg) and msg[j].isdigit():
                j += 1
            if j > 6:
                fields["pid"] = int(msg[6:j])
                after_child = msg[j:]
                who = f"{who} {msg[:j]}".lstrip()
        texts = [_stderr(c)[1] if looks_dated(c) else c for c in cont]
        if after_child is not None and after_child.startswith(" said into std"):
            said = _stderr(first)[1]
            fields["said_into_stderr"] = said
            head, found, php_text = said.partition(_PHP_MESSAGE)
            if found and (not head or head.startswith(_NEW_MESSAGE)):
                php_level, message, exc = parse_php_message(php_text)
                level, more = php_fields(php_level, message, exc, texts)
                fields.update(more)
                said = php_text
            text = f"{who}: {said}"
        else:
            _event(msg, after_child, fields)
            text = f"{who}{after_child}" if after_child is not None else f"{who} {msg}".lstrip()
        return [
            self.record(
                ts,
                level,
                text,
                lines=tuple(texts),
                fields=fields,
                raw=first,
            )
        ]


_SLOW_HEAD = re.compile(r"\[(?P<ts>[^\]]+)\]\s+\[pool (?P<pool>[^\]]*)\] pid (?P<pid>\d+)")


class FpmSlowParser(MultilineParser):
    """The php-fpm slowlog: one ``warn`` record per traced request.

    Fields: ``pool``, ``pid``, ``script`` (``script_filename``), ``frames`` (the backtrace
    lines, innermost first, also in ``lines``) and ``function`` (the innermost call).
    """

    kind = "php-fpm-slow"

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(source, zone=zone)
        zone_ = self.zone
        self._time = TimeCache(lambda s: parse_dmy(s, zone_))

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        dated = [ln for ln in lines if looks_dated(ln)]
        if not dated:
            return 0.0
        return sum(1 for ln in dated if _SLOW_HEAD.match(ln)) / len(dated)

    def is_start(self, line: str) -> bool:
        return looks_dated(line)

    def keep_continuation(self, line: str) -> bool:
        return bool(line.strip())

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        m = _SLOW_HEAD.match(first)
        ts = self._time(m["ts"]) if m is not None else None
        if m is None or ts is None:
            return [self.unparsed(first, arrival)] + [self.unparsed(c, arrival) for c in cont]
        script = ""
        rest: list[str] = []
        for c in cont:
            if c.startswith("script_filename = ") and not script:
                script = c[18:]
            else:
                rest.append(c)
        frames = tuple(c for c in rest if c.startswith("[0x"))
        function = ""
        if frames:
            call = frames[0].partition("] ")[2]
            function = call.partition("(")[0].partition(" ")[0]
        pool, pid = m["pool"], int(m["pid"])
        text = f"slow request pool {pool} pid {pid} {script or '?'}"
        if function:
            text = f"{text} ({function})"
        fields: dict[str, Any] = {
            "pool": pool,
            "pid": pid,
            "script": script,
            "frames": frames,
            "function": function,
        }
        return [
            self.record(
                ts,
                "warn",
                text,
                lines=tuple(rest),
                fields=fields,
                raw=first,
            )
        ]


__all__ = ["FpmLogParser", "FpmSlowParser"]
