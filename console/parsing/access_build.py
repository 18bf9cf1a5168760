"""The pieces of an access record (request split, sizes, durations) and the builders that make
a lazy access record's text and fields from its line.

A lazy record (:func:`console.core.events.make_lazy_record`) is made whole when something reads
its text or fields: every record of a bundle's window, at once. :func:`direct_builder` writes,
for one format, the few lines of Python that do what :meth:`AccessLogParser._build` does for
it, with its fields, conversions and blanks spelled out instead of looked up in loops: about
half the time. The source is made from the format's field names (``[0-9a-z_]``, and written
with ``repr`` anyway) and group numbers only, never from a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from console.core.events import LogRecord

from .base import SHARED_MAX, SUMMARY_MAX
from .logformat import CompiledFormat
from .modstatus import request_path, url_path

#: ``"200"`` -> 200 for the numbers a log repeats most (statuses, small sizes), shared.
SMALL_INTS = {str(i): i for i in range(1000)}


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


def size_text(n: int) -> str:
    """Bytes sent, as access rows write them: ``5120B``, ``293K``, ``12.4M``."""
    if n < 10_000:
        return f"{n}B"
    if n < 10_000_000:
        return f"{n // 1024}K"
    return f"{n / 1048576:.1f}M"


def duration_text(fields: Mapping[str, Any]) -> str:
    """How long a request took, from ``duration_us``, ``duration_ms`` or ``duration_s``."""
    us = fields.get("duration_us")
    if not isinstance(us, int | float):
        ms = fields.get("duration_ms")
        s = fields.get("duration_s")
        if isinstance(ms, int | float):
            us = ms * 1000
        elif isinstance(s, int | float):
            return f"{s}s"
        else:
            return ""
    if us >= 1_000_000:
        return f"{us / 1e6:.1f}s"
    if us >= 10_000:
        return f"{us // 1000:.0f}ms"
    return f"{us / 1000:.1f}ms"


def short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: What a built record is: its text (cut to :data:`SUMMARY_MAX`) and its fields.
Build = Callable[[re.Match[str], Callable[[str, str], str]], tuple[str, dict[str, Any]]]

_NAMESPACE = {
    "SMALL": SMALL_INTS,
    "split_request": split_request,
    "short": short,
    "size_text": size_text,
    "duration_text": duration_text,
    "MAX": SUMMARY_MAX,
}


def direct_source(fmt: CompiledFormat) -> str:
    """The Python source of :func:`direct_builder`'s function for ``fmt`` (one with
    :attr:`~CompiledFormat.direct`), the same steps as the parser's whole parse."""
    d = fmt.direct
    if d is None:
        raise ValueError("only a format whose time is %t alone has a direct builder")
    out = ["def build(m, share):", "    g = m.groups()"]
    items = ", ".join(
        f"{name!r}: g[{group - 1}]" for name, group in zip(d.names, d.groups, strict=True)
    )
    out.append(f"    f = {{{items}}}")
    if d.shared_groups:
        for name in dict.fromkeys(d.shared):
            out += [f"    v = f[{name!r}]", f"    f[{name!r}] = share(v, v)"]
    for name in fmt.ints:
        none = f"f[{name!r}] = 0" if name.startswith("bytes") else f"del f[{name!r}]"
        out += [
            f"    v = f[{name!r}]",
            "    if v.isdigit():",
            f"        f[{name!r}] = SMALL.get(v) or int(v)",
            "    else:",
            f"        {none}",
        ]
    for name in fmt.blanks:
        out += [f"    if f[{name!r}] == '-':", f"        f[{name!r}] = ''"]
    if d.request:
        out += [
            f"    request = g[{d.request - 1}]",
            "    method, url, protocol = split_request(request)",
            "    if f'{method} {url} {protocol}' != request:",
            "        f['request'] = request",
            "    f['method'] = share(method, method)",
            "    f['url'] = url",
            "    f['protocol'] = share(protocol, protocol)",
            "    what = f'{method} {short(url)}' if method else f'\"{short(request)}\"'",
        ]
    else:
        out += [
            "    method = f.get('method', '')",
            "    url = f.get('path', '') + f.get('query', '')",
            "    if 'path' in f or 'query' in f:",
            "        f['url'] = url",
            "    what = f'{method} {short(url)}'.strip() or '-'",
        ]
    out += [
        "    text = f\"{f.get('client', '-')} {what}\"",
        "    if 'vhost' in f:",
        "        text = f\"{f['vhost']} {text}\"",
        "    status = f.get('status')",
        "    if status is not None:",
        "        text = f'{text} {status}'",
        "    if 'bytes' in f:",
        "        text = f\"{text} {size_text(f['bytes'])}\"",
    ]
    if fmt.timed:
        out.append("    text = f'{text} {duration_text(f)}'.rstrip()")
    out.append("    return text[:MAX], f")
    return "\n".join(out) + "\n"


class LazyAccess:
    """A lazy access record's expander (see :data:`console.core.events.Expander`): its line
    matched again by its format and built by :func:`direct_builder`; and, cheaper, the URL
    path alone (:meth:`path_of`), for readers that only look for some paths."""

    __slots__ = ("_match", "_build", "_shared", "_share", "_request")

    def __init__(self, fmt: CompiledFormat, shared: dict[str, str]) -> None:
        d = fmt.direct
        assert d is not None
        self._match = fmt.regex.fullmatch
        self._build = direct_builder(fmt)
        self._shared = shared
        """The parser's strings, which the records made here share (bounded here too: a
        bundle makes every record of the ring at once, between two batches of lines)."""
        self._share: Callable[[str, str], str] = shared.setdefault
        self._request = d.request if "path" not in d.names else 0
        """The request's group, when the path comes from it alone (no ``%U``)."""

    def __call__(self, rec: LogRecord) -> tuple[str, Mapping[str, Any]]:
        m = self._match(rec.raw)
        if m is None:  # not the line that was parsed: nothing to make of it
            return rec.raw[:SUMMARY_MAX], {}
        if len(self._shared) > SHARED_MAX:
            self._shared.clear()
        return self._build(m, self._share)

    def path_of(self, raw: str) -> str | None:
        """The path :func:`console.view.filters.record_path` reads in the record's fields,
        from the line without its fields; None when this format cannot tell it so."""
        if not self._request:
            return None
        m = self._match(raw)
        if m is None:
            return None
        request = m.group(self._request)
        method, url, protocol = split_request(request)
        if url:
            return url_path(url)
        if f"{method} {url} {protocol}" != request:
            return request_path(request)
        return ""


def peek_path(rec: LogRecord) -> str | None:
    """The URL path of a lazy access record, read from its line without making its fields;
    None when it cannot be read so (not lazy, or a format with ``%U``)."""
    expand = rec.expand
    return expand.path_of(rec.raw) if isinstance(expand, LazyAccess) else None


def direct_builder(fmt: CompiledFormat) -> Build:
    """A function making the text and fields of a line ``fmt`` matched, given the match and
    the parser's string sharing (``dict.setdefault`` of its table)."""
    namespace = dict(_NAMESPACE)
    exec(compile(direct_source(fmt), f"<access builder {fmt.fmt[:60]!r}>", "exec"), namespace)
    build: Build = namespace["build"]  # type: ignore[assignment]
    return build


__all__ = [
    "SMALL_INTS",
    "LazyAccess",
    "peek_path",
    "direct_builder",
    "direct_source",
    "duration_text",
    "short",
    "size_text",
    "split_request",
]
