"""The console's keys: one list, each binding with an id (for ``[keys]`` in the config file)."""

from __future__ import annotations

from textual.binding import Binding, BindingType

#: The number keys 1..9 show in the footer as one group.
SOURCE_GROUP = Binding.Group("sources", compact=True)

#: ``end``: on the app for any pane, and on the log pane over the scroll view's own ``end``.
FOLLOW = Binding(
    "end", "follow", "follow", show=False, id="follow", tooltip="follow the newest records again"
)

#: While frozen: move the instant shown (nothing while live). The banner names them, not the
#: footer: at 80 columns it has no room left.
REWIND_KEYS: list[BindingType] = [
    Binding(
        "left_square_bracket",
        "rewind(-1)",
        "back",
        show=False,
        id="rewind-back",
        tooltip="rewind: every pane one sample earlier (only while frozen; nothing while live)",
    ),
    Binding(
        "right_square_bracket",
        "rewind(1)",
        "forward",
        show=False,
        id="rewind-forward",
        tooltip="rewind: one sample later, up to the instant frozen (only while frozen)",
    ),
    Binding(
        "left_curly_bracket",
        "rewind_by(-10)",
        "back 10 s",
        show=False,
        id="rewind-back-10",
        tooltip="rewind: ten seconds earlier (only while frozen)",
    ),
    Binding(
        "right_curly_bracket",
        "rewind_by(10)",
        "forward 10 s",
        show=False,
        id="rewind-forward-10",
        tooltip="rewind: ten seconds later (only while frozen)",
    ),
]

#: Every key of the console. Each has an id, so ``[keys]`` in the config file can remap it;
#: the tooltip is the longer description the help screen and the command palette show.
KEYS: list[BindingType] = [
    Binding(
        "slash",
        "open_filter",
        "filter",
        id="filter",
        tooltip="filter the logs by a regular expression, live, highlighted",
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
            # one footer entry for the nine ("123 sources" read like a number)
            show=n == 1,
            key_display="1-9" if n == 1 else None,
            tooltip=f"show or hide log source {n}",
        )
        for n in range(1, 10)
    ),
    Binding(
        "e",
        "cycle_level",
        "level",
        id="level",
        tooltip="lowest level shown, in turn: all, warnings and up, errors and up",
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
        tooltip="freeze all panes on one instant (still collecting); again: live",
    ),
    Binding(
        "s",
        "save",
        "save",
        id="save",
        tooltip="freeze and save a bundle: report, logs, samples, screen",
    ),
    *REWIND_KEYS,
    Binding(
        "a",
        "alerts",
        "alerts",
        show=False,
        id="alerts",
        tooltip="every alert of the session, with its bundle's path (c copies it)",
    ),
    Binding(
        "w",
        "next_view",
        "view",
        show=False,
        id="view",
        tooltip="top-left pane: Apache workers, PHP-FPM pools, MySQL queries",
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
        "rewind",
        "rewind_by",
        "alerts",
        "next_host",
        "all_hosts",
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

#: Actions of :data:`REWIND_KEYS`: they act only while frozen.
REWIND_ACTIONS = frozenset({"rewind", "rewind_by"})

#: With several hosts (``--remote``): which host the workers, memory, PHP-FPM and MySQL panes
#: show. Off (and out of the footer and the help) with one host.
HOST_KEYS: list[BindingType] = [
    Binding(
        "h",
        "next_host",
        "host",
        id="host",
        tooltip="several hosts: the panes show the next host (workers, memory, php-fpm, mysql)",
    ),
    Binding(
        "H",
        "all_hosts",
        "all hosts",
        show=False,
        id="all-hosts",
        tooltip="several hosts: every host at once where a pane can sum them; again: one host",
    ),
]

#: Actions of :data:`HOST_KEYS`: they act only with several hosts.
HOST_ACTIONS = frozenset({"next_host", "all_hosts"})
