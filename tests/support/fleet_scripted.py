"""A scripted fleet: the scripted incident on the local host, and remote hosts fed the way the
ssh transport feeds them, through :meth:`console.core.fleet.Fleet.sink`.

``fleet-a`` is saturated (every worker busy, memory nearly full, a rule fired there);
``fleet-b``'s link is down (``ssh: connection refused``, retried in 20 s) after a minute of
samples. Everything is deterministic, on the fixed clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from console.core.clock import Clock
from console.core.config import Config
from console.core.events import SourceState, StatusSample, Worker
from console.core.fleet import Fleet, HostSink, Link, RemoteAlert
from console.tui.app import LamptopApp
from tests.support.scripted import (
    STATUS_URL,
    T0,
    access,
    fixed_clock,
    records,
    scripted_recorder,
    status_sample,
    system_sample,
)

SATURATED = "W" * 140 + "R" * 10


def saturated(ts: object, accesses: int) -> StatusSample:
    """Every one of 150 workers busy, twelve of them on report.php for a minute or more."""
    base = status_sample(ts, accesses, 900_000.0)  # type: ignore[arg-type]
    workers = tuple(
        Worker(
            f"{n}-0",
            4100 + n,
            "W",
            0.0,
            95.0 - n,
            0.0,
            "198.51.100.9",
            "shop:443",
            "GET /export.php?all=1 HTTP/1.1",
        )
        for n in range(12)
    )
    return replace(
        base,
        fields={"ServerName": "shop-a"},
        scoreboard=SATURATED,
        counts={"W": 140, "R": 10},
        workers=workers,
        busy=150,
        idle=0,
        limit=150,
    )


def feed(sink: HostSink, *, saturate: bool, seconds: int = 60) -> None:
    """``seconds`` of a remote host's samples and records, ending at T0."""
    for name in ("access", "apache"):
        sink.register(name)
    for i in range(seconds):
        ts = T0 - timedelta(seconds=seconds - 1 - i)
        if saturate:
            sink.add_status(saturated(ts, 50_000 + 30 * i))
        else:
            sink.add_status(status_sample(ts, 9_000 + 3 * i, 70_000.0 + i))
        system = system_sample(i if saturate else i // 3, seconds)
        sink.add_system(replace(system, ts=ts))
    recs = [replace(r, ts=r.ts + timedelta(milliseconds=400)) for r in records()[::4]]
    if saturate:
        recs.append(access(7, T0 - timedelta(seconds=3), 503, "/export.php", "198.51.100.9", 4100))
    sink.add_records(recs)
    sink.hub.release(force=True)
    for name, kind in (("access", "apache-access"), ("apache", "apache-error")):
        sink.set_state(SourceState(T0, name, kind, "ok", target=f"/var/log/apache2/{name}.log"))
    sink.set_state(SourceState(T0, "mod_status", "mod-status", "ok", target=STATUS_URL))


def scripted_fleet(*, clock: Clock = fixed_clock, down: bool = True) -> Fleet:
    """The local host ``web1`` (the scripted incident), ``fleet-a`` saturated, ``fleet-b``
    down (``down=False``: up and calm)."""
    hub = scripted_recorder(clock=clock)
    fleet = Fleet(hub, local_name="web1", clock=clock)
    a = fleet.add_remote("fleet-a")
    feed(fleet.sink(a), saturate=True)
    fleet.sink(a).add_alert(
        RemoteAlert(T0 - timedelta(seconds=14), "workers_near_limit", "150/150 busy for 5 s")
    )
    fleet.set_link(a, Link("up", since=T0 - timedelta(minutes=5), hostname="shop-a"))
    b = fleet.add_remote("fleet-b")
    feed(fleet.sink(b), saturate=False)
    if down:
        link = Link(
            "down",
            "ssh: connection refused",
            since=T0 - timedelta(seconds=8),
            retry_at=T0 + timedelta(seconds=20),
        )
    else:
        link = Link("up", since=T0 - timedelta(minutes=5), hostname="fleet-b")
    fleet.set_link(b, link)
    return fleet


def fleet_app(fleet: Fleet | None = None, **kw: object) -> LamptopApp:
    """The console over :func:`scripted_fleet`, in UTC, on the fixed clock."""
    fleet = fleet or scripted_fleet()
    config = kw.pop("config", None) or Config(timezone="UTC")
    app = LamptopApp(fleet.hub, config=config, clock=fixed_clock, fleet=fleet, **kw)  # type: ignore[arg-type]
    app.host = "web1"
    return app
