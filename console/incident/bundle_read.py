"""Reading a bundle for ``lamptop open``: it may come from anyone, so nothing in it is trusted.

* Only a regular file is read, never through a symlink (``O_NOFOLLOW``, ``fstat``), without
  blocking (a FIFO is refused, not waited on), and at most :data:`MAX_BYTES` of it.
* Every string in it is cleaned (:func:`console.core.text.clean_value`) and every field the
  console uses is checked for its type, one by one: a damaged or crafted file gives one line
  naming the field (``records[3].level: expected one of debug, info, ..., got 7``), never a
  traceback, and the console never starts on it.
* Counts are bounded: records, samples, workers and processes per sample.
* Version 1 bundles (before the PHP-FPM and MySQL samples) open too, with none of those
  (:mod:`console.incident.bundle_stack` reads them); so do version 2 bundles (before the
  hosts of a console that follows several, :mod:`console.incident.bundle_hosts`).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any

from console.core.check import Invalid, T, as_list, as_obj, as_text, as_time, count_map, get
from console.core.decode import MAX_SCOREBOARD as MAX_SCOREBOARD
from console.core.decode import SOURCE_STATUSES as SOURCE_STATUSES
from console.core.decode import record_from as _record
from console.core.decode import state_from as _state
from console.core.decode import status_from as _status
from console.core.decode import system_from as _system
from console.core.events import LogRecord
from console.core.recorder import FPM_PER_SAMPLE, Snapshot
from console.core.text import clean_value
from console.incident.bundle import SCHEMA_VERSION, BundleError
from console.incident.bundle_hosts import hosts_from_doc
from console.incident.bundle_stack import stack_lists

MAX_BYTES = 48 * 1024 * 1024
"""Largest snapshot.json read: a bundle of full default rings is about 10 MB, and parsing JSON
costs several times its size in memory on a box that may be short of it."""
MAX_RECORDS = 200_000
MAX_SAMPLES = 20_000


def record_from_dict(d: Any, seq: int = 0) -> LogRecord:
    """One record as snapshot.json holds it, checked; :class:`BundleError` naming the field."""
    try:
        return _record(clean_value(d), "record", seq)
    except (Invalid, ValueError) as exc:
        raise BundleError(str(exc)) from None


def _items(
    doc: Mapping[str, Any], key: str, most: int, make: Callable[[Any, str], T]
) -> tuple[T, ...]:
    values = as_list(get(doc, key, "", []), key, most)
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
    except Invalid as exc:
        raise BundleError(f"{p}: invalid: {exc}") from None
    return snap, doc


def _snapshot(doc: dict[str, Any]) -> Snapshot:
    values = as_list(get(doc, "records", ""), "records", MAX_RECORDS)
    records = tuple(_record(r, f"records[{i}]", i + 1) for i, r in enumerate(values))
    trigger = as_obj(get(doc, "trigger", "", {}), "trigger")
    for key in ("kind", "message", "at"):
        if key in trigger:
            as_text(trigger[key], f"trigger.{key}")
    if trigger.get("rule") is not None:
        as_text(trigger["rule"], "trigger.rule")
    as_obj(trigger.get("values", {}), "trigger.values")
    order = as_list(get(doc, "source_order", "", []), "source_order", 10_000)
    fpm, mysql = stack_lists(doc, MAX_SAMPLES * FPM_PER_SAMPLE)
    taken_at = as_time(get(doc, "created_at", ""), "created_at")
    hosts = hosts_from_doc(
        doc,
        status=_status,
        system=_system,
        state=_state,
        most_samples=MAX_SAMPLES,
        taken_at=taken_at,
    )
    snap = Snapshot(
        taken_at=taken_at,
        records=records,
        status=_items(doc, "status", MAX_SAMPLES, _status),
        system=_items(doc, "system", MAX_SAMPLES, _system),
        states={
            str(k): _state(v, f"sources.{k}")
            for k, v in as_obj(get(doc, "sources", "", {}), "sources").items()
        },
        state_history=_items(doc, "source_history", MAX_SAMPLES, _state),
        sources=tuple(as_text(s, f"source_order[{i}]") for i, s in enumerate(order)),
        counts=count_map(get(doc, "counts", "", {}), "counts"),
        total=len(records),
        fpm=fpm,
        mysql=mysql,
        hosts=hosts,
    )
    if not snap.sources:
        names = dict.fromkeys(r.source for r in snap.records)
        snap = dc_replace(snap, sources=tuple(names))
    return snap
