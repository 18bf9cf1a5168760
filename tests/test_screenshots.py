"""The README's screenshots come from a script; it must keep working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def test_screenshot_script_runs_on_the_demo(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "screenshots" / "generate.py"),
            "--out",
            str(tmp_path),
            "--size",
            "100x30",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for name in ("main", "fpm", "mysql", "filter", "frozen", "help"):
        svg = (tmp_path / f"{name}.svg").read_text()
        assert svg.lstrip().startswith("<svg")
        assert "DEMO" in svg
    assert "FROZEN" in (tmp_path / "frozen.svg").read_text()
    assert "report" in (tmp_path / "filter.svg").read_text()
    assert "php-fpm" in (tmp_path / "fpm.svg").read_text()
    assert "SELECT" in (tmp_path / "mysql.svg").read_text()
    hosts = (tmp_path / "hosts.svg").read_text()
    assert "fleet-a" in hosts and "connection&#160;refused" in hosts


def test_readme_shows_the_screenshots_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("main", "fpm", "mysql", "filter", "frozen", "help", "hosts"):
        assert f"screenshots/{name}.svg" in readme
        assert (ROOT / "screenshots" / f"{name}.svg").exists()
