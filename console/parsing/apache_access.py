"""Apache access logs: any ``LogFormat`` compiled to one regex, or the stock formats detected.

What real logs hold (Apache 2.4.71, samples in ``tests/fixtures/apache/``):

* Values inside ``"..."`` carry Apache's escapes: ``\\"``, ``\\\\`` and ``\\xNN`` for raw bytes
  (``/caf\\xc3\\xa9``). They are kept as written, never decoded.
* Malformed requests shift the request line: ``"GARBAGE"`` (one word), ``"GET /"`` (HTTP/0.9
  or a 414 cut short), ``"-" 408 0`` (an idle connection timed out). They still parse; method,
  url and protocol are empty where the line has none.
* ``%t`` is when the request arrived, the line is written when it ended, so times go back.

Without a format the parser tries, per line, the format that matched the line before, then
``combined``, ``vhost_combined``, ``combined`` followed by ``%T %D``, ``common``, and
``combined`` followed by anything (kept in ``fields["extra"]``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from console.events import Level, LogRecord

from .base import LineParser
from .timeutil import TimeCache, parse_clf

#: The formats Debian's apache2.conf defines, by nickname.
NICKNAMES: dict[str, str] = {
    "common": '%h %l %u %t "%r" %>s %b',
    "combined": '%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
}

_TOKEN = r"\S+"
_TOKEN0 = r"\S*"
_NUM = r"-|\d+"
_QUOTED = r'[^"\\]*(?:\\.[^"\\]*)*'
_LAZY = r".*?"


def _table(spec: str) -> dict[str, str]:
    """``"a=x b=y"`` -> ``{"a": "x", "b": "y"}``: keeps the directive tables short to read."""
    return dict(pair.split("=", 1) for pair in spec.split())


#: Directives whose value is a number (``-`` when absent): letter -> field name.
_INT_LETTERS = _table(
    "b=bytes B=bytes D=duration_us I=bytes_in k=keepalive O=bytes_out p=port P=pid"
    " s=status S=bytes_total T=duration_s ^FB=ttfb_us"
)
#: Directives whose value is a word: letter -> field name (%r and %U have their own regex).
_WORD_LETTERS = _table(
    "a=client_ip A=local_ip f=filename h=client H=protocol l=ident L=log_id m=method q=query"
    " r=request R=handler u=user U=path v=vhost V=server_name X=conn_status"
)
_WORD_RX = {"q": _TOKEN0, "r": _LAZY, "U": r"[^\s?]*"}
#: Inside quotes a word still has no space (%r and %u may), and may hold ``\"``.
_QWORD = r'[^\s"\\]*(?:\\.[^\s"\\]*)*'
_QWORD_RX = {"r": _QUOTED, "u": _QUOTED, "U": r'[^\s?"\\]*(?:\\.[^\s?"\\]*)*'}
#: Header-like directives: letter -> prefix of the field name.
_NAMED = _table("i= o=resp_ e=env_ n=note_ C=cookie_ x= ^ti=trailer_ ^to=resp_trailer_")
_ARG_FIELDS = {
    ("T", "ms"): "duration_ms",
    ("T", "us"): "duration_us",
    ("T", "s"): "duration_s",
    ("a", "c"): "peer_ip",
    ("h", "c"): "peer_host",
    ("p", "canonical"): "port",
    ("p", "local"): "local_port",
    ("p", "remote"): "remote_port",
    ("P", "pid"): "pid",
    ("P", "tid"): "tid",
}
_INT_ARGS = set(_ARG_FIELDS.values()) - {"peer_ip", "peer_host"}
#: Fields where ``-`` means "none" and becomes an empty string.
_DASH_EMPTY = {"ident", "user", "referer", "user_agent"}
_CORE_NAMES = {*_INT_LETTERS.values(), *_WORD_LETTERS.values(), "url", "extra"}

_DIRECTIVE = re.compile(r"%[<>]?(?:!?\d+(?:,\d+)*)?[<>]?(?:\{([^}]*)\})?(\^\w\w|[a-zA-Z%])")

#: strftime conversions -> regex; strptime reads them as written, or as ``_STRP`` says.
_STRF_RX = (
    dict.fromkeys("dmyHIMS", r"\d\d")
    | dict.fromkeys("abh", "[A-Za-z]{3}")
    | dict.fromkeys("ABZ", "[A-Za-z]+")
    | _table(r"e=[\s\d]\d Y=\d{4} j=\d{3} p=[AaPp][Mm] z=[+-]\d{4} %=%")
    | _table(r"T=\d\d:\d\d:\d\d R=\d\d:\d\d F=\d{4}-\d\d-\d\d D=\d\d/\d\d/\d\d")
)
_STRP = _table("e=%d h=%b T=%H:%M:%S R=%H:%M F=%Y-%m-%d D=%m/%d/%y")
_EPOCH = {"sec": 1, "msec": 1_000, "usec": 1_000_000}
_FRAC = {"msec_frac": (3, 1_000), "usec_frac": (6, 1)}


@dataclass(frozen=True, slots=True)
class CompiledFormat:
    """A LogFormat turned into one regex: group *i* holds field ``names[i]``."""

    fmt: str
    """The format, with the config file's ``\\"`` read as ``"``."""
    regex: re.Pattern[str]
    names: tuple[str, ...]
    ints: tuple[str, ...] = ()
    """Fields converted to int (``-`` gives 0 for byte counts, else the field is dropped)."""
    blanks: tuple[str, ...] = ()
    """Fields where ``-`` means none and becomes ``""``."""
    clf: bool = False
    """True when ``%t`` (``[26/Nov/2026:15:01:35 +0000]``) alone gives the time, in ``_t``."""
    strf: tuple[tuple[str, str], ...] = ()
    """(field, strptime format) of each ``%{format}t``."""
    epoch: tuple[str, int] | None = None
    """(field, units per second) of ``%{sec|msec|usec}t``."""
    frac: tuple[str, int] | None = None
    """(field, microseconds per unit) of ``%{msec_frac|usec_frac}t``."""
    timed: bool = False
    """True when a field gives the request's duration."""


def _strftime_regex(spec: str) -> tuple[str, str]:
    out, strp, i = [], [], 0
    while i < len(spec):
        c = spec[i]
        if c == "%" and i + 1 < len(spec) and spec[i + 1] in _STRF_RX:
            out.append(_STRF_RX[spec[i + 1]])
            strp.append(_STRP.get(spec[i + 1], spec[i : i + 2]))
            i += 2
            continue
        out.append(re.escape(c))
        strp.append("%%" if c == "%" else c)
        i += 1
    return "".join(out), "".join(strp)


def _field_name(letter: str, arg: str) -> str:
    snake = re.sub(r"[^0-9a-z]+", "_", arg.lower()).strip("_")
    if not snake:
        return "x_" + letter.lstrip("^")
    name = _NAMED.get(letter, letter.lstrip("^") + "_") + snake
    return "req_" + name if name in _CORE_NAMES else name


def compile_logformat(fmt: str) -> CompiledFormat:
    """Compile an Apache ``LogFormat`` string (or a nickname) to one regex, matched whole.

    Directives it has no name for become text fields named after them (``x_Z``, ``ssl_...``).
    """
    fmt = NICKNAMES.get(fmt.strip(), fmt)
    if '\\"' in fmt:
        if len(fmt) > 1 and fmt[0] == fmt[-1] == '"':
            fmt = fmt[1:-1]
        fmt = fmt.replace('\\"', '"')
    parts: list[str] = []
    names: list[str] = []
    ints: list[str] = []
    blanks: list[str] = []
    strf: list[tuple[str, str]] = []
    epoch: tuple[str, int] | None = None
    frac: tuple[str, int] | None = None
    clf = False
    pos = 0
    quoted = False

    def group(name: str, rx: str) -> None:
        names.append(name)
        parts.append(f"({rx})")

    for m in _DIRECTIVE.finditer(fmt):
        literal = fmt[pos : m.start()]
        quoted ^= literal.count('"') % 2 == 1
        parts.append(re.escape(literal))
        pos = m.end()
        arg, letter = m.group(1), m.group(2)
        if letter == "%":
            parts.append("%")
        elif letter == "t":
            spec = (arg or "").removeprefix("begin:").removeprefix("end:")
            if arg is None:
                clf = True
                parts.append(r"\[")
                group("_t", r"[^\]]+")
                parts.append(r"\]")
            elif spec in _EPOCH:
                epoch = (f"_t{len(names)}", _EPOCH[spec])
                group(epoch[0], r"\d+")
            elif spec in _FRAC:
                digits, mult = _FRAC[spec]
                frac = (f"_t{len(names)}", mult)
                group(frac[0], rf"\d{{{digits}}}")
            else:
                rx, strp = _strftime_regex(spec)
                strf.append((f"_t{len(names)}", strp))
                group(strf[-1][0], rx)
        elif arg is not None and (letter, arg) in _ARG_FIELDS:
            name = _ARG_FIELDS[(letter, arg)]
            group(name, _NUM if name in _INT_ARGS else _TOKEN)
            if name in _INT_ARGS:
                ints.append(name)
        elif letter in _INT_LETTERS and arg is None:
            group(_INT_LETTERS[letter], _NUM)
            ints.append(_INT_LETTERS[letter])
        elif letter in _WORD_LETTERS and arg is None:
            name = _WORD_LETTERS[letter]
            rx = _QWORD_RX.get(letter, _QWORD) if quoted else _WORD_RX.get(letter, _TOKEN)
            group(name, rx)
            if name in _DASH_EMPTY:
                blanks.append(name)
        else:
            name = _field_name(letter, arg or "")
            group(name, _QUOTED if quoted else _LAZY)
            blanks.append(name)
    parts.append(re.escape(fmt[pos:]))
    parts.append(r"[ \t\r]*")
    # One field for one meaning: %a is the client when %h is absent, %O the size without %b...
    for src, dst in (("client_ip", "client"), ("bytes_out", "bytes"), ("server_name", "vhost")):
        if dst not in names and src in names:
            names[names.index(src)] = dst
            if src in ints:
                ints[ints.index(src)] = dst
    return CompiledFormat(
        fmt=fmt,
        regex=re.compile("".join(parts), re.DOTALL | re.ASCII),
        names=tuple(names),
        ints=tuple(dict.fromkeys(ints)),
        blanks=tuple(dict.fromkeys(blanks)),
        clf=clf and not strf and epoch is None and frac is None,
        strf=tuple(strf),
        epoch=epoch,
        frac=frac,
        timed=any(n.startswith("duration_") for n in names),
    )


def _catch_all(base: str) -> CompiledFormat:
    """``base`` followed by anything, kept in ``fields["extra"]``."""
    cf = compile_logformat(base + " %{extra}n")
    return replace(
        cf,
        names=cf.names[:-1] + ("extra",),
        blanks=tuple(b for b in cf.blanks if b != "note_extra"),
    )


_COMBINED = NICKNAMES["combined"]
#: The formats tried, in order, when none is given.
AUTO_FORMATS: tuple[CompiledFormat, ...] = (
    compile_logformat(_COMBINED),
    compile_logformat(NICKNAMES["vhost_combined"]),
    compile_logformat(_COMBINED + " %T %D"),
    compile_logformat(NICKNAMES["common"]),
    _catch_all(_COMBINED),
)


def split_request(request: str) -> tuple[str, str, str]:
    """``GET /a?b HTTP/1.1`` -> method, url, protocol; empty strings where the line has none."""
    parts = request.split(" ")
    n = len(parts)
    if n == 3:
        return parts[0], parts[1], parts[2]
    if n == 2:
        return parts[0], parts[1], ""
    if n < 2:
        return "", "", ""
    if parts[-1].startswith("HTTP/"):
        return parts[0], " ".join(parts[1:-1]), parts[-1]
    return parts[0], " ".join(parts[1:]), ""


def _size(n: int) -> str:
    if n < 10_000:
        return f"{n}B"
    if n < 10_000_000:
        return f"{n // 1024}K"
    return f"{n / 1048576:.1f}M"


def _duration(fields: dict[str, Any]) -> str:
    us = fields.get("duration_us")
    if us is None:
        ms = fields.get("duration_ms")
        if ms is not None:
            us = ms * 1000
        elif (s := fields.get("duration_s")) is not None:
            return f"{s}s"
        else:
            return ""
    if us >= 1_000_000:
        return f"{us / 1e6:.1f}s"
    if us >= 10_000:
        return f"{us // 1000}ms"
    return f"{us / 1000:.1f}ms"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AccessLogParser(LineParser):
    """Apache access log lines, in a given ``LogFormat`` or one of the stock formats."""

    kind = "apache-access"

    def __init__(
        self, source: str | None = None, *, zone: tzinfo | None = None, fmt: str | None = None
    ) -> None:
        super().__init__(source, zone=zone)
        self.formats: tuple[CompiledFormat, ...] = (
            (compile_logformat(fmt),) if fmt else AUTO_FORMATS
        )
        """The formats tried, in order (one when ``fmt`` was given)."""
        self._last = self.formats[0]
        self._clf = TimeCache(parse_clf)
        self._strf: TimeCache | None = None
        self._strf_fmt = ""

    @classmethod
    def sniff(cls, lines: list[str]) -> float:
        sample = [ln for ln in lines if ln.strip()]
        if not sample:
            return 0.0
        hits = sum(1 for ln in sample if any(f.regex.fullmatch(ln) for f in AUTO_FORMATS))
        return hits / len(sample)

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
        fields: dict[str, Any] = dict(zip(fmt.names, m.groups(), strict=False))
        for name in fmt.ints:
            v = fields[name]
            if v.isdigit():
                fields[name] = int(v)
            elif name.startswith("bytes"):
                fields[name] = 0
            else:
                del fields[name]
        for name in fmt.blanks:
            if fields[name] == "-":
                fields[name] = ""
        ts = self._clf(fields.pop("_t")) if fmt.clf else self._other_time(fmt, fields)
        request = fields.get("request")
        if request is not None:
            method, url, protocol = split_request(request)
            fields["method"] = method
            fields["url"] = url
            fields["protocol"] = protocol
            what = f"{method} {_short(url)}" if method else f'"{_short(request)}"'
        else:
            method = fields.get("method", "")
            url = fields.get("path", "") + fields.get("query", "")
            if "path" in fields or "query" in fields:
                fields["url"] = url
            what = f"{method} {_short(url)}".strip() or "-"
        text = f"{fields.get('client', '-')} {what}"
        if "vhost" in fields:
            text = f"{fields['vhost']} {text}"
        status = fields.get("status")
        if status is not None:
            text = f"{text} {status}"
            level: Level = "error" if status >= 500 else "warn" if status >= 400 else "info"
        else:
            level = "info"
        if "bytes" in fields:
            text = f"{text} {_size(fields['bytes'])}"
        if fmt.timed:
            text = f"{text} {_duration(fields)}".rstrip()
        return self.record(
            ts or arrival,
            level,
            text,
            fields=fields,
            raw=line,
            ts_from_line=ts is not None,
        )

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
    "NICKNAMES",
    "AccessLogParser",
    "CompiledFormat",
    "compile_logformat",
    "split_request",
]
