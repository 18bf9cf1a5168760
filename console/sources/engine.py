"""Build the sources of a :class:`~console.sources.plan.Plan` and run them, supervised.

The headless heart shared by the console and ``lamptop record``: one source object per item
of the plan, each run as an asyncio task under :func:`supervise` that delivers into a
:class:`~console.core.recorder.Recorder`. Both modes run the same supervision: a source that
dies of a bug says so as its state and is started again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.config import Config
from console.core.events import SourceState
from console.parsing import make_parser
from console.parsing.timeutil import local_zone
from console.sources import Sink
from console.sources.plan import Plan

if TYPE_CHECKING:
    from console.sources.fpm.planned import PlannedFpm
    from console.sources.fpm.poll import FpmPoller
    from console.sources.mysql.poll import MysqlPoller


class Source(Protocol):
    """Anything with a long-running ``run()`` coroutine."""

    async def run(self) -> None: ...


Runner = Callable[[], Coroutine[Any, Any, None]]

RESTART_AFTER = 5.0
"""Seconds before a source that died of a bug is started again."""


async def supervise(
    name: str,
    run: Runner,
    sink: Sink,
    *,
    clock: Clock = SYSTEM_CLOCK,
    restart_after: float = RESTART_AFTER,
) -> None:
    """Run a source; if it dies of a bug, say so as its state and start it again.

    A source that returns has finished on purpose (a demo's story ended) and is not restarted.
    """
    while True:
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a source bug must not stop the others, nor the screen
            sink.set_state(
                SourceState(
                    ts=clock.now(),
                    source=name,
                    kind="",
                    status="error",
                    message=f"stopped by an internal error ({type(exc).__name__}: {exc}); "
                    f"restarting in {restart_after:.0f} s",
                )
            )
            await asyncio.sleep(restart_after)


class Engine:
    """Builds the sources of a plan and runs them into a sink (the recorder)."""

    def __init__(
        self,
        cfg: Config,
        sink: Sink,
        plan: Plan,
        *,
        system: Source | None = None,
        extra: Sequence[tuple[str, Source]] = (),
        zone: tzinfo | None = None,
        clock: Clock = SYSTEM_CLOCK,
        local: bool = True,
    ) -> None:
        """``local`` false: only ``extra`` runs (a console of remote hosts alone), not even
        the system sampler."""
        from console.sources.status.poll import StatusPoller
        from console.sources.system.sampler import SystemSampler
        from console.sources.tail.follow import FileTail

        self.cfg = cfg
        self.sink = sink
        self.plan = plan
        self.clock = clock
        self.zone = zone or local_zone(cfg.timezone)
        self.sources: list[tuple[str, Source]] = []
        register = getattr(sink, "register", None)
        for log in plan.logs:
            if register is not None:
                register(log.name)
            parser = make_parser(log.kind, log.name, zone=self.zone, fmt=log.fmt)
            tail = FileTail(
                Path(log.path),
                parser,
                sink,
                name=log.name,
                backfill_lines=cfg.backfill_lines,
                clock=clock,
            )
            self.sources.append((log.name, tail))
        if plan.status_url:
            auth = None
            if cfg.status_user:
                auth = (cfg.status_user, cfg.status_password or "")
            poller = StatusPoller(
                plan.status_url,
                sink,
                interval=cfg.status_interval,
                auth=auth,
                verify=cfg.status_verify,
                clock=clock,
            )
            self.sources.append(("mod_status", poller))
        if plan.mysql and plan.polls_mysql:
            self.sources.append(
                ("mysql", mysql_poller(cfg, plan.mysql, plan.mysql_origin, sink, clock))
            )
        for pool in plan.fpm:
            self.sources.append((pool.name, fpm_poller(cfg, pool, sink, clock)))
        self.sources.extend(extra)
        if not local:
            return
        if system is None:
            system = SystemSampler(
                sink, interval=cfg.system_interval, scan_interval=cfg.scan_interval, clock=clock
            )
        self.sources.append(("system", system))

    def runners(self) -> list[tuple[str, Runner]]:
        """(name, coroutine function) of every source, unsupervised."""
        return [(name, src.run) for name, src in self.sources]

    def supervised(self) -> list[tuple[str, Runner]]:
        """(name, coroutine function) of every source under :func:`supervise`: what both
        modes run, as console workers or as ``record``'s tasks."""
        return supervised(self.runners(), self.sink, self.clock)

    async def run(self) -> None:
        """Run every source, supervised, until cancelled."""
        async with asyncio.TaskGroup() as group:
            for name, run in self.supervised():
                group.create_task(run(), name=f"source:{name}")


def supervised(
    runners: list[tuple[str, Runner]], sink: Sink, clock: Clock
) -> list[tuple[str, Runner]]:
    """Each runner wrapped in :func:`supervise`."""

    def wrap(name: str, run: Runner) -> Runner:
        return lambda: supervise(name, run, sink, clock=clock)

    return [(name, wrap(name, run)) for name, run in runners]


def fpm_poller(cfg: Config, pool: PlannedFpm, sink: Sink, clock: Clock = SYSTEM_CLOCK) -> FpmPoller:
    """The poller of one planned PHP-FPM pool (the engine's, and ``lamptop sources``' probe)."""
    from console.sources.fpm.poll import FpmPoller

    return FpmPoller(
        pool.target,
        sink,
        name=pool.name,
        interval=cfg.fpm_interval,
        max_children=pool.max_children,
        pool=pool.pool,
        verify=cfg.status_verify,
        clock=clock,
    )


def mysql_poller(
    cfg: Config, target: str, origin: str, sink: Sink, clock: Clock = SYSTEM_CLOCK
) -> MysqlPoller:
    """The poller of the planned MySQL server (the engine's, and ``lamptop sources``' probe)."""
    from console.sources.mysql.poll import MysqlPoller

    return MysqlPoller(
        target,
        sink,
        interval=cfg.mysql_interval,
        user=cfg.mysql_user,
        password=cfg.mysql_password,
        origin=origin,
        clock=clock,
    )
