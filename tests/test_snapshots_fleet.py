"""How the console looks with several hosts at 80x24 (SVG baselines): the local host, one
saturated host, one whose link is down; then the saturated host chosen, then all hosts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fleet_scripted import fleet_app


@pytest.mark.parametrize(
    "presses", [[], ["h"], ["H"]], ids=["local", "saturated-host", "all-hosts"]
)
def test_fleet_80x24(snap_compare: Any, presses: list[str]) -> None:
    assert snap_compare(fleet_app(), terminal_size=(80, 24), press=presses)


def test_fleet_160x50(snap_compare: Any) -> None:
    assert snap_compare(fleet_app(), terminal_size=(160, 50), press=["h"])
