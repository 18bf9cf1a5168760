"""Rewind from the keyboard: [ ] { } step the frozen screen through the recorder's history."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from console.core.config import Config
from console.core.recorder import Recorder
from console.incident.bundle import write_bundle
from console.incident.bundle_read import read_bundle
from console.incident.rules import RuleBook, Trigger, build_rules
from console.incident.watch import IncidentWatch
from console.tui.app import LamptopApp
from console.view.panes import memory_model
from tests.support.rewind_scripted import busy_at, rewind_recorder
from tests.support.scripted import T0, fixed_clock
from tests.support.wait import async_wait_for
from widgets.banner import FrozenBanner
from widgets.header import HeaderBar
from widgets.logview import LogView
from widgets.memory import MemoryView
from widgets.scoreboard import ScoreboardView

SIZE = (120, 40)


def rewind_app(
    recorder: Recorder | None = None, incidents: IncidentWatch | None = None
) -> LamptopApp:
    app = LamptopApp(
        recorder or rewind_recorder(),
        config=Config(timezone="UTC"),
        clock=fixed_clock,
        incidents=incidents,
    )
    app.host = "web1"
    return app


def banner(app: LamptopApp) -> str:
    return app.query_one(FrozenBanner).text


def board_busy(app: LamptopApp) -> int:
    sample = app.query_one(ScoreboardView).sample
    assert sample is not None
    return sample.busy


async def test_brackets_step_every_pane_back_one_sample_and_braces_ten_seconds() -> None:
    app = rewind_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        whole = app.freeze.whole
        assert whole is not None and whole.taken_at == T0
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        await pilot.pause()
        instant = T0 - timedelta(seconds=3)
        assert banner(app).startswith("13:01:57 · -3 s · [ ] sample · { } 10 s")
        assert app.query_one(ScoreboardView).sample is whole.status[-4]
        assert app.query_one(HeaderBar).now == instant

        await pilot.press("left_curly_bracket")
        await pilot.pause()
        instant = T0 - timedelta(seconds=13)
        assert banner(app).startswith("13:01:47 · -13 s")
        shown = app.freeze.snapshot
        assert shown is not None and shown.taken_at == instant
        # every pane shows that moment: scoreboard, requests in flight, header, memory, logs
        board = app.query_one(ScoreboardView).sample
        assert board is not None and board.ts == instant and board.busy == busy_at(instant)
        assert app.query_one(HeaderBar).status is board
        assert app.query_one(HeaderBar).now == instant
        assert len(app.in_flight) == busy_at(instant)
        memory = app.query_one(MemoryView).model
        assert memory is not None and memory == memory_model(shown.system[-400:])
        assert max(s.ts for s in shown.system) <= instant
        log = app.query_one(LogView)
        assert log.follow and log.matched
        assert max(r.ts for r in log.matched) <= instant
        assert max(r.ts for r in whole.records) > instant  # later records are not shown
        # the PHP-FPM and MySQL views too: their samples up to the instant
        fpm_sample = shown.latest_fpm[0]
        assert fpm_sample.ts <= instant
        assert len(app.holds) == len([p for p in fpm_sample.processes if p.busy])
        assert app.panes.mysql.rows == shown.mysql[-1].running
        assert shown.mysql[-1].ts <= instant < whole.mysql[-1].ts

        # forward past the instant frozen stops there: the frozen screen as it was
        await pilot.press("right_curly_bracket", "right_curly_bracket")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.freeze.snapshot is whole and not app.freeze.rewound
        assert banner(app).startswith("at 13:02:00 · ")
        assert app.query_one(ScoreboardView).sample is whole.status[-1]
        assert app.query_one(HeaderBar).now == T0

        # back stops at the oldest sample
        for _ in range(25):
            await pilot.press("left_curly_bracket")
        await pilot.pause()
        oldest = min(s.ts for s in whole.system)
        assert app.freeze.instant == oldest
        assert app.query_one(ScoreboardView).sample is None  # mod_status was not polled yet

        # space goes live again, as before
        await pilot.press("space")
        await pilot.pause()
        assert not app.freeze.frozen and banner(app) == ""
        assert app.query_one(ScoreboardView).sample is whole.status[-1]


async def test_the_rewind_keys_do_nothing_while_live() -> None:
    app = rewind_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = app.shown_snapshot
        assert app.check_action("rewind", (-1,)) is False
        await pilot.press("left_square_bracket", "left_curly_bracket")
        await pilot.pause()
        assert not app.freeze.frozen and app.shown_snapshot is before
        assert app.query_one(ScoreboardView).sample is before.latest_status  # type: ignore[union-attr]
        await pilot.press("space")
        assert app.check_action("rewind", (-1,)) is True


async def test_s_while_rewound_saves_the_bundle_around_the_instant_shown(tmp_path: Path) -> None:
    recorder = rewind_recorder()
    incidents = IncidentWatch(
        recorder,
        RuleBook(build_rules({"memory_high": {"enabled": False}})),
        tmp_path / "snaps",
        window=3600,
        tail=5.0,
    )
    app = rewind_app(recorder, incidents)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("space", "left_curly_bracket", "left_curly_bracket", "left_curly_bracket")
        await pilot.pause()
        assert app.freeze.instant == T0 - timedelta(seconds=30)
        await pilot.press("s")
        await async_wait_for(lambda: incidents.saved, what="the bundle to be saved")
        assert app.freeze.instant == T0 - timedelta(seconds=30)  # saving did not move it
    saved = incidents.saved[0]
    assert saved.path is not None and saved.trigger.at == T0 - timedelta(seconds=30)
    doc = json.loads((saved.path / "snapshot.json").read_text())
    assert doc["trigger"]["at"] == "2025-03-14T13:01:30Z"
    assert doc["trigger"]["values"]["rewound_seconds"] == 30
    # the window ends at the instant plus the tail, not at the freeze
    assert doc["window"]["end"] == "2025-03-14T13:01:35Z"
    assert max(s["ts"] for s in doc["status"]) == "2025-03-14T13:01:35Z"
    assert all(r["ts"] <= "2025-03-14T13:01:35Z" for r in doc["records"])
    report = (saved.path / "report.md").read_text()
    assert "chosen by rewinding, 30 s before the screen was frozen" in report
    assert "13:01:30 UTC" in report
    assert "-30&#160;s" in (saved.path / "screen.svg").read_text()  # the screen as shown
    assert saved.path.name.startswith("20250314T130130Z-")


async def test_lamptop_open_steps_through_a_bundle(tmp_path: Path) -> None:
    snap = rewind_recorder().snapshot()
    path = write_bundle(
        snap, Trigger("key", T0, message="saved by hand"), tmp_path, window=3600, host="web1"
    )
    bundle, _ = read_bundle(path)
    app = LamptopApp(
        Recorder(), config=Config(timezone="UTC"), clock=fixed_clock, bundle=(bundle, path.name)
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert banner(app) == f"read-only · [ ] rewind · {path.name}"
        assert board_busy(app) == busy_at(T0)
        await pilot.press("left_curly_bracket", "left_curly_bracket", "left_curly_bracket")
        await pilot.press("left_square_bracket")
        await pilot.pause()
        instant = T0 - timedelta(seconds=31)
        assert banner(app) == f"13:01:29 · -31 s · [ ] sample · {{ }} 10 s · {path.name}"
        assert board_busy(app) == busy_at(instant) < busy_at(T0)
        log = app.query_one(LogView)
        assert log.matched and max(r.ts for r in log.matched) <= instant
        await pilot.press("space", "s")  # still read-only: nothing to go live to or to save
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.freeze.frozen and app.freeze.instant == T0 - timedelta(seconds=30)


async def test_the_rewind_keys_are_in_the_help_and_the_palette_and_can_be_remapped() -> None:
    from widgets.help import HelpScreen

    app = LamptopApp(
        rewind_recorder(),
        config=Config(timezone="UTC", keys={"rewind-back": "b"}),
        clock=fixed_clock,
    )
    async with app.run_test(size=SIZE) as pilot:
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        rewinds = {t: h for t, h in commands.items() if t.startswith("Rewind:")}
        assert len(rewinds) == 4
        assert "key { · id rewind-back-10" in rewinds.values()
        assert any("only while frozen" in t for t in rewinds)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {row[2]: row[0] for row in app.screen.rows}
        assert keys["rewind-back, rewind-forward"] == "b ]"  # one row, remapped as configured
        assert keys["rewind-back-10, rewind-forward-10"] == "{ }"
        what = {row[2]: row[1] for row in app.screen.rows}
        assert "while frozen" in what["rewind-back, rewind-forward"]
        await pilot.press("escape")
        await pilot.press("left_curly_bracket")  # under no modal screen, still live: nothing
        assert not app.freeze.frozen
        await pilot.press("space", "b", "left_square_bracket")
        await pilot.pause()
        assert app.freeze.instant == T0 - timedelta(seconds=1)  # [ no longer steps back


async def test_rewound_before_the_status_page_went_dark_the_scoreboard_is_live_again() -> None:
    app = rewind_app(rewind_recorder(dark=20))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        board = app.query_one(ScoreboardView)
        assert board.problem is not None and board.problem.status == "timeout"
        assert board.age == 21  # the last sample, T0-21 s, greyed with its age
        assert "⚠" in str(app.query_one(HeaderBar).render())
        await pilot.press("left_curly_bracket")
        await pilot.pause()
        assert board.problem is not None and board.age == 11  # still dark 10 s before
        # in the dark the steps are the memory samples, a second apart
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.freeze.instant == T0 - timedelta(seconds=11) and board.age == 10
        await pilot.press("left_curly_bracket")
        await pilot.pause()
        assert app.freeze.instant == T0 - timedelta(seconds=21)
        assert board.problem is None and board.age is None  # it answered then
        assert board.sample is not None and board.sample.ts == T0 - timedelta(seconds=21)
        assert "⚠" not in str(app.query_one(HeaderBar).render())


async def test_keys_typed_in_a_row_move_the_instant_each_and_redraw_once() -> None:
    app = rewind_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        shown: list[object] = []
        draw = app.show_snapshot

        def counted(snap: Any) -> None:
            shown.append(snap)
            draw(snap)

        app.show_snapshot = counted  # type: ignore[method-assign]
        for _ in range(5):  # as a held key's repeats reach the app: one after the other
            app.action_rewind(-1)
        app.action_rewind_by(-10)
        await pilot.pause()
        assert app.freeze.instant == T0 - timedelta(seconds=15)
        assert len(shown) == 1 and shown[0] is app.freeze.snapshot
        assert app.query_one(HeaderBar).now == T0 - timedelta(seconds=15)
