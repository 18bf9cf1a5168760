"""A bundle of several hosts: written, read back, older bundles still open, hostile hosts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from console.core.fleet import Link, RemoteAlert
from console.incident.bundle import BundleError, bundle_data, write_bundle
from console.incident.bundle_read import read_bundle
from console.incident.rules import Trigger
from tests.support.fleet_scripted import scripted_fleet
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.scripted import T0

TRIGGER = Trigger("key", T0, message="saved by hand")


def _write(tmp_path: Path, **kw: object) -> Path:
    fleet = kw.pop("fleet", None) or scripted_fleet()
    return write_bundle(
        fleet.snapshot(),  # type: ignore[attr-defined]
        TRIGGER,
        tmp_path / "snaps",
        window=300,
        host="web1",
        **kw,  # type: ignore[arg-type]
    )


def test_round_trip_keeps_every_host_samples_link_and_alerts(tmp_path: Path) -> None:
    fleet = scripted_fleet()
    path = _write(tmp_path, fleet=fleet)
    snap, doc = read_bundle(path)
    assert doc["schema_version"] == 3
    local, a, b = snap.hosts
    assert local.local and local.samples is None and local.link.status == "local"
    assert a.samples is not None and a.samples.taken_at == snap.taken_at
    original = fleet.hosts[1].recorder.snapshot()
    assert a.samples.status == original.status and a.samples.system == original.system
    assert a.alerts == tuple(fleet.hosts[1].alerts) and a.link.hostname == "shop-a"
    assert b.link == fleet.hosts[2].link
    assert a.samples.states["mod_status"].status == "ok"
    # the streamed document is the dict one
    text = (path / "snapshot.json").read_text()
    whole = bundle_data(
        fleet.snapshot(), TRIGGER, host="web1", start=T0 - timedelta(seconds=300), end=T0
    )
    assert json.loads(text)["hosts"] == json.loads(json.dumps(whole["hosts"]))


def test_report_gives_each_host_its_verdict_and_trigger(tmp_path: Path) -> None:
    report = (_write(tmp_path) / "report.md").read_text()
    head, _, rest = report.partition("## lamptop snapshot: `web1`")
    assert "| `fleet-a` | `shop-a` | `up` | 150/150 |" in head
    assert "`/export.php` | `rule workers_near_limit` |" in head
    assert "`down: ssh: connection refused`" in head
    part_a = rest.partition("## lamptop snapshot: `fleet-a`")[2]
    assert part_a.partition("## lamptop snapshot: `fleet-b`")[0].count("/export.php") >= 2
    assert "**Trigger:** rule `workers_near_limit`" in part_a


def test_a_one_host_bundle_has_no_hosts_and_a_version_2_bundle_opens(tmp_path: Path) -> None:
    path = _write(tmp_path)
    doc = json.loads((path / "snapshot.json").read_text())
    del doc["hosts"]
    doc["schema_version"] = 2
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    snap, _ = read_bundle(old)
    assert snap.hosts == () and snap.latest_status is not None


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda h: h[1].update(name=7), "hosts[1].name: expected text"),
        (lambda h: h[2].update(name="fleet-a"), "hosts[2].name: empty or given twice"),
        (lambda h: h[1]["link"].update(status="owned"), "hosts[1].link.status"),
        (lambda h: h[1]["status"][0].update(busy="x"), "hosts[1].status[0].busy"),
        (lambda h: h[2].update(local=True), "more than one local host"),
    ],
)
def test_a_damaged_hosts_section_is_refused_naming_the_field(
    tmp_path: Path, change: object, said: str
) -> None:
    doc = json.loads((_write(tmp_path) / "snapshot.json").read_text())
    change(doc["hosts"])  # type: ignore[operator]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(BundleError, match=said.replace("[", r"\[").replace("]", r"\]")):
        read_bundle(bad)


def test_hostile_remote_texts_are_inert_in_every_file(tmp_path: Path) -> None:
    fleet = scripted_fleet()
    a, b = fleet.hosts[1], fleet.hosts[2]
    text = "".join(HOSTILE)
    fleet.set_link(a, Link("up", hostname=text))
    fleet.set_link(b, Link("down", text + " password=hunter2"))
    fleet.sink(a).add_alert(RemoteAlert(T0, text, text))
    path = _write(tmp_path, fleet=fleet)
    report = (path / "report.md").read_text()
    assert_inert(report, "report.md")
    assert "<script>" not in (path / "report.html").read_text()
    assert_inert((path / "logs.txt").read_text(), "logs.txt")
    snap, _ = read_bundle(path)
    for h in snap.hosts:
        assert_inert(h.link.message + h.link.hostname, "link read back")
        for alert in h.alerts:
            assert_inert(alert.rule + alert.message, "alert read back")


def test_redacted_bundle_masks_every_host_clients(tmp_path: Path) -> None:
    path = _write(tmp_path, redact=True)
    text = (path / "snapshot.json").read_text() + (path / "report.md").read_text()
    assert "198.51.100.9" not in text  # fleet-a's client, in its workers and records
