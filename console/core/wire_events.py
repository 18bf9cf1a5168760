"""The stream's lines other than records: samples, states, alerts, heartbeats, drops, and
:func:`decode`, which reads any line of the stream after its header (:mod:`console.core.wire`
describes the format)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from typing import Any

from console.core.check import as_list, as_obj, as_text, as_time, fail, get
from console.core.decode import fpm_from_dict, mysql_from_dict, state_from, status_from, system_from
from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.fleet import RemoteAlert
from console.core.serialize import (
    fpm_to_dict,
    mysql_to_dict,
    state_to_dict,
    status_to_dict,
    system_to_dict,
)
from console.core.stack import FpmSample, MysqlSample
from console.core.text import bound, clean, clean_value, mask_secrets
from console.core.timefmt import iso
from console.core.wire import (
    MAX_BATCH,
    MAX_NAME,
    dumps,
    name,
    record_from_wire,
    time_from_wire,
    wire_time,
)

# -- samples, states, alerts -----------------------------------------------------------------


def _defaults(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.default is not MISSING:
            out[f.name] = [] if f.default == () else f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out


def _compacted(
    name: str, cls: type, to_dict: Callable[[Any], dict[str, Any]]
) -> Callable[[Any], str]:
    """A sample's or state's line: the dict of its bundle form, the fields equal to their
    defaults left out."""
    defaults = _defaults(cls)

    def line(value: Any) -> str:
        d: dict[str, Any] = {"t": name}
        for k, x in to_dict(value).items():
            if k in defaults and x == defaults[k] and type(x) is type(defaults[k]):
                continue
            d[k] = x
        return dumps(d)

    return line


status_line = _compacted("status", StatusSample, status_to_dict)
system_line = _compacted("system", SystemSample, system_to_dict)
fpm_line = _compacted("fpm", FpmSample, fpm_to_dict)
mysql_line = _compacted("mysql", MysqlSample, mysql_to_dict)
state_line = _compacted("state", SourceState, state_to_dict)


def alert_line(a: RemoteAlert) -> str:
    d: dict[str, Any] = {"t": "alert", "ts": iso(a.ts), "rule": a.rule, "message": a.message}
    if a.bundle:
        d["bundle"] = a.bundle
    return dumps(d)


def alert_from_wire(d: Mapping[str, Any]) -> RemoteAlert:
    message = as_text(get(d, "message", "alert", ""), "alert.message")
    return RemoteAlert(
        ts=as_time(get(d, "ts", "alert"), "alert.ts"),
        rule=name(as_text(get(d, "rule", "alert"), "alert.rule"), "alert.rule"),
        message=clean(mask_secrets(bound(message, 1000))),
        bundle=clean(bound(as_text(get(d, "bundle", "alert", ""), "alert.bundle"), 4096)),
    )


def heartbeat_line(ts: datetime) -> str:
    return dumps({"t": "heartbeat", "ts": wire_time(ts)})


def dropped_line(records: int) -> str:
    return dumps({"t": "dropped", "records": records})


@dataclass(frozen=True, slots=True)
class Heartbeat:
    ts: datetime


@dataclass(frozen=True, slots=True)
class Dropped:
    """Records the sender cut to keep its rate bound."""

    records: int


Event = (
    list[LogRecord]
    | StatusSample
    | SystemSample
    | FpmSample
    | MysqlSample
    | SourceState
    | RemoteAlert
    | Heartbeat
    | Dropped
)


def _sample(decode: Callable[[Any, str], Any], where: str) -> Callable[[dict[str, Any]], Any]:
    def read(d: dict[str, Any]) -> Any:
        return decode(clean_value(d), where)

    return read


def _records(d: dict[str, Any]) -> list[LogRecord]:
    batch = as_list(get(d, "r", "records"), "records.r", MAX_BATCH)
    return [record_from_wire(r, f"records.r[{i}]") for i, r in enumerate(batch)]


def _state(d: dict[str, Any]) -> SourceState:
    s = state_from(clean_value(d), "state")
    return SourceState(
        s.ts,
        name(s.source, "state.source"),
        bound(s.kind, MAX_NAME),
        s.status,
        mask_secrets(bound(s.message, 1000)),
        mask_secrets(bound(s.hint, 1000)),
        mask_secrets(bound(s.target, 4096)),
    )


def _dropped(d: dict[str, Any]) -> Dropped:
    n = get(d, "records", "dropped")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise fail("dropped.records", "a count", n)
    return Dropped(n)


_DECODERS: dict[str, Callable[[dict[str, Any]], Event]] = {
    "records": _records,
    "status": _sample(status_from, "status"),
    "system": _sample(system_from, "system"),
    "fpm": _sample(fpm_from_dict, "fpm"),
    "mysql": _sample(mysql_from_dict, "mysql"),
    "state": _state,
    "alert": alert_from_wire,
    "heartbeat": lambda d: Heartbeat(time_from_wire(get(d, "ts", "heartbeat"), "heartbeat.ts")),
    "dropped": _dropped,
}


def decode(obj: Any) -> Event | None:
    """The event one parsed line holds; None for a type this lamptop does not know (a newer
    sender may add some); :class:`Invalid` when a value fails its check."""
    d = as_obj(obj, "line")
    kind = d.get("t")
    read = _DECODERS.get(kind) if isinstance(kind, str) else None
    return None if read is None else read(d)
