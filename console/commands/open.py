"""``lamptop open BUNDLE``: a saved bundle in the console, read-only."""

from __future__ import annotations

import sys
from pathlib import Path

from console.core.config import Config
from console.core.recorder import Recorder
from console.incident.bundle import BundleError
from console.incident.bundle_read import read_bundle


def run_open(cfg: Config, path: str) -> int:
    """A saved bundle in the console, read-only."""
    from console.tui.app import LamptopApp

    try:
        snap, doc = read_bundle(path)
    except BundleError as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 2
    trigger = doc.get("trigger", {})
    what = f"{Path(path).name} · {trigger.get('kind', '?')}"
    if trigger.get("rule"):
        what += f" {trigger['rule']}"
    if trigger.get("message"):
        what += f": {trigger['message']}"
    app = LamptopApp(Recorder(), config=cfg, bundle=(snap, what))
    app.run()
    return 0
