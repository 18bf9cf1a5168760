"""The live console: sources run as workers, and a clock hands each pane the latest snapshot.

This is the one place where sources meet widgets. Panes never read the recorder: the app takes
a :class:`~console.core.recorder.Snapshot` and gives each pane the immutable pieces it draws.
Drawing is what the console costs, so the app ticks every ``refresh`` seconds and a
:class:`~console.view.pacing.Pacer`, told by the recorder what changed, says what is due on that
tick: new records for the log pane at most twice a second, new samples and the clock once a
second, nothing when nothing changed. Keys act at once. Freezing is "stop handing new
snapshots": while :attr:`LamptopApp.frozen` is true the panes keep showing
:attr:`LamptopApp.frozen_snapshot`.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from console.core.clock import Clock
from console.core.config import Config
from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.recorder import Listener, Recorder, Snapshot
from console.parsing.modstatus import request_path
from console.parsing.timeutil import local_zone
from console.sources.engine import Engine
from console.tui.freeze import FreezingApp
from console.view.filters import FilterError, LogFilter
from console.view.logindex import LogIndex
from console.view.metrics import InFlight, in_flight, problems, request_rates, status_state
from console.view.pacing import LOG_EVERY, Pacer
from console.view.panes import memory_model, pane_titles
from widgets.banner import FrozenBanner
from widgets.drawn import set_changed
from widgets.footer import KeysFooter
from widgets.header import HeaderBar
from widgets.inflight import InFlightTable
from widgets.logview import LogView
from widgets.memory import MemoryView
from widgets.scoreboard import ScoreboardView
from widgets.sourcebar import SourceBar, rounded_rate

if TYPE_CHECKING:
    from console.incident.watch import IncidentWatch

#: Source kinds that are not logs: they get no number key and no place in the log pane.
NOT_LOGS = frozenset({"mod-status", "system"})


class LamptopApp(FreezingApp):
    """Header, scoreboard with requests in flight, memory, and every log interleaved."""

    CSS_PATH = "lamptop.tcss"
    TITLE = "lamptop"
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

    log_filter: reactive[LogFilter] = reactive(LogFilter, repaint=False)
    """What the log pane shows (no repaint of its own: the panes repaint what changes)."""

    def __init__(
        self,
        recorder: Recorder,
        *,
        config: Config | None = None,
        engine: Engine | None = None,
        clock: Clock | None = None,
        title_note: str = "",
        incidents: IncidentWatch | None = None,
        bundle: tuple[Snapshot, str] | None = None,
    ) -> None:
        super().__init__()
        self.recorder = recorder
        self.config = config or Config()
        self.engine = engine
        self.clock: Clock = clock or recorder.clock
        self.title_note = title_note
        self.incidents = incidents
        self.bundle = bundle
        """(snapshot, what it is) of a saved bundle shown read-only (``lamptop open``)."""
        self.zone = local_zone(self.config.timezone)
        self.host = platform.node()
        self.live_snapshot: Snapshot | None = None
        """The latest snapshot taken, frozen or not."""
        self.shown_snapshot: Snapshot | None = None
        """The snapshot the panes were last handed data from."""
        self.log_sources: tuple[str, ...] = ()
        """Log sources in number-key order."""
        self.log_index = LogIndex()
        """The records the log pane shows: those of the shown snapshot that pass the filter."""
        self.log_following = True
        """The log pane keeps the newest record in view (it says when that changes)."""
        self.in_flight: tuple[InFlight, ...] = ()
        """The requests in flight the requests table was last handed."""
        self.status_problem: SourceState | None = None
        """The status source's state when it is not ok, as last shown."""
        self.pacer = Pacer(log_every=max(LOG_EVERY, self.config.refresh))
        """What the recorder changed and when it is due on screen."""
        self.wall: Callable[[], float] = time.time
        """The wall clock the pacer counts half-seconds and seconds on."""
        self._samples_shown: tuple[StatusSample | None, SystemSample | None] | None = None
        self._tick_queued = False
        self._source_workers: dict[Worker[Any], str] = {}
        self._status_path = "/server-status"

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
            yield LogView(self.log_index, id="log")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self._header = self.query_one(HeaderBar)
        self._board = self.query_one(ScoreboardView)
        self._table = self.query_one(InFlightTable)
        self._memory = self.query_one(MemoryView)
        self._bar = self.query_one(SourceBar)
        self._logs = self.query_one(LogView)
        self._banner = self.query_one(FrozenBanner)
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
        self.recorder.subscribe(_PacerFeed(self.pacer, self._recorder_changed))
        self._start_sources()
        if self.incidents is not None:
            incidents = self.incidents
            incidents.on_trigger, incidents.on_saved = self._rule_fired, self._saved
            incidents.screen = self.export_screenshot
            incidents.filter_desc = lambda: self.log_filter.as_dict()
            self.run_worker(
                incidents.run(), name="incidents", group="incidents", exit_on_error=False
            )
        if self.bundle is not None:
            snap, what = self.bundle
            self.frozen_snapshot, self.frozen = snap, True
            self._banner.word, self._banner.text = "BUNDLE", f"{what} · read-only · q quits"
        log.focus()
        self.refresh_panes()
        self.set_interval(self.config.refresh, self.tick, name="tick")

    # -- sources -----------------------------------------------------------------------------------
    def _start_sources(self) -> None:
        engine = self.engine
        if engine is None:
            self._board.note = "no status source"
            return
        if not engine.plan.status_url:
            self._board.note = "no mod_status URL found: give --status URL"
        else:
            self._status_path = request_path(f"GET {engine.plan.status_url}") or self._status_path
        for name, run in engine.supervised():
            worker: Worker[None] = self.run_worker(
                run(), name=f"source {name}", group="sources", exit_on_error=False
            )
            self._source_workers[worker] = name

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        name = self._source_workers.get(event.worker)
        if name is None or event.state not in (WorkerState.ERROR, WorkerState.SUCCESS):
            return
        error = event.worker.error
        why = f"{type(error).__name__}: {error}" if error is not None else "it ended"
        previous = self.recorder.states.get(name)
        self.recorder.set_state(
            SourceState(
                ts=self.clock.now(),
                source=name,
                kind=previous.kind if previous else "source",
                status="error",
                message=f"source stopped: {why}",
                target=previous.target if previous else "",
            )
        )

    def _recorder_changed(self, now: bool) -> None:
        """The recorder changed; ``now``: the pacer wants it shown before the next tick."""
        if now and not self._tick_queued and self.is_running:
            self._tick_queued = True  # the first records or sample, a state: now, not next tick
            self.call_later(self.tick)

    # -- snapshots into panes ----------------------------------------------------------------------
    def tick(self) -> None:
        """Hand the panes what the pacer says is due now (nothing, when nothing changed)."""
        self._tick_queued = False
        if not self.is_running or not self._logs.is_attached:
            return
        self.recorder.release()
        due = self.pacer.due(self.wall())
        if self.frozen:
            if due.second:
                self.show_frozen_note()
            return
        if due.snapshot:
            snap = self.live_snapshot = self.shown_snapshot = self.recorder.snapshot()
            self._find_log_sources(snap)
            if due.logs:
                self._show_logs(snap)
            if due.samples:
                self._show_samples(snap)
        if due.second or due.samples:
            self._show_second()

    def refresh_panes(self) -> None:
        """Take a snapshot and show all of it now; while frozen, show the frozen one."""
        if not self.is_running or not self._logs.is_attached:
            return
        live = self.live_snapshot = self.recorder.snapshot()
        seen = bool(live.status or live.system)
        self.pacer.shown(self.wall(), records=bool(live.records), samples=seen)
        snap = live
        if self.frozen and self.frozen_snapshot is not None:
            snap = self.frozen_snapshot
        self.show_snapshot(snap)

    def show_snapshot(self, snap: Snapshot) -> None:
        """Hand every pane its part of ``snap``; unchanged parts are not reassigned."""
        self.shown_snapshot = snap
        self._find_log_sources(snap)
        self._show_logs(snap)
        self._show_samples(snap)
        self._show_second()

    def _find_log_sources(self, snap: Snapshot) -> None:
        self.log_sources = tuple(
            s for s in snap.sources if (st := snap.states.get(s)) is None or st.kind not in NOT_LOGS
        )
        set_changed(self._logs, "sources", self.log_sources)
        set_changed(self._bar, "sources", self.log_sources)

    def _show_logs(self, snap: Snapshot) -> None:
        self._logs.records_synced(self.log_index.sync(snap.records))

    def _show_samples(self, snap: Snapshot) -> None:
        """Header figures, scoreboard, requests in flight and memory: what changed."""
        status, system = snap.latest_status, snap.latest_system
        old_status, old_system = self._samples_shown or (None, None)
        first = self._samples_shown is None
        self._samples_shown = (status, system)
        header = self._header
        if status is not old_status or first:
            header.status = status
            header.rates = request_rates(snap.status[-2] if len(snap.status) > 1 else None, status)
        if system is not old_system or first:
            header.system = system
            self._memory.model = memory_model(snap.system[-400:])
        set_changed(header, "problems", problems(snap.states.values()))
        if status:
            set_changed(header, "host", str(status.fields.get("ServerName") or self.host))
        board = self._board
        state = status_state(snap.states)
        problem = self.status_problem = state if state is not None and not state.ok else None
        set_changed(board, "sample", status)
        set_changed(board, "problem", problem)
        self._workers_pane.set_class(status is None and problem is not None, "-blind")
        table = self._table
        if status is not old_status or system is not old_system or first:
            rss = system.rss_by_pid if system else None
            self.in_flight = in_flight(status, rss, exclude_path=self._status_path)
            set_changed(table, "rows", self.in_flight)
        set_changed(table, "stale", problem is not None)

    def _show_second(self) -> None:
        """The clock, the age of a stale scoreboard, the rates and the titles."""
        snap = self.shown_snapshot
        frozen = self.frozen and snap is not None
        now = snap.taken_at if frozen and snap is not None else self.clock.now()
        set_changed(self._header, "now", now.replace(microsecond=0))
        status = snap.latest_status if snap is not None else None
        age = None
        if status is not None and self.status_problem is not None:
            age = int((now - status.ts).total_seconds())
        set_changed(self._board, "age", age)
        rates = snap.rates if frozen and snap is not None else self.recorder.rates()
        shown = tuple(rounded_rate(rates.get(s, 0.0)) for s in self.log_sources)
        set_changed(self._bar, "rates", shown)
        self._update_titles()
        if frozen:
            self.show_frozen_note()

    def _update_titles(self) -> None:
        # Small terminals hide panes (lamptop.tcss): the titles say which and the room they need.
        screen = self._logs.screen
        titles = pane_titles(
            self.log_filter,
            shown=len(self.log_index),
            total=len(self.log_index.ring),
            following=self.log_following,
            in_flight=len(self.in_flight),
            tiny=screen.has_class("-tiny"),
            cramped=screen.has_class("-cramped"),
        )
        logs, workers = self._logs_pane, self._workers_pane
        set_changed(logs, "border_title", titles.logs)
        set_changed(workers, "border_title", titles.workers)
        set_changed(logs, "border_subtitle", titles.logs_sub)
        set_changed(workers, "border_subtitle", titles.workers_sub)

    # -- the filter --------------------------------------------------------------------------------
    def watch_log_filter(self, log_filter: LogFilter) -> None:
        if not hasattr(self, "_logs"):
            return  # before mount: the panes start with the default filter
        self.log_index.set_filter(log_filter)
        self._logs.relayout()
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
        self.log_index.set_expanded(not self.log_index.expanded)
        self._logs.relayout()

    def action_follow(self) -> None:
        self._logs.follow = True

    def on_log_view_follow_changed(self, event: LogView.FollowChanged) -> None:
        self.log_following = event.follow
        self._update_titles()

    def on_log_view_selected(self, event: LogView.Selected) -> None:
        from widgets.detail import DetailScreen  # on first use: the first frame does without

        self.push_screen(DetailScreen(event.record, self.zone, redacted=self.config.redact))


class _PacerFeed(Listener):
    """Tells the pacer what the recorder changed, and the app when it is due at once."""

    def __init__(self, pacer: Pacer, changed: Callable[[bool], None]) -> None:
        self.pacer, self.changed = pacer, changed

    def on_records(self, batch: tuple[LogRecord, ...]) -> None:
        self.changed(self.pacer.records_released())

    def on_status(self, sample: StatusSample) -> None:
        self.changed(self.pacer.sample_taken())

    def on_system(self, sample: SystemSample) -> None:
        self.changed(self.pacer.sample_taken())

    def on_state(self, state: SourceState) -> None:
        self.changed(self.pacer.state_changed())
