"""Plain-JSON forms of the event values: hand-built, and the same as the generic forms."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest

from console.core.events import (
    LogRecord,
    ProcessRow,
    ProcInfo,
    ServiceMem,
    SourceState,
    StatusSample,
    SystemSample,
    Worker,
)
from console.core.timefmt import iso, iso_often
from console.incident.bundle_read import record_from_dict
from console.incident.serialize import (
    encode_json,
    jsonable,
    plain_fields,
    record_json,
    record_to_dict,
    state_to_dict,
    status_to_dict,
    system_to_dict,
)

T0 = datetime(2026, 11, 26, 15, 0, 0, 123456, tzinfo=UTC)

RECORDS = [
    LogRecord(
        ts=T0,
        source="access",
        kind="apache-access",
        level="error",
        text='192.0.2.1 GET /caf\\xc3\\xa9?q="x" 500 10B',
        fields={"client": "192.0.2.1", "status": 500, "bytes": 10, "ok": True, "none": None},
    ),
    LogRecord(
        ts=T0.replace(microsecond=0),
        source="php",
        kind="php-error",
        level="crit",
        text="PHP Fatal error:  Uncaught Exception: café «» \t tab",
        lines=("Stack trace:", '#0 {main} "quoted" \\ back'),
        fields={"php_level": "Fatal error", "ratio": 0.25},
        ts_from_line=False,
    ),
    # values JSON does not take as they are: converted like jsonable() does
    LogRecord(
        ts=T0.astimezone(timezone(timedelta(hours=2))),
        source="slow",
        kind="mysql-slow",
        level="warn",
        text="select 1",
        fields={"when": T0, "tables": ("a", "b"), "nested": {"at": T0, "n": [1, (2, 3)]}},
    ),
    LogRecord(
        ts=T0,
        source="x",
        kind="apache-error",
        level="info",
        text="",
        fields=MappingProxyType({"a": 1}),
    ),
    LogRecord(ts=T0, source="x", kind="apache-error", level="unparsed", text="raw", raw="raw"),
]


@pytest.mark.parametrize("rec", RECORDS, ids=range(len(RECORDS)))
def test_record_json_is_the_json_of_record_to_dict(rec: LogRecord) -> None:
    expected = json.dumps(record_to_dict(rec), ensure_ascii=False)
    assert record_json(rec) == expected
    assert encode_json(record_to_dict(rec)) == expected
    back = record_from_dict(json.loads(record_json(rec)))
    assert (back.ts, back.text, back.lines, back.level) == (rec.ts, rec.text, rec.lines, rec.level)


def test_record_to_dict_converts_fields_as_jsonable_does() -> None:
    for rec in RECORDS:
        assert record_to_dict(rec)["fields"] == jsonable(rec.fields)
    assert record_to_dict(RECORDS[2])["fields"] == {
        "when": "2026-11-26T15:00:00.123456Z",
        "tables": ["a", "b"],
        "nested": {"at": "2026-11-26T15:00:00.123456Z", "n": [1, [2, 3]]},
    }


def test_plain_fields_are_handed_over_without_a_copy() -> None:
    plain = {"status": 200, "url": "/", "ok": False, "x": None, "f": 1.5}
    assert plain_fields(plain) is plain
    odd = {"url": "/", "when": T0}
    assert plain_fields(odd) == {"url": "/", "when": iso(T0)}
    assert plain_fields(odd) is not odd and odd["when"] is T0  # the record's fields unchanged
    assert plain_fields({1: "a"}) == {"1": "a"}  # keys become text, as jsonable makes them


def test_iso_often_remembers_utc_times_only() -> None:
    assert iso_often(T0) == iso(T0) == "2026-11-26T15:00:00.123456Z"
    assert iso_often(T0) is iso_often(T0.replace())  # equal UTC times: one string
    # an equal instant in another zone is the same time: written in UTC all the same
    plus2 = T0.astimezone(timezone(timedelta(hours=2)))
    assert plus2 == T0
    assert iso_often(plus2) == iso(plus2) == "2026-11-26T15:00:00.123456Z"


def _sample() -> SystemSample:
    return SystemSample(
        ts=T0,
        mem_total=1 << 30,
        mem_used=700 << 20,
        mem_available=300 << 20,
        swap_total=1 << 29,
        swap_used=1 << 20,
        load1=3.0,
        load5=2.5,
        load15=2.0,
        cpu_percent=95.5,
        cpu_count=2,
        services=(ServiceMem("apache", 600 << 20, 20), ServiceMem("mysql", 200 << 20, 1)),
        top=(ProcInfo(1000, "apache2", "/usr/sbin/apache2 -k start", 40 << 20, 1 << 20, 3.5),),
        rss_by_pid={1000: 40 << 20, 1001: 41 << 20},
        self_rss=30 << 20,
        self_cpu=1.5,
        scanned=True,
    )


def test_system_to_dict_is_what_asdict_gave() -> None:
    s = _sample()
    old = asdict(s)
    old["ts"] = iso(s.ts)
    old["rss_by_pid"] = {str(k): v for k, v in s.rss_by_pid.items()}
    new = system_to_dict(s)
    assert list(new) == list(old)  # every field, none missed when one is added
    assert json.loads(json.dumps(new)) == json.loads(json.dumps(old))


def test_status_and_state_dicts_are_what_asdict_gave() -> None:
    worker = Worker("0-1", 4242, "W", 1.5, 12.0, 3.0, "192.0.2.1", "shop", "GET / HTTP/1.1")
    row = ProcessRow(0, 4242, "no", 3, "yes", 2, 0, 23, None, 1, 2, 0)
    sample = StatusSample(
        ts=T0,
        url="http://127.0.0.1/server-status",
        fields={"Total Accesses": 5, "ServerVersion": "Apache/2.4"},
        scoreboard="W_K.",
        counts={"W": 1, "_": 1, "K": 1, ".": 1},
        workers=(worker, worker),
        processes=(row,),
    )
    d = status_to_dict(sample)
    assert d["workers"] == [asdict(worker), asdict(worker)]
    assert d["processes"] == [asdict(row)]
    state = SourceState(T0, "access", "apache-access", "missing", "gone", "fix it", "/var/log/a")
    expected = asdict(state)
    expected["ts"] = iso(T0)
    assert state_to_dict(state) == expected


def test_without_the_c_encoder_the_text_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from console.incident import serialize

    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    slow = serialize._encoder()
    for rec in RECORDS:
        assert slow(rec.fields) == encode_json(rec.fields)
        assert slow(record_to_dict(rec)) == json.dumps(record_to_dict(rec), ensure_ascii=False)
    with pytest.raises(TypeError):
        encode_json({"x": {1, 2}})  # what jsonable() leaves alone, JSON still refuses
