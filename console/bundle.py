"""Snapshot bundles: one directory holding everything needed to explain an outage later.

A bundle is written under a temporary name (``.NAME.partial``) and renamed when complete.
The directory is 0700 and its files 0600: they hold client addresses and URLs. If writing
fails part way (disk full), what was written is kept, the directory is renamed to
``NAME-PARTIAL`` and, where the disk allows, a ``PARTIAL.txt`` says what is missing.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console import __version__
from console.recorder import Snapshot
from console.redact import redact_snapshot, redact_trigger, redact_value
from console.report import logs_text, make_report
from console.rules import Trigger
from console.serialize import (
    iso,
    jsonable,
    parse_ts,
    record_from_dict,
    record_to_dict,
    state_from_dict,
    state_to_dict,
    status_from_dict,
    status_to_dict,
    system_from_dict,
    system_to_dict,
)

SCHEMA_VERSION = 1


class BundleError(Exception):
    """Writing or reading a bundle failed; the message is for the user."""


def bundle_name(trigger: Trigger, host: str) -> str:
    stamp = trigger.at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe_host = re.sub(r"[^A-Za-z0-9.-]+", "_", host)[:60] or "host"
    reason = re.sub(r"[^A-Za-z0-9_-]+", "_", trigger.reason)[:40]
    return f"{stamp}-{safe_host}-{reason}"


def bundle_data(
    snap: Snapshot,
    trigger: Trigger,
    *,
    host: str,
    start: datetime,
    end: datetime,
    filter_desc: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``snapshot.json`` document for a snapshot cut to its window."""
    win = snap.window(start, end)
    return {
        "schema_version": SCHEMA_VERSION,
        "lamptop_version": __version__,
        "host": host,
        "created_at": iso(snap.taken_at),
        "trigger": {
            "kind": trigger.kind,
            "rule": trigger.rule,
            "at": iso(trigger.at),
            "message": trigger.message,
            "values": jsonable(trigger.values),
        },
        "window": {"start": iso(start), "end": iso(end)},
        "status": [status_to_dict(s) for s in win.status],
        "system": [system_to_dict(s) for s in win.system],
        "records": [record_to_dict(r) for r in win.records],
        "sources": {name: state_to_dict(st) for name, st in snap.states.items()},
        "source_history": [state_to_dict(st) for st in snap.state_history],
        "source_order": list(snap.sources),
        "counts": dict(snap.counts),
        "filter": dict(filter_desc or {}),
    }


def _write(path: Path, data: str | bytes) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(raw)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bundle(
    snap: Snapshot,
    trigger: Trigger,
    directory: str | Path,
    *,
    window: float = 300.0,
    tail: float = 0.0,
    host: str | None = None,
    filter_desc: Mapping[str, Any] | None = None,
    screen_svg: str | None = None,
    redact: bool = False,
) -> Path:
    """Write a bundle for ``snap`` and return its path; :class:`BundleError` on failure.

    The window reaches ``window`` seconds back before the trigger and ``tail`` seconds after.
    With ``redact``, client addresses, query strings and users are masked in every file
    (``screen_svg`` is the screen, which masks them itself).
    """
    host = host or socket.gethostname()
    start = trigger.at - timedelta(seconds=window)
    end = max(snap.taken_at, trigger.at + timedelta(seconds=tail))
    if redact:
        snap = redact_snapshot(snap.window(start, end))
        trigger = redact_trigger(trigger)
        filter_desc = redact_value(dict(filter_desc or {}))
    parent = Path(directory).expanduser()
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BundleError(f"cannot create {parent}: {exc.strerror}") from None
    name = bundle_name(trigger, host)
    final = _free_name(parent, name)
    temp = parent / f".{final.name}.partial"
    try:
        temp.mkdir(mode=0o700)
        os.chmod(temp, 0o700)
    except OSError as exc:
        raise BundleError(f"cannot write in {parent}: {exc.strerror}") from None

    doc = bundle_data(snap, trigger, host=host, start=start, end=end, filter_desc=filter_desc)
    win = snap.window(start, end)
    files: list[tuple[str, Any]] = [
        ("snapshot.json", lambda: json.dumps(doc, ensure_ascii=False, indent=1)),
        ("report.md", lambda: make_report(win, trigger, host=host, start=start, end=end)),
        ("logs.txt", lambda: logs_text(win.records)),
    ]
    if screen_svg is not None:
        files.append(("screen.svg", lambda: screen_svg))
    written: list[str] = []
    for fname, make in files:
        try:
            _write(temp / fname, make())
            written.append(fname)
        except OSError as exc:
            missing = [f for f, _ in files if f not in written]
            partial = _salvage(temp, parent, final, written, missing, exc)
            what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise BundleError(
                f"snapshot incomplete ({what}): kept {', '.join(written) or 'nothing'} in "
                f"{partial}; missing {', '.join(missing)}"
            ) from None
    try:
        os.rename(temp, final)
    except OSError as exc:
        raise BundleError(f"cannot finish {final}: {exc.strerror}; files are in {temp}") from None
    return final


def _free_name(parent: Path, name: str) -> Path:
    candidate = parent / name
    n = 2
    while candidate.exists() or (parent / f".{candidate.name}.partial").exists():
        candidate = parent / f"{name}-{n}"
        n += 1
    return candidate


def _salvage(
    temp: Path, parent: Path, final: Path, written: list[str], missing: list[str], exc: OSError
) -> Path:
    """Keep what was written under a name that says it is partial."""
    target = parent / f"{final.name}-PARTIAL"
    note = (
        "This snapshot is PARTIAL: writing stopped with "
        f"{exc.strerror or exc}.\nWritten: {', '.join(written) or 'nothing'}\n"
        f"Missing: {', '.join(missing)}\n"
    )
    try:
        (temp / (missing[0] if missing else "x")).unlink(missing_ok=True)
    except OSError:
        pass
    try:
        _write(temp / "PARTIAL.txt", note)
    except OSError:
        pass
    try:
        os.rename(temp, target)
        return target
    except OSError:
        return temp


# -- reading, for `lamptop open` -------------------------------------------------------------


def read_bundle(path: str | Path) -> tuple[Snapshot, dict[str, Any]]:
    """Load a bundle (its directory or its snapshot.json) as a Snapshot and its metadata."""
    p = Path(path).expanduser()
    doc_path = p / "snapshot.json" if p.is_dir() else p
    try:
        raw = doc_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"{p}: not a lamptop bundle (no snapshot.json)") from None
    except OSError as exc:
        raise BundleError(f"{doc_path}: cannot read: {exc.strerror}") from None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{doc_path}: damaged (not valid JSON: {exc.msg}, line {exc.lineno})"
        ) from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise BundleError(f"{doc_path}: not a lamptop snapshot (no schema_version)")
    version = doc["schema_version"]
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise BundleError(
            f"{doc_path}: written by a newer lamptop (schema {version!r}, "
            f"this one reads up to {SCHEMA_VERSION}): upgrade lamptop to open it"
        )
    try:
        records = tuple(record_from_dict(r, i) for i, r in enumerate(doc["records"], 1))
        snap = Snapshot(
            taken_at=parse_ts(doc["created_at"]),
            records=records,
            status=tuple(status_from_dict(s) for s in doc["status"]),
            system=tuple(system_from_dict(s) for s in doc["system"]),
            states={k: state_from_dict(v) for k, v in doc.get("sources", {}).items()},
            state_history=tuple(state_from_dict(s) for s in doc.get("source_history", [])),
            sources=tuple(doc.get("source_order", [])),
            counts={str(k): int(v) for k, v in doc.get("counts", {}).items()},
            total=len(records),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{doc_path}: damaged ({type(exc).__name__}: {exc})") from None
    if not snap.sources:
        names = dict.fromkeys(r.source for r in snap.records)
        snap = replace(snap, sources=tuple(names))
    return snap, doc
