"""Plain-JSON forms of the event values (for ``lamptop parse``, snapshot bundles and the stream).

Bundles serialize tens of thousands of records and samples at once, so the ``*_to_dict``
functions build their dicts by hand from the known fields (no ``dataclasses.asdict``, which
deep-copies every value) and hand a record's parsed fields over as they are when they already
are plain JSON values. The dicts they return may share such a mapping with the record: treat
them as read-only, as the record's fields are. :func:`record_json` writes a record's JSON text
directly, without the dict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import fields as dataclass_fields
from datetime import datetime
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any

from console.core.events import (
    LogRecord,
    ProcessRow,
    ProcInfo,
    ServerChild,
    ServiceMem,
    SourceState,
    StatusSample,
    SystemSample,
    Worker,
)
from console.core.stack import FpmProcess, FpmSample, MysqlSample, MysqlThread
from console.core.text import mask_secrets
from console.core.timefmt import iso, iso_often

#: Value types JSON takes as they are.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Make parsed field values JSON-safe (tuples to lists, datetimes to ISO strings)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def plain_fields(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """``fields`` itself when it is a dict of text keys and scalar values (what the parsers
    nearly always produce: nothing to convert, nothing to copy), else :func:`jsonable` of it."""
    if type(fields) is dict:
        scalars = _SCALARS
        for k, v in fields.items():
            if type(k) is not str or type(v) not in scalars:
                break
        else:
            return fields
    converted: dict[str, Any] = jsonable(fields)
    return converted


def record_to_dict(rec: LogRecord) -> dict[str, Any]:
    return {
        "ts": iso(rec.ts),
        "source": rec.source,
        "kind": rec.kind,
        "level": rec.level,
        "text": rec.text,
        "lines": list(rec.lines),
        "fields": plain_fields(rec.fields),
        "ts_from_line": rec.ts_from_line,
    }


_WORDS: dict[str, str] = {}


def _word(text: str) -> str:
    """A source, kind or level as a JSON string (remembered: there are only a few)."""
    try:
        return _WORDS[text]
    except KeyError:
        if len(_WORDS) >= 1024:
            _WORDS.clear()
        quoted = _WORDS[text] = encode_basestring(text)
        return quoted


def _convert(value: Any) -> Any:
    """For the encoder: a value JSON does not take as it is, converted as :func:`jsonable`
    converts it (the encoder itself takes tuples as lists)."""
    if isinstance(value, datetime):
        return iso_often(value)
    if isinstance(value, Mapping):
        return jsonable(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encoder() -> Callable[[Any], str]:
    """``json.dumps(value, ensure_ascii=False)``, faster, for values without cycles.

    The C encoder that ``json.JSONEncoder`` uses is called directly: ``encode`` builds it
    again on every call (a third of the time for a small dict). Values JSON does not take
    as they are go through :func:`_convert` instead of being checked first.
    """
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # not in the type stubs
    if c_make_encoder is None:  # no C accelerator (another Python): the same, slower
        encode: Callable[[Any], str] = json.JSONEncoder(
            ensure_ascii=False, check_circular=False, default=_convert
        ).encode
        return encode
    make = c_make_encoder(None, _convert, encode_basestring, None, ": ", ", ", False, False, True)

    def encode_fast(value: Any) -> str:
        return "".join(make(value, 0))

    return encode_fast


#: JSON text in one line, with the separators of ``json.dumps``, not ASCII-escaped; datetimes
#: and other mappings converted as :func:`jsonable` converts them.
encode_json = _encoder()


def record_json(rec: LogRecord) -> str:
    """``encode_json(record_to_dict(rec))``, the same text, about twice as fast: bundles write
    every record of the window this way."""
    lines = rec.lines
    lines_json = "[" + ", ".join(map(encode_basestring, lines)) + "]" if lines else "[]"
    flag = "true" if rec.ts_from_line else "false"
    return (
        f'{{"ts": "{iso_often(rec.ts)}", "source": {_word(rec.source)}, '
        f'"kind": {_word(rec.kind)}, "level": {_word(rec.level)}, '
        f'"text": {encode_basestring(rec.text)}, "lines": {lines_json}, '
        f'"fields": {encode_json(rec.fields)}, "ts_from_line": {flag}}}'
    )


def _flat(cls: type) -> Callable[[Any], dict[str, Any]]:
    """A function turning a flat dataclass (every field a scalar) into a dict, in field order:
    what ``dataclasses.asdict`` gives for it, without its recursive deep copy."""
    names = tuple(f.name for f in dataclass_fields(cls))
    get = attrgetter(*names)

    def to_dict(obj: Any) -> dict[str, Any]:
        return dict(zip(names, get(obj), strict=True))

    return to_dict


_worker_dict = _flat(Worker)
_process_dict = _flat(ProcessRow)
_service_dict = _flat(ServiceMem)
_proc_dict = _flat(ProcInfo)
_child_dict = _flat(ServerChild)
_state_dict = _flat(SourceState)
_fpm_process_dict = _flat(FpmProcess)
_mysql_thread_dict = _flat(MysqlThread)


def state_to_dict(state: SourceState) -> dict[str, Any]:
    d = _state_dict(state)
    d["ts"] = iso(state.ts)
    return d


def status_to_dict(s: StatusSample) -> dict[str, Any]:
    return {
        "ts": iso(s.ts),
        "url": s.url,
        "server_version": s.server_version,
        "mpm": s.mpm,
        "uptime": s.uptime,
        "total_accesses": s.total_accesses,
        "total_kbytes": s.total_kbytes,
        "busy": s.busy,
        "idle": s.idle,
        "limit": s.limit,
        "extended": s.extended,
        "scoreboard": s.scoreboard,
        "counts": dict(s.counts),
        "fields": plain_fields(s.fields),
        "workers": [_worker_dict(w) for w in s.workers],
        "processes": [_process_dict(p) for p in s.processes],
    }


def system_to_dict(s: SystemSample) -> dict[str, Any]:
    return {
        "ts": iso(s.ts),
        "mem_total": s.mem_total,
        "mem_used": s.mem_used,
        "mem_available": s.mem_available,
        "swap_total": s.swap_total,
        "swap_used": s.swap_used,
        "load1": s.load1,
        "load5": s.load5,
        "load15": s.load15,
        "cpu_percent": s.cpu_percent,
        "cpu_count": s.cpu_count,
        "services": [_service_dict(x) for x in s.services],
        "top": [_proc_dict(p) for p in s.top],
        "rss_by_pid": {str(k): v for k, v in s.rss_by_pid.items()},
        "self_rss": s.self_rss,
        "self_cpu": s.self_cpu,
        "scanned": s.scanned,
        "children": [_child_dict(c) for c in s.children],
    }


def _fpm_process(p: FpmProcess) -> dict[str, Any]:
    d = _fpm_process_dict(p)
    d["uri"] = mask_secrets(p.uri)  # a bundle is passed around: no ?password= in it
    return d


def _mysql_thread(t: MysqlThread) -> dict[str, Any]:
    d = _mysql_thread_dict(t)
    d["info"] = mask_secrets(t.info)  # nor an IDENTIFIED BY '...'
    return d


def fpm_to_dict(s: FpmSample) -> dict[str, Any]:
    """One pool's sample; its processes as a list of objects, in the page's order, passwords
    in their URIs masked."""
    return {
        "ts": iso(s.ts),
        "source": s.source,
        "target": s.target,
        "pool": s.pool,
        "process_manager": s.process_manager,
        "start_time": s.start_time,
        "accepted": s.accepted,
        "listen_queue": s.listen_queue,
        "max_listen_queue": s.max_listen_queue,
        "listen_queue_len": s.listen_queue_len,
        "idle": s.idle,
        "active": s.active,
        "total": s.total,
        "max_active": s.max_active,
        "max_children_reached": s.max_children_reached,
        "slow_requests": s.slow_requests,
        "max_children": s.max_children,
        "processes": [_fpm_process(p) for p in s.processes],
    }


def mysql_to_dict(s: MysqlSample) -> dict[str, Any]:
    """One server's sample; its processlist as a list of objects, longest running first,
    passwords in the queries masked."""
    return {
        "ts": iso(s.ts),
        "source": s.source,
        "target": s.target,
        "version": s.version,
        "max_connections": s.max_connections,
        "status": dict(s.status),
        "questions_per_s": s.questions_per_s,
        "truncated": s.truncated,
        "threads": [_mysql_thread(t) for t in s.threads],
    }
