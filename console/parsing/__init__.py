"""Pure parsers for every format lamptop reads, and detection of a log's kind from its lines."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo

from console.core.events import LOG_KINDS, LogRecord

from .base import Parser

#: kind -> (module, class) of its parser; imported on first use.
_PARSERS: dict[str, tuple[str, str]] = {
    "apache-access": ("console.parsing.apache_access", "AccessLogParser"),
    "apache-error": ("console.parsing.apache_error", "ErrorLogParser"),
    "php-error": ("console.parsing.php", "PhpErrorParser"),
    "php-fpm": ("console.parsing.fpm", "FpmLogParser"),
    "php-fpm-slow": ("console.parsing.fpm", "FpmSlowParser"),
    "mysql-slow": ("console.parsing.mysql", "MysqlSlowParser"),
    "mysql-error": ("console.parsing.mysql", "MysqlErrorParser"),
    "mysql-general": ("console.parsing.mysql_general", "MysqlGeneralParser"),
    "php-fpm-access": ("console.parsing.fpm_access", "FpmAccessParser"),
}
assert set(_PARSERS) == set(LOG_KINDS)


def parser_class(kind: str) -> type[Parser]:
    """The parser class for a log kind; KeyError for an unknown kind."""
    module, name = _PARSERS[kind]
    cls: type[Parser] = getattr(importlib.import_module(module), name)
    return cls


def make_parser(
    kind: str,
    source: str | None = None,
    *,
    zone: tzinfo | None = None,
    fmt: str | None = None,
) -> Parser:
    """A fresh parser for ``kind``; ``fmt`` is an Apache LogFormat for access logs.

    For ``php-fpm-access`` ``fmt`` is the pool's ``access.format`` (only its units are read).
    """
    cls = parser_class(kind)
    if kind in ("apache-access", "php-fpm-access"):
        return cls(source, zone=zone, fmt=fmt)  # type: ignore[call-arg]
    return cls(source, zone=zone)


def detect_kind(lines: list[str]) -> str | None:
    """The kind whose parser fits the sample lines best, or None when none fits at all."""
    sample = [ln for ln in lines if ln.strip()][:200]
    if not sample:
        return None
    best, best_score = None, 0.0
    for kind in LOG_KINDS:
        score = parser_class(kind).sniff(sample)
        if score > best_score:
            best, best_score = kind, score
    return best if best_score >= 0.3 else None


def parse_lines(
    kind: str,
    lines: Iterable[str],
    *,
    source: str | None = None,
    zone: tzinfo | None = None,
    fmt: str | None = None,
    arrival: datetime | None = None,
) -> list[LogRecord]:
    """Parse a whole text (an iterable of lines without newlines) and flush the last entry."""
    when = arrival or datetime.now(UTC)
    parser = make_parser(kind, source, zone=zone, fmt=fmt)
    records = parser.feed(lines, when)
    records.extend(parser.flush(when))
    return records


__all__ = ["Parser", "detect_kind", "make_parser", "parse_lines", "parser_class"]
