"""The Apache error log: 2.4's default ``ErrorLogFormat``, 2.2's format, and PHP inside it.

What real logs hold (Apache 2.4.71, samples in ``tests/fixtures/apache/``)::

    [Thu Nov 26 15:02:14.801017 2026] [core:error] [pid 19295:tid 19295] [client 127.0.0.7:52251]
        AH10244: invalid URI path (/%zz%2)
    [...] [http:info] [pid 19294:tid 19294] (22)Invalid argument: [client 127.0.0.7:50687]
        AH01590: Error reading/parsing chunk
    [...] [authz_core:debug] [pid 1:tid 1] mod_authz_core.c(815): [client ::1:50674] AH01626: ...
    AH00558: apache2: Could not reliably determine the server's fully qualified domain name, ...

(the first two entries are one line each in the log). 2.2 wrote ``[Thu Nov 26 15:02:14 2026]
[error] [client 1.2.3.4] message``: no module, pid or client port; it parses too.

* Times have no zone: they are read in the parser's zone. Prefork prints ``:tid`` too.
* Lines written to stderr before logging starts (``AH00558``) have no prefix at all: they get
  their arrival time, ``ts_from_line=False`` and level ``notice``.
* Apache escapes what it logs: a newline is a literal ``\\n``, UTF-8 is ``\\xc3\\xbc``. Only
  ``\\n`` is acted on (it splits PHP stack traces into continuation lines); the rest is kept.
* PHP under mod_php logs ``[php:error] ... PHP Fatal error:  Uncaught ...\\nStack trace:\\n#0``;
  under php-fpm, proxy_fcgi joins every message of a request into one
  ``AH01071: Got error 'PHP message: ...; PHP message: ...'`` line, cut off (``...'``) when
  long. Each PHP message becomes its own record with ``fields["php"] = True``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, tzinfo
from functools import partial
from typing import Any

from console.core.events import Level, LogRecord, normalize_level

from .base import SHARED_MAX, LineParser
from .timeutil import TimeCache, parse_ctime

_TS = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4}"
_LINE = re.compile(
    rf"\[(?P<ts>{_TS})\] \[(?:(?P<module>[^\s:\]]*):)?(?P<level_word>[a-z]+[0-9]?)\]"
    r"(?: \[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\])?"
    r"(?: (?P<src>[\w.\-]+\.\w+\(\d+\)):)?"
    r"(?: \((?P<errno>-?\d+)\)(?P<errtext>[^:\[]*):)?"
    r"(?: \[(?:client|remote) (?P<client>[^\]\s]+)\])?"
    r" ?(?:(?P<code>AH\d{4,5}): )?(?P<message>.*)",
    re.DOTALL | re.ASCII,
)
_BARE_AH = re.compile(r"(?P<code>AH\d{4,5}): (?P<message>.*)", re.DOTALL | re.ASCII)

#: The words after ``PHP `` that name a PHP error level, and lamptop's level for each.
PHP_LEVELS: dict[str, Level] = {
    "fatal error": "error",
    "parse error": "error",
    "recoverable fatal error": "error",
    "catchable fatal error": "error",
    "core error": "error",
    "compile error": "error",
    "warning": "warn",
    "core warning": "warn",
    "compile warning": "warn",
    "notice": "notice",
    "deprecated": "info",
    "strict standards": "info",
}
#: Apache's level words, looked up once.
_LEVELS: dict[str, Level] = {
    w: normalize_level(w)
    for w in "emerg alert crit error warn notice info debug trace1 trace2 trace3 trace4 trace5"
    " trace6 trace7 trace8".split()
}
_FCGI_HEAD = "Got error 'PHP message: "
_FCGI_SEP = "; PHP message: "
_REFERER = ", referer: "
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def split_escaped_lines(text: str) -> list[str]:
    """Split at Apache's literal ``\\n``, but not at ``\\\\n`` (an escaped backslash, then n)."""
    if "\\\\" not in text:
        return text.split("\\n")
    out: list[str] = []
    start = 0
    for m in _ESCAPE.finditer(text):
        if m.group(1) == "n":
            out.append(text[start : m.start()])
            start = m.end()
    out.append(text[start:])
    return out


def php_level(message: str) -> tuple[str, Level | None]:
    """``PHP Fatal error:  ...`` -> (``Fatal error``, ``error``); ("", None) for other text."""
    if message.startswith("PHP "):
        head = message[4 : message.find(":", 4)]
        level = PHP_LEVELS.get(head.lower())
        if level is not None:
            return head, level
    return "", None


class ErrorLogParser(LineParser):
    """Apache error log lines; a line of PHP messages can give several records."""

    kind = "apache-error"

    def __init__(self, source: str | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(source, zone=zone)
        self._time = TimeCache(partial(parse_ctime, zone=self.zone))
        self._shared: dict[str, str] = {}
        """One string per distinct level word, module, AH code and PHP level (they repeat)."""

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        sample = [ln for ln in lines if ln.strip()]
        if not sample:
            return 0.0
        hits = sum(1 for ln in sample if _LINE.match(ln) or _BARE_AH.fullmatch(ln))
        return hits / len(sample)

    def feed(self, lines: Iterable[str], arrival: datetime) -> list[LogRecord]:
        out: list[LogRecord] = []
        if len(self._shared) > SHARED_MAX:
            self._shared.clear()
        parse = self.parse_records
        for line in lines:
            if line:
                out.extend(parse(line, arrival))
        return out

    def parse_line(self, line: str, arrival: datetime) -> LogRecord:
        """The first record of the line (use :meth:`parse_records` for all of them)."""
        return self.parse_records(line, arrival)[0]

    def parse_records(self, line: str, arrival: datetime) -> list[LogRecord]:
        """Every record one line gives: one, or one per PHP message of an AH01071 line."""
        m = _LINE.match(line)
        if m is None:
            return [self._bare(line, arrival)]
        stamp_text, module, word, pid, tid, src, errno, errtext, client, code, message = m.groups()
        ts = self._stamp(stamp_text)
        share = self._shared.setdefault
        fields: dict[str, Any] = {"level_word": share(word, word)}
        if module is not None:
            fields["module"] = module = share(module, module)
        if pid is not None:
            fields["pid"] = pid_number = int(pid)
            if tid is not None:
                fields["tid"] = pid_number if tid == pid else int(tid)
        if src is not None:
            fields["src"] = src
        if errno is not None:
            fields["errno"] = int(errno)
            fields["errtext"] = errtext
        if client is not None:
            host, sep, port = client.rpartition(":")
            if sep and host and port.isdigit() and (pid is not None or "." in client):
                fields["client"] = host
                fields["client_port"] = int(port)
            else:
                fields["client"] = client
        if code is not None:
            fields["code"] = code = share(code, code)
        message = message.rstrip()
        ref = message.rfind(_REFERER)
        if ref > 0 and " " not in message[ref + len(_REFERER) :]:
            fields["referer"] = message[ref + len(_REFERER) :]
            message = message[:ref]
        fields["message"] = message
        level = _LEVELS.get(word) or normalize_level(word)
        stamp = ts or arrival
        if code == "AH01071" and message.startswith(_FCGI_HEAD):
            return self._fcgi(fields, message, stamp, ts is not None, line)
        if module is not None and module.startswith("php"):
            return [self._php(fields, message, level, stamp, ts is not None, line)]
        text = f"{code}: {message}" if code else message
        if errno is not None:
            text = f"({errno}){errtext}: {text}"
        return [
            self.record(
                stamp,
                level,
                text,
                fields=fields,
                raw=line,
                ts_from_line=ts is not None,
            )
        ]

    def _stamp(self, text: str) -> datetime | None:
        """``Thu Nov 26 15:02:14.801017 2026``: cached by the whole second, fraction added."""
        if len(text) <= 24 or text[19] != ".":
            return self._time(text)
        base = self._time(text[:19] + text[-5:])
        if base is None:
            return None
        frac = text[20:-5]
        return base.replace(microsecond=int(frac if len(frac) == 6 else frac.ljust(6, "0")[:6]))

    def _php(
        self,
        base: dict[str, Any],
        message: str,
        default: Level,
        ts: datetime,
        from_line: bool,
        raw: str,
        *,
        truncated: bool = False,
    ) -> LogRecord:
        """One PHP message: its level from ``PHP Warning:`` etc., ``\\n`` split into lines."""
        word, level = php_level(message)
        first, *rest = split_escaped_lines(message)
        fields = dict(base)
        fields["php"] = True
        fields["php_level"] = self._shared.setdefault(word, word)
        fields["message"] = message
        if truncated:
            fields["truncated"] = True
        return self.record(
            ts,
            level or default,
            first,
            lines=tuple(rest),
            fields=fields,
            raw=raw,
            ts_from_line=from_line,
        )

    def _fcgi(
        self, fields: dict[str, Any], message: str, ts: datetime, from_line: bool, raw: str
    ) -> list[LogRecord]:
        """``Got error 'PHP message: A; PHP message: B'`` -> a record for A and one for B."""
        payload = message[len(_FCGI_HEAD) :]
        if payload.endswith("'"):
            payload = payload[:-1]
        parts = payload.split(_FCGI_SEP)
        cut = parts[-1].endswith("...")
        last = len(parts) - 1
        return [
            self._php(fields, part, "notice", ts, from_line, raw, truncated=cut and i == last)
            for i, part in enumerate(parts)
        ]

    def _bare(self, line: str, arrival: datetime) -> LogRecord:
        """A line without the bracketed prefix: an Apache or PHP startup message, or unparsed."""
        message = line.rstrip()
        m = _BARE_AH.fullmatch(message)
        if m is not None:
            return self.record(
                arrival,
                "notice",
                message,
                fields={"code": m["code"], "message": m["message"]},
                raw=line,
                ts_from_line=False,
            )
        if php_level(message)[1] is not None:
            return self._php({}, message, "notice", arrival, False, line)
        return self.unparsed(line, arrival)


__all__ = ["PHP_LEVELS", "ErrorLogParser", "php_level", "split_escaped_lines"]
