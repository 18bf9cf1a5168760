"""Small test doubles shared by the tests (not a mock of any server)."""

from __future__ import annotations

from collections.abc import Sequence

from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.stack import FpmSample, MysqlSample


class MemorySink:
    """A :class:`console.sources.Sink` that keeps everything it is given, in order."""

    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.status: list[StatusSample] = []
        self.system: list[SystemSample] = []
        self.states: list[SourceState] = []
        self.fpm: list[FpmSample] = []
        self.mysql: list[MysqlSample] = []

    def add_records(self, records: Sequence[LogRecord]) -> None:
        self.records.extend(records)

    def add_status(self, sample: StatusSample) -> None:
        self.status.append(sample)

    def add_system(self, sample: SystemSample) -> None:
        self.system.append(sample)

    def add_fpm(self, sample: FpmSample) -> None:
        self.fpm.append(sample)

    def add_mysql(self, sample: MysqlSample) -> None:
        self.mysql.append(sample)

    def set_state(self, state: SourceState) -> None:
        self.states.append(state)

    def last_state(self, source: str | None = None) -> SourceState | None:
        for st in reversed(self.states):
            if source is None or st.source == source:
                return st
        return None
