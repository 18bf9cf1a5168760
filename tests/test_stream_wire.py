"""The stream's format (console/core/wire.py, wire_events.py) and its reader
(console/sources/remote/stream.py): what is written is what is read, and what a stranger
writes is cleaned, bounded, or refused in words."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest

from console.core.events import (
    LogRecord,
    ProcInfo,
    ServiceMem,
    SourceState,
    Worker,
)
from console.core.fleet import Fleet, RemoteAlert
from console.core.recorder import Recorder
from console.core.wire import (
    MAX_LINE,
    StreamFormatError,
    StreamHeader,
    header_line,
    read_header,
    record_to_wire,
    records_line,
    time_from_wire,
    wire_time,
)
from console.core.wire_events import (
    Dropped,
    Heartbeat,
    alert_line,
    decode,
    dropped_line,
    fpm_line,
    heartbeat_line,
    mysql_line,
    state_line,
    status_line,
    system_line,
)
from console.sources.remote.stream import StreamError, StreamStats, consume
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.stream_events import (
    ALERT,
    FPM,
    HEADER,
    MYSQL,
    RECORDS,
    STATE,
    STATUS,
    SYSTEM,
    T0,
    ListSink,
)


def stream_of(*lines: str | bytes, header: bool = True, end: bytes = b"\n") -> bytes:
    parts = [header_line(HEADER).encode()] if header else []
    parts += [x.encode() if isinstance(x, str) else x for x in lines]
    return b"\n".join(parts) + end


def read(data: bytes, sink: Any = None, **kw: Any) -> tuple[Any, Any]:
    sink = sink if sink is not None else ListSink()

    async def go() -> Any:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await consume(reader, sink, **kw)

    return asyncio.run(go()), sink


def test_every_event_type_comes_back_equal() -> None:
    lines = [
        records_line(RECORDS),
        status_line(STATUS),
        system_line(SYSTEM),
        fpm_line(FPM),
        mysql_line(MYSQL),
        state_line(STATE),
        alert_line(ALERT),
        heartbeat_line(T0),
        dropped_line(17),
    ]
    headers: list[StreamHeader] = []
    end, sink = read(stream_of(*lines), on_header=headers.append)
    assert headers == [HEADER]
    assert sink.registered == ["apache-access", "php"]
    expected = [replace(r, raw=r.text) for r in RECORDS]  # the raw line is not sent
    assert sink.events == [*expected, STATUS, SYSTEM, FPM, MYSQL, STATE, ALERT]
    assert (end.reason, end.truncated) == ("eof", False)
    stats = end.stats
    assert (stats.records, stats.heartbeats, stats.dropped, stats.malformed) == (3, 1, 17, 0)
    assert decode(json.loads(heartbeat_line(T0))) == Heartbeat(T0)
    assert decode(json.loads(dropped_line(3))) == Dropped(3)


def test_times_read_back_to_the_microsecond() -> None:
    for us in (0, 1, 123456, 999999, 500000):
        ts = T0.replace(microsecond=us)
        assert time_from_wire(json.loads(json.dumps(wire_time(ts))), "ts") == ts
    assert isinstance(wire_time(T0.replace(microsecond=0)), int)


def test_the_stream_is_compact() -> None:
    rec = RECORDS[2]
    assert record_to_wire(rec) == {
        "ts": wire_time(rec.ts),
        "s": "web",
        "k": "apache-access",
        "x": "plain",
    }
    line = state_line(SourceState(T0, "a", "apache-access", "ok"))
    assert "message" not in line and ", " not in line and ": " not in line


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_in_every_text_field_are_cleaned(text: str) -> None:
    rec = LogRecord(
        T0,
        f"src{text}",
        f"kind{text}",
        "warn",
        text,
        lines=(text,),
        fields={text: text, "l": [text]},
    )
    worker = Worker("0-0", 1, "W", 0.0, 1.0, 1.0, text, text, text, text)
    lines = [
        records_line([rec]),
        status_line(
            replace(STATUS, url=text, fields={text: text}, workers=(worker,), server_version=text)
        ),
        system_line(
            replace(SYSTEM, top=(ProcInfo(1, text, text, 1),), services=(ServiceMem(text, 1, 1),))
        ),
        fpm_line(
            replace(FPM, pool=text, processes=(replace(FPM.processes[0], uri=text, script=text),))
        ),
        mysql_line(replace(MYSQL, threads=(replace(MYSQL.threads[0], info=text, user=text),))),
        state_line(replace(STATE, source=f"s{text}", message=text, hint=text, target=text)),
        alert_line(RemoteAlert(T0, f"r{text}", text, text)),
    ]
    hostile_header = header_line(
        replace(HEADER, hostname=text, version=text, sources=(f"s{text}",))
    )
    headers: list[StreamHeader] = []
    end, sink = read(
        b"\n".join(x.encode() for x in [hostile_header, *lines]) + b"\n", on_header=headers.append
    )
    assert end.stats.malformed == 0, end.stats.last_error
    assert len(sink.events) == 7
    h = headers[0]
    assert_inert(" ".join([h.hostname, h.version, *h.sources]), "header")
    for event in sink.events:
        assert_inert(str(_texts(event)), f"{type(event).__name__}")


def _texts(value: Any) -> list[str]:
    """Every string inside an event (dataclasses, tuples, mappings), as it would be shown."""
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            out += _texts(k) + _texts(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            out += _texts(v)
    elif hasattr(value, "__slots__") or hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            out += _texts(getattr(value, name))
    return out


def test_a_line_over_the_cap_is_skipped_and_counted() -> None:
    huge = records_line([replace(RECORDS[0], text="x" * (5 << 20))])
    assert len(huge) > MAX_LINE
    end, sink = read(stream_of(huge, records_line(RECORDS[:1])))
    assert end.stats.too_long == 1
    assert [r.text for r in sink.events] == ["GET /x 500"]


def test_huge_values_within_a_line_are_bounded() -> None:
    big = replace(RECORDS[1], text="y" * 200_000, lines=("z" * 100_000,) + ("z" * 900,) * 3000)
    end, sink = read(stream_of(records_line([big])))
    (rec,) = sink.events
    assert len(rec.text) <= 65_536 and rec.text.endswith("[cut]")
    assert len(rec.lines) == 2000 and all(len(x) <= 65_536 for x in rec.lines)


GARBAGE = [
    b"not json at all",
    b"\xff\xfe\x00binary",
    b"[1, 2, 3]",
    b'{"t": "records", "r": "no"}',
    b'{"t": "records", "r": [{"s": "a", "x": "t", "ts": "yesterday"}]}',
    b'{"t": "records", "r": [{"s": "a", "x": "t", "ts": 1e300}]}',
    b'{"t": "records", "r": [{"s": "a", "x": "t", "ts": 1, "l": "loud"}]}',
    b'{"t": "status", "ts": "2026-01-01T00:00:00Z", "busy": "many"}',
    b'{"t": "state", "ts": "2026-01-01T00:00:00Z", "source": "a", "status": "exploded"}',
    b'{"t": "dropped", "records": -5}',
    b'{"t": "alert"}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"t": "records", "r": [{"s": "a", "x": "t", "ts": 1, "f": '
    + b'{"a":' * 40
    + b"1"
    + b"}" * 40
    + b"}]}",
]


def test_garbage_is_counted_never_fatal() -> None:
    end, sink = read(
        stream_of(*GARBAGE, b'{"t": "from-the-future", "x": 1}', records_line(RECORDS[:1]))
    )
    assert end.reason == "eof"
    assert end.stats.malformed == len(GARBAGE)
    assert end.stats.unknown == 1
    assert [r.text for r in sink.events] == ["GET /x 500"]  # what came after the garbage
    assert end.stats.last_error


def test_one_bad_record_costs_only_itself() -> None:
    good = record_to_wire(RECORDS[0])
    line = json.dumps({"t": "records", "r": [good, {"s": "a"}, good]})
    end, sink = read(stream_of(line))
    assert len(sink.events) == 2 and end.stats.malformed == 1


def test_a_truncated_stream_says_so() -> None:
    data = stream_of(records_line(RECORDS[:1]), records_line(RECORDS[1:])[:40], end=b"")
    end, sink = read(data)
    assert (end.reason, end.truncated) == ("eof", True)
    assert len(sink.events) == 1


@pytest.mark.parametrize(
    ("first", "words"),
    [
        (b"", "ended before its header"),
        (b"bash: lamptop: command not found", "not a lamptop stream"),
        (b'{"lamptop_stream": 2, "version": "9.0"}', "upgrade lamptop here"),
        (b'{"lamptop_stream": 0, "version": "0.0.1"}', "upgrade lamptop on that host"),
        (b'{"lamptop_stream": "1"}', "not a lamptop stream"),
        (b'{"lamptop_stream": 1, "sources": "all"}', "damaged stream header"),
        (b"x" * (MAX_LINE + 10), "too long"),
    ],
)
def test_a_stream_without_a_good_header_is_refused_in_words(first: bytes, words: str) -> None:
    data = first + b"\n" + records_line(RECORDS).encode() + b"\n" if first else b""
    with pytest.raises(StreamError, match=words):
        read(data)


def test_header_errors_name_both_versions() -> None:
    with pytest.raises(StreamFormatError) as err:
        read_header(b'{"lamptop_stream": 7, "version": "\\u001b[31m9.9"}')
    assert "format 7" in str(err.value) and "reads 1" in str(err.value)
    assert "\x1b" not in str(err.value)


def test_a_silent_link_ends_the_read() -> None:
    async def go() -> Any:
        reader = asyncio.StreamReader()
        reader.feed_data(stream_of(heartbeat_line(T0)))  # then nothing, and no end
        return await consume(reader, ListSink(), idle_timeout=0.2)

    end = asyncio.run(go())
    assert end.reason == "silent" and "no word" in end.message
    assert end.stats.heartbeats == 1


def test_into_a_fleet_records_are_tagged_and_samples_kept_apart() -> None:
    hub = Recorder()
    fleet = Fleet(hub, local_name="console")
    host = fleet.add_remote("web1")
    stats = StreamStats()
    saved = replace(ALERT, bundle="/var/tmp/b")
    data = stream_of(
        records_line(RECORDS),
        status_line(STATUS),
        state_line(STATE),
        alert_line(replace(ALERT, bundle="")),
        alert_line(saved),
    )
    read(data, fleet.sink(host), stats=stats)
    hub.release(force=True)
    assert {r.source for r in hub.records} == {"web1:apache-access", "web1:php", "web1:web"}
    assert list(host.recorder.status) == [STATUS] and not hub.status
    assert hub.states["web1:apache-access"].status == "missing"
    assert list(host.alerts) == [saved]  # the saved bundle's alert took the fire's place
    assert stats.records == 3
