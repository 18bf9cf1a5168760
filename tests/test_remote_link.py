"""One ssh link: its failures in words, its back-off, its process ended and reaped, and no
record twice after a reconnect. A shell script stands in for ssh here (the real one is in
tests/test_remote_ssh.py): what matters is its exit code, its stderr and its stdout."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta

import psutil
import pytest

from console.core.events import LogRecord
from console.core.fleet import Fleet
from console.core.recorder import Recorder
from console.core.wire import StreamHeader, header_line, records_line
from console.sources.remote.resume import Resume
from console.sources.remote.ssh import SshLink
from console.sources.remote.words import NOT_FOUND, TOO_OLD, link_words
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.scripted import T0
from tests.support.wait import async_wait_for

HEADER = header_line(StreamHeader(1, "0.1.0", "shop-a", sources=("access",)))


@pytest.mark.parametrize(
    ("code", "stderr", "words"),
    [
        (255, "ssh: connect to host 10.0.0.7 port 22: Connection refused", "ssh: connection refused"),  # noqa: E501
        (255, "ssh: connect to host web1 port 22: Connection timed out", "ssh: connection timed out"),  # noqa: E501
        (255, "ssh: Could not resolve hostname web9: Name or service not known", "ssh: could not resolve hostname"),  # noqa: E501
        (255, "@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.", "ssh: host key verification failed"),  # noqa: E501
        (255, "No ED25519 host key is known for web1.\nHost key verification failed.", "ssh: host key verification failed"),  # noqa: E501
        (255, "admin@web1: Permission denied (publickey).", "ssh: permission denied (publickey)"),
        (255, "admin@web1: Permission denied (publickey,password).", "ssh: permission denied (publickey,password)"),  # noqa: E501
        (255, "kex_exchange_identification: read: Connection reset by peer", "ssh: connection closed by the host before login"),  # noqa: E501
        (127, "bash: line 1: lamptop: command not found", NOT_FOUND),
        (127, "sh: 1: /opt/lamptop/bin/lamptop: not found", NOT_FOUND),
        (2, "usage: lamptop [-h] ...\nlamptop: error: unrecognized arguments: --stream", TOO_OLD),
        (2, "usage: lamptop [-h] [--version] ...\nlamptop: error: argument COMMAND: invalid choice: 'record'", TOO_OLD),  # noqa: E501
        # the remote lamptop's own lines name refusals too: not ssh's
        (1, "12:00:01 state mod_status refused: Connection refused", "the remote command exited with code 1 before its stream began: 12:00:01 state mod_status refused: Connection refused"),  # noqa: E501
    ],
)  # fmt: skip
def test_ssh_failures_in_words(code: int, stderr: str, words: str) -> None:
    assert link_words(code, stderr.encode()) == words


def test_stream_ends_and_silence_in_words() -> None:
    assert link_words(0, b"", ended="eof", was_up=True) == "stream ended"
    crash = b"Traceback (most recent call last):\n  ...\nValueError: boom\n"
    crashed = link_words(1, crash, ended="eof", was_up=True)
    assert crashed == "stream ended (exit 1: ValueError: boom)"
    assert link_words(None, b"", ended="silent 20", was_up=True) == "silent for 20 s"
    closed = b"Connection to 127.0.0.1 closed by remote host."
    assert link_words(255, closed, ended="eof", was_up=True) == "ssh: connection closed by the host"
    mismatch = "the remote lamptop 0.9 sends stream format 2, this lamptop reads 1: upgrade"
    assert link_words(0, b"", stream_error=mismatch) == mismatch


@pytest.mark.parametrize("hostile", HOSTILE)
def test_stderr_is_cleaned_before_it_goes_anywhere(hostile: str) -> None:
    assert_inert(link_words(255, f"ssh: {hostile}".encode()), "ssh words")
    assert_inert(link_words(1, hostile.encode()), "exit words")


def _rec(ts_s: int, text: str, source: str = "access") -> LogRecord:
    return LogRecord(
        ts=T0 + timedelta(seconds=ts_s), source=source, kind=source, level="info", text=text
    )


class _Collect:
    def __init__(self) -> None:
        self.records: list[LogRecord] = []

    def add_records(self, records: object) -> None:
        self.records += list(records)  # type: ignore[call-overload]


def test_resume_skips_what_a_new_connection_sends_again() -> None:
    got = _Collect()
    resume = Resume(got)  # type: ignore[arg-type]
    resume.add_records([_rec(1, "a"), _rec(2, "b"), _rec(2, "c"), _rec(1, "late", "error")])
    resume.reconnected()
    # the backfill again, then one new line at the same second, then newer ones
    resume.add_records([_rec(1, "a"), _rec(2, "b"), _rec(2, "c"), _rec(2, "d"), _rec(3, "e")])
    resume.add_records([_rec(1, "late", "error"), _rec(4, "new", "error")])
    assert [r.text for r in got.records] == ["a", "b", "c", "late", "d", "e", "new"]
    assert resume.skipped == 4
    # after catching up, an older time (an access log's slow request) is no duplicate
    resume.add_records([_rec(2, "slow request")])
    assert got.records[-1].text == "slow request"


def test_lines_without_a_time_of_their_own_are_told_apart_by_their_text() -> None:
    from dataclasses import replace

    got = _Collect()
    resume = Resume(got)  # type: ignore[arg-type]
    untimed = [replace(_rec(i, f"no time {i}", "php"), ts_from_line=False) for i in range(3)]
    resume.add_records([*untimed, _rec(5, "timed", "php")])
    resume.reconnected()
    # sent again with new arrival times (later than anything seen), then a new one
    again = [replace(r, ts=r.ts + timedelta(minutes=5)) for r in untimed]
    fresh = replace(_rec(400, "no time new", "php"), ts_from_line=False)
    resume.add_records([*again, _rec(5, "timed", "php"), fresh, again[0]])
    texts = [r.text for r in got.records]
    assert texts == ["no time 0", "no time 1", "no time 2", "timed", "no time new", "no time 0"]
    assert resume.skipped == 4


def test_the_first_connection_skips_nothing() -> None:
    got = _Collect()
    resume = Resume(got)  # type: ignore[arg-type]
    resume.reconnected()
    resume.add_records([_rec(2, "b"), _rec(1, "a"), _rec(1, "a")])
    assert len(got.records) == 3 and resume.skipped == 0


def _fleet() -> tuple[Fleet, SshLink]:
    fleet = Fleet(Recorder(), local_name="here", local=False)
    host = fleet.add_remote("fleet-b")
    return fleet, SshLink(fleet, host, ["true"], first_delay=0.05, max_delay=0.2)


def _sh(link: SshLink, script: str) -> None:
    link.argv = ["sh", "-c", script]


async def _run_until(link: SshLink, done: object) -> None:
    task = asyncio.create_task(link.run())
    try:
        await async_wait_for(done, 20, why=lambda: link.host.link)  # type: ignore[arg-type]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_missing_lamptop_is_down_in_words_and_retried_with_back_off() -> None:
    fleet, link = _fleet()
    _sh(link, "echo 'bash: line 1: lamptop: command not found' >&2; exit 127")
    await _run_until(link, lambda: link.connections >= 4 and link.host.link.status == "down")
    state = link.host.link
    assert state.status == "down" and state.message == NOT_FOUND
    assert state.retry_at is not None and state.since is not None
    assert 0.05 <= (state.retry_at - state.since).total_seconds() <= 0.2


async def test_an_older_lamptop_and_another_stream_format_in_words() -> None:
    fleet, link = _fleet()
    _sh(
        link,
        "echo 'usage: lamptop' >&2; echo 'error: unrecognized arguments: --stream' >&2; exit 2",
    )
    await _run_until(link, lambda: link.host.link.status == "down")
    assert link.host.link.message == TOO_OLD
    fleet, link = _fleet()
    newer = '{"lamptop_stream":7,"version":"9.0","hostname":"x","sources":[]}'
    _sh(link, f"echo '{newer}'; exec sleep 60")
    await _run_until(link, lambda: link.host.link.status == "down")
    assert "sends stream format 7" in link.host.link.message
    assert "upgrade lamptop here" in link.host.link.message


async def test_up_with_the_remote_hostname_then_silent_then_down() -> None:
    fleet, link = _fleet()
    link.idle_timeout = 0.5
    line = records_line([_rec(1, "GET /x")])
    _sh(link, f"echo '{HEADER}'; echo '{line}'; exec sleep 60")
    seen: list[str] = []
    task = asyncio.create_task(link.run())
    try:
        await async_wait_for(lambda: link.host.link.status == "up", 20)
        seen.append(link.host.link.hostname)
        await async_wait_for(lambda: link.host.link.status == "down", 20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert seen == ["shop-a"]
    assert link.host.link.message == "silent for 0.5 s"
    assert link.host.link.hostname == "shop-a"  # kept while down, for the host line
    texts = [r.text for r in fleet.hub.snapshot().records]
    assert texts.count("GET /x") == 1  # the same line at every reconnect, once in the hub


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_cancel_ends_ssh_and_its_children_with_no_zombie_and_no_fd_left() -> None:
    fleet, link = _fleet()
    before = _fds()
    _sh(link, f"echo '{HEADER}'; sleep 60 & sleep 60; wait")
    task = asyncio.create_task(link.run())
    await async_wait_for(lambda: link.host.link.status == "up", 20)
    assert link.proc is not None
    pid = link.proc.pid
    children = [c.pid for c in psutil.Process(pid).children(recursive=True)]
    assert children
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert link.proc is None

    def gone(p: int) -> bool:
        try:
            return psutil.Process(p).status() == psutil.STATUS_ZOMBIE and p != pid
        except psutil.NoSuchProcess:
            return True

    await async_wait_for(lambda: all(gone(p) for p in children), 20, what="its children ended")
    assert not psutil.pid_exists(pid)  # reaped by us
    await asyncio.sleep(0)
    assert _fds() <= before


async def test_a_program_that_cannot_run_says_so() -> None:
    fleet, link = _fleet()
    link.argv = [os.path.join(sys.prefix, "no-such-ssh")]
    await _run_until(link, lambda: link.host.link.status == "down")
    assert link.host.link.message.startswith("cannot run ")
