"""``lamptop record --stream``: what this host sees, as the stream a remote console reads.

The stream (docs/stream.md, :mod:`console.core.wire`) goes to stdout; the human lines of
``record`` go to stderr. The rules and bundles run here as in ``record``: each fire is sent as
an ``alert``, and again with the bundle's path once it is saved.

Bounds, so that a busy host or a slow link costs records, never memory or a frozen recorder:

* records are sent in batches, every :data:`BATCH_EVERY` seconds or :data:`BATCH_MAX` records;
* at most ``max_records`` records and ``max_bytes`` bytes a second (a budget of one second
  that refills): over it, the newest records are kept and a ``dropped`` line says how many
  older ones were cut;
* stdout is written without blocking (:class:`~console.commands.outpipe.OutPipe`): what a
  slow reader leaves in the buffer past its limit is dropped and counted the same way;
* a reader that goes away (the ssh connection closed) ends the run cleanly.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO, cast

from console import __version__
from console.commands.outpipe import OutPipe, QuietText, quiet_exit_streams
from console.commands.record import record
from console.core.clock import SYSTEM_CLOCK, Clock
from console.core.config import Config
from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.fleet import RemoteAlert
from console.core.stack import FpmSample, MysqlSample
from console.core.text import clean
from console.core.wire import HEARTBEAT, STREAM_VERSION, StreamHeader, header_line, records_line
from console.core.wire_events import (
    alert_line,
    dropped_line,
    fpm_line,
    heartbeat_line,
    mysql_line,
    state_line,
    status_line,
    system_line,
)
from console.incident.rules import Trigger
from console.incident.watch import Saved

BATCH_EVERY = 0.25
"""Seconds between record batches."""
BATCH_MAX = 1_000
"""Records in one batch line; more are sent at once, in several lines."""
MAX_RECORDS = 5_000
"""Records a second, by default."""
MAX_BYTES = 2_000_000
"""Bytes a second, by default (about 5,000 access-log records)."""


class StreamTap:
    """A :class:`~console.commands.tap.Tap` writing the stream to ``out``."""

    def __init__(
        self,
        out: OutPipe,
        *,
        hostname: str | None = None,
        max_records: int = MAX_RECORDS,
        max_bytes: int = MAX_BYTES,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.out = out
        self.clock = clock
        self.hostname = clean(hostname if hostname is not None else socket.gethostname())
        self.started: datetime = clock.now()
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.pending: deque[LogRecord] = deque()
        self.dropped = 0
        """Records cut and not yet told in a ``dropped`` line."""
        self.dropped_total = 0
        self.sent_records = 0
        self.sent_bytes = 0
        self._early: list[bytes] | None = []
        """Lines made before the header was written (sources start with the tap)."""
        self._records_budget = float(max_records)
        self._bytes_budget = float(max_bytes)
        self._budget_at = clock.monotonic()

    # -- writing --------------------------------------------------------------------------
    def _send(self, line: str) -> bool:
        data = line.encode("utf-8", "backslashreplace") + b"\n"
        if self._early is not None:
            if len(self._early) < 10_000:
                self._early.append(data)
                return True
            return False
        if self.out.write(data):
            self.sent_bytes += len(data)
            return True
        return False

    def _refill(self) -> None:
        now = self.clock.monotonic()
        elapsed, self._budget_at = max(now - self._budget_at, 0.0), now
        self._records_budget = min(
            float(self.max_records), self._records_budget + elapsed * self.max_records
        )
        self._bytes_budget = min(
            float(self.max_bytes), self._bytes_budget + elapsed * self.max_bytes
        )

    def flush(self) -> None:
        """Send the pending records within the budget, the newest first kept."""
        if self._early is not None or (not self.pending and not self.dropped):
            return
        self._refill()
        records = list(self.pending)
        self.pending.clear()
        keep = min(len(records), int(self._records_budget))
        cut = len(records) - keep
        records = records[cut:]
        lines: list[tuple[str, int]] = []
        for end in range(len(records), 0, -BATCH_MAX):  # newest chunk first
            chunk = records[max(end - BATCH_MAX, 0) : end]
            line = records_line(chunk)
            if len(line) + 1 > self._bytes_budget:
                fit = int(len(chunk) * self._bytes_budget / (len(line) + 1))
                cut += max(end - BATCH_MAX, 0) + len(chunk) - fit
                if fit > 0:
                    line = records_line(chunk[-fit:])
                    lines.append((line, fit))
                    self._bytes_budget = max(self._bytes_budget - len(line) - 1, 0.0)
                break
            lines.append((line, len(chunk)))
            self._bytes_budget -= len(line) + 1
        self.dropped += cut
        self._records_budget -= sum(n for _, n in lines)
        if self.dropped and self._send(dropped_line(self.dropped)):
            self.dropped_total += self.dropped
            self.dropped = 0
        for line, n in reversed(lines):
            if self._send(line):
                self.sent_records += n
            else:
                self.dropped += n

    # -- what the recorder and the rules tell -------------------------------------------------
    def on_records(self, batch: tuple[LogRecord, ...]) -> None:
        self.pending.extend(batch)
        if len(self.pending) > self.max_records * 2:  # nothing sends: keep only the newest
            over = len(self.pending) - self.max_records
            for _ in range(over):
                self.pending.popleft()
            self.dropped += over
        elif len(self.pending) >= BATCH_MAX:
            self.flush()

    def on_status(self, sample: StatusSample) -> None:
        self._send(status_line(sample))

    def on_system(self, sample: SystemSample) -> None:
        self._send(system_line(sample))

    def on_fpm(self, sample: FpmSample) -> None:
        self._send(fpm_line(sample))

    def on_mysql(self, sample: MysqlSample) -> None:
        self._send(mysql_line(sample))

    def on_state(self, state: SourceState) -> None:
        self._send(state_line(state))

    def on_trigger(self, t: Trigger, outcome: str, joined: bool = False) -> None:
        if t.kind == "rule":  # not the last bundle of --bundle-on-exit
            self._send(alert_line(RemoteAlert(t.at, t.rule or t.kind, t.message)))

    def on_saved(self, s: Saved) -> None:
        t = s.trigger
        if s.path is not None and t.kind == "rule":
            self._send(alert_line(RemoteAlert(t.at, t.rule or t.kind, t.message, str(s.path))))

    # -- the run ------------------------------------------------------------------------------
    async def run(self, sources: Sequence[str], stop: asyncio.Event) -> None:
        """The header, then batches and heartbeats until cancelled; ``stop`` set when the
        reader went away."""
        await self.out.open()
        early, self._early = self._early or [], None
        names = tuple(sources)
        self._send(
            header_line(
                StreamHeader(STREAM_VERSION, __version__, self.hostname, self.started, names)
            )
        )
        for data in early:
            self.out.write(data)
        beat = self.clock.monotonic()
        while not self.out.closed.is_set():
            await asyncio.sleep(BATCH_EVERY)
            self.flush()
            if self.clock.monotonic() - beat >= HEARTBEAT:
                beat = self.clock.monotonic()
                self._send(heartbeat_line(self.clock.now()))
        stop.set()

    async def close(self) -> None:
        self.flush()
        await self.out.close()


def run_stream(cfg: Config, *, duration: float | None, bundle_on_exit: bool) -> int:
    """``lamptop record --stream``: the stream on stdout, the human lines on stderr."""
    tap = StreamTap(OutPipe(1))
    err = QuietText(sys.stderr)
    try:
        return asyncio.run(
            record(
                cfg,
                duration=duration,
                bundle_on_exit=bundle_on_exit,
                out=cast(TextIO, err),
                taps=[tap],
            )
        )
    finally:
        quiet_exit_streams()
