"""Plain-JSON forms of the event values (for ``lamptop parse`` and snapshot bundles)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from console.events import (
    LogRecord,
    ProcessRow,
    ProcInfo,
    ServiceMem,
    SourceState,
    StatusSample,
    SystemSample,
    Worker,
)


def iso(ts: datetime) -> str:
    """ISO 8601 with microseconds and ``Z`` for UTC."""
    return ts.isoformat().replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """Make parsed field values JSON-safe (tuples to lists, datetimes to ISO strings)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def record_to_dict(rec: LogRecord) -> dict[str, Any]:
    return {
        "ts": iso(rec.ts),
        "source": rec.source,
        "kind": rec.kind,
        "level": rec.level,
        "text": rec.text,
        "lines": list(rec.lines),
        "fields": jsonable(rec.fields),
        "ts_from_line": rec.ts_from_line,
    }


def state_to_dict(state: SourceState) -> dict[str, Any]:
    d = asdict(state)
    d["ts"] = iso(state.ts)
    return d


# -- the other direction, for `lamptop open` -------------------------------------------------


def parse_ts(text: str) -> datetime:
    """Read a timestamp written by :func:`iso`."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r}")
    return dt


def record_from_dict(d: Mapping[str, Any], seq: int = 0) -> LogRecord:
    return LogRecord(
        ts=parse_ts(d["ts"]),
        source=str(d["source"]),
        kind=str(d["kind"]),
        level=d["level"],
        text=str(d["text"]),
        lines=tuple(str(x) for x in d.get("lines", ())),
        fields=dict(d.get("fields", {})),
        raw=str(d.get("text", "")),
        ts_from_line=bool(d.get("ts_from_line", True)),
        seq=seq,
    )


def state_from_dict(d: Mapping[str, Any]) -> SourceState:
    return SourceState(
        ts=parse_ts(d["ts"]),
        source=str(d["source"]),
        kind=str(d["kind"]),
        status=d["status"],
        message=str(d.get("message", "")),
        hint=str(d.get("hint", "")),
        target=str(d.get("target", "")),
    )


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
        "fields": jsonable(s.fields),
        "workers": [asdict(w) for w in s.workers],
        "processes": [asdict(p) for p in s.processes],
    }


def status_from_dict(d: Mapping[str, Any]) -> StatusSample:
    return StatusSample(
        ts=parse_ts(d["ts"]),
        url=str(d.get("url", "")),
        fields=dict(d.get("fields", {})),
        scoreboard=str(d.get("scoreboard", "")),
        counts={str(k): int(v) for k, v in d.get("counts", {}).items()},
        workers=tuple(Worker(**w) for w in d.get("workers", ())),
        processes=tuple(ProcessRow(**p) for p in d.get("processes", ())),
        server_version=str(d.get("server_version", "")),
        mpm=str(d.get("mpm", "")),
        uptime=d.get("uptime"),
        total_accesses=d.get("total_accesses"),
        total_kbytes=d.get("total_kbytes"),
        busy=int(d.get("busy", 0)),
        idle=int(d.get("idle", 0)),
        limit=int(d.get("limit", 0)),
        extended=bool(d.get("extended", False)),
    )


def system_to_dict(s: SystemSample) -> dict[str, Any]:
    d = asdict(s)
    d["ts"] = iso(s.ts)
    d["rss_by_pid"] = {str(k): v for k, v in s.rss_by_pid.items()}
    return d


def system_from_dict(d: Mapping[str, Any]) -> SystemSample:
    values = dict(d)
    values["ts"] = parse_ts(d["ts"])
    values["services"] = tuple(ServiceMem(**x) for x in d.get("services", ()))
    values["top"] = tuple(ProcInfo(**x) for x in d.get("top", ()))
    values["rss_by_pid"] = {int(k): int(v) for k, v in d.get("rss_by_pid", {}).items()}
    return SystemSample(**values)
