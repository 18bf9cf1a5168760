"""How a PHP fatal and the memory pane look at 80x24, mid-incident (SVG baselines)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from console.core.config import Config
from console.core.events import ProcInfo, ServiceMem
from console.core.recorder import Recorder
from console.tui.app import LamptopApp
from tests.support.scripted import MB, fixed_clock, scripted_recorder, system_sample

SIZE = (80, 24)


def app_on(recorder: Recorder) -> LamptopApp:
    app = LamptopApp(recorder, config=Config(timezone="UTC"), clock=fixed_clock)
    app.host = "web1"
    return app


def test_php_fatal_line_80x24(snap_compare: Any) -> None:
    """The fatal's row keeps its limit, script and line: ``memory 128M exhausted report.php:88``."""
    presses = ["up", "up", "up"]  # from the newest record to the PHP fatal
    assert snap_compare(app_on(scripted_recorder()), terminal_size=SIZE, press=presses)


def test_php_fatal_whole_record_80x24(snap_compare: Any) -> None:
    """``enter`` shows the whole record: the message as PHP wrote it and its stack trace."""
    presses = ["up", "up", "up", "enter"]
    assert snap_compare(app_on(scripted_recorder()), terminal_size=SIZE, press=presses)


#: The processes of a PHP-FPM incident: long pids, a child born while lamptop watched.
FPM_TOP = (
    ProcInfo(902, "mariadbd", "/usr/sbin/mariadbd", 176 * MB, 28 * MB),
    ProcInfo(124721, "php-fpm8.2", "php-fpm: pool www", 64 * MB, 0, new=True),
    ProcInfo(124696, "php-fpm8.2", "php-fpm: pool www", 56 * MB, 46 * MB),
    ProcInfo(2101, "apache2", "/usr/sbin/apache2 -k start", 9 * MB, MB),
)


def test_memory_pane_80x24(snap_compare: Any) -> None:
    """Labels over their values, names in full, ``new`` for the child born in the window,
    the swap sparkline labelled, the span in the title."""
    recorder = scripted_recorder(system_samples=0)
    for i in range(179):
        recorder.add_system(system_sample(i, 180))
    last = system_sample(179, 180)
    recorder.add_system(
        replace(
            last,
            top=FPM_TOP,
            services=(
                ServiceMem("apache", 98 * MB, 21),
                ServiceMem("php-fpm", 504 * MB, 20),
                ServiceMem("mysql", 176 * MB, 1),
            ),
        )
    )
    assert snap_compare(app_on(recorder), terminal_size=SIZE)
