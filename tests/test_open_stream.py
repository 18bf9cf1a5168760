"""``lamptop open web1.jsonl``: a saved stream shown in the console like a bundle."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from rich.text import Text

from console.core.config import Config
from console.core.fleet import RemoteAlert
from console.core.wire import header_line, records_line
from console.core.wire_events import alert_line, state_line, status_line
from console.sources.remote.saved import SavedStreamError, looks_like_stream, read_saved_stream
from tests.support.cli import lamptop
from tests.support.stream_events import HEADER, RECORDS, STATE, STATUS, T0
from widgets.alertbar import AlertBar
from widgets.banner import FrozenBanner
from widgets.logview import LogView
from widgets.scoreboard import ScoreboardView

SIZE = (120, 40)
FIRE = RemoteAlert(T0 + timedelta(seconds=2), "http_5xx_burst", "12 5xx in 10 s")


def save(path: Path, *lines: str, tail: bytes = b"") -> Path:
    text = "\n".join([header_line(HEADER), *lines]) + "\n"
    path.write_bytes(text.encode() + tail)
    return path


def saved_stream(tmp_path: Path) -> Path:
    return save(
        tmp_path / "web1.jsonl",
        state_line(STATE),
        records_line(RECORDS),
        status_line(STATUS),
        alert_line(FIRE),
        alert_line(replace(FIRE, bundle="/var/tmp/lamptop/20261126T150002Z-web1-http_5xx_burst")),
        tail=b'{"t":"records","r":[{"ts":1',  # stopped mid-line
    )


async def test_open_shows_a_saved_stream_read_only(tmp_path: Path) -> None:
    from console.commands.open_stream import stream_app

    path = saved_stream(tmp_path)
    assert looks_like_stream(path)
    app = stream_app(Config(timezone="UTC"), path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.query_one(LogView)
        assert sorted(r.text for r in log.records) == sorted(r.text for r in RECORDS)
        board = app.query_one(ScoreboardView)
        assert board.sample is not None and board.sample.scoreboard == STATUS.scoreboard
        banner = app.query_one(FrozenBanner)
        assert banner.word == "BUNDLE" and "web1.jsonl (web1.example)" in banner.text
        bar = app.query_one(AlertBar).render()
        assert isinstance(bar, Text) and "http_5xx_burst" in bar.plain
        (alert,) = app.alerts.alerts
        assert alert.path.endswith("20261126T150002Z-web1-http_5xx_burst")
        await pilot.press("e")  # reading keys work
        await pilot.pause()
        assert app.log_filter.min_level == "warn"


def test_the_snapshot_is_as_of_the_streams_last_moment(tmp_path: Path) -> None:
    saved = read_saved_stream(saved_stream(tmp_path))
    assert saved.snapshot.taken_at == max(r.ts for r in RECORDS)
    assert saved.stats.malformed == 1  # the unfinished last line
    assert saved.snapshot.states["apache-access"].status == "missing"
    assert [a.bundle for a in saved.alerts] == [
        "/var/tmp/lamptop/20261126T150002Z-web1-http_5xx_burst"
    ]


def test_what_is_not_a_saved_stream_is_refused_in_words(tmp_path: Path) -> None:
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"lamptop_stream": 2, "version": "9.0"}\n')
    with pytest.raises(SavedStreamError, match="upgrade lamptop here"):
        read_saved_stream(newer)
    link = tmp_path / "link.jsonl"
    os.symlink(saved_stream(tmp_path), link)
    assert not looks_like_stream(link)
    with pytest.raises(SavedStreamError, match="symlink"):
        read_saved_stream(link)
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    assert not looks_like_stream(fifo)  # never waited on
    with pytest.raises(SavedStreamError, match="not a regular file"):
        read_saved_stream(fifo)


def test_lamptop_open_says_why_it_cannot(tmp_path: Path) -> None:
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"lamptop_stream": 2, "version": "9.0"}\n')
    proc = lamptop("open", str(newer), tmp=tmp_path)
    assert proc.returncode == 2
    assert "newer.jsonl" in proc.stderr and "upgrade lamptop here" in proc.stderr
