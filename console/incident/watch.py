"""The incident watch: spike rules watching the recorder, and bundles saved when they fire.

Shared by the console (alerts on screen) and ``lamptop record`` (one line per event). A rule's
bundle holds the window before the trigger from the rings, then waits ``tail`` seconds so the
moments after it are in too. Writing happens in a thread: a slow disk never stalls the loop.

One incident often fires several rules within seconds (memory jumps, then PHP runs out of
memory, then swap grows). Rules that fire while a bundle waits for its tail join that bundle
(``values["also_fired"]``), and a rule firing within ``min_gap`` seconds after a rule's bundle
was saved is announced but saves nothing new: one incident, one bundle.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from console.core.config import Config, snapshot_dir
from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.recorder import Recorder, Snapshot
from console.core.stack import FpmSample, MysqlSample
from console.core.timefmt import iso
from console.incident.bundle_files import BundleError
from console.incident.rules import RuleBook, Trigger, build_rules


def write_bundle(*args: Any, **kwargs: Any) -> Path:
    """:func:`console.incident.bundle.write_bundle`, imported on the first save (in the
    writer's thread): the bundle writer, its report and its redaction are not needed to
    draw the first screen."""
    from console.incident.bundle import write_bundle as write

    return write(*args, **kwargs)


@dataclass(frozen=True)
class Saved:
    """The outcome of one save: a path, or an error message (and maybe a partial path)."""

    trigger: Trigger
    path: Path | None
    error: str | None = None


class IncidentWatch:
    """Feeds the recorder's events to the rules and saves a bundle per incident."""

    @classmethod
    def for_config(cls, cfg: Config, recorder: Recorder, **kw: Any) -> IncidentWatch:
        """The rules of ``cfg`` over ``recorder``, saving into its snapshot dir."""
        return cls(
            recorder,
            RuleBook(build_rules(cfg.rules)),
            snapshot_dir(cfg),
            window=cfg.snapshot_window,
            tail=cfg.snapshot_tail,
            redact=cfg.redact,
            **kw,
        )

    def __init__(
        self,
        recorder: Recorder,
        rules: RuleBook,
        snapshot_dir: str | Path,
        *,
        window: float = 300.0,
        tail: float = 10.0,
        host: str | None = None,
        on_trigger: Callable[[Trigger, str, bool], None] | None = None,
        on_saved: Callable[[Saved], None] | None = None,
        screen: Callable[[], str | None] | None = None,
        filter_desc: Callable[[], Mapping[str, Any]] | None = None,
        release_every: float = 0.25,
        min_gap: float = 60.0,
        redact: bool = False,
    ) -> None:
        self.recorder = recorder
        self.rules = rules
        self.snapshot_dir = Path(snapshot_dir)
        self.window = window
        self.tail = tail
        self.host = host or socket.gethostname()
        self.on_trigger = on_trigger
        self.on_saved = on_saved
        self.screen = screen
        self.filter_desc = filter_desc
        self.release_every = release_every
        self.min_gap = timedelta(seconds=min_gap)
        self.redact = redact
        """Mask client addresses, query strings and users in the bundles (``--redact``)."""
        self.take: Callable[[], Snapshot] = recorder.snapshot
        """What a rule's bundle is saved from (the console's: every host it follows)."""
        self.saved: list[Saved] = []
        self._waiting: Trigger | None = None
        self._also: list[Trigger] = []
        self._last_rule_bundle: datetime | None = None
        self._queue: asyncio.Queue[Trigger] | None = None
        self._early: list[Trigger] = []
        self._tasks: set[asyncio.Task[Saved]] = set()
        recorder.subscribe(self)

    # -- RecorderListener ---------------------------------------------------------------------
    def on_records(self, batch: tuple[LogRecord, ...]) -> None:
        self._fire(self.rules.on_records(batch, self.recorder.clock.now()))

    def on_status(self, sample: StatusSample) -> None:
        self._fire(self.rules.on_status(sample))

    def on_system(self, sample: SystemSample) -> None:
        self._fire(self.rules.on_system(sample))

    def on_state(self, state: SourceState) -> None:
        pass

    def on_fpm(self, sample: FpmSample) -> None:
        self._fire(self.rules.on_fpm(sample))

    def on_mysql(self, sample: MysqlSample) -> None:
        self._fire(self.rules.on_mysql(sample))

    def _fire(self, triggers: list[Trigger]) -> None:
        for trigger in triggers:
            last = self._last_rule_bundle
            if self._waiting is not None:
                self._also.append(trigger)
                noted = f"noted in the bundle of rule {self._waiting.rule}"
                self._tell(trigger, noted, joined=True)
                continue
            if last is not None and trigger.at - last < self.min_gap:
                ago = (trigger.at - last).total_seconds()
                said = f"no new bundle: the last was saved {ago:.0f} s ago"
                self._tell(trigger, said, joined=True)  # the same incident
                continue
            self._waiting = trigger  # pending when told, so a listener can see it is
            self._tell(trigger, f"saving a bundle in {self.tail:g} s")
            if self._queue is None:
                self._early.append(trigger)
            else:
                self._queue.put_nowait(trigger)

    @property
    def pending(self) -> Trigger | None:
        """The rule whose bundle waits for its tail (``tail`` seconds after it fired)."""
        return self._waiting

    def _tell(self, trigger: Trigger, outcome: str, *, joined: bool = False) -> None:
        """Say that ``trigger`` fired and what comes of it (a bundle, or why none); ``joined``:
        it is one more rule of the incident whose bundle is pending (its report lists it) or
        was saved less than ``min_gap`` ago (no bundle of its own)."""
        if self.on_trigger is not None:
            self.on_trigger(trigger, outcome, joined)

    async def save(
        self, trigger: Trigger, snap: Snapshot | None = None, *, tail: float = 0.0
    ) -> Saved:
        """Write one bundle now (from ``snap``, or a fresh snapshot) and report it."""
        snap = snap or self.take()
        svg = self.screen() if self.screen is not None else None
        flt = dict(self.filter_desc()) if self.filter_desc is not None else None
        try:
            path = await asyncio.to_thread(
                write_bundle,
                snap,
                trigger,
                self.snapshot_dir,
                window=self.window,
                tail=tail,
                host=self.host,
                filter_desc=flt,
                screen_svg=svg,
                redact=self.redact,
            )
            result = Saved(trigger, path)
        except BundleError as exc:
            result = Saved(trigger, None, str(exc))
        self.saved.append(result)
        if self.on_saved is not None:
            self.on_saved(result)
        return result

    async def _after_tail(self, trigger: Trigger) -> Saved:
        wait = (trigger.at - self.recorder.clock.now()).total_seconds() + self.tail
        if wait > 0:
            await asyncio.sleep(wait)
        also, self._also = self._also, []
        self._waiting = None
        self._last_rule_bundle = trigger.at
        if also:
            # with their values: --redact writes a stack rule's message again from them
            joined = [
                {"rule": t.rule, "at": iso(t.at), "message": t.message, "values": dict(t.values)}
                for t in also
            ]
            trigger = replace(trigger, values={**trigger.values, "also_fired": joined})
        return await self.save(trigger, tail=self.tail)

    async def run(self) -> None:
        """Release records on a clock (so rules see them) and save fired rules' bundles."""
        self._queue = asyncio.Queue()
        for t in self._early:
            self._queue.put_nowait(t)
        self._early.clear()
        releaser = asyncio.create_task(self._release_loop())
        try:
            while True:
                trigger = await self._queue.get()
                task = asyncio.create_task(self._after_tail(trigger))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            releaser.cancel()

    async def _release_loop(self) -> None:
        while True:
            self.recorder.release()
            await asyncio.sleep(self.release_every)

    async def drain(self) -> None:
        """Wait for bundles still being written (at exit)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
