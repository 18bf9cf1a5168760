"""One supervision for both modes: a source that dies of a bug says so and starts again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from console.core.clock import ManualClock
from console.core.recorder import Recorder
from console.sources.engine import supervise, supervised

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


async def test_a_crashing_source_is_reported_and_restarted() -> None:
    clock = ManualClock(T0)
    recorder = Recorder(clock=clock)
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise RuntimeError(f"boom {runs}")

    await asyncio.wait_for(supervise("php", flaky, recorder, clock=clock, restart_after=0.01), 5)
    assert runs == 3  # failed twice, then finished on its own: not started a fourth time
    errors = [s for s in recorder.state_history if s.source == "php"]
    assert [s.status for s in errors] == ["error", "error"]
    assert "RuntimeError: boom 2" in errors[-1].message and "restarting in" in errors[-1].message
    assert errors[-1].ts == T0  # stamped by the mode's clock


async def test_cancel_goes_through_supervision() -> None:
    recorder = Recorder()
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    [(name, run)] = supervised([("access", forever)], recorder, recorder.clock)
    task = asyncio.create_task(run())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert name == "access" and task in done and task.cancelled()
    assert not recorder.state_history
