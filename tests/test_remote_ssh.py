"""Several hosts over real ssh: a real sshd, two users each with an Apache and lamptop.

``fleet-a`` and ``fleet-b`` (:mod:`tests.support.ssh_hosts`) are reached as the console reaches
any host: the system's ssh client, ``-F`` an ssh config file, ``lamptop record --stream``
there. The fleet runs headless (the engine, the hub recorder, the bundle writer on
``Fleet.snapshot()``) and once in the console under Pilot (``s`` saves one bundle of both).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import psutil
import pytest
import requests

from console.commands.remote import build_fleet, fleet_engine
from console.core.config import Config, load
from console.core.fleet import Fleet
from console.core.recorder import Recorder
from console.incident.bundle import write_bundle
from console.incident.bundle_read import read_bundle
from console.incident.rules import Trigger
from console.sources.remote.ssh import SshLink
from console.sources.remote.words import NOT_FOUND
from tests.support.ssh_hosts import TwoHosts, two_hosts
from tests.support.wait import async_wait_for

WITHIN = 60.0
"""Seconds for a remote lamptop to start and speak (a python start over ssh, on a busy box)."""


@pytest.fixture(scope="module")
def fleet_hosts() -> Iterator[TwoHosts]:
    with two_hosts() as hosts:
        yield hosts


def _config(tmp_path: Path, hosts: TwoHosts, *remotes: str, missing: str = "") -> Config:
    path = tmp_path / "console.toml"
    path.write_text(
        hosts.config_toml(*remotes, missing=missing)
        + f'[snapshot]\ndir = "{tmp_path / "bundles"}"\n'
    )
    return load(str(path))


@asynccontextmanager
async def running(cfg: Config) -> AsyncIterator[tuple[Fleet, dict[str, SshLink]]]:
    """The fleet of ``cfg`` running headless; every ssh process ended after."""
    hub = Recorder(max_records=cfg.max_records)
    fleet, links = build_fleet(cfg, hub, local_name="console")
    for _, link in links:
        link.first_delay = 0.5
    task = asyncio.create_task(fleet_engine(cfg, hub, links).run())
    try:
        yield fleet, {link.host.name: link for _, link in links}
    finally:
        procs = [link.proc.pid for _, link in links if link.proc is not None]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert all(link.proc is None for _, link in links)
        for pid in procs:  # ended and reaped: no ssh left, no zombie
            assert not psutil.pid_exists(pid)


def _get(hosts: TwoHosts, alias: str, path: str) -> None:
    requests.get(hosts.hosts[alias].apache.url + path, timeout=10)


def _texts(fleet: Fleet, source: str) -> list[str]:
    return [r.text for r in fleet.hub.snapshot().records if r.source == source]


def _link(fleet: Fleet, name: str) -> str:
    host = fleet.host(name)
    assert host is not None
    return f"{host.link.status}: {host.link.message}"


async def _up(fleet: Fleet, *names: str) -> None:
    for name in names:
        await async_wait_for(
            lambda n=name: _link(fleet, n).startswith("up"),
            WITHIN,
            what=f"{name} up",
            why=lambda n=name: _link(fleet, n),
        )


async def test_two_hosts_interleaved_in_the_hub_and_one_bundle_of_both(
    fleet_hosts: TwoHosts, tmp_path: Path
) -> None:
    cfg = _config(tmp_path, fleet_hosts, "fleet-a", "fleet-b")
    async with running(cfg) as (fleet, _links):
        await _up(fleet, "fleet-a", "fleet-b")
        assert fleet.host("fleet-a").link.version
        for i in range(3):
            await asyncio.to_thread(_get, fleet_hosts, "fleet-a", f"from-a-{i}")
            await asyncio.to_thread(_get, fleet_hosts, "fleet-b", f"from-b-{i}")
        await async_wait_for(
            lambda: (
                sum("/from-a-" in t for t in _texts(fleet, "fleet-a:access")) == 3
                and sum("/from-b-" in t for t in _texts(fleet, "fleet-b:access")) == 3
            ),
            WITHIN,
            what="3 requests of each host in the hub",
        )
        records = fleet.hub.snapshot().records
        tagged = [r for r in records if "/from-" in r.text]
        assert [r.ts for r in tagged] == sorted(r.ts for r in tagged)  # one interleaved log
        assert {r.source for r in tagged} == {"fleet-a:access", "fleet-b:access"}
        # each host's samples went to its own recorder: its own Apache's scoreboard
        await async_wait_for(
            lambda: all(fleet.host(n).recorder.status for n in ("fleet-a", "fleet-b")),
            WITHIN,
            what="a status sample of each host",
        )
        snap = fleet.snapshot()
        path = write_bundle(snap, Trigger("key", snap.taken_at, message="test"), tmp_path / "b")
    back, _ = read_bundle(path)
    assert [h.name for h in back.hosts] == ["fleet-a", "fleet-b"]
    assert all(h.samples is not None and h.samples.status for h in back.hosts)
    sources = {r.source for r in back.records if "/from-" in r.text}
    assert sources == {"fleet-a:access", "fleet-b:access"}


async def test_a_host_killed_mid_run_is_down_in_words_then_back_without_duplicates(
    fleet_hosts: TwoHosts, tmp_path: Path
) -> None:
    cfg = _config(tmp_path, fleet_hosts, "fleet-a", "fleet-b")
    async with running(cfg) as (fleet, links):
        await _up(fleet, "fleet-a", "fleet-b")
        await asyncio.to_thread(_get, fleet_hosts, "fleet-a", "before-kill")
        await async_wait_for(
            lambda: any("/before-kill" in t for t in _texts(fleet, "fleet-a:access")), WITHIN
        )
        ups = links["fleet-a"].ups
        killed = await asyncio.to_thread(fleet_hosts.kill_remote, "fleet-a")
        assert killed >= 1
        await async_wait_for(
            lambda: fleet.host("fleet-a").link.status == "down",
            WITHIN,
            why=lambda: _link(fleet, "fleet-a"),
        )
        down = fleet.host("fleet-a").link
        # the remote shell says how its command ended: "stream ended (exit 137: Killed)"
        assert down.message.startswith("stream ended") and down.retry_at is not None
        assert _link(fleet, "fleet-b").startswith("up")  # the other goes on
        await async_wait_for(lambda: links["fleet-a"].ups > ups, WITHIN, what="fleet-a back")
        await asyncio.to_thread(_get, fleet_hosts, "fleet-a", "after-kill")
        await async_wait_for(
            lambda: any("/after-kill" in t for t in _texts(fleet, "fleet-a:access")), WITHIN
        )
        texts = _texts(fleet, "fleet-a:access")
        assert sum("/before-kill" in t for t in texts) == 1
        assert len(texts) == len(set(texts))  # the backfill sent again was skipped
        assert links["fleet-a"].resume.skipped >= 1


async def test_unreachable_and_missing_lamptop_in_words_while_the_other_goes_on(
    fleet_hosts: TwoHosts, tmp_path: Path
) -> None:
    # fleet-nokey logs in with a key the server does not know, fleet-badkey knows another host
    # key for the server; fleet-a's user is reached but its command does not exist there
    cfg = _config(
        tmp_path,
        fleet_hosts,
        *("fleet-down", "fleet-nokey", "fleet-badkey", "fleet-a", "fleet-b"),
        missing="fleet-a",
    )
    async with running(cfg) as (fleet, _links):

        def words() -> dict[str, str]:
            return {h.name: f"{h.link.status}: {h.link.message}" for h in fleet.hosts}

        await async_wait_for(
            lambda: (
                words()["fleet-down"] == "down: ssh: connection refused"
                and words()["fleet-nokey"] == "down: ssh: permission denied (publickey)"
                and words()["fleet-badkey"] == "down: ssh: host key verification failed"
                and words()["fleet-a"] == f"down: {NOT_FOUND}"
                and words()["fleet-b"].startswith("up")
            ),
            WITHIN,
            why=words,
        )
        await asyncio.to_thread(_get, fleet_hosts, "fleet-b", "b-goes-on")
        await async_wait_for(
            lambda: any("/b-goes-on" in t for t in _texts(fleet, "fleet-b:access")), WITHIN
        )


async def test_the_console_over_two_hosts_and_one_down_saves_one_bundle_of_all(
    fleet_hosts: TwoHosts, tmp_path: Path
) -> None:
    from console.incident.watch import IncidentWatch
    from console.tui.app import LamptopApp
    from tests.support.app import screen_text
    from widgets.hosts import HostLines

    cfg = _config(tmp_path, fleet_hosts, "fleet-a", "fleet-b", "fleet-down")
    hub = Recorder()
    fleet, links = build_fleet(cfg, hub, local_name="console")
    engine = fleet_engine(cfg, hub, links)
    app = LamptopApp(
        hub, config=cfg, engine=engine, incidents=IncidentWatch.for_config(cfg, hub), fleet=fleet
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await _up(fleet, "fleet-a", "fleet-b")
        await asyncio.to_thread(_get, fleet_hosts, "fleet-a", "seen-on-screen")
        await async_wait_for(
            lambda: any("/seen-on-screen" in t for t in _texts(fleet, "fleet-a:access")), WITHIN
        )
        await async_wait_for(
            lambda: (
                "fleet-down: ssh: connection refused · retry in"
                in screen_text(app.query_one(HostLines))
            ),
            WITHIN,
            why=lambda: screen_text(app.query_one(HostLines)),
        )
        lines = screen_text(app.query_one(HostLines)).splitlines()
        assert lines[0].startswith("▶ fleet-a") and lines[1].lstrip().startswith("fleet-b")
        assert "busy" in lines[0] and "busy" in lines[1]
        await pilot.press("s")
        bundles = tmp_path / "bundles"
        await async_wait_for(lambda: bundles.is_dir() and any(bundles.iterdir()), WITHIN)
        await pilot.press("q")
    (bundle,) = list(bundles.iterdir())
    back, _ = read_bundle(bundle)
    assert [h.name for h in back.hosts] == ["fleet-a", "fleet-b", "fleet-down"]
    assert back.hosts[2].link.status == "down"
    assert back.hosts[2].link.message == "ssh: connection refused"
    assert any(r.source == "fleet-a:access" and "/seen-on-screen" in r.text for r in back.records)
    assert all(link.proc is None for _, link in links)
