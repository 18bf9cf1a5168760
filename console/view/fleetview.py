"""Which host the sample panes show, and what they show for all hosts at once.

A console that follows several hosts shows one host's workers, memory, PHP-FPM and MySQL at a
time (``h`` goes to the next), or all hosts at once (``H``) where a pane can sum them: the
workers pane sums busy/limit and lists every host's requests in flight tagged with the host;
the memory pane gives one line per host (memory histories of different hosts do not add up).
The log pane always shows every host: a remote host's sources are tagged with it in the hub
(``web1:access``, :func:`console.core.fleet.tagged`) and drawn with a short host tag.
Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from types import MappingProxyType

from console.core.events import ServiceMem, StatusSample, SystemSample, Worker
from console.core.fleet import HOST_SEP, HostShot
from console.core.recorder import Snapshot
from console.view.elide import cells, cut_end, short_names
from console.view.hosts import inert, samples_of
from console.view.metrics import InFlight, human_bytes, in_flight

ALL = "*"
"""The choice of every host at once."""


def host_names(snap: Snapshot | None) -> tuple[str, ...]:
    """The hosts of ``snap`` in order; empty for one host."""
    return tuple(h.name for h in snap.hosts) if snap is not None else ()


def shot(snap: Snapshot, name: str) -> HostShot | None:
    return next((h for h in snap.hosts if h.name == name), None)


def next_choice(names: Sequence[str], current: str, *, every: bool = False) -> str:
    """``h``: the host after ``current`` (from all hosts: the first); ``H`` (``every``): all
    hosts, or back to the first from there."""
    if not names:
        return ""
    if every:
        return names[0] if current == ALL else ALL
    if current not in names:
        return names[0]
    return names[(names.index(current) + 1) % len(names)]


def for_host(snap: Snapshot, name: str) -> Snapshot:
    """``snap`` with the samples and source states of host ``name`` in place of the hub's
    (records stay every host's: the log pane shows them all). The local host, an unknown
    name, and a snapshot of one host: ``snap`` itself."""
    chosen = shot(snap, name)
    if chosen is None or chosen.samples is None:
        return snap
    own = chosen.samples
    return replace(
        snap,
        status=own.status,
        system=own.system,
        fpm=own.fpm,
        mysql=own.mysql,
        states=own.states,
    )


def counted(snap: Snapshot) -> tuple[HostShot, ...]:
    """The hosts whose figures count in a sum: not those whose link is down (their last
    figures are old; the host lines say they are down)."""
    return tuple(h for h in snap.hosts if h.link.status != "down")


def for_all(snap: Snapshot) -> Snapshot:
    """``snap`` with every host's samples summed where they add up: the newest two status
    samples of each host (so the header's req/s is the sum too) and the newest system
    sample; no PHP-FPM or MySQL samples (one host at a time: ``h``). A host whose link is
    down does not count (:func:`counted`)."""
    hosts = counted(snap)
    owns = [samples_of(snap, h) for h in hosts]
    status: list[StatusSample] = []
    for back in (2, 1):
        picked = [
            (h.name, o.status[-back])
            for h, o in zip(hosts, owns, strict=True)
            if len(o.status) >= back
        ]
        if picked:
            status.append(sum_status(picked))
    systems = [o.system[-1] for o in owns if o.system]
    return replace(
        snap,
        status=tuple(status),
        system=(sum_system(systems),) if systems else (),
        fpm=(),
        mysql=(),
    )


def sum_status(samples: Sequence[tuple[str, StatusSample]]) -> StatusSample:
    """Several hosts' status samples as one: scoreboards end to end, counts, busy, idle and
    limit summed, every worker's slot tagged with its host (``web1/3-0``)."""
    counts: dict[str, int] = defaultdict(int)
    workers: list[Worker] = []
    for name, s in samples:
        for ch, n in s.counts.items():
            counts[ch] += n
        workers += [replace(w, slot=f"{name}/{w.slot}") for w in s.workers]
    newest = max((s for _, s in samples), key=lambda s: s.ts)

    def total(values: Sequence[float | int | None]) -> float | None:
        return None if any(v is None for v in values) else sum(v or 0 for v in values)

    accesses = total([s.total_accesses for _, s in samples])
    kbytes = total([s.total_kbytes for _, s in samples])
    return StatusSample(
        ts=newest.ts,
        url="",
        fields={"ServerName": f"{len(samples)} hosts"},
        scoreboard="".join(s.scoreboard for _, s in samples),
        counts=dict(counts),
        workers=tuple(workers),
        server_version=newest.server_version,
        mpm=newest.mpm,
        uptime=None,
        total_accesses=int(accesses) if accesses is not None else None,
        total_kbytes=kbytes,
        busy=sum(s.busy for _, s in samples),
        idle=sum(s.idle for _, s in samples),
        limit=sum(s.limit for _, s in samples),
        extended=all(s.extended for _, s in samples),
    )


def sum_system(samples: Sequence[SystemSample]) -> SystemSample:
    """Several hosts' system samples as one: memory, swap, load and cores summed (the load
    per core is the fleet's), services by name summed; no processes (pids are per host)."""
    services: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in samples:
        for m in s.services:
            services[m.name][0] += m.rss
            services[m.name][1] += m.procs
    cpus = sum(s.cpu_count for s in samples) or 1
    return SystemSample(
        ts=max(s.ts for s in samples),
        mem_total=sum(s.mem_total for s in samples),
        mem_used=sum(s.mem_used for s in samples),
        mem_available=sum(s.mem_available for s in samples),
        swap_total=sum(s.swap_total for s in samples),
        swap_used=sum(s.swap_used for s in samples),
        load1=sum(s.load1 for s in samples),
        load5=sum(s.load5 for s in samples),
        load15=sum(s.load15 for s in samples),
        cpu_percent=sum(s.cpu_percent * s.cpu_count for s in samples) / cpus,
        cpu_count=cpus,
        services=tuple(ServiceMem(n, rss, procs) for n, (rss, procs) in services.items()),
        self_rss=sum(s.self_rss for s in samples),
        self_cpu=sum(s.self_cpu for s in samples),
    )


def all_in_flight(snap: Snapshot, exclude_path: str = "") -> tuple[InFlight, ...]:
    """Every host's requests in flight, each with its own host's memory, oldest first, the
    host's tag in its own column and in the slot; not those of a host whose link is down."""
    rows: list[InFlight] = []
    tags = host_tags([h.name for h in snap.hosts], 4)
    for h in counted(snap):
        own = samples_of(snap, h)
        system = own.latest_system
        rss = system.rss_by_pid if system is not None else None
        tag = tags[inert(h.name, 100)]
        rows += [
            replace(r, slot=f"{tag}/{r.slot}", host=tag)
            for r in in_flight(own.latest_status, rss, exclude_path=exclude_path)
        ]
    rows.sort(key=lambda r: (-r.seconds, r.slot))
    return tuple(rows)


def memory_lines(snap: Snapshot) -> tuple[str, ...]:
    """One line per host for the memory pane with every host: ``web1 906M/985M 92% swap 142M``."""
    width = max((cells(inert(h.name, 40)) for h in snap.hosts), default=4)
    out = []
    for h in snap.hosts:
        name = inert(h.name, 40).ljust(width)
        system = samples_of(snap, h).latest_system
        if system is None:
            out.append(f"{name} no reading")
            continue
        ratio = system.mem_used / system.mem_total if system.mem_total else 0.0
        line = f"{name} {human_bytes(system.mem_used)}/{human_bytes(system.mem_total)} {ratio:.0%}"
        if system.swap_total:
            line += f" swap {human_bytes(system.swap_used)}"
        out.append(line)
    return tuple(out)


def host_tags(names: Sequence[str], width: int) -> dict[str, str]:
    """A short tag of at most ``width`` cells for each host name, all different: ``fleet-a``
    and ``fleet-b`` are ``f-a`` and ``f-b``; a name that fits stays."""
    return short_names([inert(n, 100) for n in names], width)


@lru_cache(maxsize=64)
def log_tags(
    sources: tuple[str, ...], hosts: tuple[tuple[str, bool], ...], row_width: int
) -> tuple[int, Mapping[str, str]]:
    """The width of the log pane's source column and each source's tag in it, with the host
    in front (``f-a:access``); the local host's sources get its tag too. ``sources`` are the
    hub's names (a remote host's tagged ``web1:access``); ``hosts`` (name, local) in order."""
    narrow = row_width < 100
    host_room, source_room = (4, 6) if narrow else (8, 10)
    htags = host_tags([name for name, _ in hosts], host_room)
    remote = {name: htags[inert(name, 100)] for name, local in hosts if not local}
    here = next((htags[inert(name, 100)] for name, local in hosts if local), "")
    split: dict[str, tuple[str, str]] = {}
    for s in sources:
        head, sep, rest = s.partition(HOST_SEP)
        split[s] = (remote[head], rest) if sep and head in remote else (here, s)
    stags = short_names(list(dict.fromkeys(rest for _, rest in split.values())), source_room)
    tags = {s: f"{h}:{stags[rest]}" if h else stags[rest] for s, (h, rest) in split.items()}
    room = max((cells(t) for t in tags.values()), default=4)
    return room, MappingProxyType({s: cut_end(t, room) for s, t in tags.items()})
