"""``lamptop open BUNDLE``: a saved bundle (or a saved stream) in the console, read-only."""

from __future__ import annotations

import sys
from pathlib import Path

from console.core.config import Config
from console.core.recorder import Recorder
from console.core.text import clean
from console.incident.bundle import BundleError
from console.incident.bundle_read import read_bundle
from console.sources.remote.saved import looks_like_stream


def run_open(cfg: Config, path: str) -> int:
    """A saved bundle in the console, read-only."""
    from console.tui.alerting import bundle_opened
    from console.tui.app import LamptopApp

    if looks_like_stream(path):  # record --stream > web1.jsonl
        from console.commands.open_stream import run_open_stream

        return run_open_stream(cfg, path)
    try:
        snap, doc = read_bundle(path)
    except BundleError as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 2
    # the banner names the bundle; the alert bar says what saved it
    app = LamptopApp(Recorder(), config=cfg, bundle=(snap, clean(Path(path).name)))
    bundle_opened(app, doc, path)
    app.run()
    return 0
