"""``lamptop``: the live console over what the config and discovery name, until quit."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from console.core.config import Config
from console.core.gctune import tune_gc
from console.core.recorder import Recorder
from console.incident.rules import RuleError, build_rules

if TYPE_CHECKING:
    from console.incident.watch import IncidentWatch
    from console.sources.engine import Engine, Source


def run_live(
    cfg: Config,
    *,
    system: Callable[[Recorder], Source] | None = None,
    extra: Callable[[Recorder], Sequence[tuple[str, Source]]] | None = None,
    note: str = "",
    host: str | None = None,
) -> int:
    """Sources, rules and the console over one recorder; ``system`` stands in for the
    system sampler (the demo's), ``extra`` gives more sources (the demo's MySQL), ``note`` is
    shown in the header (``DEMO``), ``host`` names the bundles (default: this machine's name).

    The first frame comes first: discovery, the sources and the rules (and what they import:
    requests, psutil, the bundle writer) are made once it is on screen. The rules are checked
    here, so that a bad rule is said before the screen opens."""
    from console.tui.app import LamptopApp

    try:
        build_rules(cfg.rules)
    except RuleError as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 2
    recorder = Recorder(max_records=cfg.max_records, max_samples=cfg.max_samples)

    def start() -> tuple[Engine, IncidentWatch]:
        from console.incident.watch import IncidentWatch
        from console.sources.engine import Engine
        from console.sources.plan import make_plan

        incidents = IncidentWatch.for_config(cfg, recorder, host=host)
        source = system(recorder) if system is not None else None
        more = extra(recorder) if extra is not None else ()
        engine = Engine(cfg, recorder, make_plan(cfg), system=source, extra=more)
        return engine, incidents

    app = LamptopApp(recorder, config=cfg, title_note=note, start=start)
    tune_gc()
    app.run()
    return 0


def run_console(cfg: Config) -> int:
    """The live console over what the config and discovery name, until quit."""
    return run_live(cfg)
