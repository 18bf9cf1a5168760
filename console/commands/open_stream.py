"""``lamptop open web1.jsonl``: a saved stream (``record --stream > web1.jsonl``) in the
console, read-only, like a bundle of that host."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.core.config import Config
from console.core.recorder import Recorder
from console.core.text import clean
from console.core.timefmt import iso
from console.sources.remote.saved import SavedStream, SavedStreamError, read_saved_stream

if TYPE_CHECKING:
    from console.tui.app import LamptopApp


def trigger_doc(saved: SavedStream) -> dict[str, Any]:
    """What the alert bar shows for the stream, in the form a bundle's snapshot.json has it:
    the newest rule that fired on that host, if any."""
    if not saved.alerts:
        return {}
    a = saved.alerts[-1]
    return {"trigger": {"kind": "rule", "rule": a.rule, "message": a.message, "at": iso(a.ts)}}


def stream_app(cfg: Config, path: str | Path) -> LamptopApp:
    """The console showing the saved stream at ``path``; :class:`SavedStreamError` when it
    cannot be read."""
    from console.tui.alerting import bundle_opened
    from console.tui.app import LamptopApp

    saved = read_saved_stream(path, max_records=cfg.max_records, max_samples=cfg.max_samples)
    name = clean(Path(path).name)
    if saved.header.hostname:
        name += f" ({saved.header.hostname})"
    app = LamptopApp(Recorder(), config=cfg, bundle=(saved.snapshot, name))
    doc = trigger_doc(saved)
    if doc:
        bundle_opened(app, doc, saved.alerts[-1].bundle or path)
    return app


def run_open_stream(cfg: Config, path: str) -> int:
    try:
        app = stream_app(cfg, path)
    except SavedStreamError as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 2
    app.run()
    return 0
