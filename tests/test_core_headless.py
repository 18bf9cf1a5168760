"""The core must run without Textual: `lamptop record` and the tests drive it headless."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "console.events",
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
    "console.sources.tail",
    "console.sources.status",
    "console.sources.system",
    "console.recorder",
    "console.config",
    "console.discover",
    "console.engine",
    "console.serialize",
    "console.commands",
    "console.cli",
    "console.demo",
    "console.demo_stamps",
    "console.demo_pages",
    "console.demo_logs",
    "console.demo_traffic",
    "console.demo_prefork",
    "console.demo_memory",
    "console.demo_story",
    "console.rules",
    "console.bundle",
    "console.flight",
    "console.record",
    "console.report",
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
    code = "import sys, console.app\nprint('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "True"
