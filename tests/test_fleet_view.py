"""Several hosts, without a screen: the host lines, the host chosen, sums, tags, rewinding."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.core.fleet import Fleet, Link, RemoteAlert
from console.core.recorder import Recorder
from console.view import rewind
from console.view.elide import cells
from console.view.fleetview import (
    ALL,
    all_in_flight,
    for_all,
    for_host,
    log_tags,
    memory_lines,
    next_choice,
)
from console.view.hosts import compact_lines, host_line, host_rows, name_width
from tests.support.fleet_scripted import feed, scripted_fleet
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.scripted import T0, fixed_clock


def _text(pieces: list[tuple[str, str]]) -> str:
    return "".join(t for t, _ in pieces)


def test_fleet_snapshot_holds_every_host_at_one_instant() -> None:
    snap = scripted_fleet().snapshot()
    assert [h.name for h in snap.hosts] == ["web1", "fleet-a", "fleet-b"]
    local, a, b = snap.hosts
    assert local.local and local.samples is None
    assert a.samples is not None and a.samples.taken_at == snap.taken_at
    assert a.samples.latest_status is not None and a.samples.latest_status.busy == 150
    assert b.link.status == "down" and b.link.message == "ssh: connection refused"
    # records of every host in the hub, a remote's source tagged with it
    assert {"fleet-a:access", "fleet-b:access", "access"} <= {r.source for r in snap.records}


def test_one_host_fleet_is_the_hub_alone() -> None:
    hub = Recorder(clock=fixed_clock)
    fleet = Fleet(hub, local_name="web1", clock=fixed_clock)
    assert fleet.snapshot().hosts == ()


def test_host_rows_say_busy_memory_alert_and_the_link_in_words() -> None:
    snap = scripted_fleet().snapshot()
    rows = host_rows(snap, local_alert=("memory_high", T0 - timedelta(seconds=30)))
    local, a, b = rows
    assert (a.busy, a.limit) == (150, 150) and a.alert == "workers_near_limit"
    assert a.alert_age == 14 and a.label == "fleet-a (shop-a)"
    assert local.alert == "memory_high" and local.alert_age == 30
    assert b.words == "ssh: connection refused · retry in 20 s"
    nw = name_width(rows)
    lines = [_text(host_line(r, 80, nw, shown=r.name == "web1")) for r in rows]
    assert lines[2] == "  fleet-b: ssh: connection refused · retry in 20 s"
    assert lines[0].startswith("▶ web1 ") and "busy  15/150" in lines[0]
    assert "busy 150/150" in lines[1] and "⚠ workers_near_limit 14 s ago" in lines[1]
    for width in (40, 60, 80, 120):
        for r in rows:
            assert cells(_text(host_line(r, width, nw))) <= width


def test_a_connecting_link_counts_its_seconds_and_a_late_alert_is_not_shown() -> None:
    fleet = scripted_fleet()
    b = fleet.hosts[2]
    fleet.set_link(b, Link("connecting", since=T0 - timedelta(seconds=4)))
    fleet.sink(b).add_alert(RemoteAlert(T0 + timedelta(seconds=5), "later", "after the instant"))
    row = host_rows(fleet.snapshot())[2]
    assert row.words == "connecting… 4 s" and row.alert == ""


def test_many_hosts_pack_into_compact_lines_down_first() -> None:
    hub = Recorder(clock=fixed_clock)
    fleet = Fleet(hub, local_name="web1", clock=fixed_clock)
    for n in range(12):
        host = fleet.add_remote(f"web{n + 2}")
        feed(fleet.sink(host), saturate=n == 3, seconds=3)
        fleet.set_link(host, Link("down", "ssh: timeout") if n == 7 else Link("up"))
    rows = host_rows(fleet.snapshot())
    lines = compact_lines(rows, 80, 2, "web5")
    assert len(lines) == 2
    first = _text(lines[0])
    assert first.startswith(" web9 down")  # the host that is down comes first
    assert "▶web5 150/150" in _text(lines[1])  # the host shown, marked
    assert all(cells(_text(line)) <= 80 for line in lines)
    assert _text(lines[-1]).rstrip().endswith("more")


def test_choosing_the_host_and_all_hosts() -> None:
    names = ("web1", "fleet-a", "fleet-b")
    assert next_choice(names, "web1") == "fleet-a"
    assert next_choice(names, "fleet-b") == "web1"
    assert next_choice(names, ALL) == "web1"
    assert next_choice(names, "fleet-a", every=True) == ALL
    assert next_choice(names, ALL, every=True) == "web1"


def test_a_remote_host_view_has_its_samples_and_every_host_records() -> None:
    snap = scripted_fleet().snapshot()
    view = for_host(snap, "fleet-a")
    assert view.latest_status is not None and view.latest_status.busy == 150
    assert view.records == snap.records
    assert for_host(snap, "web1") is snap


def test_all_hosts_sum_where_they_add_up_and_leave_a_down_host_out() -> None:
    snap = scripted_fleet().snapshot()
    view = for_all(snap)
    status = view.latest_status
    assert status is not None and (status.busy, status.limit) == (165, 300)
    assert len(view.status) == 2 and view.fpm == ()
    rows = all_in_flight(snap, "/server-status")
    assert {r.host for r in rows} == {"web1", "f-a"}
    assert rows[0].seconds >= rows[-1].seconds
    lines = memory_lines(snap)
    assert len(lines) == 3 and lines[1].startswith("fleet-a ") and "%" in lines[1]


def test_all_hosts_count_a_host_again_when_its_link_is_back() -> None:
    snap = scripted_fleet(down=False).snapshot()
    status = for_all(snap).latest_status
    assert status is not None and status.limit == 450


def test_log_tags_put_the_host_in_front_and_stay_distinct() -> None:
    snap = scripted_fleet().snapshot()
    hosts = tuple((h.name, h.local) for h in snap.hosts)
    width, tags = log_tags(snap.sources, hosts, 80)
    assert tags["access"] == "web1:access" and tags["fleet-a:access"] == "f-a:access"
    assert tags["fleet-b:apache"] == "f-b:apache"
    assert len(set(tags.values())) == len(tags) and width == max(cells(t) for t in tags.values())


def test_rewinding_cuts_every_host_at_the_same_instant() -> None:
    snap = scripted_fleet().snapshot()
    at = T0 - timedelta(seconds=30)
    cut = rewind.cut(snap, at)
    a = cut.hosts[1]
    assert a.samples is not None and a.samples.taken_at == at
    assert all(s.ts <= at for s in a.samples.status) and a.samples.status
    assert a.alerts == ()  # the rule fired 14 s before T0: after the instant
    assert host_rows(cut)[1].alert == ""


def test_hostile_host_names_and_remote_texts_come_out_inert() -> None:
    hub = Recorder(clock=fixed_clock)
    fleet = Fleet(hub, local_name="web1", clock=fixed_clock)
    for i, text in enumerate(HOSTILE):
        host = fleet.add_remote(f"h{i}{text}")
        feed(fleet.sink(host), saturate=False, seconds=2)
        fleet.sink(host).add_alert(RemoteAlert(T0, text * 3, text + " password=hunter2"))
        down = Link("down", text + " --password=hunter2", retry_at=T0, hostname=text)
        fleet.set_link(host, down if i % 2 else replace(down, status="up"))
    snap = fleet.snapshot()
    rows = host_rows(snap)
    nw = name_width(rows, label=True)
    for row in rows:
        for width in (80, 200):
            line = _text(host_line(row, width, nw, label=True))
            assert_inert(line, "host line")
            assert "hunter2" not in line
    for line in compact_lines(rows, 80, 3, ""):
        assert_inert(_text(line), "compact host line")
    for line in memory_lines(snap):
        assert_inert(line, "memory line")
    hosts = tuple((h.name, h.local) for h in snap.hosts)
    _, tags = log_tags(snap.sources, hosts, 80)
    for tag in tags.values():
        assert_inert(tag, "log tag")
