"""What the console draws when: the pacer alone, then the app driven tick by tick."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from console.core.config import Config
from console.tui.app import LamptopApp
from console.view.pacing import Due, Pacer
from tests.support.scripted import T0, access, fixed_clock, scripted_recorder, status_sample
from widgets.logview import LogView
from widgets.memory import MemoryView
from widgets.scoreboard import ScoreboardView

SIZE = (120, 40)
#: A wall-clock time on a whole second.
NOW = 1_700_000_000.0


def started(now: float = NOW) -> Pacer:
    """A pacer whose first screen showed records and samples at ``now``."""
    pacer = Pacer()
    pacer.shown(now, records=True, samples=True)
    return pacer


# -- the pacer -------------------------------------------------------------------------------
def test_nothing_changed_nothing_due_but_the_clock() -> None:
    pacer = started()
    assert pacer.due(NOW + 0.25) == Due()
    assert pacer.due(NOW + 0.5) == Due()
    assert pacer.due(NOW + 1.0) == Due(second=True)
    assert pacer.due(NOW + 1.25) == Due()


def test_streaming_records_redraw_the_log_pane_at_most_twice_a_second() -> None:
    pacer = started()
    redraws = []
    for step in range(1, 401):  # records every 10 ms for 4 s, a tick after each batch
        now = NOW + step * 0.01
        pacer.records_released()
        if pacer.due(now).logs:
            redraws.append(now)
    assert len(redraws) == 8
    gaps = [b - a for a, b in zip(redraws, redraws[1:], strict=False)]
    assert min(gaps) == pytest.approx(0.5)


def test_log_redraws_fall_on_the_second_beat() -> None:
    pacer = started(NOW + 0.3)
    pacer.records_released()
    assert pacer.due(NOW + 0.5) == Due(logs=True)
    pacer.records_released()
    assert pacer.due(NOW + 0.75) == Due()
    assert pacer.due(NOW + 1.0) == Due(logs=True, second=True)


def test_samples_wait_for_the_beat_and_share_one_frame() -> None:
    pacer = started(NOW + 0.1)
    pacer.sample_taken()
    assert pacer.due(NOW + 0.25) == Due()
    pacer.sample_taken()
    assert pacer.due(NOW + 0.75) == Due()
    assert pacer.due(NOW + 1.0) == Due(samples=True, second=True)
    assert pacer.due(NOW + 1.25) == Due()


def test_first_records_and_first_sample_and_states_are_shown_at_once() -> None:
    pacer = Pacer()
    pacer.shown(NOW + 0.1, records=False, samples=False)
    assert pacer.records_released() is True
    assert pacer.due(NOW + 0.2) == Due(logs=True)
    assert pacer.records_released() is False  # from now on, on the half-second
    assert pacer.due(NOW + 0.3) == Due()
    assert pacer.sample_taken() is True
    assert pacer.due(NOW + 0.35) == Due(samples=True)
    assert pacer.sample_taken() is False
    assert pacer.due(NOW + 0.4) == Due()
    assert pacer.state_changed() is True  # a source went down: no waiting
    assert pacer.due(NOW + 0.45) == Due(samples=True)


def test_the_first_records_of_each_source_are_shown_at_once() -> None:
    """Each log's backfill is part of the first screen, though one is read a moment after
    another; later records of a known source wait for the half-second."""
    from console.view.pacing import PacerFeed

    asked: list[bool] = []
    pacer = Pacer()
    feed = PacerFeed(pacer, asked.append)
    pacer.shown(NOW + 0.1, records=False, samples=False)
    feed.on_records((access(1, T0, 200, "/", "192.0.2.1", 1),))
    assert pacer.due(NOW + 0.15) == Due(logs=True)
    error = replace(access(2, T0, 500, "/", "192.0.2.1", 1), source="error")
    feed.on_records((access(3, T0, 200, "/", "192.0.2.1", 1), error))
    assert pacer.due(NOW + 0.2) == Due(logs=True)
    feed.on_records((error, access(4, T0, 200, "/", "192.0.2.1", 1)))
    assert pacer.due(NOW + 0.25) == Due()
    assert pacer.due(NOW + 0.5) == Due(logs=True)
    assert asked == [True, True, False]


def test_a_full_refresh_counts_as_shown() -> None:
    pacer = started()
    pacer.records_released()
    pacer.sample_taken()
    pacer.shown(NOW + 0.6, records=True, samples=True)
    assert pacer.due(NOW + 0.75) == Due()
    assert pacer.due(NOW + 1.0) == Due(second=True)


def test_a_longer_refresh_setting_spaces_the_log_redraws() -> None:
    pacer = Pacer(log_every=1.0)
    pacer.shown(NOW, records=True, samples=True)
    pacer.records_released()
    assert pacer.due(NOW + 0.5) == Due()
    assert pacer.due(NOW + 1.0) == Due(logs=True, second=True)


# -- the app, tick by tick -------------------------------------------------------------------
def make_app(**kw: Any) -> LamptopApp:
    app = LamptopApp(
        kw.pop("recorder", None) or scripted_recorder(),
        config=Config(timezone="UTC"),
        clock=fixed_clock,
        **kw,
    )
    app.host = "web1"
    return app


class Refreshes:
    """Counts the repaints widgets ask for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *widgets: Any) -> None:
        self.calls: list[tuple[str, bool]] = []
        for widget in widgets:
            original = widget.refresh

            def spy(*a: Any, _w: Any = widget, _o: Any = original, **k: Any) -> Any:
                self.calls.append((type(_w).__name__, bool(k.get("layout"))))
                return _o(*a, **k)

            monkeypatch.setattr(widget, "refresh", spy)

    def of(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)


async def test_a_tick_with_nothing_new_takes_no_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = app.live_snapshot
        taken: list[int] = []
        snapshot = app.recorder.snapshot

        def counted() -> Any:
            taken.append(1)
            return snapshot()

        monkeypatch.setattr(app.recorder, "snapshot", counted)
        log = app.query_one(LogView)
        spies = Refreshes(monkeypatch, log, app.query_one(ScoreboardView))
        for _ in range(6):
            app.tick()
        assert taken == [] and app.live_snapshot is before
        assert spies.calls == []


async def test_records_reach_the_log_pane_on_the_next_half_second() -> None:
    app = make_app()
    now = [NOW + 0.1]
    app.wall = lambda: now[0]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.query_one(LogView)
        app.refresh_panes()
        app.recorder.add_records([access(99, T0 + timedelta(seconds=1), 200, "/", "192.0.2.1", 1)])
        app.recorder.release(force=True)
        now[0] = NOW + 0.3
        app.tick()  # released, but the pane was drawn in this half-second: it waits
        assert len(app.recorder.records) == 78 and log.shown == 77
        now[0] = NOW + 0.5
        app.tick()
        assert log.shown == 78
        app.tick()
        assert log.shown == 78


async def test_a_source_going_down_shows_without_waiting() -> None:
    from console.core.events import SourceState

    app = make_app()
    now = [NOW + 0.1]
    app.wall = lambda: now[0]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.refresh_panes()
        app.recorder.set_state(SourceState(T0, "php", "php-error", "error", message="gone"))
        now[0] = NOW + 0.2
        app.tick()
        header = app.query_one("#header")
        assert [p.source for p in header.problems] == ["php"]  # type: ignore[attr-defined]


async def test_drawing_the_same_again_repaints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = scripted_recorder()
    app = make_app(recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        board, memory = app.query_one(ScoreboardView), app.query_one(MemoryView)
        spies = Refreshes(monkeypatch, board, memory)
        last = recorder.status[-1]
        # the next poll says the same: another sample, drawn the same
        board.sample = status_sample(last.ts + timedelta(seconds=1), 120_020, 880_070.0)
        memory.redraw()
        assert spies.calls == []


async def test_a_longer_scoreboard_asks_for_a_layout(monkeypatch: pytest.MonkeyPatch) -> None:

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        board = app.query_one(ScoreboardView)
        spies = Refreshes(monkeypatch, board)
        sample = board.sample
        assert sample is not None
        board.sample = replace(sample, scoreboard=sample.scoreboard.replace("W", "_", 1))
        assert spies.calls == [("ScoreboardView", False)]  # drawn differently: a repaint
        board.sample = replace(sample, scoreboard=sample.scoreboard + "." * 300)
        assert spies.calls[-1] == ("ScoreboardView", True)  # needs more rows: a layout


async def test_a_memory_reading_drawn_the_same_repaints_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new reading a byte higher: another model, the same title and text, no repaint."""

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        memory = app.query_one(MemoryView)
        model = memory.model
        assert model is not None
        spies = Refreshes(monkeypatch, memory)
        memory.model = replace(model, mem_used=model.mem_used + 1)
        assert spies.calls == []
        memory.model = replace(model, mem_used=model.mem_total)
        assert spies.of("MemoryView") == 1


async def test_apache_processes_repaint_the_table_only_while_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/proc's processes change every second; the table draws them only while the status
    page is dark."""
    from console.core.events import ServerChild
    from widgets.inflight import InFlightTable

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(InFlightTable)
        spies = Refreshes(monkeypatch, table)
        table.processes = (ServerChild(101, "S", 20 << 20, 0.5, 30.0),)
        assert spies.calls == []
        table.stale = True
        table.processes = (ServerChild(101, "S", 21 << 20, 0.7, 31.0),)
        assert spies.of("InFlightTable") == 2


async def test_a_hidden_alert_bar_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from widgets.alertbar import AlertBar

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        bar = app.query_one(AlertBar)
        assert not bar.display
        drawn: list[int] = []
        monkeypatch.setattr(bar, "draw", lambda: drawn.append(1))
        spies = Refreshes(monkeypatch, bar)
        bar.now = T0 + timedelta(seconds=5)
        assert drawn == [] and spies.calls == []


def test_only_the_rows_that_changed_are_repainted() -> None:
    from rich.text import Text

    from widgets.drawn import changed_rows

    def text(*lines: str, wrap: bool = False) -> Text:
        return Text("\n".join(lines), no_wrap=not wrap, end="")

    assert changed_rows(text("a", "b", "c"), text("a", "B", "c")) == [1]
    assert changed_rows(text("a", "b"), text("a", "b")) == []
    styled = text("a", "b")
    styled.stylize("bold", 2, 3)
    assert changed_rows(text("a", "b"), styled) == [1]  # the same letters, another look
    assert changed_rows(None, text("a")) is None
    assert changed_rows(text("a", "b"), text("a")) is None
    assert changed_rows(text("a", wrap=True), text("b", wrap=True)) is None


async def test_a_new_second_repaints_only_the_clock_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The header's figures are assigned every second; only the line that changed repaints."""
    from widgets.header import HeaderBar

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = app.query_one(HeaderBar)
        asked: list[tuple[Any, ...]] = []
        monkeypatch.setattr(header, "refresh", lambda *a, **k: asked.append(a))
        now = header.now
        assert now is not None and header.status is not None
        header.status = replace(header.status)  # another sample, drawn the same
        assert asked == []
        header.now = now + timedelta(seconds=1)
        assert [[r.y for r in regions] for regions in asked] == [[1]]
        header.note = "FROZEN"  # the first line
        assert [r.y for r in asked[-1]] == [0]


async def test_a_request_that_ages_repaints_its_row_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows come again every second; only the lines drawn differently repaint."""
    from widgets.inflight import InFlightTable

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(InFlightTable)
        rows = table.rows
        assert len(rows) >= 2
        asked: list[tuple[Any, ...]] = []
        monkeypatch.setattr(table, "refresh", lambda *a, **k: asked.append(a))
        table.rows = tuple(replace(r) for r in rows)  # the same requests, another sample
        assert asked == []
        first = rows[0]
        table.rows = (replace(first, seconds=first.seconds + 0.4), *rows[1:])
        assert asked == []  # the age is shown to the second: drawn the same
        table.rows = (replace(first, client="198.51.100.9"), *rows[1:])
        assert [[r.y for r in regions] for regions in asked] == [[1]]  # under the column names


async def test_a_changed_row_turns_only_its_line_into_strips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lines drawn before are kept rendered: a new second renders the clock's line alone."""
    import widgets.drawn
    from widgets.header import HeaderBar

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = app.query_one(HeaderBar)
        now = header.now
        assert now is not None
        header.now = now + timedelta(seconds=1)
        await pilot.pause()  # on screen: both lines rendered
        before = [header.render_line(y).text for y in range(2)]
        made: list[str] = []
        real = widgets.drawn.visualize

        def counted(widget: Any, obj: Any, **kw: Any) -> Any:
            made.append(str(obj))
            return real(widget, obj, **kw)

        monkeypatch.setattr(widgets.drawn, "visualize", counted)
        header.now = now + timedelta(seconds=2)
        after = [header.render_line(y).text for y in range(2)]
        assert made == [str(header.render()).split("\n")[1]]  # the clock's line, once
        assert after[0] == before[0] and after[1] != before[1]
