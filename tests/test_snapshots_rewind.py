"""How the rewound console looks at 80x24: frozen, then 30 s back (SVG baseline)."""

from __future__ import annotations

from typing import Any

from console.core.config import Config
from console.tui.app import LamptopApp
from tests.support.rewind_scripted import rewind_recorder
from tests.support.scripted import fixed_clock


def test_rewound_30_s_80x24(snap_compare: Any) -> None:
    app = LamptopApp(rewind_recorder(), config=Config(timezone="UTC"), clock=fixed_clock)
    app.host = "web1"
    back = ["left_curly_bracket"] * 3
    assert snap_compare(app, terminal_size=(80, 24), press=["space", *back])
