"""The core must run without Textual: `lamptop record` and the tests drive it headless.

Every module of the ``console`` package outside ``console.tui`` is imported in a fresh
interpreter; none may load ``textual``. The modules are found by walking the package, so a new
module is checked without anyone adding it to a list. (``widgets`` are Textual panes and sit
outside ``console``.)
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import console
from tests.support.paths import ROOT

GUI = ("console.tui",)
"""Packages allowed to load Textual when imported."""


def _is_gui(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in GUI)


def headless_modules() -> list[str]:
    """Every module and package under ``console`` (the package itself too), minus the GUI."""
    found = ["console"] + [
        m.name for m in pkgutil.walk_packages(console.__path__, prefix="console.")
    ]
    return sorted(m for m in found if not _is_gui(m))


# Imports each module in turn and reports, per module, the textual modules that appeared with it
# and any import error. Once textual is loaded the later modules cannot be told apart, so a
# failure is looked at again one module per interpreter (see _loads_textual_alone).
_PROBE = """
import importlib, json, sys
report = {"textual": {}, "errors": {}}
for name in json.loads(sys.argv[1]):
    before = set(sys.modules)
    try:
        importlib.import_module(name)
    except BaseException as exc:
        report["errors"][name] = f"{type(exc).__name__}: {exc}"
    new = sorted(m for m in set(sys.modules) - before if m == "textual" or m.startswith("textual."))
    if new:
        report["textual"][name] = new[:3]
print(json.dumps(report))
"""


def _probe(modules: list[str]) -> dict[str, dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(modules)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=ROOT,
    )
    report: dict[str, dict[str, object]] = json.loads(out.stdout.strip().splitlines()[-1])
    return report


def test_the_walk_finds_the_modules() -> None:
    modules = headless_modules()
    # a few from each layer, to know the walk went into the subpackages
    for name in (
        "console",
        "console.cli",
        "console.core.events",
        "console.parsing.apache_access",
        "console.discover.apache",
        "console.sources.tail.follow",
        "console.sources.status.poll",
        "console.sources.system.sampler",
        "console.view.filters",
        "console.incident.bundle",
        "console.commands.record",
        "console.demo.story",
    ):
        assert name in modules
    assert not any(_is_gui(m) for m in modules)
    assert len(modules) >= 60, modules


def test_no_module_outside_the_tui_loads_textual() -> None:
    modules = headless_modules()
    report = _probe(modules)
    assert report["errors"] == {}, f"modules that fail to import: {report['errors']}"
    if report["textual"]:
        # Pin it down: which modules load textual on their own, each in a fresh interpreter.
        culprits = {m: got for m in modules if (got := _probe([m])["textual"])}
        raise AssertionError(f"textual loaded by importing: {culprits or report['textual']}")


def test_the_check_itself_sees_textual() -> None:
    report = _probe(["console.tui.app"])
    assert report["errors"] == {}
    assert "console.tui.app" in report["textual"]
