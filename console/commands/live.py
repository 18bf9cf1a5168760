"""``lamptop``: the live console over what the config and discovery name, until quit."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from console.core.config import Config
from console.core.recorder import Recorder
from console.incident.rules import RuleError
from console.incident.watch import IncidentWatch
from console.sources.engine import Engine, Source
from console.sources.plan import make_plan


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
    shown in the header (``DEMO``), ``host`` names the bundles (default: this machine's name)."""
    from console.tui.app import LamptopApp

    try:
        recorder = Recorder(max_records=cfg.max_records, max_samples=cfg.max_samples)
        incidents = IncidentWatch.for_config(cfg, recorder, host=host)
    except RuleError as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 2
    source = system(recorder) if system is not None else None
    more = extra(recorder) if extra is not None else ()
    engine = Engine(cfg, recorder, make_plan(cfg), system=source, extra=more)
    LamptopApp(recorder, config=cfg, engine=engine, incidents=incidents, title_note=note).run()
    return 0


def run_console(cfg: Config) -> int:
    """The live console over what the config and discovery name, until quit."""
    return run_live(cfg)
