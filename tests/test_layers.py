"""The package layout: imports go down the layers, Textual stays in the TUI, modules stay short.

Layers, lowest first (a module imports only from its own layer or lower ones)::

    core  <  parsing, discover  <  sources, demo  <  view  <  incident  <  commands, tui, widgets
    <  cli

``widgets`` (the Textual panes) sit at the TUI's level but may import only ``console.core``,
``console.parsing``, ``console.view``, ``console.incident`` and each other: never
``console.tui`` or ``console.commands``. ``console.demo`` (a simulated server and its logs,
fed through ``console.sources``) sits with the sources. Only ``console.tui`` and ``widgets``
import ``textual``; ``console.commands`` may, inside functions. Every ``import`` statement
counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import ROOT

PACKAGES = ("console", "widgets")

LAYERS: dict[str, int] = {
    "console": 0,  # the package itself: only __version__
    "console.core": 0,
    "console.parsing": 1,
    "console.discover": 1,
    "console.sources": 2,
    "console.demo": 2,
    "console.view": 3,
    "console.incident": 4,
    "console.commands": 5,
    "console.tui": 5,
    "widgets": 5,
    "console.cli": 6,
}

WIDGETS_MAY_IMPORT = ("console.core", "console.parsing", "console.view", "console.incident")

# Imports that break the rule in the code as it is, each to be removed by moving code, not by
# adding to this set.
ALLOWED_EDGES: set[tuple[str, str]] = set()

MAX_LINES = 400

# Modules over MAX_LINES today, shrinking as modules are split: take a module out of this set
# once it is under the limit; never add one.
LONG_ALLOWED: set[str] = set()


@dataclass(frozen=True)
class Import:
    module: str
    """The importing module, e.g. ``console.sources.engine``."""
    target: str
    """The imported module, e.g. ``console.parsing.base`` (``from x import y``: ``x.y`` when that
    is a module, else ``x``)."""
    in_function: bool
    line: int


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _known_modules() -> set[str]:
    return {module_name(p) for p in source_files()}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports_in(code: str, module: str, is_package: bool, known: set[str]) -> Iterator[Import]:
    """Every import in the source of ``module``, with whether it sits inside a function."""
    tree = ast.parse(code, filename=module)

    def visit(node: ast.AST, in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(module, alias.name, in_function, child.lineno)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, is_package, child.level, child.module)
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    target = sub if sub in known else base
                    yield Import(module, target, in_function, child.lineno)
            yield from visit(child, inner)

    yield from visit(tree, False)


def imports_of(path: Path, known: set[str]) -> Iterator[Import]:
    code = path.read_text(encoding="utf-8")
    yield from imports_in(code, module_name(path), path.name == "__init__.py", known)


def layer_of(name: str) -> str | None:
    """The entry of :data:`LAYERS` a module belongs to (the longest matching prefix)."""
    # "console" itself is a layer of its own name only: a new subpackage must be placed
    matches = [p for p in LAYERS if (name == p if p == "console" else _under(name, p))]
    return max(matches, key=len) if matches else None


def all_imports() -> list[Import]:
    known = _known_modules()
    return [imp for path in source_files() for imp in imports_of(path, known)]


def violations(imports: list[Import]) -> list[str]:
    bad: list[str] = []
    for imp in imports:
        if not any(_under(imp.target, pkg) for pkg in PACKAGES):
            continue
        if (imp.module, imp.target) in ALLOWED_EDGES:
            continue
        src, dst = layer_of(imp.module), layer_of(imp.target)
        where = f"{imp.module} -> {imp.target} (line {imp.line})"
        if src is None or dst is None:
            bad.append(f"{where}: not in any layer; add the package to LAYERS")
            continue
        if src == "widgets":
            if not (dst == "widgets" or any(_under(imp.target, p) for p in WIDGETS_MAY_IMPORT)):
                bad.append(f"{where}: widgets may import only {', '.join(WIDGETS_MAY_IMPORT)}")
        elif LAYERS[dst] > LAYERS[src]:
            bad.append(f"{where}: {src} (layer {LAYERS[src]}) imports {dst} (layer {LAYERS[dst]})")
    return bad


def textual_violations(imports: list[Import]) -> list[str]:
    bad: list[str] = []
    for imp in imports:
        if not _under(imp.target, "textual"):
            continue
        if _under(imp.module, "console.tui") or _under(imp.module, "widgets"):
            continue
        if _under(imp.module, "console.commands") and imp.in_function:
            continue
        where = "inside a function" if imp.in_function else "at module level"
        bad.append(f"{imp.module} -> {imp.target} (line {imp.line}, {where})")
    return bad


# -- the rules -----------------------------------------------------------------------------------


def test_imports_go_down_the_layers() -> None:
    bad = violations(all_imports())
    assert not bad, "imports against the layer order:\n  " + "\n  ".join(bad)


def test_allowed_edges_are_still_there() -> None:
    # an exception that is no longer needed is taken out, so it cannot hide a new one
    edges = {(imp.module, imp.target) for imp in all_imports()}
    gone = sorted(set(ALLOWED_EDGES) - edges)
    assert not gone, f"remove from ALLOWED_EDGES, no longer imported: {gone}"


def test_only_the_tui_imports_textual() -> None:
    bad = textual_violations(all_imports())
    assert not bad, "textual imported outside console.tui and widgets:\n  " + "\n  ".join(bad)


def test_every_package_has_a_layer() -> None:
    unplaced = sorted({m for m in _known_modules() if layer_of(m) is None})
    assert not unplaced, f"modules in no layer (add them to LAYERS): {unplaced}"


def test_modules_stay_short() -> None:
    lengths = {
        str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
        for p in source_files()
    }
    long = {name: n for name, n in lengths.items() if n >= MAX_LINES}
    new = {name: n for name, n in long.items() if name not in LONG_ALLOWED}
    assert not new, f"modules of {MAX_LINES} lines or more (split them): {new}"
    fixed = sorted(set(LONG_ALLOWED) - set(long))
    assert not fixed, f"now short, take them out of LONG_ALLOWED: {fixed}"


# -- the checker itself --------------------------------------------------------------------------


def _check(module: str, code: str, is_package: bool = False) -> list[Import]:
    return list(imports_in(code, module, is_package, _known_modules()))


def test_the_checker_sees_imports_at_every_level() -> None:
    code = (
        "import console.view.filters\n"
        "from console.incident import rules\n"
        "from . import base\n"
        "def f():\n"
        "    from console.tui.app import LamptopApp\n"
        "    import textual.app\n"
        "class C:\n"
        "    def m(self):\n"
        "        from ..sources import Sink\n"
    )
    found = _check("console.parsing.fake", code)
    assert [(i.target, i.in_function) for i in found] == [
        ("console.view.filters", False),
        ("console.incident.rules", False),  # a module imported by "from package import module"
        ("console.parsing.base", False),
        ("console.tui.app", True),
        ("textual.app", True),
        ("console.sources", True),
    ]
    assert violations(found) == [
        "console.parsing.fake -> console.view.filters (line 1): console.parsing (layer 1)"
        " imports console.view (layer 3)",
        "console.parsing.fake -> console.incident.rules (line 2): console.parsing (layer 1)"
        " imports console.incident (layer 4)",
        "console.parsing.fake -> console.tui.app (line 5): console.parsing (layer 1)"
        " imports console.tui (layer 5)",
        "console.parsing.fake -> console.sources (line 9): console.parsing (layer 1)"
        " imports console.sources (layer 2)",
    ]
    assert textual_violations(found) == [
        "console.parsing.fake -> textual.app (line 6, inside a function)"
    ]


def test_the_checker_knows_the_exceptions_of_widgets_and_commands() -> None:
    widget = _check("widgets.fake", "from console.tui.app import X\nfrom console.view import m\n")
    assert violations(widget) == [
        "widgets.fake -> console.tui.app (line 1): widgets may import only console.core,"
        " console.parsing, console.view, console.incident"
    ]
    command = _check("console.commands.fake", "import textual\ndef f():\n    import textual\n")
    assert textual_violations(command) == [
        "console.commands.fake -> textual (line 1, at module level)"
    ]
    assert violations(_check("console.commands.fake", "from console.tui import app\n")) == []
    assert violations(_check("console.core.fake", "from console.cli import main\n")) == [
        "console.core.fake -> console.cli (line 1): console.core (layer 0) imports console.cli"
        " (layer 6)"
    ]
    assert violations(_check("console.extra.fake", "import console.core\n")) == [
        "console.extra.fake -> console.core (line 1): not in any layer; add the package to LAYERS"
    ]
