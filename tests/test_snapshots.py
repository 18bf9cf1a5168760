"""How the console looks, over the scripted incident with a fixed clock (SVG baselines)."""

from __future__ import annotations

from typing import Any

import pytest

from console.core.config import Config
from console.tui.app import LamptopApp
from tests.support.scripted import fixed_clock, scripted_recorder


def scripted_app(*, status_ok: bool = True) -> LamptopApp:
    app = LamptopApp(
        scripted_recorder(status_ok=status_ok),
        config=Config(timezone="UTC"),
        clock=fixed_clock,
    )
    app.host = "web1"
    return app


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_main_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(scripted_app(), terminal_size=size)


def test_status_timeout_80x24(snap_compare: Any) -> None:
    assert snap_compare(scripted_app(status_ok=False), terminal_size=(80, 24))


def test_filtered_and_expanded_160x50(snap_compare: Any) -> None:
    assert snap_compare(
        scripted_app(),
        terminal_size=(160, 50),
        press=["slash", "m", "e", "m", "o", "r", "y", "enter", "c"],
    )


def stack_app() -> LamptopApp:
    from tests.support.stack_scripted import add_stack

    recorder = scripted_recorder()
    add_stack(recorder)
    app = LamptopApp(recorder, config=Config(timezone="UTC"), clock=fixed_clock)
    app.host = "web1"
    return app


@pytest.mark.parametrize("presses", [["w"], ["w", "w"]], ids=["php-fpm", "mysql"])
def test_stack_views_80x24(snap_compare: Any, presses: list[str]) -> None:
    assert snap_compare(stack_app(), terminal_size=(80, 24), press=presses)


def test_php_fpm_view_160x50(snap_compare: Any) -> None:
    assert snap_compare(stack_app(), terminal_size=(160, 50), press=["w"])


def test_help_fits_80x24(snap_compare: Any) -> None:
    assert snap_compare(scripted_app(), terminal_size=(80, 24), press=["question_mark"])


def test_selection_held_on_its_pid_80x24(snap_compare: Any) -> None:
    async def pick_then_resort(pilot: Any) -> None:
        from widgets.inflight import InFlightTable

        await pilot.press("tab", "down", "down")
        table = pilot.app.query_one(InFlightTable)
        table.rows = (table.rows[4], table.rows[2], *table.rows[:2], *table.rows[5:])
        await pilot.pause()

    assert snap_compare(scripted_app(), terminal_size=(80, 24), run_before=pick_then_resort)
