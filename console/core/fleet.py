"""Several hosts in one console: what each host's data goes into, and the state of its link.

One console can follow several hosts (``lamptop --remote DEST``). Their data lands in two kinds
of recorder:

* the **hub**, the console's one :class:`~console.core.recorder.Recorder` of log records and
  source states. Every host's records and states go in there, so that the log pane, filters,
  ``x``, the source keys and the log rules work across all hosts unchanged. A remote host's
  source names are tagged with the host: ``web1:apache-access`` (:func:`tagged`); the local
  host's keep their plain names.
* one **host recorder** per remote host for its samples (mod_status, system, PHP-FPM, MySQL):
  those are one server's figures and never mix. The local host's samples stay in the hub, as
  with one host.

A :class:`HostSink` is the sink a remote host's source delivers into: it routes each kind of
event to the right recorder. :class:`Fleet` holds the hosts in order (the local one first,
unless ``--no-local``) with the state of each link.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.recorder import Recorder, Snapshot
from console.core.stack import FpmSample, MysqlSample

HOST_SEP = ":"
"""Between a host's name and a source's name in the hub: ``web1:apache-access``."""

LinkStatus = Literal["local", "connecting", "up", "down"]


def tagged(host: str, source: str) -> str:
    """A remote host's source name as the hub knows it."""
    return f"{host}{HOST_SEP}{source}"


def host_of(source: str, hosts: Sequence[str]) -> str:
    """The host a hub source name belongs to: the remote host it is tagged with, else ``""``
    (the local host). Only names in ``hosts`` count: a local label may hold a colon too."""
    head, sep, _ = source.partition(HOST_SEP)
    return head if sep and head in hosts else ""


@dataclass(frozen=True, slots=True)
class Link:
    """The state of one host's link, as the host line shows it."""

    status: LinkStatus
    message: str = ""
    """In words, when not up: ``ssh: connection refused``, ``lamptop not found (...)``."""
    since: datetime | None = None
    """When it entered this status."""
    retry_at: datetime | None = None
    """When a down link is tried again."""
    hostname: str = ""
    """The host's own name (from the stream's header), shown beside the destination when it
    differs."""
    version: str = ""
    """The remote lamptop's version."""


@dataclass(frozen=True, slots=True)
class RemoteAlert:
    """A spike rule that fired on a remote host (its own rules run there, in ``record``)."""

    ts: datetime
    rule: str
    message: str
    bundle: str = ""
    """Where the remote saved its bundle (a path on that host), if it did."""


ALERTS_KEPT = 50
"""Remote alerts kept per host."""


@dataclass(eq=False)
class Host:
    """One host of the fleet."""

    name: str
    """The destination as given (``web1``, ``fleet-a``); the local host's own hostname."""
    recorder: Recorder
    """Its samples (the hub itself for the local host)."""
    local: bool = False
    link: Link = field(default_factory=lambda: Link("connecting"))
    alerts: deque[RemoteAlert] = field(default_factory=lambda: deque(maxlen=ALERTS_KEPT))
    """The rules that fired on that host, oldest first (remote hosts only)."""


@dataclass(frozen=True, slots=True)
class HostShot:
    """One host as a snapshot holds it (:attr:`Snapshot.hosts`): its link and alerts then, and
    for a remote host a snapshot of its own recorder (its samples)."""

    name: str
    link: Link
    local: bool = False
    alerts: tuple[RemoteAlert, ...] = ()
    samples: Snapshot | None = None
    """The remote host's recorder then; None for the local host (its samples are the hub's)."""

    @property
    def label(self) -> str:
        """The name, with the host's own name beside it where it differs: ``web1 (shop-a)``."""
        own = self.link.hostname
        return f"{self.name} ({own})" if own and own != self.name else self.name

    def window(self, start: datetime, end: datetime) -> HostShot:
        """Its samples and alerts between ``start`` and ``end`` (a bundle's window)."""
        alerts = tuple(a for a in self.alerts if start <= a.ts <= end)
        samples = self.samples.window(start, end) if self.samples is not None else None
        return replace(self, alerts=alerts, samples=samples)

    def at(self, instant: datetime, cut: Callable[[Snapshot, datetime], Snapshot]) -> HostShot:
        """As it was at ``instant`` (rewinding), its samples cut there with ``cut``."""
        alerts = tuple(a for a in self.alerts if a.ts <= instant)
        samples = cut(self.samples, instant) if self.samples is not None else None
        return replace(self, alerts=alerts, samples=samples)


class HostSink:
    """Where a remote host's source delivers: records and states to the hub, tagged with the
    host; samples to the host's own recorder (states there too, untagged)."""

    def __init__(self, hub: Recorder, host: Host) -> None:
        self.hub = hub
        self.host = host

    def register(self, name: str) -> None:
        self.hub.register(tagged(self.host.name, name))

    def add_records(self, records: Sequence[LogRecord]) -> None:
        name = self.host.name
        self.hub.add_records([replace(r, source=tagged(name, r.source), seq=0) for r in records])

    def add_status(self, sample: StatusSample) -> None:
        self.host.recorder.add_status(sample)

    def add_system(self, sample: SystemSample) -> None:
        self.host.recorder.add_system(sample)

    def add_fpm(self, sample: FpmSample) -> None:
        self.host.recorder.add_fpm(sample)

    def add_mysql(self, sample: MysqlSample) -> None:
        self.host.recorder.add_mysql(sample)

    def add_alert(self, alert: RemoteAlert) -> None:
        """A rule that fired; the same fire again (its time and rule) once its bundle is saved
        replaces the first, now with the bundle's path."""
        alerts = self.host.alerts
        for i in range(len(alerts) - 1, max(len(alerts) - 8, 0) - 1, -1):
            if (alerts[i].ts, alerts[i].rule) == (alert.ts, alert.rule):
                alerts[i] = alert
                return
        alerts.append(alert)

    def set_state(self, state: SourceState) -> None:
        self.host.recorder.set_state(state)
        self.hub.set_state(replace(state, source=tagged(self.host.name, state.source)))


class Fleet:
    """The hosts one console follows, the local one first (unless left out)."""

    def __init__(
        self, hub: Recorder, *, local_name: str, local: bool = True, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.hub = hub
        self.clock = clock
        self.hosts: list[Host] = []
        if local:
            self.hosts.append(Host(local_name, hub, local=True, link=Link("local")))

    def add_remote(self, name: str) -> Host:
        """A remote host, its own recorder made like the hub's (same ring sizes, clock)."""
        if any(h.name == name for h in self.hosts):
            raise ValueError(f"host {name!r} given twice")
        host = Host(
            name, Recorder(clock=self.clock), link=Link("connecting", since=self.clock.now())
        )
        self.hosts.append(host)
        return host

    def sink(self, host: Host) -> HostSink:
        return HostSink(self.hub, host)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hosts)

    @property
    def remote_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hosts if not h.local)

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)

    def set_link(self, host: Host, link: Link) -> None:
        host.link = link

    def snapshot(self) -> Snapshot:
        """The hub's snapshot with every host in it (:attr:`Snapshot.hosts`), each remote
        host's samples taken at the same instant; with no remote host, the hub's alone (one
        host: as without a fleet)."""
        snap = self.hub.snapshot()
        if not any(not h.local for h in self.hosts):
            return snap
        shots = tuple(
            HostShot(
                h.name,
                h.link,
                local=h.local,
                alerts=tuple(h.alerts),
                samples=None if h.local else replace(h.recorder.snapshot(), taken_at=snap.taken_at),
            )
            for h in self.hosts
        )
        return replace(snap, hosts=shots)
