"""FileTail: following a log across rotation, stepped one poll round at a time."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.core.clock import ManualClock
from console.core.events import LogRecord
from console.parsing.base import MultilineParser
from console.sources.tail.follow import AsyncFile, FileTail
from console.sources.tail.lines import NUL_MARK, LineSplitter, permission_hint
from tests.support.helpers import MemorySink
from tests.support.need import adm_gid
from tests.support.paths import FIXTURES
from tests.support.tail import EchoParser, expect, numbered, texts
from tests.support.users import as_ordinary_user, shared_dir
from tests.support.wait import async_wait_for

ROTATION = FIXTURES / "rotation"


class BlockParser(MultilineParser):
    """Entries start with ``[``; every other line continues the entry."""

    kind = "test-multi"

    def is_start(self, line: str) -> bool:
        return line.startswith("[")

    def build(self, first: str, cont: list[str], arrival: datetime) -> list[LogRecord]:
        return [
            LogRecord(
                ts=arrival,
                source=self.source,
                kind=self.kind,
                level="error",
                text=first,
                lines=tuple(cont),
            )
        ]


class FakeClock(ManualClock):
    """A manual clock whose monotonic seconds are set as ``t``."""

    def __init__(self) -> None:
        super().__init__(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t


Tails = Callable[..., tuple[FileTail, MemorySink]]


@pytest.fixture
async def make_tail() -> AsyncIterator[Tails]:
    made: list[FileTail] = []

    def make(
        path: Path, parser: Any = None, cls: type[FileTail] = FileTail, **kw: Any
    ) -> tuple[FileTail, MemorySink]:
        sink = MemorySink()
        tail = cls(path, parser or EchoParser("t"), sink, **kw)
        made.append(tail)
        return tail, sink

    yield make
    for tail in made:
        await tail.aclose()


def statuses(sink: MemorySink) -> list[str]:
    return [s.status for s in sink.states]


def last_status(sink: MemorySink) -> str:
    state = sink.last_state()
    return state.status if state is not None else ""


async def catch_up(tail: FileTail) -> None:
    await tail.poll_once()
    while tail.behind:
        await tail.poll_once()


# -- reading and lines ----------------------------------------------------------------------


async def test_backfill_then_appended_lines(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 10))
    tail, sink = make_tail(log, backfill_lines=3)
    await tail.poll_once()
    assert texts(sink) == expect(8, 10)
    with log.open("ab") as w:
        w.write(numbered(11, 12))
    await tail.poll_once()
    assert texts(sink) == expect(8, 12)
    assert tail.lines_read == 5
    assert sink.records[0].source == "t"


async def test_backfill_reads_only_the_tail_of_a_large_file(
    tmp_path: Path, make_tail: Tails
) -> None:
    log = tmp_path / "big.log"
    with log.open("wb") as w:
        for start in range(1, 300_001, 10_000):
            w.write(numbered(start, start + 9_999))
    assert log.stat().st_size > 3_000_000
    tail, sink = make_tail(log, backfill_lines=50)
    await catch_up(tail)
    assert texts(sink) == expect(299_951, 300_000)
    assert tail.bytes_read < 1000


async def test_backfill_keeps_a_partial_last_line_for_later(
    tmp_path: Path, make_tail: Tails
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 5) + b"line 6 begins")
    tail, sink = make_tail(log, backfill_lines=2)
    await tail.poll_once()
    assert texts(sink) == expect(4, 5)
    with log.open("ab") as w:
        w.write(b" and ends\n")
    await tail.poll_once()
    assert texts(sink)[-1] == "line 6 begins and ends"


async def test_backfill_zero_starts_at_the_end(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 5))
    tail, sink = make_tail(log, backfill_lines=0)
    await tail.poll_once()
    assert texts(sink) == []
    with log.open("ab") as w:
        w.write(numbered(6, 6))
    await tail.poll_once()
    assert texts(sink) == expect(6, 6)


async def test_partial_line_held_until_newline(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log)
    with log.open("ab", buffering=0) as w:
        w.write(b"abc")
        await tail.poll_once()
        assert texts(sink) == []
        w.write(b"def\nxyz")
        await tail.poll_once()
        assert texts(sink) == ["abcdef"]
        w.write(b"\n")
        await tail.poll_once()
    assert texts(sink) == ["abcdef", "xyz"]


async def test_small_chunks_split_lines_anywhere(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log, chunk_size=7)
    await tail.poll_once()
    with log.open("ab") as w:
        w.write(numbered(1, 100) + "é ü\r\n".encode())
    await tail.poll_once()
    assert tail.behind
    await catch_up(tail)
    assert texts(sink) == [*expect(1, 100), "é ü"]


async def test_invalid_utf8_nul_and_crlf(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log)
    await tail.poll_once()
    with log.open("ab") as w:
        w.write(b"caf\xe9 ok\r\na\x00b\n\xff\xfe\r\nlast\n")
    await tail.poll_once()
    assert texts(sink) == ["caf\ufffd ok", f"a{NUL_MARK}b", "\ufffd\ufffd", "last"]


async def test_one_megabyte_line_is_cut_and_marked(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log)
    await tail.poll_once()
    with log.open("ab") as w:
        w.write(b"x" * 1_000_000 + b"\nnext 1\nnext 2\n")
    await catch_up(tail)
    first, *rest = texts(sink)
    assert first == "x" * 65536 + f" …[cut: {1_000_000 - 65536} bytes]"
    assert rest == ["next 1", "next 2"]


async def test_long_line_arriving_in_pieces_stays_bounded(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log, chunk_size=1 << 16)
    await tail.poll_once()
    with log.open("ab", buffering=0) as w:
        for _ in range(16):
            w.write(b"y" * 100_000)
            await catch_up(tail)
            assert tail._cur is not None
            assert len(tail._cur.lines.held) <= 65536
        w.write(b"\nafter\n")
        await catch_up(tail)
    assert texts(sink) == ["y" * 65536 + f" …[cut: {1_600_000 - 65536} bytes]", "after"]


def test_splitter_cut_marks_held_and_whole_lines_alike() -> None:
    s = LineSplitter(4)
    assert s.feed(b"abcdefgh\nab") == ["abcd …[cut: 4 bytes]"]
    assert s.feed(b"cdefg\r\n") == ["abcd …[cut: 3 bytes]"]
    assert s.feed(b"\n\n") == ["", ""]
    assert s.end() == []


async def test_reads_in_chunks_not_per_line(tmp_path: Path, make_tail: Tails) -> None:
    reads: list[int] = []

    class Counting(FileTail):
        async def _open(self, path: Path) -> AsyncFile:
            f = await super()._open(path)
            real = f.read

            async def read(size: int = -1) -> bytes:
                data = await real(size)
                reads.append(len(data))
                return data

            f.read = read  # type: ignore[method-assign]
            return f

    log = tmp_path / "a.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log, cls=Counting)
    await tail.poll_once()
    with log.open("ab") as w:
        w.write(numbered(1, 300_000))  # about 3.6 MB
    await catch_up(tail)
    assert len(sink.records) == 300_000
    assert len(reads) <= 5
    reads.clear()
    for _ in range(20):
        await tail.poll_once()
    assert reads == []  # idle: no read at all


async def test_idle_poll_is_one_stat(
    tmp_path: Path, make_tail: Tails, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 3))
    tail, sink = make_tail(log)
    await tail.poll_once()
    calls: list[str] = []
    real_stat, real_fstat = os.stat, os.fstat

    def counting_stat(*a: Any, **k: Any) -> os.stat_result:
        calls.append("stat")
        return real_stat(*a, **k)

    def counting_fstat(fd: int) -> os.stat_result:
        calls.append("fstat")
        return real_fstat(fd)

    monkeypatch.setattr(os, "stat", counting_stat)
    monkeypatch.setattr(os, "fstat", counting_fstat)
    for _ in range(10):
        await tail.poll_once()
    monkeypatch.undo()
    assert calls == ["stat"] * 10
    assert statuses(sink) == ["ok"]


# -- rotation ---------------------------------------------------------------------------------


async def test_rename_create_with_writes_to_the_old_fd(tmp_path: Path, make_tail: Tails) -> None:
    log, old = tmp_path / "access.log", tmp_path / "access.log.1"
    apache = log.open("ab", buffering=0)  # O_APPEND, like Apache's log fd
    apache.write(numbered(1, 10))
    tail, sink = make_tail(log)
    await tail.poll_once()
    apache.write(numbered(11, 20))
    await tail.poll_once()

    os.rename(log, old)
    apache.write(numbered(21, 25))  # still writing to the old inode: no graceful yet
    await tail.poll_once()
    assert last_status(sink) == "waiting"

    new = log.open("ab", buffering=0)  # graceful: the new file appears
    new.write(numbered(26, 30))
    apache.write(numbered(31, 33))  # in-flight requests land in the OLD file, after newer lines
    await tail.poll_once()
    apache.write(numbered(34, 35))
    new.write(numbered(36, 40))
    await tail.poll_once()
    apache.close()
    new.close()

    got = texts(sink)
    assert sorted(got, key=lambda s: int(s.split()[1])) == expect(1, 40)
    assert len(got) == len(set(got)) == 40
    assert tail.draining == 1
    assert last_status(sink) == "ok"


async def test_rename_and_create_between_two_polls(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    apache = log.open("ab", buffering=0)
    apache.write(numbered(1, 5))
    tail, sink = make_tail(log)
    await tail.poll_once()
    apache.write(numbered(6, 8))  # not read yet when the rotation happens
    os.rename(log, tmp_path / "a.log.1")
    log.write_bytes(numbered(9, 12))
    apache.write(numbered(13, 14))
    apache.close()
    await tail.poll_once()
    assert texts(sink) == expect(1, 8) + expect(13, 14) + expect(9, 12)


async def test_rotated_file_is_drained_for_the_grace_period(
    tmp_path: Path, make_tail: Tails
) -> None:
    clock = FakeClock()
    log = tmp_path / "a.log"
    apache = log.open("ab", buffering=0)
    tail, sink = make_tail(log, rotate_grace=30.0)
    tail.clock = clock
    await tail.poll_once()
    os.rename(log, tmp_path / "a.log.1")
    log.write_bytes(b"")
    await tail.poll_once()
    clock.t += 29
    apache.write(numbered(1, 1))
    await tail.poll_once()  # grew: the grace period starts again
    clock.t += 29
    await tail.poll_once()
    assert tail.draining == 1
    clock.t += 2
    await tail.poll_once()
    assert tail.draining == 0
    apache.write(numbered(2, 2))  # too late: the file was let go
    apache.close()
    await tail.poll_once()
    assert texts(sink) == expect(1, 1)


async def test_grace_end_delivers_an_unfinished_line(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log, rotate_grace=0.0)
    await tail.poll_once()
    with log.open("ab") as w:
        w.write(b"no newline yet")
    await tail.poll_once()
    os.rename(log, tmp_path / "a.log.1")
    await tail.poll_once()
    assert texts(sink) == ["no newline yet"]
    assert tail.draining == 0


async def test_copytruncate(tmp_path: Path, make_tail: Tails) -> None:
    log, copy = tmp_path / "a.log", tmp_path / "a.log.1"
    apache = log.open("ab", buffering=0)
    apache.write(numbered(1, 10))
    tail, sink = make_tail(log)
    await tail.poll_once()
    apache.write(numbered(11, 15))
    await tail.poll_once()
    shutil.copyfile(log, copy)
    apache.write(b"line 16 between copy and truncate\n")  # lost by copytruncate itself
    os.truncate(log, 0)
    apache.write(numbered(17, 20))  # O_APPEND: lands at offset 0, no NUL hole
    await tail.poll_once()
    apache.write(numbered(21, 22))
    await tail.poll_once()
    apache.close()
    assert texts(sink) == expect(1, 15) + expect(17, 22)
    assert b"line 16" not in copy.read_bytes() + log.read_bytes()
    assert tail._cur is not None and tail.draining == 0


async def test_truncate_then_regrow_past_offset_is_detected(
    tmp_path: Path, make_tail: Tails
) -> None:
    """Truncated and written again past our offset between two polls: the bytes already read
    are gone, so reading starts over."""
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 3))
    tail, sink = make_tail(log)
    await tail.poll_once()
    log.write_bytes(numbered(4, 9))
    await tail.poll_once()
    assert texts(sink) == expect(1, 9)


async def test_identical_rewrite_is_not_detected(tmp_path: Path, make_tail: Tails) -> None:
    """The documented limit: a rewrite that keeps the last 1 KiB read looks like growth."""
    log = tmp_path / "a.log"
    log.write_bytes(b"first\n" + numbered(1, 200))
    tail, sink = make_tail(log, backfill_lines=1000)
    await tail.poll_once()
    log.write_bytes(b"FIRST\n" + numbered(1, 201))
    await tail.poll_once()
    assert texts(sink) == ["first", *expect(1, 201)]


async def test_delete_and_recreate(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    writer = log.open("ab", buffering=0)
    writer.write(numbered(1, 5))
    tail, sink = make_tail(log)
    await tail.poll_once()
    os.unlink(log)
    writer.write(numbered(6, 8))  # deleted but open: still readable through our fd
    await tail.poll_once()
    assert last_status(sink) == "waiting"
    log.write_bytes(numbered(9, 11))
    writer.write(numbered(12, 13))
    await tail.poll_once()
    writer.close()
    got = texts(sink)
    assert sorted(got, key=lambda s: int(s.split()[1])) == expect(1, 13)
    assert len(got) == 13


async def test_file_moved_back_carries_on(tmp_path: Path, make_tail: Tails) -> None:
    log, other = tmp_path / "a.log", tmp_path / "a.log.1"
    log.write_bytes(numbered(1, 3))
    tail, sink = make_tail(log)
    await tail.poll_once()
    os.rename(log, other)
    await tail.poll_once()
    os.rename(other, log)
    with log.open("ab") as w:
        w.write(numbered(4, 5))
    await tail.poll_once()
    assert texts(sink) == expect(1, 5)
    assert tail.draining == 0


async def test_missing_then_appears_is_read_from_byte_zero(
    tmp_path: Path, make_tail: Tails
) -> None:
    log = tmp_path / "later.log"
    tail, sink = make_tail(log, backfill_lines=2)
    await tail.poll_once()
    await tail.poll_once()
    state = sink.last_state()
    assert state is not None and state.status == "missing"
    assert str(log) in state.message and state.target == str(log)
    assert state.kind == "test" and state.source == "t"
    log.write_bytes(numbered(1, 5))
    await tail.poll_once()
    assert texts(sink) == expect(1, 5)
    assert statuses(sink) == ["missing", "ok"]


class Locked(FileTail):
    """Opening fails with EACCES while ``locked`` is set (root ignores chmod 000)."""

    locked = True

    async def _open(self, path: Path) -> AsyncFile:
        if self.locked:
            raise PermissionError(13, "Permission denied", str(path))
        return await super()._open(path)


async def test_permission_denied_then_granted(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 10) + b"line 11 half")
    os.chmod(log, 0o600)
    tail, sink = make_tail(log, cls=Locked)
    await tail.poll_once()
    with log.open("ab") as w:
        w.write(b" done\n" + numbered(12, 14))
    await tail.poll_once()
    state = sink.last_state()
    assert state is not None and state.status == "unreadable"
    assert str(log) in state.message and "0600" in state.message
    assert state.hint
    assert statuses(sink) == ["unreadable"]
    Locked.locked = False
    try:
        await tail.poll_once()
    finally:
        Locked.locked = True
    # nothing from before the start (no backfill flood), nothing written after it lost
    assert texts(sink) == ["line 11 half done", *expect(12, 14)]
    assert statuses(sink) == ["unreadable", "ok"]


async def test_unreadable_new_file_after_rotation(tmp_path: Path, make_tail: Tails) -> None:
    """README item 16: the recreated log came back root:root; the old one is still drained."""
    log = tmp_path / "a.log"
    apache = log.open("ab", buffering=0)
    apache.write(numbered(1, 2))
    tail, sink = make_tail(log, cls=Locked)
    Locked.locked = False
    try:
        await tail.poll_once()
        os.rename(log, tmp_path / "a.log.1")
        log.write_bytes(numbered(4, 5))
        apache.write(numbered(3, 3))
        Locked.locked = True
        await tail.poll_once()
        assert last_status(sink) == "unreadable"
        assert texts(sink) == expect(1, 3)
        Locked.locked = False
        await tail.poll_once()
    finally:
        Locked.locked = True
        apache.close()
    assert texts(sink) == expect(1, 5)


def _denied_then_granted(path: str) -> dict[str, Any]:
    """In a child that is not root: a log of mode 000 is unreadable; after a chmod to 0600,
    what was written after the start is read."""

    log = Path(path)
    log.write_bytes(numbered(1, 3))
    os.chmod(log, 0)

    def grant() -> None:
        os.chmod(log, 0o600)
        with log.open("ab") as w:
            w.write(numbered(4, 4))

    async def go() -> dict[str, Any]:
        sink = MemorySink()
        tail = FileTail(log, EchoParser("t"), sink)
        try:
            await tail.poll_once()
            first = last_status(sink)
            grant()
            await tail.poll_once()
        finally:
            await tail.aclose()
        return {"first": first, "texts": texts(sink), "statuses": statuses(sink)}

    return asyncio.run(go())


def test_permission_denied_with_a_real_chmod() -> None:
    """A real chmod 000, read by an ordinary user: root reads such files, so as root (in CI)
    the reading is done by a child that dropped to nobody."""
    with shared_dir() as d:
        got = as_ordinary_user(_denied_then_granted, str(d / "a.log"))
    assert got["first"] == "unreadable"
    assert got["texts"] == expect(4, 4)
    assert got["statuses"] == ["unreadable", "ok"]


def test_permission_hint_names_the_adm_group(tmp_path: Path) -> None:
    st = os.stat_result((stat.S_IFREG | 0o640, 1, 1, 1, 0, adm_gid(), 10, 0, 0, 0))
    hint = permission_hint(tmp_path / "access.log", st)
    assert hint == "add your user to the adm group: sudo usermod -aG adm $USER, then log in again"


def test_permission_hint_names_owner_group_and_mode(tmp_path: Path) -> None:
    st = os.stat_result((stat.S_IFREG | 0o600, 1, 1, 1, 0, 0, 10, 0, 0, 0))
    hint = permission_hint(tmp_path / "access.log", st)
    assert "root:root mode 0600" in hint and "sudo" in hint


async def test_directory_at_the_path(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    log.mkdir()
    tail, sink = make_tail(log)
    await tail.poll_once()
    await tail.poll_once()
    state = sink.last_state()
    assert state is not None and state.status == "error" and "directory" in state.message
    log.rmdir()
    log.write_bytes(numbered(1, 3))
    await tail.poll_once()
    assert texts(sink) == expect(1, 3)
    assert statuses(sink) == ["error", "ok"]


async def test_dangling_symlink(tmp_path: Path, make_tail: Tails) -> None:
    target, link = tmp_path / "real.log", tmp_path / "a.log"
    link.symlink_to(target)
    tail, sink = make_tail(link)
    await tail.poll_once()
    state = sink.last_state()
    assert state is not None and state.status == "missing"
    assert "symbolic link" in state.message and str(target) in state.message
    target.write_bytes(numbered(1, 3))
    await tail.poll_once()
    assert texts(sink) == expect(1, 3)


async def test_symlink_repointed_to_an_old_file_backfills(tmp_path: Path, make_tail: Tails) -> None:
    a, b, link = tmp_path / "a.log", tmp_path / "b.log", tmp_path / "current.log"
    a.write_bytes(numbered(1, 3, "a"))
    b.write_bytes(numbered(1, 1000, "b"))
    link.symlink_to(a)
    tail, sink = make_tail(link, backfill_lines=5)
    await tail.poll_once()
    tmp = tmp_path / "tmp.link"
    tmp.symlink_to(b)
    os.replace(tmp, link)
    with a.open("ab") as w:
        w.write(numbered(4, 4, "a"))  # the old target is drained during the grace period
    await tail.poll_once()
    with b.open("ab") as w:
        w.write(numbered(1001, 1001, "b"))
    await tail.poll_once()
    assert texts(sink) == expect(1, 4, "a") + expect(996, 1001, "b")


async def test_symlink_target_rotated_reads_new_target_whole(
    tmp_path: Path, make_tail: Tails
) -> None:
    target, link = tmp_path / "real.log", tmp_path / "a.log"
    target.write_bytes(numbered(1, 3))
    link.symlink_to(target)
    tail, sink = make_tail(link, backfill_lines=1)
    await tail.poll_once()
    os.rename(target, tmp_path / "real.log.1")
    target.write_bytes(numbered(4, 9))
    await tail.poll_once()
    assert texts(sink) == expect(3, 9)


# -- parser, states, run() --------------------------------------------------------------------


async def test_pending_entry_flushed_after_a_quiet_spell(tmp_path: Path, make_tail: Tails) -> None:
    clock = FakeClock()
    log = tmp_path / "php.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log, parser=BlockParser("php"), flush_after=1.0)
    tail.clock = clock
    await tail.poll_once()
    with log.open("ab") as w:
        w.write(b"[1] Fatal error\n#0 a.php\n[2] Fatal error\n#0 b.php\n#1 {main}\n")
    await tail.poll_once()
    assert [(r.text, r.lines) for r in sink.records] == [("[1] Fatal error", ("#0 a.php",))]
    clock.t += 0.5
    await tail.poll_once()
    assert len(sink.records) == 1
    clock.t += 0.6
    await tail.poll_once()
    assert [(r.text, r.lines) for r in sink.records][1:] == [
        ("[2] Fatal error", ("#0 b.php", "#1 {main}"))
    ]
    clock.t += 5
    await tail.poll_once()
    assert len(sink.records) == 2


async def test_states_are_sent_only_on_change(tmp_path: Path, make_tail: Tails) -> None:
    log = tmp_path / "a.log"
    tail, sink = make_tail(log)
    for _ in range(5):
        await tail.poll_once()
    log.write_bytes(numbered(1, 1))
    for _ in range(5):
        await tail.poll_once()
    log.unlink()
    for _ in range(5):
        await tail.poll_once()
    assert statuses(sink) == ["missing", "ok", "waiting"]


async def test_one_batch_per_round(tmp_path: Path, make_tail: Tails) -> None:
    batches: list[int] = []
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    tail, sink = make_tail(log)
    sink.add_records = lambda records: batches.append(len(records))  # type: ignore[method-assign]
    await tail.poll_once()
    with log.open("ab") as w:
        w.write(numbered(1, 1000))
    await tail.poll_once()
    assert batches == [1000]


async def test_run_follows_and_cancels_cleanly(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    sink = MemorySink()
    tail = FileTail(log, BlockParser("p"), sink, poll_interval=0.01, flush_after=60)
    task = asyncio.create_task(tail.run())
    with log.open("ab", buffering=0) as w:
        w.write(b"[a] one\n[b] two\n  cont\n")
        await async_wait_for(lambda: sink.records, interval=0.01, what="the first record")
    assert [r.text for r in sink.records] == ["[a] one"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the entry still being built is delivered on the way out, and every file is closed
    assert [r.text for r in sink.records] == ["[a] one", "[b] two"]
    assert tail._cur is None and tail.draining == 0
    assert sink.records[0].source == "p" and sink.last_state() is not None


async def test_run_survives_io_errors(tmp_path: Path) -> None:
    class Failing(FileTail):
        polls = 0

        async def poll_once(self) -> None:
            self.polls += 1
            if self.polls < 3:
                raise OSError(5, "Input/output error")
            await super().poll_once()

    log = tmp_path / "a.log"
    log.write_bytes(numbered(1, 1))
    sink = MemorySink()
    tail = Failing(log, EchoParser("t"), sink, poll_interval=0.001)
    task = asyncio.create_task(tail.run())
    await async_wait_for(lambda: sink.records, interval=0.01, what="a record after the errors")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert statuses(sink) == ["error", "ok"]
    assert "Input/output error" in sink.states[0].message
    assert texts(sink) == expect(1, 1)


# -- the corpus's real rotation ---------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


async def test_replay_apache_rename_graceful(tmp_path: Path, make_tail: Tails) -> None:
    """rotation_run.txt R1: after mv, 3 requests, then the in-flight ones land in the OLD file
    after the new access.log already has its first lines."""
    old_lines = _lines(ROTATION / "apache_rename" / "access.log.1.tail")
    new_lines = _lines(ROTATION / "apache_rename" / "access.log.new")
    before = [s for s in old_lines if "rot=R1" not in s]
    after_mv = [s for s in old_lines if "R1-after-mv-before-graceful" in s]
    inflight = [s for s in old_lines if "across-graceful" in s]
    assert len(before) + len(after_mv) + len(inflight) == len(old_lines)

    log = tmp_path / "access.log"
    apache = log.open("ab", buffering=0)
    apache.write("".join(s + "\n" for s in before).encode())
    tail, sink = make_tail(log)
    await tail.poll_once()
    os.rename(log, tmp_path / "access.log.1")
    apache.write("".join(s + "\n" for s in after_mv).encode())
    await tail.poll_once()
    (tmp_path / "access.log").write_text("".join(s + "\n" for s in new_lines))
    await tail.poll_once()
    apache.write("".join(s + "\n" for s in inflight).encode())
    await tail.poll_once()
    apache.close()

    assert texts(sink) == before + after_mv + new_lines + inflight
    assert sorted(texts(sink)) == sorted(old_lines + new_lines)


async def test_replay_apache_error_log_rename(tmp_path: Path, make_tail: Tails) -> None:
    old_lines = _lines(ROTATION / "apache_rename" / "error.log.1.tail")
    new_lines = _lines(ROTATION / "apache_rename" / "error.log.new")
    log = tmp_path / "error.log"
    apache = log.open("ab", buffering=0)
    apache.write("".join(s + "\n" for s in old_lines[:-1]).encode())
    tail, sink = make_tail(log)
    await tail.poll_once()
    os.rename(log, tmp_path / "error.log.1")
    apache.write((old_lines[-1] + "\n").encode())  # AH00493 goes to the old file
    apache.close()
    log.write_text("".join(s + "\n" for s in new_lines))
    await tail.poll_once()
    assert texts(sink) == old_lines + new_lines


async def test_replay_apache_copytruncate(tmp_path: Path, make_tail: Tails) -> None:
    copy_lines = _lines(ROTATION / "apache_copytruncate" / "access.log.copy")
    after = _lines(ROTATION / "apache_copytruncate" / "access.log.after_truncate")
    log = tmp_path / "access.log"
    apache = log.open("ab", buffering=0)
    apache.write("".join(s + "\n" for s in copy_lines).encode())
    tail, sink = make_tail(log)
    await tail.poll_once()
    shutil.copyfile(log, tmp_path / "access.log.copy")
    apache.write(b"R2-between-copy-and-truncate-LOST\n")
    os.truncate(log, 0)
    apache.write("".join(s + "\n" for s in after).encode())
    apache.close()
    await tail.poll_once()
    assert texts(sink) == copy_lines + after
    assert b"\0" not in log.read_bytes()


async def test_own_status_polls_are_dropped_at_the_tail(tmp_path: Path, make_tail: Tails) -> None:
    from console.parsing import make_parser

    log = tmp_path / "access.log"
    agent = '"-" "lamptop/0.1.0"'
    log.write_text(
        '127.0.0.1 - - [26/Nov/2026:15:00:00 +0000] "GET /server-status?auto HTTP/1.1" 200 800 '
        + agent
        + '\n192.0.2.7 - - [26/Nov/2026:15:00:01 +0000] "GET /server-status HTTP/1.1" 200 800 '
        + '"-" "curl/8.5"\n'
    )
    tail, sink = make_tail(log, parser=make_parser("apache-access", "access"), backfill_lines=10)
    await tail.poll_once()
    assert [r.fields.get("user_agent") for r in sink.records] == ["curl/8.5"]
