"""The checks of values read from a bundle, now in :mod:`console.core.check` (the stream's
reader, at the sources' layer, uses them too); kept here under their old names."""

from __future__ import annotations

from console.core.check import (
    Invalid,
    T,
    as_int,
    as_list,
    as_obj,
    as_text,
    as_time,
    count_map,
    fail,
    flat,
    get,
    scalars,
)

__all__ = [
    "Invalid",
    "T",
    "as_int",
    "as_list",
    "as_obj",
    "as_text",
    "as_time",
    "count_map",
    "fail",
    "flat",
    "get",
    "scalars",
]
