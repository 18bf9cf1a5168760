"""Every way lamptop writes a time, in one place.

Machine-read text (snapshot.json, ``lamptop parse``, ``record`` lines) is UTC with ``Z``;
what a person reads on screen is the server's zone (the ``timezone`` setting), since that is
what its logs say; report.md and logs.txt say UTC and say so.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def _utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo is UTC else ts.astimezone(UTC)


def iso(ts: datetime) -> str:
    """ISO 8601 in UTC with microseconds as Python gives them and ``Z``:
    ``2026-11-26T15:01:35.120000Z``; ``2026-11-26T15:01:35Z`` on a whole second."""
    return _utc(ts).isoformat().replace("+00:00", "Z")


_ISO_SEEN: dict[datetime, str] = {}


def iso_often(ts: datetime) -> str:
    """:func:`iso`, remembered for UTC times: a ring's records share a few times per second.

    Only times whose tzinfo is ``UTC`` itself are remembered: equal datetimes in different
    zones compare equal, and are converted before printing, so this is only a fast path.
    """
    if ts.tzinfo is not UTC:
        return iso(ts)
    text = _ISO_SEEN.get(ts)
    if text is None:
        if len(_ISO_SEEN) >= 4096:
            _ISO_SEEN.clear()
        text = _ISO_SEEN[ts] = iso(ts)
    return text


def from_iso(text: str) -> datetime:
    """An ISO 8601 time as written by :func:`iso` (or with an offset) to aware UTC.

    Raises ValueError for text that is no such time, or a time without a zone.
    """
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r}")
    return dt.astimezone(UTC)


def seconds_iso(ts: datetime) -> str:
    """UTC to the second, for one-line logs: ``2026-11-26T15:01:35Z``."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact(ts: datetime) -> str:
    """UTC to the second with no separators, for file names: ``20261126T150135Z``."""
    return _utc(ts).strftime("%Y%m%dT%H%M%SZ")


def utc_text(ts: datetime) -> str:
    """For a person reading a report: ``2026-11-26 15:01:35 UTC``."""
    return _utc(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_date_time(ts: datetime) -> str:
    """For a line of logs.txt: ``2026-11-26 15:01:35`` in UTC (the file's header says so)."""
    t = iso_often(ts)
    return f"{t[:10]} {t[11:19]}"


def clock(ts: datetime, zone: tzinfo | None) -> str:
    """On screen: ``15:01:35`` in the server's zone."""
    return ts.astimezone(zone).strftime("%H:%M:%S")


def local_precise(ts: datetime, zone: tzinfo | None) -> str:
    """In the detail view: ``2026-11-26 16:01:35.120+01:00`` in the server's zone."""
    return ts.astimezone(zone).isoformat(sep=" ", timespec="milliseconds")
