"""The soak of tests/support/soak_faults.py, for 20 seconds: `lamptop record` while every log fault
happens at random; every line the OS kept ingested exactly once, no traceback, bounded RSS."""

from __future__ import annotations

from pathlib import Path

from tests.support.soak_faults import soak


def test_quick_soak(tmp_path: Path) -> None:
    figures = soak(20.0, seed=7, work=tmp_path)
    assert figures["failures"] == [], figures
    assert figures["ingested"] > 1000 and len(figures["faults"]) >= 6, figures
