"""Apache ``LogFormat`` strings compiled to one regex each, and the stock formats.

Each directive becomes a capturing group named after the field it gives (``%h`` client,
``%>s`` status, ``%{User-Agent}i`` user_agent...); directives lamptop has no name for become
text fields named after them. :mod:`console.parsing.apache_access` reads lines with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

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
#: Fields whose values repeat from line to line (a few agents, referers, clients, methods):
#: the parser keeps one string per distinct value (see :data:`console.parsing.base.SHARED_MAX`).
_SHARED_NAMES = frozenset(
    "client ident user vhost method protocol referer user_agent peer_ip peer_host local_ip"
    " handler conn_status log_id".split()
)

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
    shared: tuple[str, ...] = ()
    """Fields whose values repeat from line to line (kept once per distinct value)."""
    direct: Direct | None = None
    """How to build a record's fields straight from the match, when ``%t`` alone gives the
    time (the stock formats); None for the others."""


@dataclass(frozen=True, slots=True)
class Direct:
    """Group numbers of a format, to build a record's fields from a match in a few C calls.

    Fields are made from the groups that are fields, not from all groups and then ``_t`` and
    ``request`` popped: a combined line's 10 fields then fit the dict size that holds 10, not
    the next one up (about 200 bytes less per record). Repeated values (agents, referers,
    clients) are replaced by the parser's copy in one ``dict.update``, not a loop per field.
    """

    names: tuple[str, ...]
    """Fields as read, in format order."""
    groups: tuple[int, ...]
    """Their group numbers (two or more: ``Match.group`` of one number is not a tuple)."""
    time: int
    """Group number of ``%t``."""
    request: int
    """Group number of ``%r``; 0 when the format has none."""
    shared: tuple[str, ...]
    """Fields of :attr:`names` whose values repeat (see :data:`_SHARED_NAMES`)."""
    shared_groups: tuple[int, ...]
    """Their group numbers; empty when fewer than two."""
    status: int = 0
    """Group number of ``%>s`` (the last status of the format); 0 when the format has none.
    With :attr:`time`, all a lazy record needs when the line is read."""


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
        shared=tuple(n for n in dict.fromkeys(names) if n in _SHARED_NAMES),
        direct=_direct(tuple(names), clf and not strf and epoch is None and frac is None),
    )


def _direct(names: tuple[str, ...], clf: bool) -> Direct | None:
    """:attr:`CompiledFormat.direct` for these group names."""
    if not clf or "_t" not in names:
        return None
    keep = [(n, i) for i, n in enumerate(names, 1) if n not in ("_t", "request")]
    if len(keep) < 2:
        return None
    shared = [(n, i) for n, i in keep if n in _SHARED_NAMES]
    if len(shared) < 2:
        shared = []
    return Direct(
        names=tuple(n for n, _ in keep),
        groups=tuple(i for _, i in keep),
        time=names.index("_t") + 1,
        request=names.index("request") + 1 if "request" in names else 0,
        shared=tuple(n for n, _ in shared),
        shared_groups=tuple(i for _, i in shared),
        status=max((i for i, n in enumerate(names, 1) if n == "status"), default=0),
    )


def _catch_all(base: str) -> CompiledFormat:
    """``base`` followed by anything, kept in ``fields["extra"]``."""
    cf = compile_logformat(base + " %{extra}n")
    names = cf.names[:-1] + ("extra",)
    return replace(
        cf,
        names=names,
        blanks=tuple(b for b in cf.blanks if b != "note_extra"),
        direct=_direct(names, cf.clf),
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


__all__ = ["AUTO_FORMATS", "NICKNAMES", "CompiledFormat", "Direct", "compile_logformat"]
