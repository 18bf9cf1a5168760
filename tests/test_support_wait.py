"""The waiting helpers of tests/support: they return as soon as the condition holds, and fail
with what was awaited when it never does."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.support.wait import async_wait_for, wait_for


def test_wait_for_returns_the_first_true_value() -> None:
    counter = itertools.count()
    assert wait_for(lambda: next(counter) >= 3 and "done", interval=0) == "done"
    assert next(counter) == 4  # called until true, not once more


def test_wait_for_fails_with_what_and_why() -> None:
    with pytest.raises(AssertionError, match=r"within 0\.05 s: the flag \(last seen: 0\)"):
        wait_for(lambda: False, 0.05, what="the flag", why=lambda: "last seen: 0")


async def test_async_wait_for_lets_the_loop_run() -> None:
    flag: list[int] = []
    asyncio.get_running_loop().call_later(0.05, flag.append, 1)
    assert await async_wait_for(lambda: flag) == [1]
    with pytest.raises(AssertionError, match="never"):
        await async_wait_for(lambda: 0, 0.05, why="never")
