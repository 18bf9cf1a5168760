"""Widgets on their own: what they draw, and when they ask to be drawn again."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip

from console.core.config import Config
from console.tui.app import LamptopApp
from console.view.filters import LogFilter
from tests.support.scripted import T0, access, fixed_clock, scripted_recorder
from widgets.footer import KeysFooter
from widgets.logview import LogView
from widgets.sourcebar import format_rate, rounded_rate


@pytest.mark.parametrize(
    ("rate", "rounded", "shown"),
    [
        (0.0, 0.0, "0/s"),
        (0.04, 0.0, "0/s"),
        (0.05, 0.1, "0.1/s"),
        (3.14, 3.1, "3.1/s"),
        (9.94, 9.9, "9.9/s"),
        (9.96, 10.0, "10/s"),
        (123.4, 123.0, "123/s"),
        (-1.0, 0.0, "0/s"),
    ],
)
def test_rates_round_to_what_the_bar_shows(rate: float, rounded: float, shown: str) -> None:
    assert rounded_rate(rate) == rounded
    assert format_rate(rate) == format_rate(rounded) == shown


class OneLog(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(id="log")


def cells(strip: Strip) -> list[tuple[str, Style | None]]:
    return [(ch, seg.style) for seg in strip for ch in seg.text]


async def test_a_long_row_keeps_its_ends_with_matches_and_cursor_styled() -> None:
    app = OneLog()
    async with app.run_test(size=(40, 5)):
        log = app.query_one(LogView)
        log.sources = ("access",)
        rec = access(1, T0, 500, "/report.php?month=" + "x" * 80, "203.0.113.7", 1)
        log.index.sync((rec,))
        log.index.set_filter(LogFilter(text="report"))
        log.relayout()
        width = 60
        strip = log._render_row(rec, 0, width, cursor=False)
        text = "".join(ch for ch, _ in cells(strip))
        # the URL is cut in its middle: the script and the end of the query stay, and so does
        # the duration; the status shows once, in the level column
        assert strip.cell_length == width and text.rstrip().endswith("xx 1.5s")
        assert text.startswith("13:02:00 access 500     203.0.113.7 GET /report.php?…x")
        assert text.count("500") == 1
        match = log.get_component_rich_style("logview--match")
        styled = [ch for ch, st in cells(strip) if st is not None and st.bgcolor == match.bgcolor]
        assert "".join(styled) == "report"
        cursor = log.get_component_rich_style("logview--cursor")
        selected = log._render_row(rec, 0, width, cursor=True)
        assert all(st is not None and st.bgcolor == cursor.bgcolor for _, st in cells(selected))


async def test_rows_added_below_a_paused_view_repaint_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = OneLog()
    async with app.run_test(size=(60, 8)) as pilot:
        log = app.query_one(LogView)
        rows = tuple(
            replace(access(i, T0 + timedelta(seconds=i), 200, "/", "192.0.2.1", 1), seq=i + 1)
            for i in range(40)
        )
        log.records_synced(log.index.sync(rows[:30]))
        await pilot.pause()
        log.action_move(-5)  # stop following, somewhere in the middle
        await pilot.pause()
        assert not log.follow
        top = log.scroll_y
        calls: list[int] = []
        original = log.refresh

        def spy(*a: object, **k: bool) -> object:
            if k.get("repaint", True):
                calls.append(1)
            return original(*a, **k)  # type: ignore[arg-type]

        monkeypatch.setattr(log, "refresh", spy)
        log.records_synced(log.index.sync(rows))  # ten more, below what is on screen
        assert log.shown == 40 and log.scroll_y == top
        assert calls == []  # a layout for the scroll range, no repaint
        log.follow = True  # following again: the view moves to the end
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y > top


async def test_the_footer_is_built_once_at_start_and_again_when_its_keys_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[int] = []
    recompose = KeysFooter.recompose

    async def counted(self: KeysFooter) -> None:
        built.append(1)
        await recompose(self)

    monkeypatch.setattr(KeysFooter, "recompose", counted)
    app = LamptopApp(scripted_recorder(), config=Config(timezone="UTC"), clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        footer = app.query_one(KeysFooter)
        assert len(built) == 1
        labels = " ".join(str(key.render()) for key in footer.query("FooterKey"))
        assert "quit" in labels and "its logs" not in labels
        await pilot.press("tab")  # the requests table adds its own key
        await pilot.pause(0.3)
        assert len(built) == 2
        labels = " ".join(str(key.render()) for key in footer.query("FooterKey"))
        assert "its logs" in labels


def test_the_console_imports_without_the_help_and_detail_screens() -> None:
    code = (
        "import sys, console.tui.app; "
        "print(sorted(m for m in ('widgets.help', 'widgets.detail') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_sparkline_shows_a_little_use_and_nothing_for_none() -> None:
    from widgets.memory import spark_rows

    rows = spark_rows([0.0, 0.02, 0.5, 1.0], 2)
    assert rows == [" " + " " + " " + "█", " " + "▁" + "█" + "█"]


def test_help_rows_merge_keys_of_several_panes_and_name_the_palette() -> None:
    from textual.binding import Binding

    from widgets.help import help_rows

    bindings = [
        Binding("up,k", "a", "x", id="log-up", tooltip="logs: previous"),
        Binding("pageup", "b", "y", id="log-page-up", tooltip="logs: page up"),
        Binding("pagedown", "c", "y", id="log-page-down", tooltip="logs: page down"),
        Binding("home", "d", "y", id="log-home", tooltip="logs: oldest"),
        Binding("up,k", "e", "z", id="row-up", tooltip="rows: previous"),
    ]
    rows = help_rows(bindings, {}, lambda b: {"up": "↑"}.get(b.key, b.key))
    assert [r[2] for r in rows] == [
        "log-up, row-up",
        "log-page-up, log-page-down, log-home",
        "-",
    ]
    assert rows[0][1].startswith("previous row of the pane in focus")
    assert rows[-1][0] == "ctrl+p"
