"""Reading the PHP-FPM and MySQL samples of a bundle (schema version 2) for ``lamptop open``.

Like the rest of :mod:`console.incident.bundle_read`: the document's strings were cleaned
(``clean_value``) before these run, every field is checked with an error that names it
(``fpm[0].processes[2].pid: expected int, got text '12'``), counts of rows are bounded, and so
is each text (a query or a URI longer than :data:`MAX_TEXT` is cut, and says so). A version 1
bundle has neither list: it opens with none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any, TypeVar

from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread
from console.core.text import bound
from console.incident.bundle_check import (
    Invalid,
    as_int,
    as_list,
    as_obj,
    as_time,
    fail,
    flat,
    get,
    scalars,
)

MAX_ROWS = 65_536
"""Processes of one pool, or processlist rows of one server, in one sample."""
MAX_STATUS = 1024
"""``SHOW GLOBAL STATUS`` counters in one sample (lamptop keeps ten)."""
MAX_TEXT = 65_536
"""Characters kept of one text (a query, a URI); the rest is cut with a marker."""

_FPM_OWN = frozenset({"ts", "processes"})
_PROCESS_OWN = frozenset({"tcp"})
MAX_TCP = 64
"""TCP connections of one process kept from a bundle."""
_MYSQL_OWN = frozenset({"ts", "status", "threads"})

V = TypeVar("V")


def _checked(value: V, where: str) -> V:
    """``value`` (a flat dataclass) with every text bounded and every number finite."""
    cut: dict[str, Any] = {}
    for f in fields(value):  # type: ignore[arg-type]
        x = getattr(value, f.name)
        if isinstance(x, str) and len(x) > MAX_TEXT:
            cut[f.name] = bound(x, MAX_TEXT)
        elif isinstance(x, float) and not math.isfinite(x):
            raise fail(f"{where}.{f.name}", "a finite number", x)
    return replace(value, **cut) if cut else value  # type: ignore[type-var]


def fpm_from_dict(v: Any, where: str) -> FpmSample:
    """One pool's sample as snapshot.json holds it, checked."""
    d = as_obj(v, where)
    procs = as_list(get(d, "processes", where, []), f"{where}.processes", MAX_ROWS)
    processes = tuple(_process(p, f"{where}.processes[{i}]") for i, p in enumerate(procs))
    sample = FpmSample(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        processes=processes,
        **scalars(FpmSample, d, where, _FPM_OWN),
    )
    return _checked(sample, where)


def _process(v: Any, where: str) -> FpmProcess:
    """One process, its TCP connections (``[[local port, "address:port"], ...]``) checked."""
    d = as_obj(v, where)
    tcp: list[tuple[int, str]] = []
    for i, pair in enumerate(as_list(d.get("tcp", []), f"{where}.tcp", MAX_TCP)):
        at = f"{where}.tcp[{i}]"
        items = as_list(pair, at, 2)
        if len(items) != 2 or not isinstance(items[1], str):
            raise fail(at, "a [port, address] pair", pair)
        tcp.append((as_int(items[0], f"{at}[0]"), bound(items[1], 64)))
    process = FpmProcess(tcp=tuple(tcp), **scalars(FpmProcess, d, where, _PROCESS_OWN))
    return _checked(process, where)


def _status(v: Any, where: str) -> dict[str, int]:
    d = as_obj(v, where)
    if len(d) > MAX_STATUS:
        raise Invalid(where, f"{len(d)} counters, more than the {MAX_STATUS} lamptop reads")
    return {k: as_int(n, f"{where}.{k}") for k, n in d.items()}


def mysql_from_dict(v: Any, where: str) -> MysqlSample:
    """One server's sample as snapshot.json holds it, checked."""
    d = as_obj(v, where)
    rows = as_list(get(d, "threads", where, []), f"{where}.threads", MAX_ROWS)
    threads = tuple(
        _checked(flat(MysqlThread, t, f"{where}.threads[{i}]"), f"{where}.threads[{i}]")
        for i, t in enumerate(rows)
    )
    sample = MysqlSample(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        status=_status(get(d, "status", where, {}), f"{where}.status"),
        threads=threads,
        **scalars(MysqlSample, d, where, _MYSQL_OWN),
    )
    return _checked(sample, where)


def stack_lists(
    doc: Mapping[str, Any], most: int
) -> tuple[tuple[FpmSample, ...], tuple[MysqlSample, ...]]:
    """The ``fpm`` and ``mysql`` samples of a bundle's document, each list at most ``most``
    long; both empty for a version 1 bundle."""
    fpm = as_list(get(doc, "fpm", "", []), "fpm", most)
    mysql = as_list(get(doc, "mysql", "", []), "mysql", most)
    return (
        tuple(fpm_from_dict(s, f"fpm[{i}]") for i, s in enumerate(fpm)),
        tuple(mysql_from_dict(s, f"mysql[{i}]") for i, s in enumerate(mysql)),
    )
