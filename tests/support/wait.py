"""Waiting for a condition instead of for an amount of time.

Tests assert that something *happens*, not how fast: on a loaded machine (``pytest -n auto`` on
two cores) everything is slower, so a condition is polled until it holds, with a deadline far
beyond what it needs when the machine is idle. Running out of time is a failure that says what
was awaited and, when given, what was seen last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 30.0
"""Default deadline, in seconds: generous, since reaching it means failing anyway."""

Why = str | Callable[[], object] | None


def _explain(what: str, within: float, why: Why) -> str:
    said = why() if callable(why) else why
    return f"not reached within {within:g} s: {what}" + (f" ({said})" if said else "")


def _name(predicate: Callable[[], object]) -> str:
    return getattr(predicate, "__qualname__", repr(predicate))


def wait_for(
    predicate: Callable[[], T],
    within: float = TIMEOUT,
    *,
    interval: float = 0.02,
    why: Why = None,
    what: str | None = None,
) -> T:
    """Call ``predicate`` until it returns something true; return that.

    Raises AssertionError after ``within`` seconds, naming ``what`` (else the predicate) and
    ``why`` (a string, or a callable called then, e.g. to show the state seen last).
    """
    deadline = time.monotonic() + within
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(_explain(what or _name(predicate), within, why))
        time.sleep(interval)


async def async_wait_for(
    predicate: Callable[[], T],
    within: float = TIMEOUT,
    *,
    interval: float = 0.02,
    why: Why = None,
    what: str | None = None,
) -> T:
    """:func:`wait_for` on the event loop: sleeps with ``asyncio.sleep`` between calls."""
    deadline = time.monotonic() + within
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(_explain(what or _name(predicate), within, why))
        await asyncio.sleep(interval)
