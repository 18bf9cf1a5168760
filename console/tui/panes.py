"""The console's widgets and their layout, made together with the app.

Made in the app's constructor rather than found once mounted, so every method of the app can
reach them without asking whether they exist yet. The filter bar's widgets are not here: the
app looks them up by id when a filter key is pressed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from console.view.logindex import LogIndex
from widgets.alertbar import AlertBar
from widgets.banner import FrozenBanner
from widgets.footer import KeysFooter
from widgets.fpm import FpmView
from widgets.header import HeaderBar
from widgets.hosts import HostLines
from widgets.inflight import InFlightTable
from widgets.logview import LogView
from widgets.memory import MemoryView
from widgets.mysql import MysqlView
from widgets.scoreboard import ScoreboardView
from widgets.sourcebar import SourceBar


class Panes:
    """Header, banner, the workers pane (scoreboard, requests in flight), memory, the logs."""

    def __init__(self, log_index: LogIndex) -> None:
        self.header = HeaderBar(id="header")
        self.hosts = HostLines(id="hosts")
        """One line per host under the header, with several hosts (hidden with one)."""
        self.banner = FrozenBanner(id="banner")
        self.workers = Vertical(id="workers-pane", classes="-view-workers")
        """The scoreboard and the requests in flight, in one border; or, one at a time
        (``w``), the PHP-FPM pools or the MySQL queries."""
        self.board = ScoreboardView(id="scoreboard")
        self.table = InFlightTable(id="inflight")
        self.fpm = FpmView(id="fpm")
        self.mysql = MysqlView(id="mysql")
        self.memory = MemoryView(id="memory")
        self.logs = Vertical(id="logs-pane")
        """The source bar, the filter bar and the log view, in one border."""
        self.bar = SourceBar(id="sourcebar")
        self.log = LogView(log_index, id="log")
        self.alert_bar = AlertBar(id="alertbar")
        """The newest alert, under the logs; no row while there is none."""

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.hosts
        yield self.banner
        with Horizontal(id="top"):
            with self.workers:
                yield self.board
                yield self.table
                yield self.fpm
                yield self.mysql
            yield self.memory
        with self.logs:
            yield self.bar
            with Horizontal(id="filter-bar"):
                yield Static("filter /", id="filter-label")
                yield Input(
                    placeholder="regex · enter keep · esc clear", id="filter-input", compact=True
                )
                yield Static("", id="filter-error")
            yield self.log
        yield self.alert_bar
        yield KeysFooter(compact=True)
