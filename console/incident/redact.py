"""``--redact`` for what leaves the screen: records, status samples, triggers and filters masked
before a bundle is written.

The text masking is :func:`console.view.filters.redact` (client addresses, query strings, users of
basic auth), the one the screen uses. Here it is applied to every string a bundle holds about
a request: a record's text, continuation lines, raw line and parsed fields, the client and
request of each worker in flight, a trigger's message and values, the pinned filter. The user
of an access log line (``%u``) is not in a pattern a regular expression can find, so it is
taken from the record's parsed fields and masked wherever the record repeats it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from console.core.events import LogRecord, StatusSample, SystemSample, Worker
from console.core.recorder import Snapshot
from console.incident.rules import Trigger
from console.view.filters import redact

#: Parsed fields that name an authenticated user.
USER_FIELDS = ("user", "remote_user", "auth_user")
MASK = "…"


def redact_value(value: Any) -> Any:
    """Every string inside ``value`` (mappings and sequences included) passed to :func:`redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


def _user_keys(fields: Mapping[str, Any]) -> list[str]:
    """The user fields of ``fields`` that hold a user (not empty, not ``-``)."""
    return [k for k in USER_FIELDS if isinstance(v := fields.get(k), str) and v.strip("- ")]


def redact_record(rec: LogRecord) -> LogRecord:
    """The record with its client, query strings and user masked everywhere it holds them."""
    keys = _user_keys(rec.fields)
    names = "|".join(rf"(?<![\w.@-]){re.escape(str(rec.fields[k]))}(?![\w.@-])" for k in keys)
    word = re.compile(names) if names else None

    def mask(text: str) -> str:
        text = redact(text)
        return word.sub(MASK, text) if word is not None else text

    fields = {k: MASK if k in keys else redact_value(v) for k, v in rec.fields.items()}
    return replace(
        rec,
        text=mask(rec.text),
        lines=tuple(mask(line) for line in rec.lines),
        raw=mask(rec.raw),
        fields=fields,
    )


def _worker(w: Worker) -> Worker:
    return replace(w, client=redact(w.client), request=redact(w.request))


def redact_status(s: StatusSample) -> StatusSample:
    return replace(s, workers=tuple(_worker(w) for w in s.workers))


def redact_command(cmdline: str) -> str:
    """A command line's program only: its arguments may name anything (files, hosts, users)."""
    program, _, rest = cmdline.partition(" ")
    return f"{program} {MASK}" if rest else program


def redact_system(s: SystemSample) -> SystemSample:
    return replace(s, top=tuple(replace(p, cmdline=redact_command(p.cmdline)) for p in s.top))


def redact_snapshot(snap: Snapshot) -> Snapshot:
    """The snapshot with every record and worker masked, and processes' command lines cut to
    their program (states unchanged)."""
    return replace(
        snap,
        records=tuple(redact_record(r) for r in snap.records),
        status=tuple(redact_status(s) for s in snap.status),
        system=tuple(redact_system(s) for s in snap.system),
    )


def redact_trigger(t: Trigger) -> Trigger:
    return replace(t, message=redact(t.message), values=redact_value(dict(t.values)))


__all__ = [
    "redact",
    "redact_record",
    "redact_snapshot",
    "redact_command",
    "redact_status",
    "redact_system",
    "redact_trigger",
    "redact_value",
]
