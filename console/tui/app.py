"""The live console: sources run as workers, and a clock hands each pane the latest snapshot.

This is the one place where sources meet widgets. Panes never read the recorder: the app takes
a :class:`~console.core.recorder.Snapshot` and gives each pane the immutable pieces it draws.
Drawing is what the console costs, so the app ticks every ``refresh`` seconds and a
:class:`~console.view.pacing.Pacer`, told by the recorder what changed, says what is due on that
tick: new records for the log pane at most twice a second, new samples and the clock once a
second, nothing when nothing changed. Keys act at once. Freezing is "stop handing new
snapshots": while the app's :class:`~console.view.freeze.FreezeState` is frozen the panes keep
showing its snapshot.

Data flows one way: snapshot, then the view models built from it (:mod:`console.view.panes`,
the log index), then the widgets. The app never reads a pane's state back to decide what to
show; the one thing a pane decides itself, whether the log view follows the newest record, it
says with a message. Keys act through plain functions (:mod:`console.tui.actions`, ``keys``,
``freeze``) bound below as the app's actions.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from console.core.clock import Clock
from console.core.config import Config
from console.core.events import SourceState, StatusSample, SystemSample
from console.core.fleet import Fleet
from console.core.recorder import Recorder, Snapshot
from console.parsing.modstatus import request_path
from console.parsing.timeutil import local_zone
from console.tui import actions, alerting, hosts, keys, rewind, show, stack
from console.tui import freeze as freezing
from console.tui.panes import Panes
from console.view.alerts import AlertList
from console.view.filters import LogFilter
from console.view.freeze import FreezeState
from console.view.holds import Hold
from console.view.logindex import LogIndex
from console.view.metrics import InFlight
from console.view.pacing import LOG_EVERY, Pacer, PacerFeed, recorded
from widgets.drawn import set_changed
from widgets.keys import HOST_KEYS, KEYS
from widgets.logview import LogView

if TYPE_CHECKING:
    from console.incident.watch import IncidentWatch
    from console.sources.engine import Engine

#: Builds the sources and the rules once the first frame is on screen: what they import and
#: discover would otherwise keep the screen blank.
Starter = Callable[[], "tuple[Engine, IncidentWatch | None]"]

#: Source kinds that are not logs: they get no number key and no place in the log pane.
NOT_LOGS = frozenset({"mod-status", "system", stack.FPM_KIND, stack.MYSQL_KIND})


class LamptopApp(App[int]):
    """Header, scoreboard with requests in flight, memory, and every log interleaved."""

    CSS_PATH = "lamptop.tcss"
    TITLE = "lamptop"
    BINDINGS: ClassVar[list[BindingType]] = [*KEYS, *HOST_KEYS]
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

    log_filter: reactive[LogFilter] = reactive(LogFilter, repaint=False, init=False)
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
        fleet: Fleet | None = None,
        start: Starter | None = None,
    ) -> None:
        super().__init__()
        self.recorder = recorder
        self.config = config or Config()
        """Remapped keys come from ``[keys]`` in the config file."""
        self.engine = engine
        self.clock: Clock = clock or recorder.clock
        self.title_note = title_note
        self.incidents = incidents
        """Spike rules and bundle writing; None where nothing can be saved."""
        self.start = start
        """Makes :attr:`engine` and :attr:`incidents` after the first frame (``lamptop``)."""
        self.freeze = FreezeState(bundle)
        """Live or pinned to one snapshot; ``bundle``: (snapshot, what it is) of a saved bundle
        shown read-only (``lamptop open``)."""
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
        self.holds: tuple[Hold, ...] = ()
        """Busy PHP requests joined with their worker and query (:mod:`console.view.holds`)."""
        self.view = "workers"
        """What the top-left pane shows: ``workers``, ``php-fpm`` or ``mysql`` (``w``)."""
        self.suspect = ""
        """The likely culprit in a few words while in trouble (:mod:`console.view.suspects`)."""
        self.suspect_at = datetime.min.replace(tzinfo=UTC)
        """When the suspect was last worked out."""
        self.rule_fired_at: datetime | None = None
        self.alerts = AlertList()
        """Every alert of the session, newest first: the bar shows the newest, ``a`` all."""
        self.status_problem: SourceState | None = None
        """The status source's state when it is not ok, as last shown."""
        self.panes = Panes(self.log_index)
        self.pacer = Pacer(log_every=max(LOG_EVERY, self.config.refresh))
        """What the recorder changed and when it is due on screen."""
        self.wall: Callable[[], float] = time.time
        """The wall clock the pacer counts half-seconds and seconds on."""
        self._samples_shown: tuple[StatusSample | None, SystemSample | None] | None = None
        self._tick_queued = False
        self.rewind_queued = False
        """A rewound instant waits to be shown (:mod:`console.tui.rewind`)."""
        self._source_workers: dict[Worker[Any], str] = {}
        self._status_path = "/server-status"
        self.fleet = fleet
        """The hosts followed (``--remote``); None: this host alone (:mod:`console.tui.hosts`)."""
        self.host_shown = ""
        """The host whose samples the panes show (``*``: all); ``""`` with one host."""

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield from self.panes.compose()

    def on_mount(self) -> None:
        panes = self.panes
        self.set_keymap(dict(self.config.keys))
        panes.workers.border_title = "workers"
        panes.memory.border_title = "memory"
        log = panes.log
        log.zone = self.zone
        log.redacted = panes.table.redacted = self.config.redact
        panes.fpm.redacted = panes.mysql.redacted = self.config.redact
        panes.header.zone, panes.header.note = self.zone, self.title_note
        panes.header.host = self.host
        feed = PacerFeed(self.pacer, self._recorder_changed, recorded(self.recorder))
        self.recorder.subscribe(feed)
        hosts.attach(self)
        if self.start is None:
            self._start_sources()
            self._start_incidents()
        else:  # after the frame in which the footer shows its keys (built after the first)
            self.call_after_refresh(self.call_after_refresh, self._start_later)
        log.focus()
        self.refresh_panes()
        self.set_interval(self.config.refresh, self.tick, name="tick")

    def _start_later(self) -> None:
        """The first frame is on screen: build the sources and rules, start them."""
        if self.start is None or not self.is_running:
            return
        self.engine, self.incidents = self.start()
        self.start = None
        self._start_incidents()  # first: the rules see the first records
        self._start_sources()

    # -- sources -----------------------------------------------------------------------------------
    def _start_incidents(self) -> None:
        incidents = self.incidents
        if incidents is None:
            return
        incidents.on_trigger = partial(alerting.rule_fired, self)
        incidents.on_saved = partial(alerting.saved, self)
        incidents.screen = self.export_screenshot
        incidents.filter_desc = lambda: self.log_filter.as_dict()
        incidents.take = partial(hosts.take, self)
        self.run_worker(incidents.run(), name="incidents", group="incidents", exit_on_error=False)

    def _start_sources(self) -> None:
        engine = self.engine
        if engine is None:
            self.panes.board.note = "no status source"
            return
        if not engine.plan.status_url:
            self.panes.board.note = "no mod_status URL found: give --status URL"
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
        if not self.is_running or not self.panes.log.is_attached:
            return
        self.recorder.release()
        due = self.pacer.due(self.wall())
        if self.freeze.frozen:
            if due.second:
                self.show_freeze()
            return
        if due.snapshot:
            snap = self.live_snapshot = self.shown_snapshot = hosts.take(self)
            self._find_log_sources(snap)
            if due.logs:
                self._show_logs(snap)
            if due.samples:
                self._show_samples(snap)
        if due.second or due.samples:
            self._show_second()

    def refresh_panes(self) -> None:
        """Take a snapshot and show all of it now; while frozen, show the frozen one."""
        if not self.is_running or not self.panes.log.is_attached:
            return
        live = self.live_snapshot = hosts.take(self)
        seen = bool(live.status or live.system)
        self.pacer.shown(self.wall(), records=bool(live.records), samples=seen)
        frozen = self.freeze.snapshot
        self.show_snapshot(frozen if frozen is not None else live)

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
        set_changed(self.panes.log, "sources", self.log_sources)
        set_changed(self.panes.bar, "sources", self.log_sources)
        hosts.sources(self, snap)

    def _show_logs(self, snap: Snapshot) -> None:
        self.panes.log.records_synced(self.log_index.sync(snap.records))

    def _show_samples(self, snap: Snapshot) -> None:
        hosts.samples(self, snap)

    def _show_second(self) -> None:
        show.second(self)
        hosts.second(self)

    def show_freeze(self) -> None:
        """The header's word and the banner: when the screen was frozen, what arrived since."""
        show.freeze(self)

    def update_titles(self) -> None:
        """The panes' titles: the filter, counts, the suspect, the hidden panes."""
        show.titles(self)

    # -- the filter and the log pane ---------------------------------------------------------------
    def watch_log_filter(self, log_filter: LogFilter) -> None:
        self.log_index.set_filter(log_filter)
        self.panes.log.relayout()
        self.panes.bar.hidden = log_filter.hidden
        self.update_titles()

    def on_log_view_follow_changed(self, event: LogView.FollowChanged) -> None:
        self.log_following = event.follow
        self.update_titles()

    # -- keys --------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return keys.allowed(self, action)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from keys.system_commands(self, screen)

    on_key = keys.typed_early
    action_help = keys.show_help
    action_freeze = freezing.toggle
    action_save = freezing.save
    action_rewind = rewind.step
    action_rewind_by = rewind.jump
    action_alerts = alerting.show_list
    action_open_filter = actions.open_filter
    action_clear_filter = actions.clear_filter
    action_toggle_source = actions.toggle_source
    action_cycle_level = actions.cycle_level
    action_http_errors = actions.http_errors
    action_toggle_expand = actions.toggle_expand
    action_follow = actions.follow
    on_input_changed = actions.filter_typed
    on_input_submitted = actions.filter_submitted
    on_in_flight_table_pinned = actions.pin_request
    on_log_view_selected = actions.open_record
    action_next_view = stack.next_view
    on_row_table_chosen = stack.chosen
    action_next_host = hosts.next_host
    action_all_hosts = hosts.all_hosts
