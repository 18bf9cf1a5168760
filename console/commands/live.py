"""Start the console in each of its modes: live, demo, and a saved bundle."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from console.commands.record import snapshot_dir
from console.core.config import Config
from console.core.recorder import Recorder
from console.incident.bundle import BundleError, read_bundle
from console.incident.flight import FlightRecorder
from console.incident.rules import RuleBook, RuleError, build_rules
from console.sources.engine import Engine, Source, make_plan


def _flight(cfg: Config, recorder: Recorder) -> FlightRecorder:
    return FlightRecorder(
        recorder,
        RuleBook(build_rules(cfg.rules)),
        snapshot_dir(cfg),
        window=cfg.snapshot_window,
        tail=cfg.snapshot_tail,
        redact=cfg.redact,
    )


def _run_live(
    cfg: Config, *, system: Callable[[Recorder], Source] | None = None, note: str = ""
) -> int:
    from console.tui.app import LamptopApp

    try:
        recorder = Recorder(max_records=cfg.max_records, max_samples=cfg.max_samples)
        flight = _flight(cfg, recorder)
    except RuleError as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 2
    source = system(recorder) if system is not None else None
    engine = Engine(cfg, recorder, make_plan(cfg), system=source)
    LamptopApp(recorder, config=cfg, engine=engine, flight=flight, title_note=note).run()
    return 0


def run_console(cfg: Config) -> int:
    """The live console over what the config and discovery name, until quit."""
    return _run_live(cfg)


def run_demo(cfg: Config, *, seed: int = 1, speed: float = 1.0) -> int:
    """The console over the built-in incident; its files live in a temp dir removed on exit.

    Also when the terminal closes (SIGHUP) or the process is told to stop (SIGTERM): they
    raise SystemExit, so the console shuts down and the demo removes its directory.
    """
    from console.demo import Demo, exit_on_signals

    with exit_on_signals(), Demo(seed=seed, speed=speed) as demo:
        return _run_live(demo.config(cfg), system=demo.system_source, note="DEMO")


def run_open(cfg: Config, path: str) -> int:
    """A saved bundle in the console, read-only."""
    from console.tui.app import LamptopApp

    try:
        snap, doc = read_bundle(path)
    except BundleError as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 1
    trigger = doc.get("trigger", {})
    what = f"{Path(path).name} · {trigger.get('kind', '?')}"
    if trigger.get("rule"):
        what += f" {trigger['rule']}"
    if trigger.get("message"):
        what += f": {trigger['message']}"
    app = LamptopApp(Recorder(), config=cfg, bundle=(snap, what))
    app.run()
    return 0
