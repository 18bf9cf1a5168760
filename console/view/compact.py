"""One log record in the width of a row, by kind, keeping the part that carries the meaning.

A plain cut keeps a line's start: ``PHP Fatal error:  Allowed memory size of 134217…`` loses
the script and line, ``GET /app/product…`` makes product.php and products.php alike. Each
kind has a ladder of forms here, fullest first; a row shows the first that fits:

* access lines: client, request, size, duration (the status is in the level column), the URL
  cut in its middle (``/app/products.php?cat=7…id=3``);
* PHP messages, wherever they were logged (PHP's error_log, Apache's error log, proxy_fcgi's
  ``AH01071: Got error 'PHP message: ...'``, php-fpm's ``[pool www] child 12: PHP ...``):
  ``PHP Fatal: memory 128M exhausted report.php:41``, the message cut before the location;
* php-fpm's own messages: the pool, the limit or the slow request;
* MySQL slow-log entries: time, schema, user, the query with its select list elided;
* anything else: long paths cut to their last folder and file name, then the end cut.

``enter`` still shows the whole record (widgets/detail.py). Pure: no Textual, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from console.core.events import LogRecord
from console.view.compact_forms import (
    LOOK_TAIL,
    access_form,
    bounded,
    fpm_access_form,
    plain,
    request_row,
    slow_form,
)
from console.view.elide import cells, cut_end, first_fit, fit_parts, short_names, shorten_paths
from console.view.filters import redact
from console.view.metrics import human_bytes


def compact_line(text: str, width: int, *, redacted: bool = False) -> str:
    """Free text (a message, a stack frame, a query line) in ``width`` cells: whole if it
    fits, else with its paths cut to the last folder and file name, else cut at the end."""
    text = plain(bounded(text))
    if redacted:
        text = redact(text)
    if cells(text) <= width:
        return text
    return first_fit([shorten_paths(text, 1), shorten_paths(text, 0)], width)


def compact_record(rec: LogRecord, width: int, *, redacted: bool = False) -> str:
    """The first line of ``rec`` as its log pane row shows it, in at most ``width`` cells."""
    if width <= 0:
        return ""
    kind = rec.kind
    form: str | None = None
    if kind == "apache-access":
        form = access_form(rec.fields, width, redacted=redacted)
    elif kind == "php-fpm-access":
        form = fpm_access_form(rec.fields, width, redacted=redacted)
    elif kind == "mysql-slow":
        form = slow_form(rec.fields, width, redacted=redacted)
    if form is None:
        text = plain(bounded(rec.text))
        if redacted:
            text = redact(text)
        if kind == "php-fpm":
            form = fpm_form(text, rec.fields, width)
        if form is None:
            form = php_form(text, width)
        if form is None:
            form = compact_line(text, width)
    return cut_end(form, width)


# -- PHP ---------------------------------------------------------------------------------------
_PHP = re.compile(r"PHP (?P<label>[A-Z][A-Za-z ]{2,30}?):\s+(?P<msg>.*)", re.DOTALL)
_FCGI = re.compile(r"(?:AH01071: )?Got error 'PHP message: (?P<php>.*?)'?$", re.DOTALL)
_FPM_CHILD = re.compile(r"\[pool (?P<pool>[^\]]{1,64})\] child (?P<pid>\d+)(?::|,) ?")
_LOCATION = re.compile(r"(?P<file>\S+?)(?: on line |:)(?P<line>\d+)\s*")
_MEMORY = re.compile(
    r"Allowed memory size(?: of (?P<n>\d+) bytes)? exhausted(?: \(tried to allocate \d+ bytes\))?"
)
#: ``Uncaught PDOException: `` before an exception's message: dropped when the row is short.
_UNCAUGHT = re.compile(r"Uncaught (?P<cls>[\w\\]{1,120}): ")
_TIME_LIMIT = re.compile(r"Maximum execution time of (?P<n>[\d.]+) seconds? exceeded")
#: Words between a stream function and its reason: ``fopen(/x): Failed to open stream: …``.
_STREAM = re.compile(r"(?<=\)): Failed to open stream(?=: )")
_LABELS = {"fatal error": "Fatal", "parse error": "Parse error", "warning": "Warning"}


def php_parts(text: str) -> tuple[str, str, str, str] | None:
    """``(label, message, file, line)`` of a PHP message (``file`` and ``line`` empty when it
    names none), the message in its short form; None for other text."""
    m = _FCGI.match(text)
    if m is not None:
        text = m["php"].split("; PHP message: ", 1)[0]
    m = _PHP.match(text)
    if m is None:
        return None
    word = m["label"].strip()
    label = _LABELS.get(word.lower(), word.removesuffix(" error"))
    msg, file, line = m["msg"], "", ""
    at = msg.rfind(" in ", max(0, len(msg) - LOOK_TAIL))
    if at >= 0:
        loc = _LOCATION.fullmatch(msg, at + 4)
        if loc is not None:
            msg, file, line = msg[:at].rstrip(" ,"), loc["file"], loc["line"]
    msg = " ".join(msg.split())
    msg = _MEMORY.sub(
        lambda m: f"memory {human_bytes(int(m['n']))} exhausted" if m["n"] else "out of memory",
        msg,
    )
    msg = _TIME_LIMIT.sub(lambda m: f"time limit {m['n']}s exceeded", msg)
    return label, msg, file, line


def php_form(text: str, width: int, prefix: str = "", short_prefix: str = "") -> str | None:
    """``PHP Fatal: memory 128M exhausted report.php:41``: the message cut before the script
    and line when it does not fit; ``prefix`` (a php-fpm pool and child) shortened to
    ``short_prefix`` first. None when ``text`` is not a PHP message."""
    parts = php_parts(text)
    if parts is None:
        return None
    label, msg, file, line = parts
    short_prefix = short_prefix or prefix
    head = f"PHP {label}: "
    where = f" {file}:{line}" if file else ""
    short_where = f" {file.replace(chr(92), '/').rsplit('/', 1)[-1] or file}:{line}" if file else ""
    tidy = _STREAM.sub("", msg)
    classed = _UNCAUGHT.sub(r"\g<cls>: ", tidy, count=1)
    bare = _UNCAUGHT.sub("", tidy, count=1)  # the exception's own words, its class in enter
    for candidate in (
        f"{prefix}{head}{msg}{where}",
        f"{short_prefix}{head}{msg}{where}",
        f"{short_prefix}{head}{msg}{short_where}",
        f"{short_prefix}{head}{shorten_paths(tidy, 1)}{short_where}",
        f"{short_prefix}{head}{shorten_paths(classed, 1)}{short_where}",
        f"{short_prefix}{head}{shorten_paths(bare, 1)}{short_where}",
    ):
        if cells(candidate) <= width:
            return candidate
    # the message cut in its middle: its start says what failed, its end why
    return fit_parts(
        f"{short_prefix}{head}", shorten_paths(bare, 0), short_where, width, keep_end=0.45
    )


# -- php-fpm -----------------------------------------------------------------------------------
def _seconds(value: object) -> str:
    return f"{value:.1f}s" if isinstance(value, int | float) else "?s"


def fpm_form(text: str, fields: Mapping[str, Any], width: int) -> str | None:
    """php-fpm's log: a PHP message of a child, or the master's word on a pool."""
    if cells(text) <= width:
        return text
    child = _FPM_CHILD.match(text)
    if child is not None and "PHP " in text[child.end() : child.end() + 8]:
        pool, pid = child["pool"], child["pid"]
        return php_form(text[child.end() :], width, f"[pool {pool}] child {pid}: ", f"{pool}: ")
    pool = str(fields.get("pool") or "")
    if not pool:
        return None
    event = fields.get("event")
    if event == "max_children":
        n = fields.get("max_children", "?")
        setting = "pm.max_children" if "pm.max_children" in text else "max_children"
        return first_fit(
            [
                f"[pool {pool}] server reached {setting} setting ({n})",
                f"{pool}: reached {setting} ({n})",
            ],
            width,
        )
    if event in ("slow", "timeout"):
        what = "too slow" if event == "slow" else "timed out"
        request = str(fields.get("request") or fields.get("script") or "?")
        method, _, url = request.partition(" ")
        if not url:
            method, url = "", request
        pid = fields.get("pid", "?")
        secs = _seconds(fields.get("seconds"))
        line = f"[pool {pool}] child {pid} {what} {secs} {request}"
        if cells(line) <= width:
            return line
        who = f"{pool}: {what} {secs}"
        return request_row(who, method, url, width, who_room=cells(who))
    if event == "exited":
        how = (
            f"on {fields.get('signal_name') or 'signal ' + str(fields.get('signal'))}"
            if "signal" in fields
            else f"with code {fields.get('exit_code', '?')}"
        )
        after = re.search(r"after ([\d.]+) seconds", text)
        took = f" after {float(after[1]):.1f}s" if after else ""
        return first_fit(
            [
                f"[pool {pool}] child {fields.get('pid', '?')} exited {how}{took}",
                f"{pool}: child {fields.get('pid', '?')} exited {how}{took}",
                f"{pool}: {fields.get('pid', '?')} exited {how}",
            ],
            width,
        )
    if event == "busy":
        nums = re.search(r"spawning (\d+) children, there are (\d+) idle, and (\d+) total", text)
        if nums is not None:
            return first_fit(
                [
                    f"[pool {pool}] seems busy: spawning {nums[1]}, {nums[2]} idle,"
                    f" {nums[3]} children",
                    f"{pool}: busy, spawning {nums[1]}, {nums[2]} idle of {nums[3]}",
                ],
                width,
            )
    return compact_line(text.replace(f"[pool {pool}] ", f"{pool}: ", 1), width)


# -- the source column -------------------------------------------------------------------------
#: Rows narrower than this give source tags at most 6 cells (``access``, ``apache``), else 10.
NARROW_ROW = 100


@lru_cache(maxsize=64)
def source_tags(names: tuple[str, ...], row_width: int) -> tuple[int, Mapping[str, str]]:
    """The width of the source column for rows of ``row_width`` cells, and each source's tag
    in it (``mysql-slow`` is ``m-slow`` on narrow rows: see :func:`.elide.short_names`)."""
    cap = 6 if row_width < NARROW_ROW else 10
    room = max(4, min(cap, max((cells(s) for s in names), default=4)))
    return room, MappingProxyType(short_names(names, room))
