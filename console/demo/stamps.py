"""Time stamps in the shapes Apache 2.4, PHP 8.2 and MariaDB 10.11 print them.

Every ``datetime`` given here is aware UTC; each function names the field it fills.
"""

from __future__ import annotations

from datetime import datetime

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def status_time(dt: datetime) -> str:
    """``Thursday, 26-Nov-2026 15:04:44 UTC`` (mod_status CurrentTime / RestartTime)."""
    return (
        f"{_LONG_DAYS[dt.weekday()]}, {dt.day:02d}-{_MONTHS[dt.month - 1]}-{dt.year:04d} "
        f"{dt:%H:%M:%S} UTC"
    )


def clf_time(dt: datetime) -> str:
    """``26/Nov/2026:15:01:35 +0000`` (access log ``%t``, without the brackets)."""
    return f"{dt.day:02d}/{_MONTHS[dt.month - 1]}/{dt.year:04d}:{dt:%H:%M:%S} +0000"


def error_time(dt: datetime) -> str:
    """``Thu Nov 26 15:01:29.566736 2026`` (Apache 2.4 error log, local time)."""
    return (
        f"{_DAYS[dt.weekday()]} {_MONTHS[dt.month - 1]} {dt.day:02d} "
        f"{dt:%H:%M:%S}.{dt.microsecond:06d} {dt.year:04d}"
    )


def php_time(dt: datetime) -> str:
    """``26-Nov-2026 15:01:35 UTC`` (PHP error_log with ``date.timezone = UTC``)."""
    return f"{dt.day:02d}-{_MONTHS[dt.month - 1]}-{dt.year:04d} {dt:%H:%M:%S} UTC"


def slow_time(dt: datetime) -> str:
    """``261126 15:07:42``; the hour is space-padded (``261126  9:05:01``)."""
    return f"{dt:%y%m%d} {dt.hour:2d}:{dt:%M:%S}"
