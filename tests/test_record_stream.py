"""``lamptop record --stream`` as a real process: its stdout read by the console's reader, and
its end when that reader goes away."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.core.fleet import Fleet
from console.core.recorder import Recorder
from console.core.text import clean
from console.core.wire import StreamHeader
from console.sources.remote.stream import consume
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.orphans import die_with_parent, end_process
from tests.support.paths import ROOT
from tests.support.wait import async_wait_for, wait_for


def access_line(n: int, path: str = "/ok") -> str:
    return (
        f'127.0.0.1 - - [26/Nov/2026:15:01:{n % 60:02d} +0000] "GET {path}?n={n} HTTP/1.1" '
        f'500 5 "-" "bench"\n'
    )


def stream_cmd(tmp: Path, log: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "console.cli",
        "record",
        "--stream",
        "--no-discover",
        "--log",
        str(log),
        "--snapshot-dir",
        str(tmp / "snap"),
        *extra,
    ]


def env_for(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env |= {"XDG_CONFIG_HOME": str(tmp / "xdg"), "XDG_STATE_HOME": str(tmp / "state")}
    env.pop("LAMPTOP_STATUS_PASSWORD", None)
    return env


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "access.log"
    path.write_text(access_line(0))
    yield path


def test_the_reader_follows_a_real_record_stream(tmp_path: Path, log: Path) -> None:
    async def go() -> None:
        proc = await asyncio.create_subprocess_exec(
            *stream_cmd(tmp_path, log),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env_for(tmp_path),
            cwd=ROOT,
            preexec_fn=die_with_parent,
        )
        assert proc.stdout is not None and proc.stderr is not None
        hub = Recorder()
        fleet = Fleet(hub, local_name="console", local=False)
        host = fleet.add_remote("web1")
        headers: list[StreamHeader] = []
        reading = asyncio.create_task(
            consume(proc.stdout, fleet.sink(host), on_header=headers.append)
        )
        try:
            await async_wait_for(lambda: headers, what="the header")
            with log.open("a") as f:
                f.writelines(access_line(n) for n in range(1, 50))
                f.writelines(access_line(60 + i, f"/h{h}") for i, h in enumerate(HOSTILE))
            want = 50 + len(HOSTILE)

            def arrived() -> bool:
                hub.release(force=True)
                return len(hub.records) >= want

            await async_wait_for(arrived, what=f"{want} records", why=lambda: len(hub.records))
            await async_wait_for(lambda: host.recorder.system, what="a system sample")
        finally:
            proc.terminate()
            end = await asyncio.wait_for(reading, 60)
            rc = await proc.wait()
            err = (await proc.stderr.read()).decode()
        (header,) = headers
        assert header.hostname == clean(socket.gethostname())
        assert header.sources[0] == "access" and "system" in header.sources
        assert header.stream == 1 and header.version
        assert {r.source for r in hub.records} == {"web1:access"}
        urls = [str(r.fields.get("url")) for r in hub.records]
        assert "/ok?n=49" in urls
        for r in hub.records:
            assert_inert(r.text + "".join(map(str, r.fields.values())), "record")
        assert hub.states["web1:access"].status == "ok"
        assert (end.reason, end.truncated, end.stats.malformed) == ("eof", False, 0)
        assert rc == 0, err
        assert "lamptop record started" in err and "Traceback" not in err

    asyncio.run(go())


def test_closing_the_pipe_ends_record_stream_cleanly(tmp_path: Path, log: Path) -> None:
    proc = subprocess.Popen(
        stream_cmd(tmp_path, log),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_for(tmp_path),
        cwd=ROOT,
        preexec_fn=die_with_parent,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        assert first.startswith(b'{"lamptop_stream":1')
        proc.stdout.close()  # the ssh connection went away
        with log.open("a") as f:
            f.writelines(access_line(n) for n in range(1, 200))
        rc = wait_for(lambda: proc.poll() is not None and [proc.returncode], what="record to end")
        err = proc.stderr.read().decode()
        assert rc == [0], err
        assert "Traceback" not in err and "BrokenPipe" not in err
        assert "lamptop record stopped" in err
    finally:
        end_process(proc, 10)


def test_a_saved_stream_is_the_same_stream(tmp_path: Path, log: Path) -> None:
    saved = tmp_path / "web1.jsonl"
    with saved.open("wb") as out:
        proc = subprocess.run(
            [*stream_cmd(tmp_path, log), "--duration", "2"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.PIPE,
            env=env_for(tmp_path),
            cwd=ROOT,
            timeout=60,
            preexec_fn=die_with_parent,
        )
    assert proc.returncode == 0, proc.stderr
    lines = saved.read_bytes().splitlines()
    assert lines[0].startswith(b'{"lamptop_stream":1')
    assert any(b'"t":"records"' in x and b"/ok?n=0" in x for x in lines)
