"""``LAMPTOP_STATS_FILE``: ``lamptop record`` appends what its recorder holds, once a second."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from console.commands.record import record
from console.core.config import Config, LogSpec

LINES = [
    f'10.0.0.{n} - - [26/Nov/2026:15:01:35 +0000] "GET /bench/{n}?t=1.5 HTTP/1.1" 200 5 "-" "x"'
    for n in (1, 2, 3)
]


class QuietSystem:
    """A system source that reports nothing (no psutil in this test)."""

    async def run(self) -> None:
        await asyncio.Event().wait()


def _config(tmp_path: Path, log: Path) -> Config:
    return Config(
        logs=(LogSpec(str(log), "apache-access"),),
        discover=False,
        snapshot_dir=str(tmp_path / "snapshots"),
    )


def test_stats_file_counts_records_and_names_the_newest_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "access.log"
    log.write_text("\n".join(LINES) + "\n")
    stats = tmp_path / "stats.jsonl"
    monkeypatch.setenv("LAMPTOP_STATS_FILE", str(stats))
    cfg = _config(tmp_path, log)
    rc = asyncio.run(record(cfg, duration=1.6, out=io.StringIO(), system=QuietSystem()))
    assert rc == 0
    docs = [json.loads(line) for line in stats.read_text().splitlines()]
    assert len(docs) >= 2  # one a second, and one when stopping
    assert [d["t"] for d in docs] == sorted(d["t"] for d in docs)
    last = docs[-1]
    assert last["counts"] == {"access": 3}
    assert last["total"] == 3
    assert last["url"] == "/bench/3?t=1.5"


def test_no_stats_file_without_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINES[0] + "\n")
    monkeypatch.delenv("LAMPTOP_STATS_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())
    asyncio.run(
        record(_config(tmp_path, log), duration=0.3, out=io.StringIO(), system=QuietSystem())
    )
    assert set(tmp_path.iterdir()) == before
