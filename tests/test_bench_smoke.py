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


def _row(tool: str, rate: int, cpu: float, rss: float, catchup: float | None = 0.5) -> dict:
    return {
        "tool": tool,
        "rate": rate,
        "cpu_pct": cpu,
        "peak_rss_mb": rss,
        "lag_median_s": 0.5,
        "lag_max_s": 0.8,
        "catchup_s": catchup,
        "behind_mb": 0.0,
        "lost": None,
        "tmux_cpu_pct": None,
        "note": "",
    }


def test_results_put_lamptop_beside_each_peer_of_the_same_rate() -> None:
    import run_all

    rows = [
        _row("lamptop (TUI)", 10000, 11.0, 75),
        _row("lamptop (TUI)", 100, 2.0, 50),
        _row("multitail", 10000, 30.0, 180),
        _row("lnav", 10000, 4.0, 60),
        _row("apachetop", 100, 0.2, 10, catchup=None),
    ]
    vs = {(v["peer"], v["rate"]): v for v in run_all.versus_peers({"follow": rows})}
    assert set(vs) == {("multitail", 10000), ("lnav", 10000), ("apachetop", 100)}
    assert vs["multitail", 10000]["cpu_ahead"] and vs["multitail", 10000]["rss_ahead"]
    assert not vs["lnav", 10000]["cpu_ahead"] and not vs["lnav", 10000]["rss_ahead"]
    assert not vs["apachetop", 100]["peer_kept_up"]
    text = "\n".join(run_all.render_peers({"follow": rows}))
    assert "| lamptop (TUI) | 10,000 | 11.0 / 75 | 30.0 / 180 ✓✓ | 4.0 / 60 ✗✗ | – |" in text
    assert "| lamptop (TUI) | 100 | 2.0 / 50 | – | – | 0.2 / 10* ✗✗ |" in text
    # the targets: the console's 10,000 lines/s at 12 %, record's at 6 %
    tg = {name: ok for name, _, ok in run_all.targets({"follow": rows})}
    assert tg["lamptop (TUI) at 10,000/s: CPU ≤ 12 %"] is True
    assert tg["lamptop (TUI) at 10,000/s: peak RSS ≤ 80 MB"] is True
    assert tg["lamptop (TUI) at 100/s: CPU ≤ 3 %"] is True
