"""The hosts of a bundle saved from a console that follows several (schema version 3).

``snapshot.json`` gains a ``hosts`` list, one object per host in the console's order::

    {"name": "fleet-a", "local": false,
     "link": {"status": "up", "message": "", "since": "...", "retry_at": null,
              "hostname": "shop-a", "version": "0.9"},
     "alerts": [{"ts": "...", "rule": "workers_near_limit", "message": "...", "bundle": ""}],
     "status": [...], "system": [...], "fpm": [...], "mysql": [...],
     "sources": {...}, "source_order": [...]}

The local host has ``local: true`` and no samples of its own: they are the document's own
``status``, ``system``, ``fpm`` and ``mysql``, as with one host. The records of every host are
the document's ``records``, a remote host's sources tagged with it (``fleet-a:access``).
Reading it back is like the rest of :mod:`console.incident.bundle_read`: cleaned, every field
checked with an error naming it, counts bounded. A bundle without ``hosts`` opens as one host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, cast, get_args

from console.core.events import SourceState, StatusSample, SystemSample
from console.core.fleet import ALERTS_KEPT, HostShot, Link, LinkStatus, RemoteAlert
from console.core.recorder import FPM_PER_SAMPLE, Snapshot
from console.core.timefmt import iso
from console.incident.bundle_check import Invalid, as_list, as_obj, as_text, as_time, fail, get
from console.incident.bundle_stack import fpm_from_dict, mysql_from_dict
from console.incident.serialize import (
    encode_json,
    fpm_to_dict,
    mysql_to_dict,
    state_to_dict,
    status_to_dict,
    system_to_dict,
)

MAX_HOSTS = 256
"""Hosts read from one bundle."""
LINK_STATUSES = frozenset(get_args(LinkStatus))


def _when(t: datetime | None) -> str | None:
    return iso(t) if t is not None else None


def host_to_dict(shot: HostShot) -> dict[str, Any]:
    """One host as ``snapshot.json`` holds it."""
    link = shot.link
    doc: dict[str, Any] = {
        "name": shot.name,
        "local": shot.local,
        "link": {
            "status": link.status,
            "message": link.message,
            "since": _when(link.since),
            "retry_at": _when(link.retry_at),
            "hostname": link.hostname,
            "version": link.version,
        },
        "alerts": [
            {"ts": iso(a.ts), "rule": a.rule, "message": a.message, "bundle": a.bundle}
            for a in shot.alerts
        ],
    }
    own = shot.samples
    if own is not None:
        doc["status"] = [status_to_dict(s) for s in own.status]
        doc["system"] = [system_to_dict(s) for s in own.system]
        doc["fpm"] = [fpm_to_dict(s) for s in own.fpm]
        doc["mysql"] = [mysql_to_dict(s) for s in own.mysql]
        doc["sources"] = {name: state_to_dict(st) for name, st in own.states.items()}
        doc["source_order"] = list(own.sources)
    return doc


def hosts_json(win: Snapshot) -> Iterator[str]:
    """The ``hosts`` member of the document (after another member), one host a line;
    nothing for one host."""
    if not win.hosts:
        return
    yield ',\n"hosts": [\n'
    yield ",\n".join(encode_json(host_to_dict(h)) for h in win.hosts)
    yield "\n]"


Reader = Callable[[Any, str], Any]


def hosts_from_doc(
    doc: Mapping[str, Any],
    *,
    status: Callable[[Any, str], StatusSample],
    system: Callable[[Any, str], SystemSample],
    state: Callable[[Any, str], SourceState],
    most_samples: int,
    taken_at: datetime,
) -> tuple[HostShot, ...]:
    """The hosts of a (cleaned) document, checked, their samples taken at ``taken_at`` (the
    bundle's); none for a bundle of one host. The readers of one status sample, system
    sample and source state are bundle_read's."""
    values = as_list(get(doc, "hosts", "", []), "hosts", MAX_HOSTS)
    out: list[HostShot] = []
    for i, v in enumerate(values):
        where = f"hosts[{i}]"
        d = as_obj(v, where)
        local = get(d, "local", where, False)
        if not isinstance(local, bool):
            raise fail(f"{where}.local", "true/false", local)
        name = as_text(get(d, "name", where), f"{where}.name")
        if not name or any(h.name == name for h in out):
            raise Invalid(f"{where}.name", f"empty or given twice: {name!r:.60}")
        samples = None
        if not local:
            samples = _samples(d, where, status, system, state, most_samples, taken_at)
        alerts = as_list(get(d, "alerts", where, []), f"{where}.alerts", ALERTS_KEPT * 4)
        out.append(
            HostShot(
                name=name,
                link=_link(get(d, "link", where, {}), f"{where}.link", local),
                local=local,
                alerts=tuple(_alert(a, f"{where}.alerts[{j}]") for j, a in enumerate(alerts)),
                samples=samples,
            )
        )
    if sum(h.local for h in out) > 1:
        raise Invalid("hosts", "more than one local host")
    return tuple(out)


def _samples(
    d: Mapping[str, Any],
    where: str,
    status: Reader,
    system: Reader,
    state: Reader,
    most: int,
    taken_at: datetime,
) -> Snapshot:
    def items(key: str, make: Reader, limit: int) -> tuple[Any, ...]:
        values = as_list(get(d, key, where, []), f"{where}.{key}", limit)
        return tuple(make(x, f"{where}.{key}[{j}]") for j, x in enumerate(values))

    states = as_obj(get(d, "sources", where, {}), f"{where}.sources")
    order = as_list(get(d, "source_order", where, []), f"{where}.source_order", 10_000)
    return Snapshot(
        taken_at=taken_at,
        records=(),
        status=items("status", status, most),
        system=items("system", system, most),
        fpm=items("fpm", fpm_from_dict, most * FPM_PER_SAMPLE),
        mysql=items("mysql", mysql_from_dict, most),
        states={str(k): state(s, f"{where}.sources.{k}") for k, s in states.items()},
        sources=tuple(as_text(s, f"{where}.source_order[{j}]") for j, s in enumerate(order)),
    )


def _link(v: Any, where: str, local: bool) -> Link:
    d = as_obj(v, where)
    status = get(d, "status", where, "local" if local else "up")
    if status not in LINK_STATUSES:
        raise fail(f"{where}.status", f"one of {', '.join(sorted(LINK_STATUSES))}", status)

    def when(key: str) -> datetime | None:
        x = d.get(key)
        return None if x is None else cast(datetime, as_time(x, f"{where}.{key}"))

    return Link(
        status=cast(LinkStatus, status),
        message=as_text(get(d, "message", where, ""), f"{where}.message"),
        since=when("since"),
        retry_at=when("retry_at"),
        hostname=as_text(get(d, "hostname", where, ""), f"{where}.hostname"),
        version=as_text(get(d, "version", where, ""), f"{where}.version"),
    )


def _alert(v: Any, where: str) -> RemoteAlert:
    d = as_obj(v, where)
    return RemoteAlert(
        ts=as_time(get(d, "ts", where), f"{where}.ts"),
        rule=as_text(get(d, "rule", where, ""), f"{where}.rule"),
        message=as_text(get(d, "message", where, ""), f"{where}.message"),
        bundle=as_text(get(d, "bundle", where, ""), f"{where}.bundle"),
    )
