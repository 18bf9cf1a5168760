"""``--redact`` for what leaves the screen: records, status samples, PHP-FPM and MySQL samples,
triggers and filters masked before a bundle is written.

The text masking is :func:`console.view.filters.redact` (client addresses, query strings, users of
basic auth), the one the screen uses. Here it is applied to every string a bundle holds about
a request: a record's text, continuation lines, raw line and parsed fields, the client and
request of each worker in flight, a trigger's message and values, the pinned filter. The user
of an access log line (``%u``) is not in a pattern a regular expression can find, so it is
taken from the record's parsed fields and masked wherever the record repeats it.

PHP-FPM samples lose their requests' query strings and users; MySQL samples their processlist
users and client hosts, and the literals of every query (strings and numbers become ``?``).
The stack rules' triggers have their values masked the same way and their message written again
from them (:data:`console.incident.stack_rules.MESSAGES`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from console.core.events import LogRecord, StatusSample, SystemSample, Worker, fold
from console.core.recorder import Snapshot
from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread
from console.incident.rules import Trigger
from console.incident.stack_rules import MESSAGES
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


#: SQL literals: quoted strings (a cut query may end inside one), hexadecimal and numbers;
#: backquoted identifiers are matched first so that digits in a name are kept.
_SQL_LITERAL = re.compile(
    r"`(?:[^`]|``)*`?"
    r"|'(?:[^'\\]|\\.|'')*'?"
    r'|"(?:[^"\\]|\\.|"")*"?'
    r"|\b0x[0-9a-f]+\b|\bx'[0-9a-f]*'"
    r"|(?<![\w$.])\d+(?:\.\d*)?(?:e[-+]?\d+)?(?![\w$])",
    re.IGNORECASE,
)


def _literal(m: re.Match[str]) -> str:
    return m.group() if m.group().startswith("`") else "?"


def mask_sql(query: str) -> str:
    """A query with its literals (strings, numbers) replaced by ``?``: what it does stays
    readable, the values it carries (names, e-mail addresses, ids) do not."""
    return _SQL_LITERAL.sub(_literal, query)


def mask_user(user: str) -> str:
    return MASK if user.strip("- ") else user


_LOCAL_HOSTS = frozenset({"", "-", "localhost", "127.0.0.1", "::1"})


def mask_host(host: str) -> str:
    """A processlist host (``address:port``, ``[v6]:port``, a name): its port dropped, an
    address masked as :func:`redact` masks clients, a name hidden; a local socket kept."""
    addr = host
    if host.startswith("["):
        addr = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        addr = host.split(":", 1)[0]
    if addr in _LOCAL_HOSTS:
        return addr or host
    masked = redact(addr)
    return masked if masked != addr else MASK


def _fpm_process(p: FpmProcess) -> FpmProcess:
    return replace(p, uri=redact(p.uri), user=mask_user(p.user))


def redact_fpm(s: FpmSample) -> FpmSample:
    """The pool's requests without their query strings and users."""
    return replace(
        s, target=redact(s.target), processes=tuple(_fpm_process(p) for p in s.processes)
    )


def _thread(t: MysqlThread) -> MysqlThread:
    return replace(t, user=mask_user(t.user), host=mask_host(t.host), info=mask_sql(t.info))


def redact_mysql(s: MysqlSample) -> MysqlSample:
    """The processlist without users, client hosts and query literals."""
    return replace(s, target=redact(s.target), threads=tuple(_thread(t) for t in s.threads))


def _redact_records(records: tuple[LogRecord, ...]) -> tuple[LogRecord, ...]:
    """Each record redacted; a lazy one's text and fields, made to be masked, folded again
    at once (the masked copy holds its own)."""
    out = []
    for r in records:
        out.append(redact_record(r))
        if r.expand is not None:
            fold((r,))
    return tuple(out)


def redact_snapshot(snap: Snapshot) -> Snapshot:
    """The snapshot with every record and worker masked, processes' command lines cut to
    their program, and the PHP-FPM and MySQL samples masked (states unchanged); every host's
    samples too (several hosts)."""
    return replace(
        snap,
        records=_redact_records(snap.records),
        status=tuple(redact_status(s) for s in snap.status),
        system=tuple(redact_system(s) for s in snap.system),
        fpm=tuple(redact_fpm(s) for s in snap.fpm),
        mysql=tuple(redact_mysql(s) for s in snap.mysql),
        hosts=tuple(
            replace(
                h,
                samples=redact_snapshot(h.samples) if h.samples is not None else None,
                alerts=tuple(replace(a, message=redact_value(a.message)) for a in h.alerts),
            )
            for h in snap.hosts
        ),
    )


def _stack_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A stack rule's trigger values masked: users, hosts, query literals, query strings."""
    out: dict[str, Any] = redact_value(dict(values))
    for key, mask in (("user", mask_user), ("host", mask_host), ("query", mask_sql)):
        if isinstance(values.get(key), str):
            out[key] = mask(values[key])
    return out


def _redact_fired(rule: object, message: str, values: Mapping[str, Any] | None) -> tuple[str, Any]:
    """A rule's message and values masked. A stack rule's message is written again from its
    masked values; without them (an older trigger) its literals are masked in the message."""
    if isinstance(rule, str) and rule in MESSAGES:
        if values is not None:
            masked = _stack_values(values)
            return MESSAGES[rule](masked), masked
        return mask_sql(redact(message)), None
    return redact(message), None if values is None else redact_value(dict(values))


def redact_trigger(t: Trigger) -> Trigger:
    """The trigger's message and values masked, and those of the rules that joined it."""
    values = dict(t.values)
    also = values.pop("also_fired", None)
    message, masked = _redact_fired(t.rule, t.message, values)
    if isinstance(also, list):
        joined = []
        for a in also:
            if not isinstance(a, Mapping):
                continue
            inner = a.get("values")
            m, v = _redact_fired(
                a.get("rule"),
                str(a.get("message", "")),
                inner if isinstance(inner, Mapping) else None,
            )
            joined.append({**a, "message": m, **({"values": v} if v is not None else {})})
        masked["also_fired"] = joined
    return replace(t, message=message, values=masked)


__all__ = [
    "mask_host",
    "mask_sql",
    "mask_user",
    "redact",
    "redact_record",
    "redact_snapshot",
    "redact_command",
    "redact_fpm",
    "redact_mysql",
    "redact_status",
    "redact_system",
    "redact_trigger",
    "redact_value",
]
