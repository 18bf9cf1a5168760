"""The memory pane at the size it has at 80x24: labels over their values, names in full."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult

from console.core.events import ProcInfo
from console.view.metrics import ServiceTrend
from console.view.panes import MemoryModel
from tests.support.app import screen_text
from widgets.memory import MemoryView, trend_words

MB = 1024 * 1024
GB = 1024 * MB


def model(**changes: object) -> MemoryModel:
    """What the demo's incident shows: memory full, swap filling, PHP-FPM children growing."""
    base: dict[str, object] = {
        "mem_used": 976 * MB,
        "mem_total": GB,
        "swap_used": 133 * MB,
        "swap_total": GB,
        "minutes": 5,
        "mem_history": tuple(0.5 + i / 600 for i in range(300)),
        "swap_history": tuple(max(0.0, (i - 200) / 800) for i in range(300)),
        "trends": (
            ServiceTrend("apache", 98 * MB, 21, 30 * MB),
            ServiceTrend("php-fpm", 504 * MB, 20, 200 * MB),
            ServiceTrend("mysql", 176 * MB, 1, 0),
        ),
        "top": (
            ProcInfo(902, "mariadbd", "/usr/sbin/mariadbd", 176 * MB, 28 * MB),
            ProcInfo(124721, "php-fpm8.2", "php-fpm: pool www", 64 * MB, 0, new=True),
            ProcInfo(124696, "php-fpm8.2", "php-fpm: pool www", 56 * MB, 46 * MB),
            ProcInfo(431, "systemd-journald", "/lib/systemd/systemd-journald", 21 * MB, -MB),
        ),
        "seconds": 300.0,
    }
    base.update(changes)
    return MemoryModel(**base)  # type: ignore[arg-type]


class OnePane(App[None]):
    CSS: ClassVar[str] = "MemoryView { width: 32; height: 10; }"  # 80 columns wide

    def compose(self) -> ComposeResult:
        yield MemoryView()


async def test_headers_stand_over_their_values_and_names_show_whole() -> None:
    app = OnePane()
    async with app.run_test(size=(40, 12)) as pilot:
        pane = app.query_one(MemoryView)
        pane.model = model()
        await pilot.pause()
        lines = screen_text(pane).splitlines()
        assert pane.border_title == "memory · last 5 min"  # was "5m" in the header
        # the swap figures stand over the swap sparkline, from its first column
        head = lines[0]
        assert head.startswith("mem 976M/1.0G 95%") and head.index("swap 13%") == 32 - 9
        header = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("pid"))
        labels, rows = lines[header], lines[header + 1 :]
        assert len(rows) == 3
        for row in rows:
            for label in ("pid", "rss", "grew"):  # right-aligned with the numbers below
                end = labels.index(label) + len(label)
                assert row[end - 1] != " " and (end == len(row) or row[end] == " "), (label, row)
            assert row[labels.index("process") - 1] == " " and row[labels.index("process")] != " "
        assert rows[0].split() == ["902", "176M", "+28M", "mariadbd"]
        # a process born while watched holds 64 MB: it is new, not "grew 0"
        assert rows[1].split() == ["124721", "64M", "new", "php-fpm8.2"]
        assert rows[2].split() == ["124696", "56M", "+46M", "php-fpm8.2"]
        assert not any("…" in row for row in rows)
        trends = lines[header - 1]
        assert "mysql 176M" in trends and "…" not in trends


async def test_the_span_says_seconds_before_a_minute_and_long_names_are_cut() -> None:
    app = OnePane()
    async with app.run_test(size=(40, 12)) as pilot:
        pane = app.query_one(MemoryView)
        long = ProcInfo(7, "x" * 80, "x", 3 * MB, MB)
        pane.model = model(seconds=42.0, minutes=1, top=(long,), swap_total=0, swap_used=0)
        await pilot.pause()
        lines = screen_text(pane).splitlines()
        assert pane.border_title == "memory · last 42 s"
        assert "swap" not in lines[0]
        assert lines[-1].endswith("…") and len(lines[-1]) <= 32
        pane.model = None
        await pilot.pause()
        assert pane.border_title == "memory"


def test_trends_tighten_before_they_are_cut() -> None:
    trends = (
        ServiceTrend("apache", 98 * MB, 21, 30 * MB),
        ServiceTrend("php-fpm", 504 * MB, 20, 200 * MB),
        ServiceTrend("mysql", 176 * MB, 1, 0),
    )
    sep, words = trend_words(trends, 80)
    assert sep == "  " and words[1] == ("php-fpm", "504M", "↑", "↑") and words[2][2] == "→"
    sep, words = trend_words(trends, 33)
    assert sep == " " and words[1][0] == "fpm" and words[2][2] == "→"
    sep, words = trend_words(trends, 32)
    assert words[2] == ("mysql", "176M", "", "→")  # steady: no arrow, the name and size stay
    assert len(sep.join(f"{n} {r}{a}" for n, r, a, _ in words)) <= 32
    # every service moving: the arrows go, the sizes' colour says which way
    moving = (*trends[:2], ServiceTrend("mysql", 183 * MB, 1, 40 * MB))
    sep, words = trend_words(moving, 32)
    assert [(n, a, w) for n, _, a, w in words] == [
        ("apache", "", "↑"),
        ("fpm", "", "↑"),
        ("mysql", "", "↑"),
    ]
    assert len(sep.join(f"{n} {r}{a}" for n, r, a, _ in words)) <= 32


class BorderedPane(App[None]):
    CSS: ClassVar[str] = "MemoryView { width: 34; height: 12; border: round $accent; }"

    def compose(self) -> ComposeResult:
        yield MemoryView()


async def test_a_new_title_repaints_the_border_row_alone() -> None:
    """In the first minute the title counts seconds: its row is drawn again, not the pane."""
    from textual.geometry import Region

    app = BorderedPane()
    async with app.run_test(size=(40, 14)) as pilot:
        pane = app.query_one(MemoryView)
        pane.model = model(seconds=42.0, minutes=1)
        await pilot.pause()
        asked: list[tuple[Region, ...]] = []
        refresh = pane.refresh

        def spy(*regions: Region, **kw: bool) -> MemoryView:
            asked.append(regions)
            return refresh(*regions, **kw)

        pane.refresh = spy  # type: ignore[method-assign]
        pane.model = model(seconds=43.0, minutes=1)  # drawn the same but for the title
        assert pane.border_title == "memory · last 43 s"
        assert len(asked) == 1 and len(asked[0]) == 1
        row = asked[0][0].translate(pane.content_offset)
        assert (row.y, row.height, row.width) == (0, 1, pane.outer_size.width)
        await pilot.pause()
        top = pane.render_lines(Region(0, 0, pane.outer_size.width, 1))[0].text
        assert "last 43 s" in top
        pane.model = model(seconds=43.0, minutes=1, mem_used=GB)  # the same title: no row
        assert all(r.translate(pane.content_offset).y > 0 for r in asked[-1])
