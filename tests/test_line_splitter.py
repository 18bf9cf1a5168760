"""The line splitter's plain-ASCII path gives what the careful path gives, byte for byte."""

from __future__ import annotations

import random

import pytest

from console.sources.tail.lines import LineSplitter
from tests.support.hostile import HOSTILE


def careful(splitter: LineSplitter, data: bytes) -> list[str]:
    """The lines of ``data`` through the path every chunk took before the ASCII one."""
    return splitter._decode(memoryview(data))


@pytest.mark.parametrize("max_line", [8, 64, 65536])
def test_plain_ascii_chunks_split_as_the_careful_path_does(max_line: int) -> None:
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(0x20, 0x7F)] + ["\t"]
    for _ in range(200):
        lines = ["".join(rng.choices(alphabet, k=rng.randrange(0, 90))) for _ in range(20)]
        data = "\n".join(lines).encode()
        s = LineSplitter(max_line)
        assert s._plain(memoryview(data)) == careful(s, data)


@pytest.mark.parametrize("bad", [*HOSTILE, "a\rb", "x\r", "caf\u00e9", "\x7f", "\x1b[2J"])
def test_a_chunk_with_anything_else_is_cleaned(bad: str) -> None:
    data = f"GET /ok HTTP/1.1\n{bad}\nlast\n".encode()
    fast, slow = LineSplitter(65536), LineSplitter(65536)
    assert fast.feed(data) == careful(slow, data[:-1])
    assert all("\x1b" not in line and "\x00" not in line for line in fast.feed(data))


def test_a_long_plain_line_is_cut_and_marked_the_same() -> None:
    data = b"x" * 100 + b"\nshort\n"
    fast = LineSplitter(10)
    assert fast.feed(data) == ["x" * 10 + " …[cut: 90 bytes]", "short"]
