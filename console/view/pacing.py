"""When the console draws what: a few frames a second while lines stream in, none when idle.

Drawing, not parsing, is what the console costs: every frame renders and composites again each
pane whose data changed, and a scrolling log pane is every visible row. So the number of frames
sets the cost, not the number of lines. The app ticks a few times a second and asks a
:class:`Pacer` what is due on that tick:

* the log pane, when records were released, at most once per half second (the half-second
  slots of the wall clock, so that one of them falls on the once-a-second beat below);
* the other panes (scoreboard, requests in flight, memory, header figures), when a new sample
  arrived, on the beat: the status and system samples of one second land in one frame;
* the clock, the rates above the logs and the pane titles, on the first tick of each second
  (the widgets repaint only when their text changed);
* the first records of each source (its backfill), the first sample, and any change of a
  source's state, at once: the first screen should not wait for a log read a moment after
  another, and a source going down should show without delay.

Keys never wait for the pacer: the app acts on them at once. Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.recorder import Listener, Recorder
from console.core.stack import FpmSample, MysqlSample

#: Shortest time between two redraws of the log pane while records stream in, seconds.
LOG_EVERY = 0.5


@dataclass(frozen=True, slots=True)
class Due:
    """What one tick should hand to the panes."""

    logs: bool = False
    """New records for the log pane."""
    samples: bool = False
    """New samples or source states for the other panes."""
    second: bool = False
    """A new second: clock, rates, titles."""

    @property
    def snapshot(self) -> bool:
        """A new snapshot is needed (the clock and rates do without one)."""
        return self.logs or self.samples


class Pacer:
    """Collects what changed in the recorder and hands it out on the ticks where it is due."""

    def __init__(self, log_every: float = LOG_EVERY) -> None:
        self.log_every = log_every
        self._records = False
        self._samples = False
        self._states = False
        self._records_shown = False
        self._records_urgent = False
        self._samples_shown = False
        self._log_slot = -1
        self._second = -1

    # Each returns True when what changed should be shown without waiting for the next tick:
    # the first records (of any source), the first sample, a source's new state.
    def records_released(self, new_source: bool = False) -> bool:
        """Records were released; ``new_source``: the first of some source among them."""
        self._records = True
        self._records_urgent = self._records_urgent or new_source
        return new_source or not self._records_shown

    def sample_taken(self) -> bool:
        self._samples = True
        return not self._samples_shown

    def state_changed(self) -> bool:
        self._states = True
        return True

    def due(self, now: float) -> Due:
        """What is due at ``now`` (wall-clock seconds); what it hands out counts as shown."""
        second = math.floor(now)
        beat = second != self._second
        slot = math.floor(now / self.log_every)
        logs = self._records and (
            slot != self._log_slot or not self._records_shown or self._records_urgent
        )
        samples = self._states or (self._samples and (beat or not self._samples_shown))
        if logs:
            self._records, self._records_shown, self._log_slot = False, True, slot
            self._records_urgent = False
        if samples:
            self._samples_shown = self._samples_shown or self._samples
            self._samples = self._states = False
        if beat:
            self._second = second
        return Due(logs=logs, samples=samples, second=beat)

    def shown(self, now: float, *, records: bool, samples: bool) -> None:
        """Everything was just drawn from a fresh snapshot (start, a key, unfreezing);
        ``records`` and ``samples`` say whether it held any."""
        self._records = self._samples = self._states = self._records_urgent = False
        self._records_shown = self._records_shown or records
        self._samples_shown = self._samples_shown or samples
        self._log_slot = math.floor(now / self.log_every)
        self._second = math.floor(now)


class PacerFeed(Listener):
    """Tells a pacer what the recorder changed, and ``changed(now)`` whether it is due at once."""

    def __init__(
        self, pacer: Pacer, changed: Callable[[bool], None], known: Iterable[str] = ()
    ) -> None:
        self.pacer, self.changed = pacer, changed
        self._sources: set[str] = set(known)
        """Sources whose records were released before (``known``: before it listened)."""

    def on_records(self, batch: tuple[LogRecord, ...]) -> None:
        known = self._sources
        new = {r.source for r in batch} - known
        known |= new
        self.changed(self.pacer.records_released(bool(new)))

    def on_status(self, sample: StatusSample) -> None:
        self.changed(self.pacer.sample_taken())

    def on_system(self, sample: SystemSample) -> None:
        self.changed(self.pacer.sample_taken())

    def on_fpm(self, sample: FpmSample) -> None:
        self.changed(self.pacer.sample_taken())

    def on_mysql(self, sample: MysqlSample) -> None:
        self.changed(self.pacer.sample_taken())

    def on_state(self, state: SourceState) -> None:
        self.changed(self.pacer.state_changed())


def recorded(recorder: Recorder) -> list[str]:
    """The sources ``recorder`` has records of already."""
    return [name for name, n in recorder.counts.items() if n]
