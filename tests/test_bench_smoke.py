"""The benchmark in a few seconds: ``lamptop record`` follows 1,000 lines/s and loses none.

No timing is asserted here (this machine's speed is not the test's business); ``bench/`` holds
the real measurements (``python3 bench/run_all.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from console.core.events import LOG_KINDS
from tests.support.paths import ROOT

BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

import follow  # noqa: E402
import parse  # noqa: E402
from measure import StatusServer  # noqa: E402


def test_quick_follow_of_lamptop_record_loses_no_lines(tmp_path: Path) -> None:
    # the generated error lines fire spike rules, and a rule's bundle waits 10 s for its tail
    # before lamptop can exit: the smoke run turns them off to stay short
    config = tmp_path / "config.toml"
    config.write_text(
        "[rules.log_trouble]\nenabled = false\n[rules.http_5xx_burst]\nenabled = false\n"
    )
    with StatusServer() as status:
        result = follow.run_one(
            follow.tools()["record"],
            1000,
            3.0,
            status_url=status.url,
            catchup_wait=10.0,
            workdir=str(tmp_path),
            settle=0.3,
            extra_args=("--config", str(config)),
        )
    assert result.note == "", result
    assert result.written >= 3000 + 300
    assert result.received is not None
    assert result.lost == 0, result
    assert result.cpu_pct is not None and result.peak_rss_mb


@pytest.mark.parametrize("kind", LOG_KINDS)
def test_parse_bench_has_lines_of_every_kind_lamptop_reads(kind: str) -> None:
    # a format added to lamptop without lines in the parse bench would stop the whole bench
    result = parse.measure(kind, 300, repeat=1)
    assert result["lines"] >= 300
    assert result["records"] and result["unparsed"] == 0, result
