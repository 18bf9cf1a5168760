"""The console driven by keys over a scripted incident (no sources, no network)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Input, Static

from console.core.config import Config
from console.core.events import LogRecord
from console.tui.app import LamptopApp
from console.view.filters import LogFilter, http_status
from tests.support.app import log_lines, make_app, screen_text
from tests.support.scripted import T0, ScriptedEngine, access, scripted_recorder
from widgets.detail import DetailScreen
from widgets.help import HelpScreen
from widgets.inflight import InFlightTable
from widgets.logview import LogView
from widgets.scoreboard import ScoreboardView
from widgets.sourcebar import SourceBar

SIZE = (120, 40)


def shown(app: LamptopApp) -> tuple[LogRecord, ...]:
    return app.query_one(LogView).matched


async def test_starts_following_every_record() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.query_one(LogView)
        assert log.shown == len(log.records) == 77
        assert log.follow
        assert app.focused is log
        assert app.query_one(SourceBar).sources == ("access", "apache", "php")
        assert "13:01:58 access 404" in log_lines(app)[-1]


async def test_slash_filters_live_and_highlights() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("5", "0", "0")
        records = shown(app)
        assert len(records) == 7
        assert all("500" in r.text for r in records)
        assert app.log_filter.text == "500"
        assert "/500/" in str(app.query_one("#logs-pane").border_title)
        await pilot.press("enter")
        assert app.focused is app.query_one(LogView)
        assert len(shown(app)) == 7
        await pilot.press("escape")
        assert len(shown(app)) == 77
        assert app.log_filter.is_default


async def test_bad_regex_shows_an_error_and_keeps_running() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "f", "a", "t", "a", "l", "(")
        error = app.query_one("#filter-error", Static)
        assert "bad regular expression" in str(error.render())
        assert app.query_one("#filter-input").has_class("-invalid")
        assert app.log_filter.text == "fatal"  # the last good expression stays in effect
        assert len(shown(app)) == 14
        await pilot.press(")")
        assert str(error.render()) == ""
        assert app.log_filter.text == "fatal()"
        await pilot.press("escape")
        assert app.is_running and app.log_filter.is_default


async def test_number_keys_hide_and_show_sources() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        assert app.log_filter.hidden == {"apache"}
        assert all(r.source != "apache" for r in shown(app))
        assert "2 apache off" in screen_text(app.query_one(SourceBar))
        await pilot.press("2")
        assert app.log_filter.hidden == frozenset()
        assert any(r.source == "apache" for r in shown(app))
        await pilot.press("9")  # no ninth source: the filter stays, and a note says which exist
        assert app.log_filter.is_default
        notes = [n.message for n in app._notifications]
        assert notes == ["no log source 9: 1 access · 2 apache · 3 php"]


async def test_e_cycles_the_minimum_level() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        assert app.log_filter.min_level == "warn"
        warn = shown(app)
        assert warn and all(
            r.level in ("warn", "error") or (http_status(r) or 0) >= 400 for r in warn
        )
        await pilot.press("e")
        assert app.log_filter.min_level == "error"
        errors = shown(app)
        assert len(errors) < len(warn)
        assert {r.source for r in errors} == {"access", "apache", "php"}
        await pilot.press("e")
        assert app.log_filter.min_level == ""
        assert len(shown(app)) == 77


async def test_x_shows_only_http_errors_among_access_records() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        records = shown(app)
        access_records = [r for r in records if r.kind == "apache-access"]
        assert access_records and all((http_status(r) or 0) >= 400 for r in access_records)
        assert any(r.kind == "php-error" for r in records)
        await pilot.press("x")
        assert len(shown(app)) == 77


async def test_enter_opens_the_record_detail() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "m", "e", "m", "o", "r", "y", "enter")
        await pilot.press("2")  # hide apache: php only
        assert {r.source for r in shown(app)} == {"php"}
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        body = str(app.screen.query_one("#detail-body", Static).render())
        assert "array_merge() /var/www/html/report.php:88" in body  # a continuation line
        assert "report.php" in body and "Fatal error" in body  # fields
        assert "php-error" in body
        await pilot.press("2")  # main-screen keys do nothing under the detail
        assert "apache" in app.log_filter.hidden
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_c_expands_continuation_lines() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "2")  # php only
        log = app.query_one(LogView)
        assert log.virtual_size.height == 7
        await pilot.press("c")
        assert log.expanded and log.virtual_size.height == 7 * 5
        lines = log_lines(app)
        assert any("│ PHP   3. array_merge()" in line for line in lines)
        await pilot.press("c")
        assert log.virtual_size.height == 7


async def test_enter_on_a_request_in_flight_filters_its_logs() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        table = app.query_one(InFlightTable)
        assert app.focused is table
        assert table.rows[0].pid == 2101  # oldest first
        await pilot.press("down", "enter")
        row = table.rows[1]
        f = app.log_filter
        assert (f.client, f.url, f.pid) == (row.client, "/report.php", row.pid)
        assert app.focused is app.query_one(LogView)
        records = shown(app)
        assert records and len(records) < 77
        for r in records:
            assert (
                r.fields.get("client", "").split(":")[0] == row.client
                or r.fields.get("url") == "/report.php"
                or r.fields.get("pid") == row.pid
            )
        await pilot.press("escape")
        assert app.log_filter.is_default


async def test_tab_cycles_focus_between_panes() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        log, table = app.query_one(LogView), app.query_one(InFlightTable)
        assert app.focused is log
        await pilot.press("tab")
        assert app.focused is table
        await pilot.press("tab")
        assert app.focused is log


async def test_end_resumes_following_after_moving_up() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(LogView)
        await pilot.press("up", "up", "pageup")
        assert not log.follow
        assert log.scroll_y < log.max_scroll_y
        assert "paused" in str(app.query_one("#logs-pane").border_subtitle)
        app.recorder.add_records([access(99, T0 + timedelta(seconds=1), 200, "/", "192.0.2.1", 1)])
        app.recorder.release(force=True)
        app.refresh_panes()
        assert log.shown == 78 and not log.follow
        await pilot.press("end")
        assert log.follow
        assert log.scroll_y == log.max_scroll_y
        assert log.selected is not None and log.selected.fields["client"] == "192.0.2.1"


async def test_new_records_extend_the_view_incrementally() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")  # access 4xx/5xx and every other log
        before = app.query_one(LogView).shown
        batch = [
            access(i, T0 + timedelta(seconds=1 + i), 500 if i % 2 else 200, "/", "192.0.2.9", 7)
            for i in range(10)
        ]
        app.recorder.add_records(batch)
        app.recorder.release(force=True)
        app.refresh_panes()
        assert app.query_one(LogView).shown == before + 5
        assert shown(app)[-1].fields["client"] == "192.0.2.9"


async def test_question_mark_lists_the_keys() -> None:
    app = make_app(config=Config(timezone="UTC", keys={"level": "f5"}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {i for row in app.screen.rows for i in row[2].split(", ")}
        for binding_id in (
            "filter",
            "clear-filter",
            "level",
            "http-errors",
            "expand",
            "follow",
            "focus-next",
            "help",
            "quit",
            "open-record",
            "pin-request",
        ):
            assert binding_id in ids
        keys = {row[2]: row[0] for row in app.screen.rows}
        assert keys["level"] == "f5"  # remapped by the config
        assert keys["-"] == "ctrl+p"  # the palette is named too
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("e")
        assert app.log_filter.min_level == ""  # e no longer cycles levels
        await pilot.press("f5")
        assert app.log_filter.min_level == "warn"


async def test_command_palette_offers_the_actions() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Lowest level shown") for t in titles)
        assert any(t.startswith("Filter the logs") for t in titles)


async def test_q_quits() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


async def test_status_timeout_shows_why_and_greys_the_last_scoreboard() -> None:
    app = make_app(recorder=scripted_recorder(status_ok=False))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        board = app.query_one(ScoreboardView)
        text = " ".join(screen_text(board).split())
        assert "timeout · last seen 12 s ago" in text
        assert "http://127.0.0.1/server-status did not answer within 2 s" in text
        assert "RWWWRWWW" in text  # the last scoreboard is still drawn
        rendered = board.render()
        assert isinstance(rendered, Text)
        stale = board.get_component_rich_style("scoreboard--stale")
        cells = rendered.plain.index("RWWW")
        styles = {str(span.style) for span in rendered.spans if span.start == cells}
        assert styles == {str(stale)}
        assert app.query_one(InFlightTable).stale
        assert "⚠ 1 source" in screen_text(app.query_one("#header", Widget))


async def test_a_dead_source_is_reported() -> None:
    recorder = scripted_recorder()
    app = make_app(recorder=recorder, engine=ScriptedEngine(recorder, crash_after=0.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        state = recorder.states["php"]
        assert state.status == "error"
        assert "RuntimeError: parser blew up" in state.message
        await pilot.pause(0.3)
        assert app.is_running
        assert "⚠ 1 source" in screen_text(app.query_one("#header", Widget))


async def test_resizing_never_breaks_it() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        for size in ((80, 24), (40, 12), (20, 5), (200, 60), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            app.refresh_panes()
            await pilot.press("c", "up", "end", "c")
        assert app.is_running
        log = app.query_one(LogView)
        assert log.follow and log.shown == 77


async def test_a_refresh_with_a_full_ring_is_cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    """20,000 records in the ring, 1,000 new: one refresh filters the new ones only, and drawing
    renders the visible lines only (counted, not timed: this machine's speed is not the test's
    business; ``bench/`` measures)."""
    recorder = scripted_recorder()
    clients = ("192.0.2.1", "192.0.2.2")

    def burst(start: int, n: int) -> list[LogRecord]:
        return [
            access(
                i,
                T0 + timedelta(milliseconds=i),
                500 if i % 17 == 0 else 200,
                "/",
                clients[i % 2],
                i,
            )
            for i in range(start, start + n)
        ]

    recorder.add_records(burst(0, 20_000))
    recorder.release(force=True)
    app = make_app(recorder=recorder)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("slash", "5", "0", "0", "enter")
        log = app.query_one(LogView)
        recorder.add_records(burst(20_000, 1_000))
        recorder.release(force=True)
        filtered: list[LogRecord] = []
        drawn: list[int] = []
        matches, render_row = LogFilter.matches, LogView._render_row

        def counting_matches(self: LogFilter, record: LogRecord) -> bool:
            filtered.append(record)
            return matches(self, record)

        def counting_render_row(self: LogView, *args: Any, **kw: Any) -> Any:
            drawn.append(1)
            return render_row(self, *args, **kw)

        monkeypatch.setattr(LogFilter, "matches", counting_matches)
        monkeypatch.setattr(LogView, "_render_row", counting_render_row)
        app.refresh_panes()
        lines = [log.render_line(y) for y in range(log.size.height)]
        assert len(log.records) == 20_000
        assert log.shown == sum(1 for r in log.records if "500" in r.text)
        assert lines[-1].text.strip()
        assert 0 < len(filtered) <= 1_000, f"one refresh filtered {len(filtered)} records"
        assert {r.fields["pid"] for r in filtered} <= set(range(20_000, 21_000))  # the new ones
        assert 0 < len(drawn) <= log.size.height


async def test_frozen_panes_keep_drawing_the_frozen_snapshot() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.live_snapshot is not None
        app.freeze.freeze(app.live_snapshot)
        app.recorder.add_records([access(99, T0 + timedelta(seconds=1), 500, "/", "192.0.2.1", 1)])
        app.recorder.release(force=True)
        app.refresh_panes()
        assert app.live_snapshot is not None and len(app.live_snapshot.records) == 78
        assert app.shown_snapshot is app.freeze.snapshot
        assert app.query_one(LogView).shown == 77
        await pilot.press("x")  # filtering works on the frozen data
        assert app.query_one(LogView).shown < 77
        app.freeze.thaw()
        app.refresh_panes()
        assert app.query_one(LogView).shown == len(
            [r for r in app.live_snapshot.records if app.log_filter.matches(r)]
        )


async def test_redact_masks_clients_on_screen() -> None:
    app = make_app(config=Config(timezone="UTC", redact=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "203.0.x.x" in "\n".join(log_lines(app))
        assert "203.0.113.99" not in "\n".join(log_lines(app))
        table = screen_text(app.query_one(InFlightTable))
        assert "203.0.x.x" in table and "?month" not in table
        await pilot.press("enter")
        body = str(app.screen.query_one("#detail-body", Static).render())
        assert "203.0.113" not in body
        await pilot.press("escape")
        # a pinned client and URL are quoted in the logs title: masked there too, and so in
        # the saved screen
        app.log_filter = LogFilter(client="203.0.113.99", url="/cart;jsessionid=S3CR3T")
        await pilot.pause(1.2)
        title = app.query_one("#logs-pane").border_title or ""
        assert "203.0.x.x" in title and "203.0.113.99" not in title and "S3CR3T" not in title
        svg = app.export_screenshot()
        assert "203.0.113.99" not in svg and "S3CR3T" not in svg


async def test_narrowing_the_filter_while_paused_keeps_the_pane_full() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("up")  # paused at the bottom of 77 records
        log = app.query_one(LogView)
        assert not log.follow
        await pilot.press("e", "e")  # errors only: far fewer rows
        await pilot.pause()
        assert log.shown < 77 and log.scroll_y <= log.max_scroll_y
        lines = log_lines(app)
        assert all(line.strip() for line in lines[: min(len(lines), log.shown)])


async def test_keys_typed_right_after_slash_go_to_the_filter() -> None:
    from textual import events

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # delivered together, as a paste or a slow link does: none may act on the console
        for key, ch in (("slash", "/"), ("q", "q"), ("e", "e"), ("x", "x"), ("5", "5")):
            app.post_message(events.Key(key, ch))
        await pilot.pause()
        await pilot.pause()
        assert app.is_running
        assert app.log_filter.text == "qex5"
        assert app.log_filter.min_level == "" and not app.log_filter.http_errors
        assert isinstance(app.focused, Input)
        await pilot.press("enter")  # back in the logs, the keys act again
        await pilot.press("e")
        assert app.log_filter.min_level == "warn"


async def test_the_footer_names_the_source_keys_as_a_range() -> None:
    from textual.widgets import Footer

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = [
            (str(k.key_display), str(k.description))
            for k in app.query_one(Footer).query("FooterKey")
        ]
        assert ("1-9", "sources") in shown
        assert not [d for d, _ in shown if d in ("1", "2", "3")]


async def test_the_picked_request_stays_picked_by_its_pid_and_its_end_is_said() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        table = app.query_one(InFlightTable)
        await pilot.press("down", "down")
        picked = table.selected
        assert picked is not None and picked.pid == table.rows[2].pid
        # the next second's table: sorted anew, the picked worker elsewhere
        table.rows = (table.rows[4], table.rows[2], *table.rows[:2], *table.rows[5:])
        assert table.selected is not None and table.selected.pid == picked.pid
        assert table.cursor == 1
        # its request ends: nothing stays picked, and the table says so
        table.rows = tuple(r for r in table.rows if r.pid != picked.pid)
        await pilot.pause()
        assert table.selected is None
        assert f"pid {picked.pid}: its request ended" in screen_text(table)
        await pilot.press("enter")
        assert app.log_filter.pid is None  # enter picked nothing
        await pilot.press("down")  # picks the row where it was
        assert table.selected is table.rows[1]
        assert "its request ended" not in screen_text(table)
        await pilot.press("enter")
        assert app.log_filter.pid == table.rows[1].pid
