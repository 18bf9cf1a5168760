"""lamptop's own sources against a real Apache on loopback: status, logs and memory together."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from console.commands.record import record
from console.core.config import Config, LogSpec
from console.core.recorder import Recorder, Snapshot
from console.sources.engine import Engine
from console.sources.plan import make_plan
from tests.support.apache_server import ApacheServer, require_tool
from tests.support.wait import async_wait_for

pytestmark = pytest.mark.apache


def watch_config(apache: ApacheServer, **extra: object) -> Config:
    return Config(
        discover=False,
        status_url=apache.status_url,
        logs=(
            LogSpec(str(apache.access_log), kind="apache-access"),
            LogSpec(str(apache.error_log), kind="apache-error"),
        ),
        status_interval=0.2,
        system_interval=0.3,
        scan_interval=0.5,
        **extra,  # type: ignore[arg-type]
    )


async def snapshot_when(recorder: Recorder, check: Callable[[Snapshot], bool]) -> Snapshot:
    """The first snapshot for which ``check`` holds (polled, with a generous deadline)."""
    last: list[Snapshot] = [recorder.snapshot()]

    def ready() -> Snapshot | None:
        last[0] = recorder.snapshot()
        return last[0] if check(last[0]) else None

    def seen() -> str:
        snap = last[0]
        return (
            f"last snapshot: {len(snap.records)} records, {len(snap.status)} status, "
            f"states {dict(snap.states)}"
        )

    found = await async_wait_for(ready, 60, interval=0.1, why=seen, what=check.__qualname__)
    assert found is not None
    return found


async def test_engine_sees_scoreboard_inflight_requests_and_logs(apache: ApacheServer) -> None:
    cfg = watch_config(apache)
    recorder = Recorder(reorder=0.1)
    plan = make_plan(cfg)
    assert [(p.name, p.kind) for p in plan.logs] == [
        ("access", "apache-access"),
        ("apache", "apache-error"),
    ]
    engine = Engine(cfg, recorder, plan)
    task = asyncio.create_task(engine.run())
    try:
        await snapshot_when(recorder, lambda s: s.latest_status is not None)

        def slow() -> None:  # long enough to be seen in flight on a busy machine too
            requests.get(apache.sleep_url + "?6", timeout=40)

        threads = [asyncio.create_task(asyncio.to_thread(slow)) for _ in range(3)]
        for i in range(5):
            await asyncio.to_thread(requests.get, f"{apache.url}missing-{i}.php", timeout=5)

        def inflight(s: Snapshot) -> bool:
            st = s.latest_status
            return (
                st is not None
                and sum(1 for w in st.workers if w.mode == "W" and "/cgi-bin/sleep" in w.request)
                >= 3
            )

        snap = await snapshot_when(recorder, inflight)
        st = snap.latest_status
        assert st is not None
        assert st.mpm == "prefork" and st.limit == 10 and st.busy >= 3
        sleepers = [w for w in st.workers if "/cgi-bin/sleep" in w.request]
        assert all(w.client == "127.0.0.1" and w.pid for w in sleepers)

        # the system source knows the memory of the processes serving them
        def rss_known(s: Snapshot) -> bool:
            sys_ = s.latest_system
            return sys_ is not None and all(w.pid in sys_.rss_by_pid for w in sleepers)

        snap = await snapshot_when(recorder, rss_known)
        assert snap.latest_system is not None
        assert any(svc.name == "apache" and svc.rss > 0 for svc in snap.latest_system.services)

        await asyncio.gather(*threads)

        def logged(s: Snapshot) -> bool:
            codes = [r.fields.get("status") for r in s.records if r.source == "access"]
            return codes.count(404) >= 5 and codes.count(200) >= 3

        snap = await snapshot_when(recorder, logged)
        misses = [r for r in snap.records if r.source == "access" and r.fields.get("status") == 404]
        assert {r.fields["url"] for r in misses} == {f"/missing-{i}.php" for i in range(5)}
        assert all(r.level == "warn" and r.ts_from_line for r in misses)
        errors = [r for r in snap.records if r.source == "apache"]
        assert any("resuming normal operations" in r.text for r in errors)
        assert all(r.level != "unparsed" for r in errors)
        assert snap.states["access"].status == "ok"
        assert snap.states["mod_status"].status == "ok"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_stopped_apache_shows_as_refused_then_recovers(apache: ApacheServer) -> None:
    cfg = watch_config(apache)
    recorder = Recorder(reorder=0.1)
    task = asyncio.create_task(Engine(cfg, recorder, make_plan(cfg)).run())
    try:
        await snapshot_when(
            recorder,
            lambda s: (
                s.states.get("mod_status") is not None and s.states["mod_status"].status == "ok"
            ),
        )
        await asyncio.to_thread(apache.stop)
        snap = await snapshot_when(recorder, lambda s: s.states["mod_status"].status == "refused")
        assert "connection refused" in snap.states["mod_status"].message
        await asyncio.to_thread(apache.start)
        await snapshot_when(recorder, lambda s: s.states["mod_status"].status == "ok")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_record_under_ab_load_writes_a_bundle_naming_the_hammered_url(
    apache: ApacheServer, tmp_path: Path
) -> None:
    rules = {
        name: {"enabled": False}
        for name in (
            "memory_jump",
            "memory_high",
            "http_5xx_burst",
            "load_high",
            "swap_growing",
            "log_trouble",
        )
    }
    rules["workers_near_limit"] = {"ratio": 0.5, "seconds": 1.0, "cooldown": 600.0}
    cfg = watch_config(apache, rules=rules, snapshot_dir=str(tmp_path / "snaps"), snapshot_tail=1.0)
    out = io.StringIO()
    ab = require_tool("ab", "apache2-utils")
    hammer = apache.sleep_url + "?1"
    # more requests than the recording lasts (about 40 s of them): the load covers all of it
    # however slowly things start; ab is stopped after the recording
    load = await asyncio.create_subprocess_exec(
        ab,
        "-q",
        "-n",
        "300",
        "-c",
        "8",
        hammer,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert await record(cfg, duration=10.0, out=out) == 0
    finally:
        if load.returncode is None:
            load.kill()
        await load.wait()
    lines = out.getvalue().splitlines()
    assert "lamptop record started" in lines[0]
    assert any("rule workers_near_limit fired" in ln for ln in lines), lines
    saved = [ln.split("bundle saved: ", 1)[1] for ln in lines if "bundle saved: " in ln]
    assert len(saved) == 1, lines
    bundle = Path(saved[0])
    assert bundle.name.endswith("-workers_near_limit")
    report = (bundle / "report.md").read_text()
    assert "/cgi-bin/sleep" in report
    assert "Most common in-flight URL: `/cgi-bin/sleep`" in report
    doc = json.loads((bundle / "snapshot.json").read_text())
    assert doc["trigger"]["rule"] == "workers_near_limit"
    assert doc["trigger"]["values"]["busy"] >= 5
    assert doc["status"] and doc["records"]
    assert "lamptop record stopped" in lines[-1]


async def test_own_polls_are_left_out_of_what_is_read(apache: ApacheServer) -> None:
    """lamptop's status polls are in Apache's access log (its User-Agent), but never in the
    recorder: not counted, not shown, not saved; a request by hand to the same page is."""
    from console.parsing.apache_access import is_own_request

    cfg = watch_config(apache)
    recorder = Recorder(reorder=0.1)
    task = asyncio.create_task(Engine(cfg, recorder, make_plan(cfg)).run())
    try:
        await asyncio.to_thread(requests.get, apache.status_url, timeout=5)
        snap = await snapshot_when(
            recorder,
            lambda s: (
                len(s.status) >= 3
                and any("python-requests" in r.fields.get("user_agent", "") for r in s.records)
            ),
        )
        polls = [r for r in snap.records if "/server-status" in r.text]
        assert polls and not any(is_own_request(r) for r in polls)
        written = apache.access_log.read_text().splitlines()
        assert sum(1 for line in written if '"lamptop/' in line) >= 2  # they were there
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
