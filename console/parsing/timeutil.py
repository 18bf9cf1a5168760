"""Timestamp parsing without ``strptime`` on the hot path.

Log lines repeat the same second many times, so each parser keeps a small cache from the
timestamp string to the aware UTC datetime, and the parse itself slices fixed positions.
Zone-less timestamps (Apache error log, MariaDB, php-fpm) are read in a given local zone.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def local_zone(name: str | None = None) -> tzinfo:
    """The zone for zone-less timestamps: ``name`` if given, else ``$TZ``, else the system's."""
    for candidate in (name, os.environ.get("TZ")):
        if candidate:
            zone = zone_by_name(candidate.lstrip(":"))
            if zone is not None:
                return zone
    try:
        with open("/etc/timezone", encoding="utf-8") as fh:
            zone = zone_by_name(fh.read().strip())
            if zone is not None:
                return zone
    except OSError:
        pass
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            zone = zone_by_name(link.split("zoneinfo/", 1)[1])
            if zone is not None:
                return zone
    except OSError:
        pass
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else UTC


@lru_cache(maxsize=64)
def zone_by_name(name: str) -> tzinfo | None:
    """A zone from an IANA name or ``UTC``; None when unknown."""
    if name.upper() in ("UTC", "GMT", "Z", "ETC/UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


class TimeCache:
    """Memoise a string-to-datetime function; bounded, cleared when full."""

    __slots__ = ("_fn", "_cache", "_max")

    def __init__(self, fn: Callable[[str], datetime | None], maxsize: int = 4096) -> None:
        self._fn = fn
        self._cache: dict[str, datetime | None] = {}
        self._max = maxsize

    def __call__(self, text: str) -> datetime | None:
        try:
            return self._cache[text]
        except KeyError:
            pass
        try:
            value = self._fn(text)
        except (ValueError, KeyError, IndexError, OverflowError):
            value = None
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[text] = value
        return value


def _offset(sign_hhmm: str) -> timezone:
    sign = -1 if sign_hhmm[0] == "-" else 1
    hh = int(sign_hhmm[1:3])
    mm = int(sign_hhmm[-2:])
    return timezone(sign * timedelta(hours=hh, minutes=mm))


def parse_clf(text: str) -> datetime:
    """``26/Nov/2026:15:01:35 +0000`` (Apache ``%t`` without brackets) to aware UTC."""
    dt = datetime(
        int(text[7:11]),
        MONTHS[text[3:6]],
        int(text[0:2]),
        int(text[12:14]),
        int(text[15:17]),
        int(text[18:20]),
        tzinfo=_offset(text[21:26]),
    )
    return dt.astimezone(UTC)


def parse_ctime(text: str, zone: tzinfo) -> datetime:
    """``Thu Nov 26 15:02:14.801017 2026`` or ``Thu Nov 26 15:02:14 2026`` in ``zone``."""
    parts = text.split()
    month = MONTHS[parts[1]]
    day = int(parts[2])
    clock = parts[3]
    year = int(parts[4])
    hh, mi, rest = clock.split(":")
    if "." in rest:
        ss, frac = rest.split(".", 1)
        micro = int((frac + "000000")[:6])
    else:
        ss, micro = rest, 0
    dt = datetime(year, month, day, int(hh), int(mi), int(ss), micro, tzinfo=zone)
    return dt.astimezone(UTC)


def parse_dmy(text: str, zone: tzinfo) -> datetime:
    """``26-Nov-2026 15:01:35`` with an optional zone name after it (PHP, php-fpm).

    PHP writes its ``date.timezone`` name (``UTC``, ``Europe/Berlin``); php-fpm writes none, and
    then ``zone`` applies. Fractions (``15:01:35.123456``, php-fpm's log_level debug) are kept.
    """
    date_part, _, rest = text.partition(" ")
    clock, _, zname = rest.partition(" ")
    d, m, y = date_part.split("-")
    hh, mi, sec = clock.split(":")
    if "." in sec:
        ss, frac = sec.split(".", 1)
        micro = int((frac + "000000")[:6])
    else:
        ss, micro = sec, 0
    z = zone_by_name(zname.strip()) if zname.strip() else zone
    dt = datetime(int(y), MONTHS[m], int(d), int(hh), int(mi), int(ss), micro, tzinfo=z or zone)
    return dt.astimezone(UTC)


def parse_mysql_short(text: str, zone: tzinfo) -> datetime:
    """``261126 15:07:42`` or ``261126  0:00:00`` (YYMMDD, hour may be space-padded)."""
    date_part, clock = text.split()
    hh, mi, ss = clock.split(":")
    dt = datetime(
        2000 + int(date_part[0:2]),
        int(date_part[2:4]),
        int(date_part[4:6]),
        int(hh),
        int(mi),
        int(ss),
        tzinfo=zone,
    )
    return dt.astimezone(UTC)


def parse_iso(text: str, zone: tzinfo) -> datetime:
    """``2026-11-26T15:07:42.123456Z``, ``2026-11-26 15:01:15`` or with an offset.

    Zone-less values are read in ``zone``.
    """
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return dt.astimezone(UTC)
