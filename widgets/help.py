"""The help screen: every key, with what it does and the id to remap it in the config file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from widgets.keys import SOURCE_GROUP

#: (keys as shown, what it does, binding id)
HelpRow = tuple[str, str, str]


def help_rows(
    bindings: Iterable[Binding],
    keymap: Mapping[str, str],
    display: Callable[[Binding], str],
) -> tuple[HelpRow, ...]:
    """One row per binding id, keys as remapped by ``keymap``; the 1..9 group as one row."""
    rows: list[HelpRow] = []
    seen_group = False
    for binding in bindings:
        binding_id = binding.id or ""
        keys = keymap.get(binding_id, binding.key)
        shown = ", ".join(display(binding.with_key(k.strip())) for k in keys.split(","))
        if binding.group is SOURCE_GROUP:
            if not seen_group:
                what = "show or hide log source N (see the bar above the logs)"
                rows.append(("1 … 9", what, "source-1 … source-9"))
            seen_group = True
            continue
        rows.append((shown, binding.tooltip or binding.description, binding_id))
    rows = _merged(rows)
    rows.append(("ctrl+p", "command palette: every action above, found by name", "-"))
    return tuple(rows)


#: One line for a key that acts in several panes (the help fits 80x24).
MERGED = {
    "↑, k": "previous row of the pane in focus (in the logs: stops following)",
    "↓, j": "next row of the pane in focus",
    "⏎": "open: a log record in full, a request's logs, a process or query",
}
#: Keys shown on one row, their keys side by side: (ids, what they do).
TOGETHER = (
    (("rewind-back", "rewind-forward"), "rewind, while frozen: a sample earlier, later"),
    (("rewind-back-10", "rewind-forward-10"), "rewind, while frozen: 10 s earlier, later"),
    (
        ("log-page-up", "log-page-down", "log-home", "follow"),
        "logs: a page up or down, the oldest record; follow the newest",
    ),
)


def _merged(rows: list[HelpRow]) -> list[HelpRow]:
    """Rows of the same keys as one (their ids together), in the place of the first; and the
    rows of :data:`TOGETHER` as one."""
    out: list[HelpRow] = []
    where: dict[str, int] = {}
    shown = {binding_id: keys for keys, _, binding_id in rows}
    for keys, what, binding_id in rows:
        group = next((g for g in TOGETHER if binding_id in g[0]), None)
        if group is not None:
            together, what = group
            keys = " ".join(shown[i] for i in together if i in shown)
            binding_id = ", ".join(i for i in together if i in shown)
        if keys in where:
            k, first, ids = out[where[keys]]
            if binding_id == ids:
                continue  # the rest of a TOGETHER group
            out[where[keys]] = (k, MERGED.get(keys, f"{first} · {what}"), f"{ids}, {binding_id}")
        else:
            where[keys] = len(out)
            out.append((keys, what, binding_id))
    return out


def help_table(rows: tuple[HelpRow, ...], *, ids: bool = True) -> Table:
    """The keys and what they do; ``ids``: with the id that remaps each (wide screens)."""
    table = Table(box=None, expand=True, show_edge=False, pad_edge=False, show_header=False)
    table.add_column("key", style="bold", max_width=10)
    table.add_column("does")
    if ids:
        table.add_column("id", style="dim", no_wrap=True)
    for keys, what, binding_id in rows:
        table.add_row(keys, what, *((binding_id,) if ids else ()))
    return table


class HelpScreen(ModalScreen[None]):
    """The keys of the console, from the bindings themselves."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 110; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; border-title-color: $accent;
        background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "close", id="close-help"),
    ]

    def __init__(self, rows: tuple[HelpRow, ...]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "keys"
            box.border_subtitle = r'remap: config.toml \[keys] id = "key" · esc close'
            # ids (for [keys] in the config) only where they fit beside the words
            wide = self.app.size.width >= 110
            yield Static(help_table(self.rows, ids=wide), id="help-body")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
