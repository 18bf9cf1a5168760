"""Snapshot bundles: one directory holding everything needed to explain an outage later.

A bundle is written in a private directory with a random temporary name and renamed when
complete (:mod:`console.incident.private_dir`: the snapshot dir must be the user's own and
private, and no symlink is followed). The directory is 0700 and its files 0600: they hold
client addresses and URLs. If writing
fails part way (disk full), what was written is kept, the directory is renamed to
``NAME-PARTIAL`` and, where the disk allows, a ``PARTIAL.txt`` says what is missing.

A bundle of full rings holds tens of thousands of records and is written while the server is
in trouble: ``snapshot.json`` and ``logs.txt`` are streamed to their files a buffer at a time,
never built whole in memory, and JSON goes through the standard library's C encoder.
"""

from __future__ import annotations

import errno
import os
import re
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from console import __version__
from console.core.events import StatusSample, SystemSample, fold
from console.core.recorder import Snapshot
from console.core.stack import FpmSample, MysqlSample
from console.core.text import xml_safe
from console.core.timefmt import compact, iso
from console.incident.bundle_hosts import host_to_dict, hosts_json
from console.incident.private_dir import (
    CannotCreate,
    UnsafeDir,
    exists,
    make_temp_dir,
    open_private_dir,
    write_new,
)
from console.incident.redact import redact_snapshot, redact_trigger, redact_value
from console.incident.report_hosts import fleet_logs, fleet_report
from console.incident.report_html import make_report_html
from console.incident.rules import Trigger
from console.incident.serialize import (
    encode_json,
    fpm_to_dict,
    jsonable,
    mysql_to_dict,
    record_json,
    record_to_dict,
    state_to_dict,
    status_to_dict,
    system_to_dict,
)

SCHEMA_VERSION = 3
"""2: PHP-FPM pool samples (``fpm``) and MySQL samples (``mysql``); 3: every host of a console
that follows several (``hosts``, :mod:`console.incident.bundle_hosts`). Versions 1 and 2 still
open (:mod:`console.incident.bundle_read`)."""

Doc = dict[str, Any]


class BundleError(Exception):
    """Writing or reading a bundle failed; the message is for the user."""


def bundle_name(trigger: Trigger, host: str) -> str:
    stamp = compact(trigger.at)
    safe_host = re.sub(r"[^A-Za-z0-9.-]+", "_", host)[:60] or "host"
    reason = re.sub(r"[^A-Za-z0-9_-]+", "_", trigger.reason)[:40]
    return f"{stamp}-{safe_host}-{reason}"


def _head(snap: Snapshot, trigger: Trigger, host: str, start: datetime, end: datetime) -> Doc:
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
    }


def _lists(win: Snapshot) -> list[tuple[str, Sequence[Any], Callable[[Any], Doc]]]:
    """The long parts of the document, in their order: name, items, item to dict."""
    return [
        ("status", win.status, status_to_dict),
        ("system", win.system, system_to_dict),
        ("fpm", win.fpm, fpm_to_dict),
        ("mysql", win.mysql, mysql_to_dict),
        ("records", win.records, record_to_dict),
    ]


def _status_json(s: StatusSample) -> str:
    return encode_json(status_to_dict(s))


def _system_json(s: SystemSample) -> str:
    return encode_json(system_to_dict(s))


def _fpm_json(s: FpmSample) -> str:
    return encode_json(fpm_to_dict(s))


def _mysql_json(s: MysqlSample) -> str:
    return encode_json(mysql_to_dict(s))


def _json_lists(win: Snapshot) -> list[tuple[str, Sequence[Any], Callable[[Any], str]]]:
    """:func:`_lists` with each item's JSON text instead of its dict."""
    return [
        ("status", win.status, _status_json),
        ("system", win.system, _system_json),
        ("fpm", win.fpm, _fpm_json),
        ("mysql", win.mysql, _mysql_json),
        ("records", win.records, record_json),
    ]


def _tail(snap: Snapshot, filter_desc: Mapping[str, Any] | None) -> Doc:
    return {
        "sources": {name: state_to_dict(st) for name, st in snap.states.items()},
        "source_history": [state_to_dict(st) for st in snap.state_history],
        "source_order": list(snap.sources),
        "counts": dict(snap.counts),
        "filter": dict(filter_desc or {}),
    }


def bundle_data(
    snap: Snapshot,
    trigger: Trigger,
    *,
    host: str,
    start: datetime,
    end: datetime,
    filter_desc: Mapping[str, Any] | None = None,
) -> Doc:
    """The ``snapshot.json`` document for a snapshot cut to its window, as one dict."""
    doc = _head(snap, trigger, host, start, end)
    for key, items, to_dict in _lists(snap.window(start, end)):
        doc[key] = [to_dict(x) for x in items]
    hosts = snap.window(start, end).hosts
    if hosts:
        doc["hosts"] = [host_to_dict(h) for h in hosts]
    doc.update(_tail(snap, filter_desc))
    return doc


#: Samples or records encoded per piece handed to the writer.
_BATCH = 100


def snapshot_json(
    snap: Snapshot,
    win: Snapshot,
    trigger: Trigger,
    *,
    host: str,
    start: datetime,
    end: datetime,
    filter_desc: Mapping[str, Any] | None = None,
) -> Iterator[str]:
    """:func:`bundle_data`'s document as JSON text, in pieces to stream to a file.

    ``win`` is ``snap`` cut to the window: its samples and records go in. The layout keeps
    the document readable line by line: the header first, then each status, system, PHP-FPM
    and MySQL sample and each record on a line of its own, then the sources, counts and filter.
    """
    yield encode_json(_head(snap, trigger, host, start, end))[:-1]
    for key, items, to_json in _json_lists(win):
        yield f',\n"{key}": ['
        for i in range(0, len(items), _BATCH):
            lines = [to_json(x) for x in items[i : i + _BATCH]]
            yield ("\n" if i == 0 else ",\n") + ",\n".join(lines)
        yield "\n]"
    yield from hosts_json(win)
    yield ",\n" + encode_json(_tail(snap, filter_desc))[1:] + "\n"


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
    try:
        return _write_bundle(
            snap,
            trigger,
            directory,
            window=window,
            tail=tail,
            host=host,
            filter_desc=filter_desc,
            screen_svg=screen_svg,
            redact=redact,
        )
    finally:
        # Writing made the text and fields of every lazy record of the window: the ring
        # would keep them all until the records drop out of it.
        fold(snap.records)


def _write_bundle(
    snap: Snapshot,
    trigger: Trigger,
    directory: str | Path,
    *,
    window: float,
    tail: float,
    host: str | None,
    filter_desc: Mapping[str, Any] | None,
    screen_svg: str | None,
    redact: bool,
) -> Path:
    host = host or socket.gethostname()
    start = trigger.at - timedelta(seconds=window)
    end = max(snap.taken_at, trigger.at + timedelta(seconds=tail))
    win = snap.window(start, end)
    if redact:
        win = redact_snapshot(win)
        trigger = redact_trigger(trigger)
        filter_desc = redact_value(dict(filter_desc or {}))
    made: list[str] = []

    def report_md() -> str:  # written twice: as it is, and in report.html
        if not made:
            made.append(fleet_report(win, trigger, host=host, start=start, end=end))
        return made[0]

    files: list[tuple[str, Callable[[], str | Iterable[str]]]] = [
        (
            "snapshot.json",
            lambda: snapshot_json(
                snap, win, trigger, host=host, start=start, end=end, filter_desc=filter_desc
            ),
        ),
        ("report.md", report_md),
        ("logs.txt", lambda: fleet_logs(win.records, win.hosts)),
        (
            "report.html",
            lambda: make_report_html(
                report_md(),
                win,
                trigger,
                host=host,
                start=start,
                end=end,
            ),
        ),
    ]
    if screen_svg is not None:
        svg = xml_safe(screen_svg)
        files.append(("screen.svg", lambda: svg))
    parent = Path(directory).expanduser()
    try:
        parent_fd = open_private_dir(parent)
    except UnsafeDir as exc:
        raise BundleError(f"not saved: {exc}") from None
    except CannotCreate as exc:
        raise BundleError(str(exc)) from None
    except OSError as exc:
        raise BundleError(f"cannot use {parent}: {exc.strerror or exc}") from None
    try:
        return _write_in(parent_fd, parent, bundle_name(trigger, host), files)
    finally:
        os.close(parent_fd)


def _write_in(
    parent_fd: int,
    parent: Path,
    name: str,
    files: list[tuple[str, Callable[[], str | Iterable[str]]]],
) -> Path:
    """Write ``files`` in a new private directory of ``parent_fd`` and give it a free name
    from ``name``; a failure keeps what was written as ``NAME-PARTIAL``."""
    try:
        temp, temp_fd = make_temp_dir(parent_fd, name)
    except OSError as exc:
        raise BundleError(f"cannot write in {parent}: {exc.strerror or exc}") from None
    written: list[str] = []
    try:
        for fname, make in files:
            try:
                write_new(temp_fd, fname, make())
                written.append(fname)
            except OSError as exc:
                missing = [f for f, _ in files if f not in written]
                kept = _salvage(
                    parent_fd,
                    temp,
                    temp_fd,
                    _free_name(parent_fd, f"{name}-PARTIAL"),
                    written,
                    missing,
                    exc,
                )
                what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
                raise BundleError(
                    f"snapshot incomplete ({what}): kept {', '.join(written) or 'nothing'} in "
                    f"{parent / kept}; missing {', '.join(missing)}"
                ) from None
    finally:
        os.close(temp_fd)
    final = _free_name(parent_fd, name)
    try:
        os.rename(temp, final, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
    except OSError as exc:
        raise BundleError(
            f"cannot finish {parent / final}: {exc.strerror}; files are in {parent / temp}"
        ) from None
    return parent / final


def _free_name(parent_fd: int, name: str) -> str:
    candidate, n = name, 2
    while exists(parent_fd, candidate):
        candidate = f"{name}-{n}"
        n += 1
    return candidate


def _salvage(
    parent_fd: int,
    temp: str,
    temp_fd: int,
    target: str,
    written: list[str],
    missing: list[str],
    exc: OSError,
) -> str:
    """Keep what was written under a name that says it is partial; returns the name kept."""
    note = (
        "This snapshot is PARTIAL: writing stopped with "
        f"{exc.strerror or exc}.\nWritten: {', '.join(written) or 'nothing'}\n"
        f"Missing: {', '.join(missing)}\n"
    )
    try:
        os.unlink(missing[0] if missing else "x", dir_fd=temp_fd)
    except OSError:
        pass
    try:
        write_new(temp_fd, "PARTIAL.txt", note)
    except OSError:
        pass
    try:
        os.rename(temp, target, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
        return target
    except OSError:
        return temp
