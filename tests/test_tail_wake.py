"""FileTail woken by inotify, and polling where inotify cannot serve.

With ``idle_poll`` of ten minutes, a tail on inotify reads nothing unless an event wakes it:
every line these tests see arrive came through an event. The fallbacks are each forced (no
inotify asked, the binding missing, no watch left, a filesystem that sends no events) and
must still read every line.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from console.core.events import LogRecord
from console.parsing.base import MultilineParser
from console.sources.tail import wake as wake_mod
from console.sources.tail.follow import FileTail
from tests.support.helpers import MemorySink
from tests.support.tail import EchoParser, expect, numbered, texts
from tests.support.wait import async_wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")

#: Longer than any test: a tail on inotify that reads was woken by an event.
NEVER = 600.0


class Following:
    """A tail running on the loop, with what it delivered."""

    def __init__(self, path: Path, **kw: Any) -> None:
        self.sink = MemorySink()
        self.tail = FileTail(path, EchoParser("t"), self.sink, poll_interval=0.01, **kw)
        self.task = asyncio.create_task(self.tail.run())

    async def until(self, n: int, within: float = 20.0) -> None:
        await async_wait_for(
            lambda: len(self.sink.records) >= n, within, what=f"{n} records: {texts(self.sink)}"
        )

    async def armed(self) -> None:
        await async_wait_for(lambda: self.tail.wake.armed, what="the watch set up")

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def follow() -> AsyncIterator[Any]:
    started: list[Following] = []

    def start(path: Path, **kw: Any) -> Following:
        f = Following(path, **kw)
        started.append(f)
        return f

    yield start
    for f in started:
        await f.stop()
    assert not wake_mod._hubs, "the inotify instance outlived its tails"


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- inotify -------------------------------------------------------------------------------------


async def test_a_write_wakes_the_tail_and_a_quiet_file_costs_no_rounds(
    tmp_path: Path, follow: Any
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 2))
    f = follow(log, idle_poll=NEVER)
    await f.until(2)
    await f.armed()
    rounds = f.tail.rounds
    await asyncio.sleep(0.3)  # polling every 0.01 s would run some 30 rounds here
    assert f.tail.rounds - rounds <= 1
    with log.open("ab") as w:
        w.write(numbered(3, 5))
    await f.until(5)
    assert texts(f.sink) == expect(1, 5)
    assert f.tail.wake.mode == "inotify"


async def test_rotation_by_rename_and_create(tmp_path: Path, follow: Any) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    f = follow(log, idle_poll=NEVER)
    await f.armed()
    with log.open("ab", buffering=0) as old:
        old.write(numbered(1, 3))
        await f.until(3)
        os.rename(log, tmp_path / "a.log.1")
        log.write_bytes(numbered(4, 6))
        old.write(numbered(7, 7))  # a request in flight across the rotation
        await f.until(7)
    assert sorted(texts(f.sink)) == sorted(expect(1, 7))
    assert f.tail.wake.mode == "inotify"


async def test_deleted_then_recreated(tmp_path: Path, follow: Any) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 2))
    f = follow(log, idle_poll=NEVER, backfill_lines=10)
    await f.until(2)
    await f.armed()
    log.unlink()
    await async_wait_for(lambda: f.tail.state and f.tail.state.status != "ok", what="a state")
    log.write_bytes(numbered(3, 4))
    await f.until(4)
    assert texts(f.sink) == expect(1, 4)


async def test_copytruncate(tmp_path: Path, follow: Any) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 3))
    f = follow(log, idle_poll=NEVER)
    await f.until(3)
    await f.armed()
    with log.open("r+b") as w:
        w.truncate(0)
    log.write_bytes(numbered(4, 5))
    await f.until(5)
    assert texts(f.sink) == expect(1, 5)


async def test_a_missing_file_that_appears(tmp_path: Path, follow: Any) -> None:
    log = tmp_path / "a.log"
    f = follow(log, idle_poll=NEVER)
    await async_wait_for(lambda: f.tail.state and f.tail.state.status == "missing", what="missing")
    await f.armed()
    log.write_bytes(numbered(1, 3))
    await f.until(3)
    assert texts(f.sink) == expect(1, 3)


async def test_a_missing_directory_is_polled_until_it_appears(tmp_path: Path, follow: Any) -> None:
    log = tmp_path / "later" / "a.log"
    f = follow(log, idle_poll=NEVER)
    await async_wait_for(lambda: f.tail.rounds >= 3, what="a few rounds")
    assert not f.tail.wake.armed and f.tail.wake.mode == "inotify"
    log.parent.mkdir()
    log.write_bytes(numbered(1, 2))
    await f.until(2)
    await f.armed()  # the directory is watched once it exists
    with log.open("ab") as w:
        w.write(numbered(3, 3))
    await f.until(3)
    assert texts(f.sink) == expect(1, 3)


async def test_a_symbolic_link_to_another_directory(tmp_path: Path, follow: Any) -> None:
    """Writes land in the target's directory: that one is watched too."""
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "real" / "access.log.2026"
    target.write_bytes(numbered(1, 1))
    link = tmp_path / "links" / "access.log"
    link.symlink_to(target)
    f = follow(link, idle_poll=NEVER)
    await f.until(1)
    await f.armed()
    with target.open("ab") as w:
        w.write(numbered(2, 3))
    await f.until(3)
    assert texts(f.sink) == expect(1, 3)


class BlockParser(MultilineParser):
    """Entries start with ``[``; other lines continue the entry."""

    kind = "test-multi"

    def is_start(self, line: str) -> bool:
        return line.startswith("[")

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        return [
            LogRecord(ts=arrival, source=self.source, kind=self.kind, level="error", text=first)
        ]


async def test_an_entry_still_open_is_flushed_without_an_event(tmp_path: Path) -> None:
    """The last entry of a quiet file waits for a next line that may never come: the tail
    wakes for it after ``flush_after``, though no event comes."""
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    sink = MemorySink()
    tail = FileTail(log, BlockParser("p"), sink, poll_interval=0.01, idle_poll=NEVER)
    tail.flush_after = 0.2
    task = asyncio.create_task(tail.run())
    try:
        await async_wait_for(lambda: tail.wake.armed, what="the watch set up")
        with log.open("ab") as w:
            w.write(b"[a] one\n  more\n")
        await async_wait_for(lambda: sink.records, what="the entry flushed")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [r.text for r in sink.records] == ["[a] one"]
    assert tail.wake.mode == "inotify"


async def test_one_inotify_instance_for_every_tail(tmp_path: Path, follow: Any) -> None:
    fds = _fds()
    tails = [follow(tmp_path / f"{name}.log", idle_poll=NEVER) for name in "abc"]
    for f in tails:
        await f.armed()
    assert len(wake_mod._hubs) == 1
    assert _fds() == fds + 2  # one inotify descriptor and the binding's selector, for all three
    for name in "abc":
        (tmp_path / f"{name}.log").write_bytes(numbered(1, 1))
    for f in tails:
        await f.until(1)
        await f.stop()
    assert not wake_mod._hubs and _fds() <= fds


# -- the fallbacks -------------------------------------------------------------------------------


async def test_polling_when_asked(tmp_path: Path, follow: Any) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    f = follow(log, inotify=False)
    await async_wait_for(lambda: f.tail.rounds >= 3, what="a few rounds")
    log.write_bytes(numbered(1, 2))
    await f.until(2)
    assert f.tail.wake.mode == "poll" and not f.tail.wake.armed


async def test_polling_without_the_binding(
    tmp_path: Path, follow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wake_mod, "_lib", None)
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    f = follow(log, idle_poll=NEVER)
    await async_wait_for(lambda: f.tail.wake.mode == "poll", what="polling")
    log.write_bytes(numbered(1, 2))
    await f.until(2)


async def test_polling_when_no_watch_is_left(
    tmp_path: Path, follow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: Any, wake: Any, directory: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wake_mod._Hub, "watch", full)
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    f = follow(log, idle_poll=NEVER)
    await async_wait_for(lambda: f.tail.wake.mode == "poll", what="polling")
    log.write_bytes(numbered(1, 2))
    await f.until(2)


async def test_a_filesystem_without_events_falls_back_to_polling(
    tmp_path: Path, follow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events never come (NFS written by another host): the round after ``idle_poll`` finds
    the bytes, and the tail polls from then on."""
    monkeypatch.setattr(wake_mod.Wake, "event", lambda self, wd, name, mask: None)
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    f = follow(log, idle_poll=0.2)
    await f.armed()
    log.write_bytes(numbered(1, 2))
    await f.until(2)
    await async_wait_for(lambda: f.tail.wake.mode == "poll", what="polling")
    with log.open("ab") as w:
        w.write(numbered(3, 4))
    await f.until(4)
    assert texts(f.sink) == expect(1, 4)
