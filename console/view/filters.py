"""Which log records the log pane shows: one immutable :class:`LogFilter`, pure matching.

The filter combines a regular expression over the record's text and continuation lines,
hidden sources, a minimum level, an "HTTP errors only" switch for access records, and a pin
on one request (client, URL path, process id). A bad expression raises :class:`FilterError`
with a message meant for the screen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from console.core.events import LEVEL_RANK, LogRecord
from console.parsing.apache_access import is_own_request
from console.parsing.modstatus import request_path, url_path

#: The minimum levels the level key cycles through: everything, warnings and up, errors and up.
LEVEL_STEPS: tuple[str, ...] = ("", "warn", "error")

_ACCESS = "apache-access"


#: The start of the User-Agent of lamptop's status poller.


class FilterError(ValueError):
    """The filter cannot be used (a regular expression that does not compile)."""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def http_status(record: LogRecord) -> int | None:
    """The HTTP status of an access record, else None."""
    return _int(record.fields.get("status"))


def fields_status(f: Mapping[str, Any]) -> int | None:
    """:func:`http_status` of a record's fields."""
    return _int(f.get("status"))


def is_5xx(record: LogRecord) -> bool:
    """An access record answered with a 5xx (a lazy one tells by its level, made from its
    status alone)."""
    if record.kind != _ACCESS:
        return False
    if record.expand is not None:
        return record.level == "error"
    return (http_status(record) or 0) >= 500


def effective_level(record: LogRecord) -> str:
    """The record's level, with access records ranked by status: 5xx error, 4xx warn."""
    if record.expand is not None:  # a lazy access record's level is its status's
        return record.level
    status = http_status(record) if record.kind == _ACCESS else None
    if status is not None and status >= 500:
        return "error"
    if status is not None and status >= 400:
        return "warn"
    return record.level


def strip_port(client: str) -> str:
    """``1.2.3.4:5678`` → ``1.2.3.4``; ``[::1]:80`` → ``::1``; anything else unchanged."""
    c = client.strip()
    if c.startswith("["):
        return c[1:].split("]", 1)[0]
    if c.count(":") == 1:
        return c.split(":", 1)[0]
    return c


def record_client(record: LogRecord) -> str:
    value = record.fields.get("client")
    return strip_port(value) if isinstance(value, str) else ""


def record_path(record: LogRecord) -> str:
    """The URL path a record is about (``path``, ``url`` or ``request`` field), or ``""``."""
    return fields_path(record.fields)


def fields_path(f: Mapping[str, Any]) -> str:
    """:func:`record_path` of a record's fields."""
    path = f.get("path")
    if isinstance(path, str) and path:
        return url_path(path)
    url = f.get("url")
    if isinstance(url, str) and url:
        return url_path(url)
    request = f.get("request")
    if isinstance(request, str):
        return request_path(request)
    return ""


def record_pid(record: LogRecord) -> int | None:
    return _int(record.fields.get("pid"))


def compile_pattern(text: str) -> re.Pattern[str] | None:
    """The expression for ``text``: case-insensitive unless it holds a capital letter."""
    if not text:
        return None
    flags = 0 if any(ch.isupper() for ch in text) else re.IGNORECASE
    try:
        return re.compile(text, flags)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise FilterError(f"bad regular expression: {exc.msg}{where}") from None


def shown_by_default(record: LogRecord) -> bool:
    """What the default filter shows: everything but lamptop's own status requests."""
    return record.kind != _ACCESS or not is_own_request(record)


@dataclass(frozen=True)
class LogFilter:
    """What the log pane shows. The default shows everything."""

    text: str = ""
    """Regular expression searched in the text and the continuation lines."""
    hidden: frozenset[str] = frozenset()
    """Names of the sources not shown."""
    min_level: str = ""
    """Lowest level shown (``""``: all, ``warn``, ``error``); access records rank by status."""
    http_errors: bool = False
    """Show access records only when their status is 4xx or 5xx (other logs unchanged)."""
    client: str = ""
    """Pinned client address."""
    url: str = ""
    """Pinned URL path."""
    pid: int | None = None
    """Pinned process id."""
    pattern: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)
    """The compiled :attr:`text`."""
    everything: bool = field(default=False, init=False, compare=False, repr=False)
    """Nothing is left out but lamptop's own requests (the default): :meth:`matches` takes
    its short way, which the log pane runs on every record that comes in."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", compile_pattern(self.text))
        narrowed = self.text or self.hidden or self.min_level or self.http_errors or self.pinned
        object.__setattr__(self, "everything", not narrowed)

    # -- queries ----------------------------------------------------------------------------
    @property
    def is_default(self) -> bool:
        return self == LogFilter()

    @property
    def pinned(self) -> bool:
        return bool(self.client or self.url or self.pid is not None)

    def matches(self, record: LogRecord) -> bool:
        if self.everything:
            return shown_by_default(record)
        if record.source in self.hidden:
            return False
        if record.kind == _ACCESS and is_own_request(record):
            return False
        if self.min_level and LEVEL_RANK.get(effective_level(record), 1) < LEVEL_RANK.get(
            self.min_level, 0
        ):
            return False
        if self.http_errors and record.kind == _ACCESS:
            if record.expand is not None:  # its level is its status's: 4xx warn, 5xx error
                if record.level not in ("warn", "error"):
                    return False
            else:
                status = http_status(record)
                if status is None or status < 400:
                    return False
        if self.pinned and not self._pin_matches(record):
            return False
        pattern = self.pattern
        if pattern is not None:
            if pattern.search(record.text) is None and not any(
                pattern.search(line) for line in record.lines
            ):
                return False
        return True

    def _pin_matches(self, record: LogRecord) -> bool:
        """A pinned request's records: same client, or same URL path, or same process."""
        if self.client and record_client(record) == self.client:
            return True
        if self.url and record_path(record) == self.url:
            return True
        return self.pid is not None and record_pid(record) == self.pid

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the expression matches in ``text`` (for highlighting)."""
        if self.pattern is None:
            return []
        return [m.span() for m in self.pattern.finditer(text) if m.end() > m.start()]

    def describe(self) -> str:
        """A short summary for a pane title; ``""`` for the default filter."""
        parts = []
        if self.text:
            parts.append(f"/{self.text}/")
        if self.min_level:
            parts.append(f"{self.min_level}+")
        if self.http_errors:
            parts.append("http 4xx/5xx")
        pins = [p for p in (self.client, self.url) if p]
        if self.pid is not None:
            pins.append(f"pid {self.pid}")
        if pins:
            parts.append("pin " + " | ".join(pins))
        if self.hidden:
            parts.append(f"{len(self.hidden)} hidden")
        return " · ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """The filter as a bundle records it (``filter`` in ``snapshot.json``)."""
        return {
            "regex": self.text,
            "hidden_sources": sorted(self.hidden),
            "min_level": self.min_level,
            "http_errors": self.http_errors,
            "client": self.client,
            "url": self.url,
            "pid": self.pid,
            "described": self.describe(),
        }

    # -- changes (each returns a new filter) --------------------------------------------------
    def with_text(self, text: str) -> LogFilter:
        """Raises :class:`FilterError` for a bad expression."""
        return replace(self, text=text)

    def toggle_source(self, name: str) -> LogFilter:
        hidden = self.hidden - {name} if name in self.hidden else self.hidden | {name}
        return replace(self, hidden=frozenset(hidden))

    def next_level(self) -> LogFilter:
        i = LEVEL_STEPS.index(self.min_level) if self.min_level in LEVEL_STEPS else 0
        return replace(self, min_level=LEVEL_STEPS[(i + 1) % len(LEVEL_STEPS)])

    def toggle_http_errors(self) -> LogFilter:
        return replace(self, http_errors=not self.http_errors)

    def pin(self, *, client: str = "", url: str = "", pid: int | None = None) -> LogFilter:
        return replace(self, client=strip_port(client), url=url, pid=pid)

    def narrows(self, previous: LogFilter) -> bool:
        """True when every record this filter shows, ``previous`` showed too.

        Lets the log pane re-filter its current matches instead of the whole ring.
        """
        return (
            self.text == previous.text
            and self.hidden >= previous.hidden
            and LEVEL_RANK.get(self.min_level, 0) >= LEVEL_RANK.get(previous.min_level, 0)
            and (self.http_errors or not previous.http_errors)
            and (self.client, self.url, self.pid) == (previous.client, previous.url, previous.pid)
        )


_IPV4 = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}\b")
#: IPv6 addresses: eight groups, or fewer around a ``::`` (times like 15:06:30 do not match).
_IPV6 = re.compile(
    r"(?<![\w:.])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    r"|(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4})"
    r"(?![\w:])",
    re.IGNORECASE,
)
_QUERY = re.compile(r"\?[^\s\"']*")
#: A query written encoded (``%3F``) where a path would be.
_ENCODED_QUERY = re.compile(r"%3f[^\s\"'?]*", re.IGNORECASE)
#: Path parameters: ``/cart;jsessionid=ABC`` (a session in the path is as good as a cookie).
_PATH_PARAM = re.compile(r"(?<=[\w/.~-]);[^/\s\"'?#]*")
#: ``scheme://user:password@`` in a URL.
_USERINFO = re.compile(r"(?<=//)[^/\s@\"']+@")
#: Users named by mod_auth_basic (AH01617, AH01618) and MySQL (``for user 'root'@...``).
_AUTH_USER = re.compile(
    r"\buser (?:'[^']*'|\"[^\"]*\"|[^\s:'\"]+)(?=:? (?:authentication failure|not found))"
    r"|(?<=\buser )'[^']*'(?=@)",
    re.IGNORECASE,
)


def _mask_ipv6(m: re.Match[str]) -> str:
    head = [g for g in m.group(0).split(":") if g][:2]
    return ":".join(head) + ":x::x" if len(head) == 2 else "x::x"


def _mask_user(m: re.Match[str]) -> str:
    return "user …" if m.group(0).lower().startswith("user ") else "'…'"


def redact(text: str) -> str:
    """Mask client addresses (the last two parts of IPv4, all but two groups of IPv6), drop
    query strings (``?``, and ``%3F`` encoded) and path parameters (``;jsessionid=``), and
    hide the users of basic auth (URL ``user:pass@``, Apache and MySQL authentication
    messages)."""
    text = _USERINFO.sub("…@", text)
    if ";" in text:
        text = _PATH_PARAM.sub(";…", text)
    if "%" in text:
        text = _ENCODED_QUERY.sub("%3F…", text)
    text = _QUERY.sub("?…", _IPV4.sub(r"\1.\2.x.x", text))
    text = _AUTH_USER.sub(_mask_user, text)
    if "::" in text or text.count(":") >= 7:
        text = _IPV6.sub(_mask_ipv6, text)
    return text
