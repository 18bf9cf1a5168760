"""The live console: sources run as workers, and a timer hands each pane the latest snapshot.

This is the one place where sources meet widgets. Panes never read the recorder: every
``refresh`` seconds the app takes a :class:`~console.recorder.Snapshot` and gives each pane
the immutable pieces it draws. Freezing is "stop handing new snapshots": while
:attr:`LamptopApp.frozen` is true the panes keep showing :attr:`LamptopApp.frozen_snapshot`.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive, var
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from console.config import Config
from console.engine import Engine
from console.events import SourceState
from console.filters import FilterError, LogFilter, redact
from console.flight import FlightRecorder, Saved
from console.metrics import in_flight, problems, request_path, status_state
from console.parsing.timeutil import local_zone
from console.recorder import Recorder, Snapshot
from console.rules import Trigger
from widgets.banner import FrozenBanner
from widgets.detail import DetailScreen
from widgets.header import HeaderBar
from widgets.help import HelpRow, HelpScreen, help_rows
from widgets.inflight import InFlightTable
from widgets.keys import KEYS, MAIN_ONLY
from widgets.logview import LogView
from widgets.memory import MemoryView
from widgets.scoreboard import ScoreboardView
from widgets.sourcebar import SourceBar

#: Source kinds that are not logs: they get no number key and no place in the log pane.
NOT_LOGS = frozenset({"mod-status", "system"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class LamptopApp(App[int]):
    """Header, scoreboard with requests in flight, memory, and every log interleaved."""

    CSS_PATH = "lamptop.tcss"
    TITLE = "lamptop"
    BINDINGS: ClassVar[list[BindingType]] = KEYS
    HORIZONTAL_BREAKPOINTS = [
        (0, "-cramped"),
        (60, "-narrow"),
        (120, "-wide"),
    ]
    VERTICAL_BREAKPOINTS = [
        (0, "-tiny"),
        (20, "-short"),
        (36, "-tall"),
    ]

    frozen: reactive[bool] = reactive(False)
    """The panes show :attr:`frozen_snapshot` instead of live data."""
    frozen_snapshot: var[Snapshot | None] = var(None, always_update=True)
    """The snapshot the panes are pinned to while :attr:`frozen`."""
    log_filter: reactive[LogFilter] = reactive(LogFilter)
    """What the log pane shows."""

    def __init__(
        self,
        recorder: Recorder,
        *,
        config: Config | None = None,
        engine: Engine | None = None,
        clock: Callable[[], datetime] | None = None,
        title_note: str = "",
        flight: FlightRecorder | None = None,
        bundle: tuple[Snapshot, str] | None = None,
    ) -> None:
        super().__init__()
        self.recorder = recorder
        self.config = config or Config()
        self.engine = engine
        self.clock = clock or utcnow
        self.title_note = title_note
        self.flight = flight
        """Spike rules and bundle writing; None where nothing can be saved."""
        self.bundle = bundle
        """(snapshot, what it is) of a saved bundle shown read-only (``lamptop open``)."""
        self.zone = local_zone(self.config.timezone)
        self.host = platform.node()
        self.live_snapshot: Snapshot | None = None
        """The latest snapshot taken, frozen or not."""
        self.shown_snapshot: Snapshot | None = None
        """The snapshot the panes show."""
        self.log_sources: tuple[str, ...] = ()
        """Log sources in number-key order."""
        self._source_workers: dict[Worker[Any], str] = {}
        self._status_path = "/server-status"
        if engine is not None and engine.plan.status_url:
            self._status_path = request_path(f"GET {engine.plan.status_url}") or self._status_path

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        yield FrozenBanner(id="banner")
        with Horizontal(id="top"):
            with Vertical(id="workers-pane"):
                yield ScoreboardView(id="scoreboard")
                yield InFlightTable(id="inflight")
            yield MemoryView(id="memory")
        with Vertical(id="logs-pane"):
            yield SourceBar(id="sourcebar")
            with Horizontal(id="filter-bar"):
                yield Static("filter /", id="filter-label")
                yield Input(
                    placeholder="regex · enter keep · esc clear", id="filter-input", compact=True
                )
                yield Static("", id="filter-error")
            yield LogView(id="log")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._header = self.query_one(HeaderBar)
        self._board = self.query_one(ScoreboardView)
        self._table = self.query_one(InFlightTable)
        self._memory = self.query_one(MemoryView)
        self._bar = self.query_one(SourceBar)
        self._logs = self.query_one(LogView)
        self.set_keymap(dict(self.config.keys))
        self._logs_pane = self.query_one("#logs-pane")
        self._workers_pane = self.query_one("#workers-pane")
        self._workers_pane.border_title = "workers"
        self._memory.border_title = "memory"
        log = self._logs
        log.zone = self.zone
        log.redacted = self._table.redacted = self.config.redact
        self._header.zone, self._header.note = self.zone, self.title_note
        self._header.host = self.host
        if self.engine is None:
            self._board.note = "no status source"
        elif not self.engine.plan.status_url:
            self._board.note = "no mod_status URL found: give --status URL"
        if self.engine is not None:
            for name, run in self.engine.runners():
                worker: Worker[None] = self.run_worker(
                    run(), name=f"source {name}", group="sources", exit_on_error=False
                )
                self._source_workers[worker] = name
        if self.flight is not None:
            flight = self.flight
            flight.on_trigger, flight.on_saved = self._rule_fired, self._saved
            flight.screen = self.export_screenshot
            flight.filter_desc = self._filter_desc
            self.run_worker(flight.run(), name="flight", group="flight", exit_on_error=False)
        if self.bundle is not None:
            snap, what = self.bundle
            self.frozen_snapshot, self.frozen = snap, True
            banner = self.query_one(FrozenBanner)
            banner.word, banner.text = "BUNDLE", f"{what} · read-only · q quits"
        log.focus()
        self.refresh_panes()
        self.set_interval(self.config.refresh, self.refresh_panes, name="snapshot")

    # -- sources -----------------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        name = self._source_workers.get(event.worker)
        if name is None or event.state not in (WorkerState.ERROR, WorkerState.SUCCESS):
            return
        error = event.worker.error
        why = f"{type(error).__name__}: {error}" if error is not None else "it ended"
        previous = self.recorder.states.get(name)
        self.recorder.set_state(
            SourceState(
                ts=self.clock(),
                source=name,
                kind=previous.kind if previous else "source",
                status="error",
                message=f"source stopped: {why}",
                target=previous.target if previous else "",
            )
        )

    # -- snapshots into panes ----------------------------------------------------------------------
    def refresh_panes(self) -> None:
        """Take a snapshot; show it unless frozen (then show the frozen one)."""
        if not self.is_running or not self._logs.is_attached:
            return
        self.live_snapshot = self.recorder.snapshot()
        snap = self.live_snapshot
        if self.frozen and self.frozen_snapshot is not None:
            snap = self.frozen_snapshot
            if self.bundle is None:
                since = self.live_snapshot.total - snap.total
                at = snap.taken_at.astimezone(self.zone).strftime("%H:%M:%S")
                _set(
                    self.query_one(FrozenBanner),
                    "text",
                    f"at {at} · {since:,} records arrived since · space: live · s: save",
                )
        self.show_snapshot(snap)

    def show_snapshot(self, snap: Snapshot) -> None:
        """Hand every pane its part of ``snap``; unchanged parts are not reassigned."""
        old = self.shown_snapshot
        self.shown_snapshot = snap
        status, system = snap.latest_status, snap.latest_system
        old_status = old.latest_status if old else None
        old_system = old.latest_system if old else None
        self.log_sources = tuple(
            s for s in snap.sources if (st := snap.states.get(s)) is None or st.kind not in NOT_LOGS
        )
        header = self._header
        if status is not old_status or old is None:
            header.status = snap.status[-2:]
        if system is not old_system or old is None:
            header.system = system
            self._memory.samples = snap.system[-400:]
        _set(header, "problems", problems(snap.states.values()))
        now = snap.taken_at if self.frozen else self.clock()
        _set(header, "now", now.replace(microsecond=0))
        if status:
            _set(header, "host", str(status.fields.get("ServerName") or self.host))

        board = self._board
        state = status_state(snap.states)
        problem = state if state is not None and not state.ok else None
        _set(board, "sample", status)
        _set(board, "problem", problem)
        self._workers_pane.set_class(status is None and problem is not None, "-blind")
        age = int((now - status.ts).total_seconds()) if status and problem else None
        _set(board, "age", age)
        table = self._table
        if status is not old_status or system is not old_system or old is None:
            rss = system.rss_by_pid if system else None
            _set(table, "rows", in_flight(status, rss, exclude_path=self._status_path))
        _set(table, "stale", problem is not None)

        log = self._logs
        _set(log, "sources", self.log_sources)
        if old is None or snap.records is not old.records:
            log.records = snap.records
        bar = self._bar
        _set(bar, "sources", self.log_sources)
        _set(bar, "rates", tuple(round(snap.rates.get(s, 0.0), 1) for s in self.log_sources))
        self._update_titles()

    def _update_titles(self) -> None:
        log, pane = self._logs, self._logs_pane
        described = self.log_filter.describe()
        # Small terminals hide panes (lamptop.tcss): say which and the room they need.
        tiny, cramped = (log.screen.has_class(c) for c in ("-tiny", "-cramped"))
        hidden = "workers+memory need 20 rows" if tiny else ""
        title = " · ".join(t for t in ("logs", described, hidden) if t)
        _set(pane, "border_title", title)
        workers = "workers · memory needs 60 cols" if cramped else "workers"
        _set(self._workers_pane, "border_title", workers)
        where = "following" if log.follow else "paused · end follows"
        _set(pane, "border_subtitle", f"{log.shown:,} of {len(log.records):,} · {where}")
        rows = self._table.rows
        _set(self._workers_pane, "border_subtitle", f"{len(rows)} in flight" if rows else "")

    # -- the filter --------------------------------------------------------------------------------
    def watch_log_filter(self, log_filter: LogFilter) -> None:
        if not hasattr(self, "_logs"):
            return  # before mount: the panes start with the default filter
        self._logs.filter = log_filter
        self._bar.hidden = log_filter.hidden
        self._update_titles()

    def action_open_filter(self) -> None:
        bar = self.query_one("#filter-bar")
        bar.add_class("-open")
        field = self.query_one("#filter-input", Input)
        field.value = self.log_filter.text
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        error = self.query_one("#filter-error", Static)
        try:
            self.log_filter = self.log_filter.with_text(event.value)
        except FilterError as exc:
            error.update(str(exc))
            event.input.add_class("-invalid")
            return
        error.update("")
        event.input.remove_class("-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not self.log_filter.text:
            self.query_one("#filter-bar").remove_class("-open")
        self._logs.focus()

    def action_clear_filter(self) -> None:
        self.log_filter = LogFilter()
        field = self.query_one("#filter-input", Input)
        with field.prevent(Input.Changed):
            field.value = ""
        field.remove_class("-invalid")
        self.query_one("#filter-error", Static).update("")
        self.query_one("#filter-bar").remove_class("-open")
        if self.focused is field or self.focused is None:
            self._logs.focus()

    def action_toggle_source(self, number: int) -> None:
        if 1 <= number <= len(self.log_sources):
            self.log_filter = self.log_filter.toggle_source(self.log_sources[number - 1])

    def action_cycle_level(self) -> None:
        self.log_filter = self.log_filter.next_level()

    def action_http_errors(self) -> None:
        self.log_filter = self.log_filter.toggle_http_errors()

    def on_in_flight_table_pinned(self, event: InFlightTable.Pinned) -> None:
        row = event.row
        self.log_filter = self.log_filter.pin(client=row.client, url=row.path, pid=row.pid)
        self._logs.focus()

    # -- the log pane ------------------------------------------------------------------------------
    def action_toggle_expand(self) -> None:
        self._logs.expanded = not self._logs.expanded

    def action_follow(self) -> None:
        self._logs.follow = True
        self._update_titles()

    def on_log_view_selected(self, event: LogView.Selected) -> None:
        self.push_screen(DetailScreen(event.record, self.zone, redacted=self.config.redact))

    # -- freeze and save -------------------------------------------------------------------------
    def watch_frozen(self, frozen: bool) -> None:
        if not frozen and hasattr(self, "_header"):
            self.query_one(FrozenBanner).text = ""
        if hasattr(self, "_header"):
            notes = [self.title_note] if self.title_note else []
            word = "BUNDLE" if self.bundle is not None else "FROZEN"
            self._header.note = " ".join([*notes, word] if frozen else notes)

    def action_freeze(self) -> None:
        """Pin every pane to the latest snapshot, or go back to live."""
        if self.frozen:
            self.frozen = False
            self.frozen_snapshot = None
        elif self.live_snapshot is not None:
            self.frozen_snapshot = self.live_snapshot
            self.frozen = True
        self.refresh_panes()

    async def action_save(self) -> None:
        """Freeze (if live) and save a bundle of what is frozen."""
        if self.flight is None:
            self.notify("nothing can be saved here", severity="warning")
            return
        if not self.frozen:
            self.action_freeze()
        snap = self.frozen_snapshot
        if snap is None:
            return
        self.notify("saving a snapshot…", timeout=2)
        await self.flight.save(Trigger("key", snap.taken_at, message="saved by hand"), snap)

    def _rule_fired(self, trigger: Trigger) -> None:
        message = redact(trigger.message) if self.config.redact else trigger.message
        self.notify(
            f"{message}\nsaving a bundle in {self.flight.tail if self.flight else 0:.0f} s",
            title=f"rule {trigger.rule}",
            severity="warning",
            timeout=10,
        )
        if self.config.snapshot_freeze_on_rule and not self.frozen:
            self.action_freeze()

    def _saved(self, result: Saved) -> None:
        if result.path is not None:
            self.notify(f"{result.path}", title="snapshot saved", timeout=15)
        else:
            self.notify(f"{result.error}", title="snapshot NOT saved", severity="error", timeout=30)

    def _filter_desc(self) -> dict[str, object]:
        f = self.log_filter
        return {
            "regex": f.text,
            "hidden_sources": sorted(f.hidden),
            "min_level": f.min_level,
            "http_errors": f.http_errors,
            "client": f.client,
            "url": f.url,
            "pid": f.pid,
            "described": f.describe(),
        }

    # -- keys, help, command palette ---------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_ONLY and isinstance(self.screen, ModalScreen):
            return False
        if action in ("freeze", "save") and self.bundle is not None:
            return False
        return True

    def key_bindings(self) -> Iterable[tuple[Widget | App[Any] | Screen[Any], Binding]]:
        """The console's own bindings with the node that runs them, in help order."""
        log, table = self._logs, self._table
        seen: set[str] = set()
        for node, bindings in (
            (self, KEYS),
            (log, LogView.BINDINGS),
            (table, InFlightTable.BINDINGS),
        ):
            for binding in bindings:
                if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                    seen.add(binding.id)
                    yield node, binding

    def help_rows(self) -> tuple[HelpRow, ...]:
        """(keys, description, id) of every binding, with keys as remapped by the config."""
        bindings = [b for _, b in self.key_bindings()]
        return help_rows(bindings, self.config.keys, self.get_key_display)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_rows()))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ModalScreen):
            return
        for node, binding in self.key_bindings():
            assert binding.id is not None
            title = binding.tooltip or binding.description
            yield SystemCommand(
                title.capitalize(),
                f"key {binding.key} · id {binding.id}",
                partial(node.run_action, binding.action),
            )


def _set(widget: Widget, name: str, value: object) -> None:
    """Assign a reactive only when the value differs (Textual repaints on every change)."""
    if getattr(widget, name) != value:
        setattr(widget, name, value)
