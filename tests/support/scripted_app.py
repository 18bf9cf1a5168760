"""Run the console over the scripted incident, with live records:
``python -m tests.support.scripted_app``.

For looking at the console by hand (in tmux, at any size) without Apache or real logs. The
``access`` source keeps adding a record every 0.1 s; with ``--crash`` a ``php`` source dies
after 5 s so the dead-source report can be seen.
"""

from __future__ import annotations

import sys

from console.core.clock import SYSTEM_CLOCK
from console.core.config import Config
from console.tui.app import LamptopApp
from tests.support.scripted import ScriptedEngine, scripted_recorder


def main(argv: list[str]) -> int:
    recorder = scripted_recorder(status_ok="--timeout" not in argv, clock=SYSTEM_CLOCK)
    engine = ScriptedEngine(recorder, crash_after=5.0 if "--crash" in argv else None)
    app = LamptopApp(recorder, config=Config(timezone="UTC"), engine=engine, title_note="SCRIPTED")  # type: ignore[arg-type]
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
