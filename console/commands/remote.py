"""``lamptop --remote DEST ...``: the console over several hosts.

The hub recorder takes every host's records; a :class:`~console.core.fleet.Fleet` holds the
hosts, this one first unless ``--no-local``, and one
:class:`~console.sources.remote.ssh.SshLink` per remote host delivers into its
:meth:`~console.core.fleet.Fleet.sink`. The links run as the engine's extra sources, each on
its own, so that a host that is down never holds up the others.
"""

from __future__ import annotations

import platform
import sys

from console.commands.remote_flags import argv_for
from console.core.config import Config
from console.core.fleet import Fleet
from console.core.recorder import Recorder
from console.incident.rules import RuleError
from console.incident.watch import IncidentWatch
from console.sources.engine import Engine, Source
from console.sources.plan import Plan, make_plan
from console.sources.remote.ssh import SshLink


def build_fleet(
    cfg: Config, hub: Recorder, *, local_name: str | None = None
) -> tuple[Fleet, list[tuple[str, SshLink]]]:
    """The fleet of ``cfg``'s hosts over ``hub``, and the link (a source) of each remote one."""
    fleet = Fleet(hub, local_name=local_name or platform.node(), local=cfg.local, clock=hub.clock)
    links = []
    for spec in cfg.remotes:
        host = fleet.add_remote(spec.name)
        links.append(
            (f"ssh {spec.name}", SshLink(fleet, host, argv_for(cfg, spec), clock=hub.clock))
        )
    return fleet, links


def fleet_engine(cfg: Config, hub: Recorder, links: list[tuple[str, SshLink]]) -> Engine:
    """The engine of this host's sources (none with ``--no-local``) and the links."""
    extra: list[tuple[str, Source]] = list(links)
    plan = make_plan(cfg) if cfg.local else Plan(logs=(), status_url=None)
    return Engine(cfg, hub, plan, extra=extra, local=cfg.local)


def run_remote(cfg: Config) -> int:
    """The console over this host (unless left out) and every remote host, until quit."""
    from console.tui.app import LamptopApp

    try:
        hub = Recorder(max_records=cfg.max_records, max_samples=cfg.max_samples)
        incidents = IncidentWatch.for_config(cfg, hub)
    except RuleError as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 2
    fleet, links = build_fleet(cfg, hub)
    engine = fleet_engine(cfg, hub, links)
    LamptopApp(hub, config=cfg, engine=engine, incidents=incidents, fleet=fleet).run()
    return 0
