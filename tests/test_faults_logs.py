"""Log faults end to end: the real FileTail running on its own loop while files misbehave.

Rotation step by step, invalid UTF-8, NUL bytes, a 1 MB line, a file missing at start,
permission denied (with a stand-in opener), a directory or a dangling symbolic link at the
path, a re-pointed link, are in tests/test_tail.py. Here: the same faults done at random
while lines keep coming (every line the OS kept is read exactly once), the path turning into
a directory or a dangling link while a file is being read, 100 MB arriving at once, a slow
disk, and a real permission denial seen by an ordinary user.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import stat
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from console.core.events import LogRecord
from console.parsing import make_parser
from console.sources.tail import follow as tail_mod
from console.sources.tail.follow import AsyncFile, FileTail
from tests.support.helpers import MemorySink
from tests.support.log_faults import FAULTS, FaultyWriter, check, missing_from, number_of
from tests.support.need import adm_gid, need_root
from tests.support.tail import EchoParser, expect, numbered, texts
from tests.support.users import as_ordinary_user, shared_dir
from tests.support.wait import async_wait_for, wait_for


class Ticker:
    """Counts turns of the event loop: a task that sleeps ``every`` seconds, again and again.

    With ``every=0`` it runs once per turn of a loop that is not blocked, so two readings that
    differ mean the loop ran something else in between (no clock involved)."""

    def __init__(self, every: float = 0.02) -> None:
        self.every, self.ticks = every, 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.ticks += 1


async def until(cond: Any, within: float = 30.0, why: Any = None) -> None:
    await async_wait_for(cond, within, why=why, what="the condition")


# -- exactly once, while everything happens ----------------------------------------------------


@pytest.mark.parametrize(("seed", "inotify"), [(1, True), (2, True), (3, True), (1, False)])
async def test_every_line_the_os_kept_is_read_exactly_once(
    tmp_path: Path, seed: int, inotify: bool
) -> None:
    """A writer thread writes numbered access-log lines (~1,500 a second) and, every few tenths
    of a second, does one of the faults of tests/log_faults.py to the file; the real tail,
    with the real access-log parser, runs on the loop. At the end every line found in any file
    left on disk (the current one, renamed ones, copies) was ingested once, none twice, and the
    only ones missing are logrotate's copytruncate window (in the copy, not in the file).
    Woken by inotify, and polled."""
    writer = FaultyWriter(tmp_path, seed=seed, log=print)
    sink = MemorySink()
    parser = make_parser("apache-access", "access")
    tail = FileTail(writer.path, parser, sink, poll_interval=0.05, inotify=inotify)
    task = asyncio.create_task(tail.run())
    await until(lambda: sink.states)  # started: the file is open
    thread = writer.start(6.0)
    await asyncio.to_thread(thread.join, 60)

    def numbers() -> list[int]:
        return [n for r in sink.records if (n := number_of(r.fields.get("url"))) is not None]

    try:
        # every line the OS kept, outside copytruncate copies, read (however slow the machine);
        # then a quiet second more, for a line read twice to show up
        await until(
            lambda: not missing_from(numbers(), writer),
            60,
            lambda: f"missing {missing_from(numbers(), writer)[:20]}",
        )
        last, still = -1, time.monotonic()
        while time.monotonic() - still < 1.0:
            await asyncio.sleep(0.1)
            if len(sink.records) != last:
                last, still = len(sink.records), time.monotonic()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert all(r.level != "unparsed" for r in sink.records)
    figures = check(numbers(), writer)
    assert len(set(writer.done)) >= 6, writer.done
    seen = {s.status for s in sink.states}
    assert "ok" in seen
    if {"missing", "directory", "dangling_symlink"} & set(writer.done):
        assert seen & {"missing", "waiting", "error"}, seen
    assert sink.states[-1].status == "ok"
    assert tail.wake.mode == ("inotify" if inotify else "poll")
    print(json.dumps({k: v for k, v in figures.items() if k != "faults"}), figures["faults"])


# -- the path changes nature while a file is being read ----------------------------------------


async def _step(tail: FileTail) -> None:
    await tail.poll_once()
    while tail.behind:
        await tail.poll_once()


async def test_path_becomes_a_directory_while_read(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    server = log.open("ab", buffering=0)
    server.write(numbered(1, 3))
    sink = MemorySink()
    tail = FileTail(log, EchoParser("t"), sink, backfill_lines=10)
    await _step(tail)
    os.rename(log, tmp_path / "a.log.1")
    log.mkdir()
    server.write(numbered(4, 5))  # still written to the old file: drained meanwhile
    await _step(tail)
    state = sink.last_state()
    assert state is not None and state.status == "error"
    assert state.message == f"{log} is a directory, not a log file"
    assert texts(sink) == expect(1, 5)
    log.rmdir()
    server.close()
    log.write_bytes(numbered(6, 7))
    await _step(tail)
    assert texts(sink) == expect(1, 7)
    assert sink.last_state().status == "ok"  # type: ignore[union-attr]
    await tail.aclose()


async def test_path_becomes_a_dangling_symlink_while_read(tmp_path: Path) -> None:
    log, target = tmp_path / "a.log", tmp_path / "new" / "a.log"
    log.write_bytes(numbered(1, 2))
    sink = MemorySink()
    tail = FileTail(log, EchoParser("t"), sink, backfill_lines=10)
    await _step(tail)
    os.rename(log, tmp_path / "a.log.1")
    log.symlink_to(target)
    await _step(tail)
    state = sink.last_state()
    assert state is not None and state.status == "missing"
    assert state.message == f"{log} is a symbolic link to {target}, which does not exist"
    target.parent.mkdir()
    target.write_bytes(numbered(3, 4))
    await _step(tail)
    assert texts(sink) == expect(1, 4)
    assert sink.last_state().status == "ok"  # type: ignore[union-attr]
    await tail.aclose()


# -- volume and slowness -----------------------------------------------------------------------


async def test_a_hundred_megabytes_at_once(tmp_path: Path) -> None:
    """100 MB appended in one go (10,000 lines of 10 kB): read in 1 MiB chunks, every line
    once, and the loop runs other work between every two chunks (counted, not timed)."""
    log = tmp_path / "big.log"
    log.write_bytes(b"")
    turns_at_batch: list[int] = []
    ticker: Ticker | None = None

    class Sink(MemorySink):
        def add_records(self, records: Sequence[LogRecord]) -> None:
            turns_at_batch.append(ticker.ticks if ticker else -1)
            super().add_records(records)

    sink = Sink()
    tail = FileTail(log, EchoParser("t"), sink, poll_interval=0.05)
    task = asyncio.create_task(tail.run())
    await until(lambda: sink.last_state() is not None)
    pad = b"x" * (10_000 - 10)
    with log.open("ab") as w:
        for i in range(10_000):
            w.write(b"%08d " % i + pad + b"\n")
    size = log.stat().st_size
    assert size == 100_000_000
    ticker = Ticker(every=0)
    try:
        await until(lambda: len(sink.records) >= 10_000, 120)
    finally:
        ticker.task.cancel()
        task.cancel()
        await asyncio.gather(task, ticker.task, return_exceptions=True)
    assert [int(r.text[:8]) for r in sink.records] == list(range(10_000))
    assert tail.bytes_read == size
    # one batch per 1 MiB chunk (about a hundred lines each), and between two of them the loop
    # turned: the tail never holds it for more than a chunk
    assert len(turns_at_batch) >= size // (1 << 20), len(turns_at_batch)
    stuck = [i for i, (a, b) in enumerate(itertools.pairwise(turns_at_batch)) if b <= a]
    assert not stuck, f"no other work ran between batches {stuck[:10]}: {turns_at_batch[:20]}"


class SlowDisk(FileTail):
    """A tail whose reads each take ``delay`` seconds in the reading thread.

    It models a log on a slow or overloaded disk (or a network file system): ``read`` blocks
    in the worker thread the way a read() stuck in the kernel would. The stat and the small
    rewrite check of each round still run on the loop at full speed: they hit the inode
    cache, which a slow disk does not slow down in the same way.
    """

    delay = 0.3
    ticker: Ticker | None = None
    """When set, every read waits until this ticker has counted two loop turns."""
    overlapped: list[bool] = []
    """Per read (with a ticker): whether the loop turned while the read was in progress."""

    async def _open(self, path: Path) -> AsyncFile:
        return _SlowFile(await super()._open(path), self.delay)


class _SlowFile:
    def __init__(self, inner: AsyncFile, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.reads = 0

    async def read(self, size: int = -1, /) -> bytes:
        self.reads += 1
        fd = self.inner.fileno()
        ticker = SlowDisk.ticker

        def slow() -> bytes:
            if ticker is not None:
                # the disk answers only once the loop has turned twice meanwhile: a loop that
                # waited for the read would never turn, and the read would say so
                start = ticker.ticks
                turned = True
                try:
                    wait_for(lambda: ticker.ticks >= start + 2)
                except AssertionError:
                    turned = False
                SlowDisk.overlapped.append(turned)
            time.sleep(self.delay)
            return os.read(fd, size if size >= 0 else 1 << 20)

        return await asyncio.to_thread(slow)

    async def seek(self, offset: int, whence: int = 0, /) -> int:
        return await self.inner.seek(offset, whence)

    async def close(self) -> None:
        await self.inner.close()

    def fileno(self) -> int:
        return self.inner.fileno()


async def test_a_log_on_a_slow_disk(tmp_path: Path) -> None:
    """Every read takes 0.3 s: lines arrive late but all of them, in order, through a rotation,
    and the event loop (the screen, the other sources) never waits for the disk."""
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    sink = MemorySink()
    ticker = Ticker()
    SlowDisk.ticker, SlowDisk.overlapped = ticker, []
    tail = SlowDisk(log, EchoParser("t"), sink, poll_interval=0.05, chunk_size=4096)
    task = asyncio.create_task(tail.run())
    await until(lambda: sink.states)  # started: the file is open
    try:
        with log.open("ab") as w:
            w.write(numbered(1, 500))
        await asyncio.sleep(0.2)
        os.rename(log, tmp_path / "a.log.1")
        log.write_bytes(numbered(501, 600))
        await until(
            lambda: len(sink.records) >= 600,
            120,
            lambda: sorted(set(expect(1, 600)) - set(texts(sink)))[:20],
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        ticker.task.cancel()
        await asyncio.gather(ticker.task, return_exceptions=True)
        overlapped, SlowDisk.ticker, SlowDisk.overlapped = SlowDisk.overlapped, None, []
    assert texts(sink) == expect(1, 600)
    assert overlapped and all(overlapped), f"reads during which the loop stood still: {overlapped}"


# -- a real permission denial, as an ordinary user ---------------------------------------------


def _follow_while_denied(path: str, denied_flag: str) -> dict[str, Any]:
    """In the child: follow ``path``, create ``denied_flag`` once the log is found unreadable,
    and go on until 3 lines are read."""
    states: list[list[str]] = []
    lines: list[str] = []

    class Sink(MemorySink):
        def add_records(self, records: Sequence[LogRecord]) -> None:
            lines.extend(r.text for r in records)

        def set_state(self, state: Any) -> None:
            states.append([state.status, state.message, state.hint])
            if state.status == "unreadable":
                Path(denied_flag).touch()

    async def go() -> None:
        tail = FileTail(path, EchoParser("t"), Sink(), poll_interval=0.05)
        task = asyncio.create_task(tail.run())
        with contextlib.suppress(AssertionError):
            await until(lambda: len(lines) >= 3, 60)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(go())
    from console.commands.sources import file_state

    return {"states": states, "lines": lines, "sources": list(file_state(path))}


def test_permission_denied_then_granted_for_a_real_ordinary_user() -> None:
    """As an ordinary user: a root:adm 0640 log is unreadable (the state says to join adm),
    then readable after a chmod; what was written after the start is read, nothing before it.
    The lines and the chmod come once the follower has said it cannot read (not after a
    guessed time)."""
    adm = adm_gid()
    need_root("make a file another user cannot read")
    with shared_dir("lamptop-perm-") as d:
        log = d / "access.log"
        log.write_bytes(numbered(1, 5))
        os.chown(log, 0, adm)
        log.chmod(0o640)
        denied = d / "denied"

        def grant_once_denied() -> None:
            with contextlib.suppress(AssertionError):  # never denied: the asserts below say so
                wait_for(denied.exists, 60)
            with log.open("ab") as w:
                w.write(numbered(6, 8))
            log.chmod(0o644)

        t = threading.Thread(target=grant_once_denied)
        t.start()
        try:
            got = as_ordinary_user(_follow_while_denied, str(log), str(denied))
        finally:
            t.join()
    first = got["states"][0]
    assert first[0] == "unreadable"
    assert first[1] == f"cannot read {log}: permission denied (root:adm mode 0640)"
    assert first[2] == (
        "add your user to the adm group: sudo usermod -aG adm $USER, then log in again"
    )
    assert got["states"][-1][0] == "ok"
    assert got["lines"] == expect(6, 8)


def test_sources_names_what_an_ordinary_user_needs() -> None:
    need_root("make a file another user cannot read")
    from console.commands.sources import file_state

    with shared_dir("lamptop-perm-") as d:
        log = d / "secret.log"
        log.write_bytes(b"x\n")
        os.chown(log, 0, 0)
        log.chmod(0o600)
        got = as_ordinary_user(lambda p: list(file_state(p)), str(log))
    state, detail = got
    assert state == "unreadable"
    assert "root:root mode 0600" in detail and "create 640 root adm" in detail


def open_flags(under: Path) -> list[int]:
    """The open flags (from /proc/self/fdinfo) of every descriptor this process holds on a
    file under ``under``."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        if os.path.realpath(f"/proc/self/fd/{fd}").startswith(str(under)):
            info = Path(f"/proc/self/fdinfo/{fd}").read_text()
            flags = next(x for x in info.splitlines() if x.startswith("flags:"))
            out.append(int(flags.split()[1], 8))
    return out


# -- read-only -----------------------------------------------------------------------------------


async def test_the_tail_opens_files_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every open of a watched file asks for O_RDONLY, and every descriptor the process holds
    on it says so in /proc (no O_WRONLY, no O_RDWR, no O_APPEND, no O_TRUNC, no O_CREAT)."""
    flags_seen: list[int] = []
    real = tail_mod._nonblocking

    def spy(path: str, flags: int) -> int:
        flags_seen.append(flags)
        return real(path, flags)

    monkeypatch.setattr(tail_mod, "_nonblocking", spy)
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 3))
    os.chmod(log, 0o444)
    before = (log.read_bytes(), log.stat().st_mtime_ns, stat.S_IMODE(log.stat().st_mode))
    sink = MemorySink()
    tail = FileTail(log, EchoParser("t"), sink)
    await _step(tail)
    os.rename(log, tmp_path / "a.log.1")
    log.write_bytes(numbered(4, 4))
    await _step(tail)
    modes = open_flags(tmp_path)
    await tail.aclose()
    assert flags_seen and all(f & os.O_ACCMODE == os.O_RDONLY for f in flags_seen)
    assert all(not f & (os.O_CREAT | os.O_TRUNC | os.O_APPEND) for f in flags_seen)
    assert len(modes) == 2  # the current file and the rotated one being drained
    assert all(m & os.O_ACCMODE == os.O_RDONLY for m in modes)
    rotated = tmp_path / "a.log.1"
    after = (rotated.read_bytes(), rotated.stat().st_mtime_ns, stat.S_IMODE(rotated.stat().st_mode))
    assert after == before
    assert FAULTS  # the fault list the soak uses is importable without side effects
