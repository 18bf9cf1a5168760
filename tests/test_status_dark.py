"""The workers pane while the status page cannot be had."""

from __future__ import annotations


async def test_what_proc_still_tells_when_the_status_page_is_dark() -> None:
    """Status page dark (timeout): the in-flight pane keeps the last table greyed, and under it
    Apache's processes from the system scan, busiest first, with those forked lately."""
    from dataclasses import replace

    from console.core.events import ServerChild
    from tests.support.app import make_app, screen_text
    from tests.support.scripted import scripted_recorder
    from widgets.inflight import InFlightTable

    recorder = scripted_recorder(status_ok=False)
    last = recorder.system[-1]
    kids = (
        ServerChild(pid=3101, state="S", rss=40 << 20, cpu=0.0, age=3600.0),
        ServerChild(pid=3188, state="D", rss=180 << 20, cpu=93.0, age=12.0),
    )
    recorder.add_system(replace(last, ts=last.ts, children=kids))
    app = make_app(recorder=recorder)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        table = app.query_one(InFlightTable)
        assert table.stale
        text = screen_text(table)
    assert "/proc: 2 apache processes, 1 started in the last minute" in text
    lines = text.splitlines()
    busiest = next(i for i, line in enumerate(lines) if "3188" in line)
    assert "D" in lines[busiest] and "93%" in lines[busiest] and "180M" in lines[busiest]
    assert busiest < next(i for i, line in enumerate(lines) if "3101" in line)
