"""The core must run without Textual: `lamptop record` and the tests drive it headless."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "console.core.events",
    "console.parsing",
    "console.parsing.base",
    "console.parsing.timeutil",
    "console.parsing.apache_access",
    "console.parsing.apache_error",
    "console.parsing.php",
    "console.parsing.fpm",
    "console.parsing.mysql",
    "console.parsing.mysql_general",
    "console.parsing.fpm_access",
    "console.parsing.modstatus",
    "console.sources",
    "console.sources.tail.follow",
    "console.sources.status.poll",
    "console.sources.system.sampler",
    "console.core.recorder",
    "console.core.config",
    "console.discover",
    "console.sources.engine",
    "console.incident.serialize",
    "console.commands.sources",
    "console.cli",
    "console.demo",
    "console.demo.stamps",
    "console.demo.pages",
    "console.demo.logs",
    "console.demo.traffic",
    "console.demo.prefork",
    "console.demo.memory",
    "console.demo.story",
    "console.incident.rules",
    "console.incident.bundle",
    "console.incident.watch",
    "console.commands.record",
    "console.incident.report",
]


def test_core_imports_without_textual() -> None:
    code = (
        "import sys\n"
        f"for m in {CORE!r}:\n"
        "    __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"textual loaded by the core: {out.stdout.strip()}"


def test_the_check_itself_sees_textual() -> None:
    code = "import sys, console.tui.app\nprint('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "True"
