"""``lamptop demo``: the console over the built-in incident."""

from __future__ import annotations

from console.commands.live import run_live
from console.core.config import Config


def run_demo(cfg: Config, *, seed: int = 1, speed: float = 1.0) -> int:
    """The console over the built-in incident; its files live in a temp dir removed on exit.

    Also when the terminal closes (SIGHUP) or the process is told to stop (SIGTERM): they
    raise SystemExit, so the console shuts down and the demo removes its directory.
    """
    from console.demo import Demo, exit_on_signals

    with exit_on_signals(), Demo(seed=seed, speed=speed) as demo:
        return run_live(
            demo.config(cfg),
            system=demo.system_source,
            extra=demo.extra_sources,
            note="DEMO",
            host="demo",
        )
