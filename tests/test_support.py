"""The helpers of tests/support that decide a test's fate: waiting (returns as soon as the
condition holds, fails saying what was awaited when it never does), needing something of the
machine (a skip on a laptop, a failure in CI) and running as an ordinary user."""

from __future__ import annotations

import asyncio
import itertools
import os

import pytest

from tests.support.need import need, unavailable
from tests.support.users import as_ordinary_user
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


def test_unavailable_skips_on_a_laptop_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no widget here"):
        unavailable("no widget here")
    need(True, "never said")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no widget here"):
        unavailable("no widget here")
    with pytest.raises(pytest.fail.Exception, match="no root"):
        need(False, "no root")
    need(1, "never said")


def test_the_ordinary_user_is_not_root() -> None:
    uid, groups = as_ordinary_user(lambda: (os.geteuid(), os.getgroups()))
    assert uid != 0 and 0 not in groups
    if os.geteuid() != 0:
        assert uid == os.geteuid()  # already ordinary: nothing to drop


def test_a_server_started_by_a_test_dies_with_the_test_process() -> None:
    import os
    import subprocess
    import sys

    from tests.support.paths import ROOT
    from tests.support.wait import wait_for

    code = (
        "import subprocess, sys, os\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.support.orphans import die_with_parent\n"
        "p = subprocess.Popen(['sleep', '60'], preexec_fn=die_with_parent)\n"
        "print(p.pid, flush=True)\n"
        "os._exit(0)  # as a killed pytest worker: no teardown\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    pid = int(out.stdout.strip())

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as fh:  # a zombie waiting for init counts as gone
            return fh.read().split(") ", 1)[1].startswith("Z")

    wait_for(gone)
