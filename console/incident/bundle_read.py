"""Reading a bundle for ``lamptop open``: it may come from anyone, so nothing in it is trusted.

* Only a regular file is read, never through a symlink (``O_NOFOLLOW``, ``fstat``), without
  blocking (a FIFO is refused, not waited on), and at most :data:`MAX_BYTES` of it.
* Every string in it is cleaned (:func:`console.core.text.clean_value`) and every field the
  console uses is checked for its type, one by one: a damaged or crafted file gives one line
  naming the field (``records[3].level: expected one of debug, info, ..., got 7``), never a
  traceback, and the console never starts on it.
* Counts are bounded: records, samples, workers and processes per sample.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints

from console.core.events import (
    LEVEL_RANK,
    Level,
    LogRecord,
    ProcessRow,
    ProcInfo,
    ServerChild,
    ServiceMem,
    SourceState,
    SourceStatus,
    StatusSample,
    SystemSample,
    Worker,
)
from console.core.recorder import Snapshot
from console.core.text import clean_value
from console.core.timefmt import from_iso
from console.incident.bundle import SCHEMA_VERSION, BundleError

MAX_BYTES = 48 * 1024 * 1024
"""Largest snapshot.json read: a bundle of full default rings is about 10 MB, and parsing JSON
costs several times its size in memory on a box that may be short of it."""
MAX_RECORDS = 200_000
MAX_SAMPLES = 20_000
MAX_ROWS = 65_536
"""Worker or process rows in one status sample, the scoreboard's own bound."""
MAX_SCOREBOARD = 65_536

SOURCE_STATUSES = frozenset(get_args(get_type_hints(SourceState)["status"]))

T = TypeVar("T")


class _Invalid(Exception):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _fail(where: str, want: str, value: object) -> _Invalid:
    shown = repr(value) if isinstance(value, (int, float, bool)) or value is None else ""
    if isinstance(value, str):
        shown = repr(value[:40] + ("…" if len(value) > 40 else ""))
    return _Invalid(where, f"expected {want}, got {_kind_of(value)}{' ' + shown if shown else ''}")


def _get(d: Mapping[str, Any], key: str, where: str, default: Any = MISSING) -> Any:
    if key in d:
        return d[key]
    if default is MISSING:
        raise _Invalid(f"{where}.{key}" if where else key, "missing")
    return default


def _str(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise _fail(where, "text", v)
    return v


def _int(v: Any, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise _fail(where, "a whole number", v)
    return v


def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _fail(where, "an object", v)
    return v


def _list(v: Any, where: str, most: int) -> list[Any]:
    if not isinstance(v, list):
        raise _fail(where, "a list", v)
    if len(v) > most:
        raise _Invalid(where, f"{len(v)} items, more than the {most} lamptop reads")
    return v


def _time(v: Any, where: str) -> Any:
    try:
        return from_iso(_str(v, where))
    except ValueError:
        raise _Invalid(where, f"expected an ISO 8601 time with a zone, got {v!r:.50}") from None


def _scalar_ok(value: object, hint: object) -> bool:
    union = get_origin(hint) in (Union, types.UnionType)
    for a in get_args(hint) if union else (hint,):
        if a is type(None) and value is None:
            return True
        if isinstance(value, bool):
            if a is bool:
                return True
            continue
        if (a is int and isinstance(value, int)) or (a is str and isinstance(value, str)):
            return True
        if a is float and isinstance(value, (int, float)):
            return True
    return False


def _scalars(
    cls: type, d: Mapping[str, Any], where: str, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The scalar fields of dataclass ``cls`` read from ``d``, each checked against the type
    the class declares (fields in ``skip`` are the caller's)."""
    hints = get_type_hints(cls)
    kw: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        if f.name not in d:
            if f.default is MISSING and f.default_factory is MISSING:
                raise _Invalid(f"{where}.{f.name}", "missing")
            continue
        value = d[f.name]
        if not _scalar_ok(value, hints[f.name]):
            raise _fail(f"{where}.{f.name}", str(hints[f.name]).replace("|", "or"), value)
        kw[f.name] = float(value) if hints[f.name] is float else value
    return kw


def _flat(cls: type[T], v: Any, where: str) -> T:
    """A flat dataclass (scalars only) from an object, each field's type checked."""
    return cls(**_scalars(cls, _obj(v, where), where))


def _record(v: Any, where: str, seq: int) -> LogRecord:
    d = _obj(v, where)
    level = _get(d, "level", where)
    if not isinstance(level, str) or level not in LEVEL_RANK:
        raise _fail(f"{where}.level", f"one of {', '.join(LEVEL_RANK)}", level)
    lines = _list(_get(d, "lines", where, []), f"{where}.lines", 100_000)
    text = _str(_get(d, "text", where), f"{where}.text")
    ts_from_line = _get(d, "ts_from_line", where, True)
    if not isinstance(ts_from_line, bool):
        raise _fail(f"{where}.ts_from_line", "true/false", ts_from_line)
    return LogRecord(
        ts=_time(_get(d, "ts", where), f"{where}.ts"),
        source=_str(_get(d, "source", where), f"{where}.source"),
        kind=_str(_get(d, "kind", where), f"{where}.kind"),
        level=cast(Level, level),
        text=text,
        lines=tuple(_str(x, f"{where}.lines[{i}]") for i, x in enumerate(lines)),
        fields=_obj(_get(d, "fields", where, {}), f"{where}.fields"),
        raw=text,
        ts_from_line=ts_from_line,
        seq=seq,
    )


def record_from_dict(d: Any, seq: int = 0) -> LogRecord:
    """One record as snapshot.json holds it, checked; :class:`BundleError` naming the field."""
    try:
        return _record(clean_value(d), "record", seq)
    except (_Invalid, ValueError) as exc:
        raise BundleError(str(exc)) from None


def _state(v: Any, where: str) -> SourceState:
    d = _obj(v, where)
    status = _get(d, "status", where)
    if not isinstance(status, str) or status not in SOURCE_STATUSES:
        raise _fail(f"{where}.status", f"one of {', '.join(sorted(SOURCE_STATUSES))}", status)
    return SourceState(
        ts=_time(_get(d, "ts", where), f"{where}.ts"),
        source=_str(_get(d, "source", where), f"{where}.source"),
        kind=_str(_get(d, "kind", where, ""), f"{where}.kind"),
        status=cast(SourceStatus, status),
        message=_str(_get(d, "message", where, ""), f"{where}.message"),
        hint=_str(_get(d, "hint", where, ""), f"{where}.hint"),
        target=_str(_get(d, "target", where, ""), f"{where}.target"),
    )


def _counts(v: Any, where: str) -> dict[str, int]:
    return {str(k): _int(n, f"{where}.{k}") for k, n in _obj(v, where).items()}


_STATUS_OWN = frozenset({"ts", "fields", "scoreboard", "counts", "workers", "processes"})
_SYSTEM_OWN = frozenset({"ts", "services", "top", "rss_by_pid", "children"})


def _status(v: Any, where: str) -> StatusSample:
    d = _obj(v, where)
    board = _str(_get(d, "scoreboard", where, ""), f"{where}.scoreboard")
    if len(board) > MAX_SCOREBOARD:
        raise _Invalid(f"{where}.scoreboard", f"{len(board)} slots, more than {MAX_SCOREBOARD}")
    workers = _list(_get(d, "workers", where, []), f"{where}.workers", MAX_ROWS)
    procs = _list(_get(d, "processes", where, []), f"{where}.processes", MAX_ROWS)
    return StatusSample(
        ts=_time(_get(d, "ts", where), f"{where}.ts"),
        fields=_obj(_get(d, "fields", where, {}), f"{where}.fields"),
        scoreboard=board,
        counts=_counts(_get(d, "counts", where, {}), f"{where}.counts"),
        workers=tuple(_flat(Worker, w, f"{where}.workers[{i}]") for i, w in enumerate(workers)),
        processes=tuple(
            _flat(ProcessRow, p, f"{where}.processes[{i}]") for i, p in enumerate(procs)
        ),
        **_scalars(StatusSample, {"url": "", **d}, where, _STATUS_OWN),
    )


def _system(v: Any, where: str) -> SystemSample:
    d = _obj(v, where)
    services = _list(_get(d, "services", where, []), f"{where}.services", MAX_ROWS)
    top = _list(_get(d, "top", where, []), f"{where}.top", MAX_ROWS)
    kids = _list(_get(d, "children", where, []), f"{where}.children", MAX_ROWS)
    rss = _obj(_get(d, "rss_by_pid", where, {}), f"{where}.rss_by_pid")
    if len(rss) > MAX_ROWS:
        raise _Invalid(f"{where}.rss_by_pid", f"more than {MAX_ROWS} processes")
    by_pid: dict[int, int] = {}
    for k, n in rss.items():
        if not k.isdigit():
            raise _fail(f"{where}.rss_by_pid", "process ids as keys", k)
        by_pid[int(k)] = _int(n, f"{where}.rss_by_pid.{k}")
    return SystemSample(
        ts=_time(_get(d, "ts", where), f"{where}.ts"),
        services=tuple(
            _flat(ServiceMem, s, f"{where}.services[{i}]") for i, s in enumerate(services)
        ),
        top=tuple(_flat(ProcInfo, p, f"{where}.top[{i}]") for i, p in enumerate(top)),
        children=tuple(_flat(ServerChild, c, f"{where}.children[{i}]") for i, c in enumerate(kids)),
        rss_by_pid=by_pid,
        **_scalars(SystemSample, d, where, _SYSTEM_OWN),
    )


def _items(
    doc: Mapping[str, Any], key: str, most: int, make: Callable[[Any, str], T]
) -> tuple[T, ...]:
    values = _list(_get(doc, key, "", []), key, most)
    return tuple(make(v, f"{key}[{i}]") for i, v in enumerate(values))


def _open_json(path: Path) -> bytes:
    """The bytes of a bundle's snapshot.json: a regular file, no symlink followed inside the
    bundle, read without blocking and at most :data:`MAX_BYTES`."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    dir_fd = None
    try:
        try:
            dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        except NotADirectoryError:
            fd = os.open(path, flags)
            shown = str(path)
        else:
            fd = os.open("snapshot.json", flags, dir_fd=dir_fd)
            shown = str(path / "snapshot.json")
    except FileNotFoundError:
        raise BundleError(f"{path}: not a lamptop bundle (no snapshot.json)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BundleError(f"{path}: snapshot.json is a symlink: not followed") from None
        raise BundleError(f"{path}: cannot read: {exc.strerror}") from None
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BundleError(f"{shown}: not a regular file")
        if st.st_size > MAX_BYTES:
            raise BundleError(
                f"{shown}: {st.st_size // (1 << 20)} MB, more than the "
                f"{MAX_BYTES >> 20} MB a bundle can hold"
            )
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > MAX_BYTES:
                raise BundleError(f"{shown}: larger than {MAX_BYTES >> 20} MB")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise BundleError(f"{shown}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def read_bundle(path: str | Path) -> tuple[Snapshot, dict[str, Any]]:
    """Load a bundle (its directory or its snapshot.json) as a Snapshot and its metadata,
    cleaned and checked; :class:`BundleError` with one line saying what is wrong."""
    p = Path(path).expanduser()
    raw = _open_json(p)
    try:
        loaded = json.loads(raw.decode("utf-8", errors="replace"))
        doc = clean_value(loaded)
    except json.JSONDecodeError as exc:
        raise BundleError(f"{p}: damaged (not valid JSON: {exc.msg}, line {exc.lineno})") from None
    except (RecursionError, ValueError):
        raise BundleError(f"{p}: damaged (nested too deeply)") from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise BundleError(f"{p}: not a lamptop snapshot (no schema_version)")
    version = doc["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version > SCHEMA_VERSION:
        raise BundleError(
            f"{p}: written by a newer lamptop (schema {version!r:.20}, "
            f"this one reads up to {SCHEMA_VERSION}): upgrade lamptop to open it"
        )
    try:
        snap = _snapshot(doc)
    except _Invalid as exc:
        raise BundleError(f"{p}: invalid: {exc}") from None
    return snap, doc


def _snapshot(doc: dict[str, Any]) -> Snapshot:
    values = _list(_get(doc, "records", ""), "records", MAX_RECORDS)
    records = tuple(_record(r, f"records[{i}]", i + 1) for i, r in enumerate(values))
    trigger = _obj(_get(doc, "trigger", "", {}), "trigger")
    for key in ("kind", "message", "at"):
        if key in trigger:
            _str(trigger[key], f"trigger.{key}")
    if trigger.get("rule") is not None:
        _str(trigger["rule"], "trigger.rule")
    _obj(trigger.get("values", {}), "trigger.values")
    order = _list(_get(doc, "source_order", "", []), "source_order", 10_000)
    snap = Snapshot(
        taken_at=_time(_get(doc, "created_at", ""), "created_at"),
        records=records,
        status=_items(doc, "status", MAX_SAMPLES, _status),
        system=_items(doc, "system", MAX_SAMPLES, _system),
        states={
            str(k): _state(v, f"sources.{k}")
            for k, v in _obj(_get(doc, "sources", "", {}), "sources").items()
        },
        state_history=_items(doc, "source_history", MAX_SAMPLES, _state),
        sources=tuple(_str(s, f"source_order[{i}]") for i, s in enumerate(order)),
        counts=_counts(_get(doc, "counts", "", {}), "counts"),
        total=len(records),
    )
    if not snap.sources:
        names = dict.fromkeys(r.source for r in snap.records)
        snap = dc_replace(snap, sources=tuple(names))
    return snap
