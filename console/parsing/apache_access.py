"""Apache access logs: any ``LogFormat`` compiled to one regex, or the stock formats detected.

What real logs hold (Apache 2.4.71, samples in ``tests/fixtures/apache/``):

* Values inside ``"..."`` carry Apache's escapes: ``\\"``, ``\\\\`` and ``\\xNN`` for raw bytes
  (``/caf\\xc3\\xa9``). They are kept as written, never decoded.
* Malformed requests shift the request line: ``"GARBAGE"`` (one word), ``"GET /"`` (HTTP/0.9
  or a 414 cut short), ``"-" 408 0`` (an idle connection timed out). They still parse; method,
  url and protocol are empty where the line has none. The request line itself is kept (field
  ``request``) only then: when ``"{method} {url} {protocol}"`` gives it back, it is not stored
  a second time.
* ``%t`` is when the request arrived, the line is written when it ended, so times go back.

Without a format the parser tries, per line, the format that matched the line before, then
``combined``, ``vhost_combined``, ``combined`` followed by ``%T %D``, ``common``, and
``combined`` followed by anything (kept in ``fields["extra"]``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any

from console.core.events import Expander, Level, LogRecord, make_lazy_record

from .access_build import (
    SMALL_INTS,
    LazyAccess,
    duration_text,
    short,
    size_text,
    split_request,
)
from .base import SHARED_MAX, LineParser
from .logformat import AUTO_FORMATS, NICKNAMES, CompiledFormat, compile_logformat
from .timeutil import TimeCache, parse_clf


def _status_level(code: str) -> Level:
    """The level of an access line by its status as written (``-``: none, ``info``)."""
    if not code.isdigit():
        return "info"
    status = int(code)
    return "error" if status >= 500 else "warn" if status >= 400 else "info"


#: The level of each three-digit status as written, for the fast path.
_CODE_LEVEL: dict[str, Level] = {f"{i:03d}": _status_level(f"{i:03d}") for i in range(1000)}


class AccessLogParser(LineParser):
    """Apache access log lines, in a given ``LogFormat`` or one of the stock formats."""

    kind = "apache-access"

    def __init__(
        self,
        source: str | None = None,
        *,
        zone: tzinfo | None = None,
        fmt: str | None = None,
        lazy: bool = True,
    ) -> None:
        super().__init__(source, zone=zone)
        self.lazy = lazy
        """Records of the stock formats (and any format whose time is ``%t``) are lazy: their
        text and fields are made when first read. False: every record is made whole now."""
        self.formats: tuple[CompiledFormat, ...] = (
            (compile_logformat(fmt),) if fmt else AUTO_FORMATS
        )
        """The formats tried, in order (one when ``fmt`` was given)."""
        self._last = self.formats[0]
        self._shared: dict[str, str] = {}
        """One string per distinct value of the fields that repeat (agents, methods...)."""
        self._clf = TimeCache(parse_clf)
        self._expanders: dict[int, Expander] = {}
        """The expander of each format (by its id: a format's hash is slow), made once."""
        self._strf: TimeCache | None = None
        self._strf_fmt = ""

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        sample = [ln for ln in lines if ln.strip()]
        if not sample:
            return 0.0
        hits = sum(1 for ln in sample if any(f.regex.fullmatch(ln) for f in AUTO_FORMATS))
        return hits / len(sample)

    def feed(self, lines: Iterable[str], arrival: datetime) -> list[LogRecord]:
        if len(self._shared) > SHARED_MAX:
            self._shared.clear()
        return super().feed(lines, arrival)

    def parse_line(self, line: str, arrival: datetime) -> LogRecord:
        fmt = self._last
        m = fmt.regex.fullmatch(line)
        if m is None:
            for cand in self.formats:
                if cand is not fmt:
                    m = cand.regex.fullmatch(line)
                    if m is not None:
                        fmt = self._last = cand
                        break
            else:
                return self.unparsed(line, arrival)
        direct = fmt.direct
        if direct is not None and self.lazy:
            # The fast path: the time and the level now, the rest when someone reads it.
            if direct.status:
                stamp, code = m.group(direct.time, direct.status)
                level = _CODE_LEVEL.get(code) or _status_level(code)
            else:
                stamp, level = m.group(direct.time), "info"
            ts = self._clf(stamp)
            expand = self._expanders.get(id(fmt))
            if expand is None:
                expand = self._expanders[id(fmt)] = self._expander(fmt)
            return make_lazy_record(
                ts or arrival, self.source, self.kind, level, line, expand, ts is not None
            )
        text, fields, ts = self._build(fmt, m)
        status = fields.get("status")
        if status is not None:
            level = "error" if status >= 500 else "warn" if status >= 400 else "info"
        else:
            level = "info"
        return self.record(
            ts or arrival,
            level,
            text,
            fields=fields,
            raw=line,
            ts_from_line=ts is not None,
        )

    def _expander(self, fmt: CompiledFormat) -> Expander:
        """What makes a lazy record's text and fields: its line matched again by ``fmt``,
        the rest as the whole parse does it (:func:`~.access_build.direct_builder`)."""
        return LazyAccess(fmt, self._shared)

    def _build(
        self, fmt: CompiledFormat, m: re.Match[str]
    ) -> tuple[str, dict[str, Any], datetime | None]:
        """The text, fields and time of a line ``fmt`` matched."""
        # A ring holds thousands of records: one string per distinct agent, referer, client...
        share = self._shared.setdefault
        direct = fmt.direct
        ts: datetime | None = None
        if direct is not None:
            fields: dict[str, Any] = dict(zip(direct.names, m.group(*direct.groups), strict=True))
            if direct.shared_groups:
                again = m.group(*direct.shared_groups)
                fields.update(zip(direct.shared, map(share, again, again), strict=True))
            ts = self._clf(m.group(direct.time))
            request: str | None = m.group(direct.request) if direct.request else None
        else:
            fields = dict(zip(fmt.names, m.groups(), strict=False))
            request = fields.pop("request", None)
            for name in fmt.shared:
                v = fields[name]
                fields[name] = share(v, v)
        for name in fmt.ints:
            v = fields[name]
            if v.isdigit():
                fields[name] = SMALL_INTS.get(v) or int(v)
            elif name.startswith("bytes"):
                fields[name] = 0
            else:
                del fields[name]
        for name in fmt.blanks:
            if fields[name] == "-":
                fields[name] = ""
        if direct is None:
            ts = self._clf(fields.pop("_t")) if fmt.clf else self._other_time(fmt, fields)
        if request is not None:
            method, url, protocol = split_request(request)
            if f"{method} {url} {protocol}" != request:  # else the three fields hold it all
                fields["request"] = request
            fields["method"] = share(method, method)
            fields["url"] = url
            fields["protocol"] = share(protocol, protocol)
            what = f"{method} {short(url)}" if method else f'"{short(request)}"'
        else:
            method = fields.get("method", "")
            url = fields.get("path", "") + fields.get("query", "")
            if "path" in fields or "query" in fields:
                fields["url"] = url
            what = f"{method} {short(url)}".strip() or "-"
        text = f"{fields.get('client', '-')} {what}"
        if "vhost" in fields:
            text = f"{fields['vhost']} {text}"
        status = fields.get("status")
        if status is not None:
            text = f"{text} {status}"
        if "bytes" in fields:
            text = f"{text} {size_text(fields['bytes'])}"
        if fmt.timed:
            text = f"{text} {duration_text(fields)}".rstrip()
        return text, fields, ts

    def _other_time(self, fmt: CompiledFormat, fields: dict[str, Any]) -> datetime | None:
        """The time from ``%t`` and ``%{...}t`` fields (strftime, epoch, fractions); pops them."""
        ts = self._clf(fields.pop("_t")) if "_t" in fields else None
        if fmt.epoch is not None:
            name, per_second = fmt.epoch
            ts = datetime.fromtimestamp(int(fields.pop(name)) / per_second, UTC)
        if fmt.strf:
            key = "\x1f".join(fields.pop(name) for name, _ in fmt.strf)
            spec = "\x1f".join(strp for _, strp in fmt.strf)
            if self._strf is None or self._strf_fmt != spec:
                self._strf, self._strf_fmt = TimeCache(_strptime_in(spec, self.zone)), spec
            ts = self._strf(key)
        if fmt.frac is not None:
            name, mult = fmt.frac
            micro = int(fields.pop(name)) * mult
            if ts is not None:
                ts = ts.replace(microsecond=micro)
        return ts


def _strptime_in(spec: str, zone: tzinfo) -> Callable[[str], datetime]:
    """strptime for a custom ``%{format}t``; a TimeCache calls it once per distinct time."""

    def parse(text: str) -> datetime:
        dt = datetime.strptime(text, spec)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=zone)
        return dt.astimezone(UTC)

    return parse


__all__ = [
    "AUTO_FORMATS",
    "duration_text",
    "size_text",
    "NICKNAMES",
    "AccessLogParser",
    "CompiledFormat",
    "compile_logformat",
    "split_request",
]


#: The User-Agent lamptop's status poller sends (``lamptop/VERSION``).
OWN_AGENT = "lamptop/"


def is_own_request(record: LogRecord) -> bool:
    """lamptop's own status polls in the access log (its User-Agent): left out of every count
    and view, from the tail on. A lazy record without the agent's name in its line is not one:
    its fields are not made to tell."""
    if record.expand is not None and OWN_AGENT not in record.raw:
        return False
    agent = record.fields.get("user_agent")
    return isinstance(agent, str) and agent.startswith(OWN_AGENT)
