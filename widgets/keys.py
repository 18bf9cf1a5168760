"""The console's keys: one list, each binding with an id (for ``[keys]`` in the config file)."""

from __future__ import annotations

from textual.binding import Binding, BindingType

#: The number keys 1..9 show in the footer as one group.
SOURCE_GROUP = Binding.Group("sources", compact=True)

#: ``end``: on the app for any pane, and on the log pane over the scroll view's own ``end``.
FOLLOW = Binding(
    "end", "follow", "follow", show=False, id="follow", tooltip="follow the newest records again"
)

#: Every key of the console. Each has an id, so ``[keys]`` in the config file can remap it;
#: the tooltip is the longer description the help screen and the command palette show.
KEYS: list[BindingType] = [
    Binding(
        "slash",
        "open_filter",
        "filter",
        id="filter",
        tooltip="filter the logs with a regular expression (live, matches highlighted)",
    ),
    Binding(
        "escape",
        "clear_filter",
        "clear filter",
        show=False,
        id="clear-filter",
        tooltip="clear the filter: regex, level, 4xx/5xx, pins, hidden sources",
    ),
    *(
        Binding(
            str(n),
            f"toggle_source({n})",
            "sources",
            id=f"source-{n}",
            group=SOURCE_GROUP,
            show=n <= 3,
            tooltip=f"show or hide log source {n}",
        )
        for n in range(1, 10)
    ),
    Binding(
        "e",
        "cycle_level",
        "level",
        id="level",
        tooltip="cycle the lowest level shown: all, warnings and up, errors and up",
    ),
    Binding(
        "x",
        "http_errors",
        "4xx/5xx",
        id="http-errors",
        tooltip="access logs: only 4xx/5xx requests (other logs stay)",
    ),
    Binding(
        "c",
        "toggle_expand",
        "expand",
        show=False,
        id="expand",
        tooltip="show or hide continuation lines (stack traces, queries)",
    ),
    FOLLOW,
    Binding(
        "tab",
        "focus_next",
        "next pane",
        show=False,
        id="focus-next",
        tooltip="move between the log pane and the requests in flight",
    ),
    Binding(
        "space",
        "freeze",
        "freeze",
        id="freeze",
        tooltip="freeze every pane on one instant (collection goes on); again: back to live",
    ),
    Binding(
        "s",
        "save",
        "save",
        id="save",
        tooltip="freeze and save a snapshot bundle (report, logs, samples, screen)",
    ),
    Binding(
        "a",
        "alerts",
        "alerts",
        show=False,
        id="alerts",
        tooltip="list every alert of the session, with its bundle's full path (c copies it)",
    ),
    Binding(
        "w",
        "next_view",
        "view",
        show=False,
        id="view",
        tooltip="top-left pane: Apache workers, PHP-FPM pools, MySQL queries in turn",
    ),
    Binding("question_mark", "help", "help", id="help", tooltip="list every key"),
    Binding("q", "quit", "quit", id="quit", tooltip="quit lamptop"),
]

#: Actions that change what the main screen shows: off while a detail or help screen is up.
MAIN_ONLY = frozenset(
    {
        "open_filter",
        "clear_filter",
        "toggle_source",
        "cycle_level",
        "http_errors",
        "toggle_expand",
        "follow",
        "help",
        "freeze",
        "save",
        "next_view",
        "alerts",
    }
)

#: The log pane's own keys (they act on the selected record and the scroll position).
LOG_KEYS: list[BindingType] = [
    Binding(
        "enter",
        "open",
        "detail",
        show=False,
        id="open-record",
        tooltip="logs: open the selected record (all lines, all fields)",
    ),
    Binding(
        "up,k",
        "move(-1)",
        "previous record",
        show=False,
        id="log-up",
        tooltip="logs: previous record (stops following)",
    ),
    Binding(
        "down,j",
        "move(1)",
        "next record",
        show=False,
        id="log-down",
        tooltip="logs: next record",
    ),
    Binding("pageup", "page(-1)", "page up", show=False, id="log-page-up", tooltip="logs: page up"),
    Binding(
        "pagedown",
        "page(1)",
        "page down",
        show=False,
        id="log-page-down",
        tooltip="logs: page down",
    ),
    Binding(
        "home",
        "home",
        "oldest record",
        show=False,
        id="log-home",
        tooltip="logs: oldest record",
    ),
    FOLLOW,
]
