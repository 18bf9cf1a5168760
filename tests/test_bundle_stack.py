"""PHP-FPM and MySQL samples in bundles: written, read back, a version 1 bundle still opened,
crafted ones refused or cleaned, and ``--redact`` masking them."""

from __future__ import annotations

import io
import json
import re
from dataclasses import asdict, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from console.core.clock import ManualClock
from console.core.recorder import Recorder, Snapshot
from console.core.timefmt import iso
from console.incident.bundle import BundleError, write_bundle
from console.incident.bundle_read import read_bundle
from console.incident.bundle_stack import MAX_TEXT
from console.incident.redact import mask_host, mask_sql, redact_trigger
from console.incident.rules import Trigger
from console.incident.serialize import fpm_to_dict, mysql_to_dict
from tests.support.hostile import ESC, HOSTILE, assert_inert
from tests.support.paths import FIXTURES
from tests.support.stack_samples import (
    FPM_STATUS,
    T0,
    fpm,
    fpm_from_page,
    mysql,
    proc,
    saturated_www,
    thread,
)

LONG = (
    "SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer "
    "WHERE c.email = 'carol@example.com' AND o.total > 98765"
)


def stack_recorder() -> Recorder:
    """Two pools polled in turn (the www pool saturating) and a MySQL server with a long query."""
    r = Recorder(reorder=0, clock=ManualClock(T0 + timedelta(seconds=12)))
    api = fpm_from_page(FPM_STATUS / "api_json_full.json", T0, max_children=None)
    for i, www in enumerate(saturated_www()):
        r.add_fpm(www)
        r.add_fpm(replace(api, ts=www.ts + timedelta(seconds=0.5)))
        threads = (
            thread(11, 25.0 + i, LONG, user="zed_analyst", host="10.1.2.3:51234"),
            thread(12, 400.0, "", command="Sleep", state=""),
        )
        r.add_mysql(mysql(i, connected=20 + i, threads=threads, qps=None if i == 0 else 40.0 + i))
    return r


def trigger() -> Trigger:
    return Trigger("key", T0 + timedelta(seconds=9))


def test_round_trip_of_fpm_and_mysql_samples(tmp_path: Path) -> None:
    snap = stack_recorder().snapshot()
    path = write_bundle(snap, trigger(), tmp_path / "snaps", window=60, host="web1")
    text = (path / "snapshot.json").read_text()
    doc = json.loads(text)
    assert doc["schema_version"] == 3
    assert len(doc["fpm"]) == 20 and len(doc["mysql"]) == 10
    first = doc["fpm"][0]
    assert first["pool"] == "www" and first["max_children"] == 8
    assert isinstance(first["processes"], list) and first["processes"][0]["pid"] == 30513
    assert [t["info"] for t in doc["mysql"][0]["threads"] if t["id"] == 11] == [LONG]
    assert doc["mysql"][0]["questions_per_s"] is None
    # one sample a line, like the status and system samples
    lines = text.splitlines()
    assert sum(1 for ln in lines if ln.startswith('{"ts": ') and '"pool": ' in ln) == 20
    back, _ = read_bundle(path)
    assert back.fpm == snap.fpm and back.mysql == snap.mysql
    assert back.latest_mysql is not None and back.latest_mysql.running[0].id == 11
    assert [s.pool for s in back.latest_fpm] == ["www", "api"]


def test_the_dicts_are_what_asdict_gives() -> None:
    s = saturated_www()[3]
    d = fpm_to_dict(s)
    expected = asdict(s)
    expected["ts"] = iso(s.ts)
    expected["processes"] = [asdict(p) for p in s.processes]
    assert d == expected and set(d) == set(expected)
    m = mysql(3, threads=(thread(1, 9.0),))
    d = mysql_to_dict(m)
    expected = asdict(m)
    expected["ts"] = iso(m.ts)
    expected["threads"] = [asdict(t) for t in m.threads]
    assert d == expected


def test_a_version_1_bundle_still_opens() -> None:
    snap, meta = read_bundle(FIXTURES / "bundles" / "v1")
    assert meta["schema_version"] == 1 and meta["lamptop_version"] == "0.1.0"
    assert snap.fpm == () and snap.mysql == ()
    assert len(snap.records) == 4 and len(snap.status) == 4 and len(snap.system) == 4
    assert snap.states["mysql-slow"].status == "unreadable"


def test_a_version_1_bundle_reports_without_stack_sections(tmp_path: Path) -> None:
    from console.incident.report import make_report

    snap, meta = read_bundle(FIXTURES / "bundles" / "v1")
    t = Trigger("rule", snap.taken_at, "http_5xx_burst", "m")
    text = make_report(snap, t, host="web1", start=T0 - timedelta(minutes=1), end=snap.taken_at)
    assert "## PHP-FPM" not in text and "## MySQL" not in text
    assert "## In-flight requests" in text


# -- crafted bundles --------------------------------------------------------------------------


def good_doc() -> dict[str, Any]:
    return {
        "schema_version": 2,
        "created_at": "2026-11-26T15:00:10Z",
        "trigger": {"kind": "key", "at": "2026-11-26T15:00:09Z", "message": ""},
        "records": [],
        "fpm": [fpm_to_dict(fpm(0, processes=(proc(7, "/cart.php?id=1", 3.0),)))],
        "mysql": [mysql_to_dict(mysql(0, threads=(thread(5, 40.0),)))],
    }


def bundle_with(tmp_path: Path, doc: object, text: str | None = None) -> Path:
    b = tmp_path / "b"
    b.mkdir(exist_ok=True)
    (b / "snapshot.json").write_text(text if text is not None else json.dumps(doc))
    return b


def test_the_good_document_opens(tmp_path: Path) -> None:
    snap, _ = read_bundle(bundle_with(tmp_path, good_doc()))
    assert snap.fpm[0].processes[0].uri == "/cart.php?id=1"
    assert snap.mysql[0].threads[0].time == 40.0


def _set(doc: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """``doc`` with the value at ``path`` (``fpm.0.processes.0.pid``) replaced."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = doc
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "said"),
    [
        ("fpm", "x", "fpm: expected a list, got text"),
        ("fpm.0", [1], "fpm[0]: expected an object, got a list"),
        ("fpm.0.listen_queue", "3", "fpm[0].listen_queue: expected a whole number, got text '3'"),
        (
            "fpm.0.max_children",
            8.5,
            "fpm[0].max_children: expected a whole number or null, got a number 8.5",
        ),
        ("fpm.0.ts", "2026-11-26T15:00:00", "fpm[0].ts: expected an ISO 8601 time"),
        ("fpm.0.processes", {"a": 1}, "fpm[0].processes: expected a list, got an object"),
        (
            "fpm.0.processes.0.pid",
            "7",
            "fpm[0].processes[0].pid: expected a whole number, got text '7'",
        ),
        ("fpm.0.processes.0.uri", None, "fpm[0].processes[0].uri: expected text, got null"),
        (
            "fpm.0.processes.0.duration",
            True,
            "fpm[0].processes[0].duration: expected a number, got true/false True",
        ),
        ("mysql", {}, "mysql: expected a list, got an object"),
        (
            "mysql.0.max_connections",
            "151",
            "mysql[0].max_connections: expected a whole number, got text '151'",
        ),
        ("mysql.0.status", [], "mysql[0].status: expected an object, got a list"),
        (
            "mysql.0.status.Threads_connected",
            "9",
            "mysql[0].status.Threads_connected: expected a whole number, got text '9'",
        ),
        ("mysql.0.threads.0", "x", "mysql[0].threads[0]: expected an object, got text"),
        (
            "mysql.0.threads.0.id",
            1.5,
            "mysql[0].threads[0].id: expected a whole number, got a number 1.5",
        ),
        ("mysql.0.threads.0.info", ["x"], "mysql[0].threads[0].info: expected text, got a list"),
        (
            "mysql.0.questions_per_s",
            "fast",
            "mysql[0].questions_per_s: expected a number or null, got text 'fast'",
        ),
        ("mysql.0.truncated", None, "mysql[0].truncated: expected a whole number, got null"),
    ],
)
def test_a_wrong_field_is_named(tmp_path: Path, path: str, value: object, said: str) -> None:
    doc = _set(good_doc(), path, value)
    with pytest.raises(BundleError, match=re.escape(said)):
        read_bundle(bundle_with(tmp_path, doc))


@pytest.mark.parametrize("key", ["pool", "ts", "active"])
def test_a_missing_field_is_named(tmp_path: Path, key: str) -> None:
    doc = good_doc()
    del doc["fpm"][0][key]
    with pytest.raises(BundleError, match=re.escape(f"fpm[0].{key}: missing")):
        read_bundle(bundle_with(tmp_path, doc))


def test_infinite_and_nan_numbers_are_refused(tmp_path: Path) -> None:
    text = json.dumps(good_doc()).replace('"time": 40.0', '"time": NaN')
    with pytest.raises(BundleError, match=re.escape("mysql[0].threads[0].time: expected a finite")):
        read_bundle(bundle_with(tmp_path, None, text))
    text = json.dumps(good_doc()).replace('"start_time": 1795705716.0', '"start_time": Infinity')
    with pytest.raises(BundleError, match=re.escape("fpm[0].start_time: expected a finite")):
        read_bundle(bundle_with(tmp_path, None, text))


def test_too_many_rows_or_counters_are_refused(tmp_path: Path) -> None:
    doc = good_doc()
    doc["mysql"][0]["status"] = {f"K{i}": i for i in range(2000)}
    with pytest.raises(BundleError, match=re.escape("mysql[0].status: 2000 counters")):
        read_bundle(bundle_with(tmp_path, doc))
    doc = good_doc()
    doc["fpm"][0]["processes"] = [{}] * 70_000
    with pytest.raises(BundleError, match=re.escape("fpm[0].processes: 70000 items")):
        read_bundle(bundle_with(tmp_path, doc))


def test_hostile_strings_are_cleaned_and_huge_ones_cut(tmp_path: Path) -> None:
    doc = good_doc()
    p, t = doc["fpm"][0]["processes"][0], doc["mysql"][0]["threads"][0]
    p["uri"], p["script"], doc["fpm"][0]["pool"] = HOSTILE[0], HOSTILE[5], HOSTILE[1]
    t["user"], t["host"], t["state"] = HOSTILE[2], HOSTILE[6], HOSTILE[4]
    t["info"] = "SELECT '" + "x" * 1_000_000 + ESC + "[2J'"
    doc["mysql"][0]["status"] = {HOSTILE[0]: 1}
    snap, _ = read_bundle(bundle_with(tmp_path, doc))
    s, m = snap.fpm[0], snap.mysql[0]
    for text in (s.pool, s.processes[0].uri, s.processes[0].script, *m.status):
        assert_inert(text, "fpm")
    for text in (m.threads[0].user, m.threads[0].host, m.threads[0].state, m.threads[0].info):
        assert_inert(text, "mysql")
    assert "\\x1b]0;owned title" in s.processes[0].uri
    info = m.threads[0].info
    assert len(info) == MAX_TEXT and info.endswith("…[cut]") and info.startswith("SELECT 'xxx")


# -- --redact ---------------------------------------------------------------------------------


def test_mask_sql_keeps_the_statement_and_drops_its_values() -> None:
    assert mask_sql(LONG) == (
        "SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer "
        "WHERE c.email = ? AND o.total > ?"
    )
    assert mask_sql("UPDATE `t2024` SET a='it''s', b=\"x\", c=0xFF, d=x'0A', e=1.5e3") == (
        "UPDATE `t2024` SET a=?, b=?, c=?, d=?, e=?"
    )
    assert mask_sql("SELECT 'a\\'b', col_2 FROM t1") == "SELECT ?, col_2 FROM t1"
    assert mask_sql("INSERT INTO t VALUES ('cut in the midd") == "INSERT INTO t VALUES (?"


@pytest.mark.parametrize(
    ("host", "masked"),
    [
        ("localhost", "localhost"),
        ("", ""),
        ("10.1.2.3:51234", "10.1.x.x"),
        ("[2001:db8::7]:443", "2001:db8:x::x"),
        ("app1.internal:4321", "…"),
        ("127.0.0.1:3306", "127.0.0.1"),
    ],
)
def test_mask_host(host: str, masked: str) -> None:
    assert mask_host(host) == masked


SECRETS = ("carol", "example.com", "4111", "alice", "zed_analyst", "10.1.2.3", "51234", "98765")


def redacted_snapshot() -> Snapshot:
    r = stack_recorder()
    busy = (
        proc(1, "/fpm-status?json&full", 0.1, script="-"),
        proc(2, "/checkout.php?card=4111111111111111", 30.0, user="alice"),
    )
    r.add_fpm(fpm(10, active=8, idle=0, reached=2, processes=busy))
    return r.snapshot()


def test_redact_masks_the_stack_samples_in_every_file(tmp_path: Path) -> None:
    from console.incident.stack_rules import FpmMaxChildren, MysqlLongQuery

    snap = redacted_snapshot()
    long_query = MysqlLongQuery({"seconds": 30.0})
    fired = [t for s in snap.mysql if (t := long_query.on_mysql(s))]
    assert len(fired) == 1 and "carol@example.com" in fired[0].message
    limit = FpmMaxChildren({"seconds": 5.0})
    limit.on_fpm(fpm(9, reached=1))
    joined = limit.on_fpm(snap.fpm[-1])
    assert joined is not None and "card=4111" in joined.message
    also = [
        {
            "rule": joined.rule,
            "at": iso(joined.at),
            "message": joined.message,
            "values": dict(joined.values),
        }
    ]
    t = replace(fired[0], values={**fired[0].values, "also_fired": also})
    path = write_bundle(snap, t, tmp_path / "snaps", window=60, tail=5, host="web1", redact=True)
    for f in path.iterdir():
        text = f.read_text()
        for secret in SECRETS:
            assert secret not in text, (f.name, secret)
    doc = json.loads((path / "snapshot.json").read_text())
    [query] = [t for t in doc["mysql"][-1]["threads"] if t["id"] == 11]
    assert query["info"].endswith("WHERE c.email = ? AND o.total > ?")
    assert (query["user"], query["host"]) == ("…", "10.1.x.x")
    uris = [p["uri"] for p in doc["fpm"][-1]["processes"]]
    assert uris == ["/fpm-status?…", "/checkout.php?…"]
    assert doc["fpm"][-1]["processes"][1]["user"] == "…"
    message = doc["trigger"]["message"]
    assert message.startswith("mysql: query 11 by … on shop running 30 s: SELECT o.id")
    assert message.endswith("c.email = ? AND o.total > ?")
    assert doc["trigger"]["values"]["also_fired"][0]["message"].endswith(
        "longest /checkout.php?… (30 s, pid 2)"
    )


def test_redact_trigger_without_values_still_masks_literals() -> None:
    t = Trigger("rule", T0, "http_5xx_burst", "m", {})
    old = {"rule": "mysql_long_query", "at": iso(T0), "message": "mysql: query 1: SELECT 'carol'"}
    masked = redact_trigger(replace(t, values={"also_fired": [old]}))
    assert masked.values["also_fired"][0]["message"] == "mysql: query ?: SELECT ?"


def test_record_prints_stack_triggers_masked_under_redact() -> None:
    from console.commands.record import Printer
    from console.incident.stack_rules import MysqlLongQuery

    s = stack_recorder().snapshot().mysql[-1]
    t = MysqlLongQuery({"seconds": 30.0}).on_mysql(s)
    assert t is not None
    out = io.StringIO()
    Printer(out, redact=True, clock=ManualClock(T0)).on_trigger(t, "saving a bundle in 10 s")
    said = out.getvalue()
    assert (
        "carol" not in said and "zed_analyst" not in said and "rule mysql_long_query fired" in said
    )
    out = io.StringIO()
    Printer(out, redact=False, clock=ManualClock(T0)).on_trigger(t, "saving a bundle in 10 s")
    assert "carol@example.com" in out.getvalue()


def test_passwords_never_reach_snapshot_json(tmp_path: Path) -> None:
    secret = "CREATE USER 'app'@'%' IDENTIFIED BY 'Tr0ub4dor&3'"
    s = Snapshot(
        taken_at=T0 + timedelta(seconds=5),
        records=(),
        status=(),
        system=(),
        states={},
        fpm=(fpm(0, processes=(proc(3, "/login.php?password=Tr0ub4dor", 2.0),)),),
        mysql=(mysql(0, threads=(thread(4, 50.0, secret),)),),
    )
    path = write_bundle(s, trigger(), tmp_path, host="web1")
    for f in path.iterdir():
        assert "Tr0ub4dor" not in f.read_text(), f.name
    back, _ = read_bundle(path)
    assert back.mysql[0].threads[0].info == "CREATE USER 'app'@'%' IDENTIFIED BY '****'"
    assert back.fpm[0].processes[0].uri == "/login.php?password=****"
