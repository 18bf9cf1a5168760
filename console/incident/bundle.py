"""Snapshot bundles: one directory holding everything needed to explain an outage later.

A bundle is written in a private directory with a random temporary name and renamed when
complete (:mod:`console.incident.private_dir`: the snapshot dir must be the user's own and
private, and no symlink is followed). The directory is 0700 and its files 0600: they hold
client addresses and URLs. If writing
fails part way (disk full), what was written is kept, the directory is renamed to
``NAME-PARTIAL`` and, where the disk allows, a ``PARTIAL.txt`` says what is missing.

A bundle of full rings holds tens of thousands of records and is written while the server is
in trouble: ``snapshot.json`` and ``logs.txt`` are streamed to their files a buffer at a time,
never built whole in memory (``logs.txt`` is filled while ``snapshot.json`` reads the records,
:class:`~console.incident.bundle_files.Side`), and JSON goes through the standard library's
C encoder.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from console import __version__
from console.core.events import LogRecord, StatusSample, SystemSample, fold
from console.core.recorder import Snapshot
from console.core.stack import FpmSample, MysqlSample
from console.core.text import xml_safe
from console.core.timefmt import compact, iso
from console.incident.bundle_files import BundleError, Make, Side, write_in
from console.incident.bundle_hosts import host_to_dict, hosts_json
from console.incident.private_dir import CannotCreate, UnsafeDir, open_private_dir
from console.incident.redact import redact_snapshot, redact_trigger, redact_value
from console.incident.report import logs_chunks
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
from console.incident.tally import Tally

SCHEMA_VERSION = 3
"""2: PHP-FPM pool samples (``fpm``) and MySQL samples (``mysql``); 3: every host of a console
that follows several (``hosts``, :mod:`console.incident.bundle_hosts`). Versions 1 and 2 still
open (:mod:`console.incident.bundle_read`)."""

Doc = dict[str, Any]


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


#: Samples or records encoded per piece handed to the writer: the records of a piece are made
#: and folded again together, so a smaller piece holds less at once (50 rather than 100: about
#: 0.9 MB less peak RSS for a full ring, bench/bundle_memory.py and a bundle in a thread).
_BATCH = 50


def snapshot_json(
    snap: Snapshot,
    win: Snapshot,
    trigger: Trigger,
    *,
    host: str,
    start: datetime,
    end: datetime,
    filter_desc: Mapping[str, Any] | None = None,
    also: Callable[[Sequence[LogRecord]], None] | None = None,
) -> Iterator[str]:
    """:func:`bundle_data`'s document as JSON text, in pieces to stream to a file.

    ``win`` is ``snap`` cut to the window: its samples and records go in. The layout keeps
    the document readable line by line: the header first, then each status, system, PHP-FPM
    and MySQL sample and each record on a line of its own, then the sources, counts and filter.
    ``also`` is given each piece of records once written, before their text and fields made
    for it are folded again (so that the whole window never holds them at once).
    """
    yield encode_json(_head(snap, trigger, host, start, end))[:-1]
    for key, items, to_json in _json_lists(win):
        yield f',\n"{key}": ['
        for i in range(0, len(items), _BATCH):
            piece = items[i : i + _BATCH]
            lines = [to_json(x) for x in piece]
            if key == "records":
                if also is not None:
                    also(piece)
                fold(piece)
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
    # One host: the records are read once, as snapshot.json is written: logs.txt's lines go
    # to their file and the report's counts are taken then, a piece at a time, and each piece
    # is folded again.
    once = not win.hosts
    tally = Tally((), trigger.at) if once else None
    logs = Side()

    def also(piece: Sequence[LogRecord]) -> None:
        for chunk in logs_chunks(piece):
            logs.write(chunk)
        if tally is not None:
            tally.add(piece)

    def report_md() -> str:  # written twice: as it is, and in report.html
        if not made:
            made.append(fleet_report(win, trigger, host=host, start=start, end=end, tally=tally))
        return made[0]

    files: list[tuple[str, Make]] = [
        (
            "snapshot.json",
            lambda: snapshot_json(
                snap,
                win,
                trigger,
                host=host,
                start=start,
                end=end,
                filter_desc=filter_desc,
                also=also if once else None,
            ),
        ),
        ("report.md", report_md),
        ("logs.txt", logs if once else lambda: fleet_logs(win.records, win.hosts)),
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
        return write_in(parent_fd, parent, bundle_name(trigger, host), files)
    finally:
        os.close(parent_fd)


__all__ = ["SCHEMA_VERSION", "BundleError", "bundle_data", "snapshot_json", "write_bundle"]
