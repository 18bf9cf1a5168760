"""The likely culprit: which script holds the workers and the memory, with its figures.

The outage lamptop exists for is one PHP script run many times at once, each run eating
memory. The in-flight requests of the newest worker table are grouped by script (the URL path
without its query), each joined with the RSS of the worker serving it, then with what the logs
said in the minute before: the script's requests and 5xx in the access log (and their duration,
when logged), the PHP fatals naming the script, and the Apache error lines of its workers'
PIDs. Ranked by the memory and then the workers a script holds; the first is the suspect.

Pure: samples and records in, :class:`Suspect` values out, for report.md and the screen alike.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from console.core.events import LogRecord, StatusSample, SystemSample, peek_fields
from console.core.stack import FpmSample
from console.parsing.access_build import peek_path
from console.parsing.apache_access import is_own_request
from console.parsing.modstatus import request_path
from console.view.filters import fields_path, fields_status
from console.view.metrics import in_flight

MB = 1024 * 1024
#: How far back the logs are read for a suspect's figures.
MINUTE = timedelta(seconds=60)
#: How late a line may arrive after lines of later times (a request logged when it ends).
LATE = timedelta(seconds=30)
_SCRIPT = re.compile(r"\b(?:in|at) (/\S+?\.php)\b")
_MEMORY = "Allowed memory size"


@dataclass
class Suspect:
    """One script, what it holds now and what the logs said of it in the last minute."""

    path: str
    workers: int = 0
    """Workers serving it now."""
    limit: int = 0
    """Workers the server has (the scoreboard's slots)."""
    rss: int = 0
    """Memory of the processes serving it now, in bytes (each process once)."""
    ram: int = 0
    """Total memory of the machine, for the share."""
    oldest: float = 0.0
    """Seconds the oldest of its requests has run."""
    requests: int = 0
    """Access log requests in the minute before."""
    errors: int = 0
    """Of those, answered with a 5xx."""
    slowest_ms: float | None = None
    """The longest duration logged for it in the minute (``%D``/``%T``), when logged."""
    fatals: int = 0
    """PHP fatal errors naming the script in the minute."""
    memory_fatals: int = 0
    """Of those, "Allowed memory size ... exhausted"."""
    php: int = 0
    """PHP-FPM processes running it now."""
    php_rss: int = 0
    """Of :attr:`rss`, the memory of those PHP-FPM processes."""
    pids: set[int] = field(default_factory=set)

    @property
    def rank(self) -> tuple[int, int, int, int, int]:
        return (
            self.rss,
            max(self.workers, self.php),
            self.memory_fatals + self.fatals,
            self.errors,
            self.requests,
        )

    def line(self) -> str:
        """``/report.php: 9 of 10 workers, 64 MB each, 576 MB = 56 % of RAM; ...``."""
        return f"{self.path}: {self.figures()}"

    def short(self) -> str:
        """For a pane's title: ``suspect /report.php 9/10 576 MB``."""
        held = f" {self.workers}/{self.limit}" if self.workers else ""
        held = held or (f" {self.php} php" if self.php else "")
        mem = f" {self.rss / MB:.0f} MB" if self.rss else ""
        fatal = f" {self.fatals} fatal{'s' if self.fatals != 1 else ''}" if self.fatals else ""
        return f"suspect {self.path}{held}{mem}{fatal}"

    def figures(self) -> str:
        """What it holds and what the logs said of it, in words lamptop wrote."""
        parts: list[str] = []
        if self.workers:
            held = (
                f"{self.workers} of {self.limit} workers"
                if self.limit
                else f"{self.workers} workers"
            )
            rss = self.rss - self.php_rss
            if rss:
                each = rss / max(len(self.pids) - self.php, 1) / MB
                held += f", {each:.0f} MB each, {rss / MB:.0f} MB"
                if self.ram:
                    held += f" = {100 * rss / self.ram:.0f} % of RAM"
            if self.oldest >= 1:
                held += f", oldest {self.oldest:.0f} s"
            parts.append(held)
        if self.php:
            php = f"{self.php} PHP-FPM process{'es' if self.php != 1 else ''}"
            if self.php_rss:
                each = self.php_rss / self.php / MB
                php += f", {each:.0f} MB each, {self.php_rss / MB:.0f} MB"
                if self.ram:
                    php += f" = {100 * self.php_rss / self.ram:.0f} % of RAM"
            parts.append(php)
        minute = f"{self.requests} request{'s' if self.requests != 1 else ''} in the last minute"
        if self.errors:
            minute += f" ({self.errors} answered 5xx)"
        if self.slowest_ms is not None:
            minute += f", slowest {self.slowest_ms / 1000:.1f} s"
        parts.append(minute)
        if self.memory_fatals:
            parts.append(
                f'{self.memory_fatals} "Allowed memory size" fatal'
                f"{'s' if self.memory_fatals != 1 else ''}"
            )
        other = self.fatals - self.memory_fatals
        if other:
            parts.append(f"{other} other PHP fatal{'s' if other != 1 else ''}")
        return "; ".join(parts)


def suspects(
    status: Sequence[StatusSample],
    system: Sequence[SystemSample],
    records: Sequence[LogRecord],
    *,
    at: datetime,
    most: int = 3,
    fpm: Sequence[FpmSample] = (),
) -> list[Suspect]:
    """The scripts most likely behind the trouble at ``at``, most likely first (at most
    ``most``); empty when nothing points at any script. ``fpm``: PHP-FPM pool samples, whose
    busy processes (and their memory: with PHP in php-fpm, that is where it grows) count for
    the script they run."""
    table = next((s for s in reversed(status) if s.extended and s.ts <= at), None)
    table = table or next((s for s in reversed(status) if s.extended), None)
    last_system = next((s for s in reversed(system) if s.rss_by_pid), None)
    rss_by_pid = last_system.rss_by_pid if last_system is not None else {}
    ram = system[-1].mem_total if system else 0
    found: dict[str, Suspect] = {}

    def get(path: str) -> Suspect:
        s = found.get(path)
        if s is None:
            s = found[path] = Suspect(path, limit=table.limit if table else 0, ram=ram)
        return s

    if table is not None:
        own = request_path(f"GET {table.url}")
        for row in in_flight(table, rss_by_pid, exclude_path=own):
            s = get(row.path or row.request)
            s.workers += 1
            s.oldest = max(s.oldest, row.seconds)
            if row.pid is not None and row.pid not in s.pids:
                s.pids.add(row.pid)
                s.rss += row.rss or 0
    pools: dict[tuple[str, str], FpmSample] = {}
    for sample in fpm:
        if sample.ts <= at:
            pools[(sample.source, sample.pool)] = sample
    for sample in pools.values():
        for p in sample.processes:
            if not p.busy:
                continue
            s = get(p.uri.split("?", 1)[0] or p.script)
            s.php += 1
            s.oldest = max(s.oldest, p.duration)
            if p.pid not in s.pids:
                s.pids.add(p.pid)
                s.rss += rss_by_pid.get(p.pid, 0)
                s.php_rss += rss_by_pid.get(p.pid, 0)
    _read_logs(records, at, found, get)
    ranked = sorted(found.values(), key=lambda s: s.rank, reverse=True)
    return [s for s in ranked if s.workers or s.php or s.errors or s.fatals][:most]


def _read_logs(
    records: Sequence[LogRecord],
    at: datetime,
    found: dict[str, Suspect],
    get: Callable[[str], Suspect],
) -> None:
    start = at - MINUTE
    by_name: dict[str, Suspect] = {posixpath.basename(p): s for p, s in found.items()}
    fatal_lines: list[LogRecord] = []
    recent: list[LogRecord] = []
    for r in reversed(records):  # newest first: the minute is at the end of the ring
        if r.ts < start - LATE:
            break
        if start <= r.ts <= at:
            recent.append(r)
    calm = _calm(recent, found)
    for r in recent:
        if r.kind == "apache-access":
            if calm(r):
                continue
            if is_own_request(r):
                continue
            f = peek_fields(r)  # read once: a minute of records is not left made behind
            path = fields_path(f)
            if not path:
                continue
            s = found.get(path)
            code = fields_status(f) or 0
            if s is None and code < 500:
                continue  # calm traffic to a script holding nothing: not a suspect
            s = s or get(path)
            by_name.setdefault(posixpath.basename(path), s)
            s.requests += 1
            s.errors += 1 if code >= 500 else 0
            ms = _duration_ms(f)
            if ms is not None and (s.slowest_ms is None or ms > s.slowest_ms):
                s.slowest_ms = ms
        elif r.level in ("error", "crit") and "Fatal" in r.text:
            fatal_lines.append(r)
    for r in fatal_lines:  # after the access log: a fatal names a file, matched by its name
        m = _SCRIPT.search(r.text) or _SCRIPT.search(" ".join(r.lines[:3]))
        s = by_name.get(posixpath.basename(m.group(1))) if m else None
        if s is None:
            pid = r.fields.get("pid")
            s = next((x for x in found.values() if isinstance(pid, int) and pid in x.pids), None)
        if s is not None:
            s.fatals += 1
            s.memory_fatals += _MEMORY in r.text


#: Paths looked for in raw lines, at most: past that, each line's path is read instead.
_MOST_NEEDLES = 8


def _calm(recent: Sequence[LogRecord], found: Mapping[str, Suspect]) -> Callable[[LogRecord], bool]:
    """A test telling, without making its fields, a lazy access record that
    :func:`_read_logs` would pass over: not a 5xx, and not a path that is or will be a suspect
    (looked for in its raw line, or its path read from the line alone). Most lines of a busy
    log are such calm requests."""
    needles = set(found)
    for r in recent:
        if r.level == "error" and r.kind == "apache-access" and r.expand is not None:
            # a 5xx: its path becomes a suspect (read from the line: its fields are made once,
            # by the caller's loop); an empty path would be found in every line
            path = peek_path(r)
            if path is None:
                path = fields_path(peek_fields(r))
            if path:
                needles.add(path)
    few = tuple(needles) if len(needles) <= _MOST_NEEDLES else None

    def calm(r: LogRecord) -> bool:
        if r.expand is None or r.level == "error":
            return False
        if few is not None:
            raw = r.raw
            return not any(p in raw for p in few)
        path = peek_path(r)
        return path is not None and path not in needles

    return calm


def _duration_ms(f: Mapping[str, Any]) -> float | None:
    for key, scale in (("duration_us", 0.001), ("duration_ms", 1.0), ("duration_s", 1000.0)):
        value = f.get(key)
        if isinstance(value, int | float):
            return float(value) * scale
    return None
