"""Garbage collector settings for the long-running modes (console, demo, record)."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Move everything alive after start-up out of the collector's sight, and collect the
    young generation less often: at 10,000 lines/s the default threshold (700 allocations)
    walked the young objects hundreds of times a second."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10000, 10, 10)
