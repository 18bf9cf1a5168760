"""``lamptop record``: the flight recorder without a screen, for tmux, systemd or cron."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from console.commands.tap import Tap, saved_to, triggers_to
from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.config import Config
from console.core.events import SourceState
from console.core.recorder import Listener, Recorder
from console.core.text import clean
from console.core.timefmt import seconds_iso
from console.incident.redact import redact_trigger
from console.incident.rules import Trigger
from console.incident.watch import IncidentWatch, Saved
from console.sources.engine import Engine
from console.sources.plan import make_plan


class Printer(Listener):
    """One line per event, with a UTC time stamp: easy to read in journald or a tmux pane."""

    def __init__(
        self, out: TextIO = sys.stdout, *, redact: bool = False, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.out = out
        self.clock = clock
        self.redact = redact
        """Mask client addresses, query strings, users and SQL literals in what rules say
        (``--redact``)."""

    def line(self, text: str) -> None:
        stamp = seconds_iso(self.clock.now())
        self.out.write(f"{stamp} {clean(text)}\n")  # a last guard: the terminal obeys controls
        self.out.flush()

    def on_state(self, state: SourceState) -> None:
        msg = f"source {state.source}: {state.status}"
        if state.message:
            msg += f": {state.message}"
        if state.hint:
            msg += f" ({state.hint})"
        self.line(msg)

    def on_trigger(self, t: Trigger, outcome: str, joined: bool = False) -> None:
        message = redact_trigger(t).message if self.redact else t.message
        self.line(f"rule {t.rule} fired: {message} ({outcome})")

    def on_saved(self, s: Saved) -> None:
        if s.path is not None:
            self.line(f"bundle saved: {s.path}")
        else:
            self.line(f"bundle FAILED: {s.error}")


async def record(
    cfg: Config,
    *,
    duration: float | None = None,
    bundle_on_exit: bool = False,
    out: TextIO = sys.stdout,
    system: object | None = None,
    recorder: Recorder | None = None,
    clock: Clock = SYSTEM_CLOCK,
    taps: Sequence[Tap] = (),
) -> int:
    """Run sources, rules and bundles until a signal or ``duration`` seconds have passed (or a
    tap ends the run: ``--stream`` when its reader went away)."""
    printer = Printer(out, redact=cfg.redact, clock=clock)
    recorder = recorder or Recorder(
        max_records=cfg.max_records, max_samples=cfg.max_samples, clock=clock
    )
    plan = make_plan(cfg)
    incidents = IncidentWatch.for_config(
        cfg, recorder, on_trigger=triggers_to(printer, *taps), on_saved=saved_to(printer, *taps)
    )
    directory = incidents.snapshot_dir
    recorder.subscribe(printer)
    metrics = None
    if cfg.metrics:  # prometheus-client is loaded only when asked for
        from console.commands.metrics_server import MetricsError, start_metrics

        try:
            metrics = start_metrics(cfg, recorder, incidents)
        except MetricsError as exc:
            print(f"lamptop: {exc}", file=sys.stderr)
            return 2
    for tap in taps:
        recorder.subscribe(tap)
    engine = Engine(cfg, recorder, plan, system=system, clock=recorder.clock)  # type: ignore[arg-type]
    names = ", ".join(name for name, _ in engine.sources)
    printer.line(f"lamptop record started: watching {names}; bundles go to {directory}")
    for path, why in plan.skipped:
        printer.line(f"not watched: {path}: {why}")
    if metrics is not None:
        printer.line(f"metrics for Prometheus at {metrics.url}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    sources = [name for name, _ in engine.sources]
    tasks = [asyncio.create_task(tap.run(sources, stop)) for tap in taps]
    tasks += [asyncio.create_task(run(), name=name) for name, run in engine.supervised()]
    tasks.append(asyncio.create_task(incidents.run()))
    if stats_path := os.environ.get("LAMPTOP_STATS_FILE"):
        tasks.append(asyncio.create_task(write_stats(stats_path, recorder)))
    try:
        if duration is not None:
            await asyncio.wait_for(stop.wait(), timeout=duration)
        else:
            await stop.wait()
    except TimeoutError:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass
        if metrics is not None:
            await asyncio.to_thread(metrics.close)
    recorder.release(force=True)
    await incidents.drain()
    if bundle_on_exit:
        await incidents.save(Trigger("exit", recorder.clock.now(), message="saved on exit"))
    snap = recorder.snapshot()
    printer.line(f"lamptop record stopped: {snap.total} records, {len(snap.status)} status samples")
    for tap in taps:
        await tap.close()
    return 0


async def write_stats(path: str, recorder: Recorder, every: float = 1.0) -> None:
    """With ``LAMPTOP_STATS_FILE`` set: append one JSON line per second (and one when stopped)
    to ``path``, saying what the recorder holds: wall time, records received per source and in
    all, and the URL of the newest record in the ring that has one. Benchmarks read loss and
    lag from it (``bench/follow.py``); unset, nothing of this runs."""

    def line() -> None:
        recorder.release()
        # the ring itself, not a snapshot's copy of it: this runs on the loop, between changes
        ring = recorder.records
        url = next((u for r in reversed(ring) if (u := r.fields.get("url"))), None)
        doc = {
            "t": time.time(),
            "counts": dict(recorder.counts),
            "total": recorder.total,
            "url": url,
        }
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(doc) + "\n")

    try:
        while True:
            line()
            await asyncio.sleep(every)
    finally:
        line()
