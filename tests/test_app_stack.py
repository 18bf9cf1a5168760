"""The top-left pane's PHP-FPM and MySQL views, driven by keys over the scripted incident."""

from __future__ import annotations

from console.core.recorder import Recorder
from console.tui.app import LamptopApp
from tests.support.app import make_app, screen_text
from tests.support.scripted import scripted_recorder
from tests.support.stack_scripted import add_stack
from widgets.detail import TextScreen
from widgets.fpm import FpmView
from widgets.mysql import MysqlView
from widgets.sourcebar import SourceBar

SMALL = (80, 24)


def stack_recorder() -> Recorder:
    recorder = scripted_recorder()
    add_stack(recorder)
    return recorder


def title(app: LamptopApp) -> str:
    return str(app.query_one("#workers-pane").border_title)


async def test_w_goes_through_workers_php_fpm_and_mysql() -> None:
    app = make_app(recorder=stack_recorder())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        fpm, mysql = app.query_one(FpmView), app.query_one(MysqlView)
        assert app.view == "workers" and title(app).endswith("· w php-fpm")
        assert not fpm.display or not fpm.region.height
        await pilot.press("w")
        assert app.view == "php-fpm" and title(app).startswith("php-fpm")
        assert fpm.region.height > 0 and app.query_one("#inflight").region.height == 0
        text = screen_text(fpm)
        assert "www 8/8 busy queue 4 maxed +2 slow +6" in text  # 40 columns: the short form
        assert "/report.php?month=2" in text
        # the longest request first, its client from the Apache worker of the same age
        first = [line for line in text.splitlines() if "3100" in line][0]
        assert first.split()[:2] == ["3100", "48s"]
        assert "↳ mysql #900" in text  # matched over TCP: exact
        await pilot.press("w")
        assert app.view == "mysql" and title(app).startswith("mysql · w workers")
        text = screen_text(mysql)
        assert text.startswith("conn 56/60 run 8 28 q/s slow+9 locks 2")
        rows = [line for line in text.splitlines() if line.strip().startswith("90")]
        assert rows[0].split()[0] == "900"  # the longest query first
        assert "950" not in text  # a sleeping connection runs no query
        await pilot.press("w")
        assert app.view == "workers"


async def test_the_number_keys_stay_for_logs() -> None:
    app = make_app(recorder=stack_recorder())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert app.query_one(SourceBar).sources == ("access", "apache", "php")


async def test_enter_shows_the_whole_query_and_the_cursor_follows_its_thread() -> None:
    recorder = stack_recorder()
    app = make_app(recorder=recorder)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("w", "w")
        mysql = app.query_one(MysqlView)
        mysql.focus()
        await pilot.press("down", "down")
        assert mysql.selected is not None and mysql.selected.id == 902
        # a new sample without the two longest queries: the cursor stays on thread 902
        mysql.set_rows(mysql.rows[2:])
        assert mysql.selected is not None and mysql.selected.id == 902
        await pilot.press("enter")
        assert isinstance(app.screen, TextScreen)
        body = str(app.screen.body)
        assert "orders WHERE month = '2025-02' /* 2 */" in body and "Sending data" in body
        await pilot.press("escape")
        assert not isinstance(app.screen, TextScreen)


async def test_the_php_fpm_row_opens_who_holds_what() -> None:
    app = make_app(recorder=stack_recorder())
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("w")
        fpm = app.query_one(FpmView)
        fpm.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, TextScreen)
        body = str(app.screen.body)
        assert "pid  3100" in body and "matched by its TCP connection" in body
        assert "apache  worker 0-0" in body
        pool = screen_text(fpm).splitlines()[0]
        assert pool.startswith("www dynamic  busy 8/8  idle 0  queue 4  max_children hit 5 (+2)")


async def test_without_stack_sources_w_stays_on_the_workers() -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("w")
        assert app.view == "workers"
        assert "· w" not in title(app)


async def test_a_source_in_trouble_says_so_in_its_view() -> None:
    from dataclasses import replace

    recorder = stack_recorder()
    state = recorder.states["mysql"]
    recorder.set_state(
        replace(
            state,
            status="auth",
            message="access denied for root@localhost",
            hint="GRANT PROCESS ON *.* TO 'lamptop'@'localhost'",
        )
    )
    app = make_app(recorder=recorder)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("w", "w")
        text = screen_text(app.query_one(MysqlView))
        assert "mysql: access denied for root@localhost (GRANT PROCESS" in text


async def test_a_long_processlist_draws_only_the_rows_that_show() -> None:
    from tests.support.stack_scripted import mysql_thread

    app = make_app(recorder=stack_recorder())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("w", "w")
        mysql = app.query_one(MysqlView)
        built: list[int] = []
        row_lines = mysql.row_lines

        def counted(row, cols, width):  # type: ignore[no-untyped-def]
            built.append(row.id)
            return row_lines(row, cols, width)

        mysql.row_lines = counted  # type: ignore[method-assign]
        mysql.set_rows(tuple(mysql_thread(n, "SELECT 1", 2000.0 - n) for n in range(2000)))
        text = screen_text(mysql)
        assert "SELECT 1" in text
        assert 0 < len(built) <= 2 * mysql.size.height
