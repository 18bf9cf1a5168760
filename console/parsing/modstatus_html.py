"""mod_status's HTML page: the summary, the scoreboard, the worker and per-process tables.

Pure functions over the ``server-status`` page (no ``?auto``). The markup is read by
:mod:`console.parsing.modstatus_markup` (a regular-expression scan; :mod:`html.parser` has the
last word on pages that do not look like mod_status's), and the tables' columns are found by
header name, so a release that drops, adds or reorders a column still parses: 2.4.71 prints
``Srv PID Acc M CPU SS Req Dur Conn Child Slot Client Protocol VHost Request``, older releases
lack ``Protocol`` and ``Dur``; the event per-process table spans two header rows (``Threads``
over ``busy graceful idle``), and older releases lack ``graceful`` and ``wait-io``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from console.core.events import ProcessRow, Worker
from console.parsing.modstatus_markup import Cell, Page, scan

#: Scoreboard characters of slots that hold a request or a connection (``.`` and ``_`` do not).
BUSY_CHARS = "WRKDCLGSI"

_INT = re.compile(r"^[-+]?\d+$")
_FLOAT = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


class NotModStatus(ValueError):
    """The text is not a mod_status page (an HTML page of something else, or garbage)."""


def number(text: str) -> int | float | str:
    """``"12"`` to 12, ``".55"`` to 0.55, ``"0.e+79"`` to 0.0; anything else unchanged."""
    t = text.strip()
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        value = float(t)
        if math.isfinite(value):
            return value
    return text


MAX_SLOTS = 65_536
"""Most scoreboard slots (and worker rows) a sample may hold: Apache's ServerLimit times
ThreadLimit stays far below it; a page claiming more is refused, not stored."""


def _header_names(rows: list[list[Cell]]) -> tuple[list[str], int]:
    """Flatten the leading header rows (rowspan/colspan) to one name per column.

    A spanning group's name prefixes the names below it: ``Threads`` over ``busy`` gives
    ``threads busy``. Returns the names and how many rows were headers.
    """
    names: list[list[str]] = []
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    nrows = 0
    for row in rows:
        if not row or not all(c.header for c in row):
            break
        col = 0
        for cell in row:
            while pending.get(col, 0) > 0:
                col += 1
            for k in range(cell.colspan):
                while len(names) <= col + k:
                    names.append([])
                names[col + k].append(cell.text.lower())
                if cell.rowspan > 1:
                    pending[col + k] = cell.rowspan
            col += cell.colspan
        for key in list(pending):
            pending[key] -= 1
            if pending[key] <= 0:
                del pending[key]
        nrows += 1
    return [" ".join(parts) for parts in names], nrows


def _int(text: str, default: int = 0) -> int:
    value = number(text)
    return int(value) if isinstance(value, int | float) else default


def _float(text: str, default: float = 0.0) -> float:
    value = number(text)
    return float(value) if isinstance(value, int | float) else default


def _pid(text: str) -> int | None:
    t = text.strip()
    return int(t) if t.isdigit() else None


def _worker(row: Mapping[str, str]) -> Worker:
    acc = row.get("acc", "").split("/", 1)[0]
    return Worker(
        slot=row.get("srv", ""),
        pid=_pid(row.get("pid", "")),
        mode=row.get("m", "").strip()[:1],
        cpu=_float(row.get("cpu", "")),
        seconds=_float(row.get("ss", "")),
        req_ms=_float(row.get("req", "")),
        client=row.get("client", ""),
        vhost=row.get("vhost", ""),
        request=row.get("request", ""),
        protocol=row.get("protocol", ""),
        accesses=_int(acc),
    )


def _process(row: Mapping[str, str]) -> ProcessRow:
    wait_io = row.get("async connections wait-io")
    return ProcessRow(
        slot=_int(row.get("slot", "")),
        pid=_pid(row.get("pid", "")),
        stopping=row.get("stopping", ""),
        conns_total=_int(row.get("connections total", "")),
        conns_accepting=row.get("connections accepting", ""),
        threads_busy=_int(row.get("threads busy", "")),
        threads_graceful=_int(row.get("threads graceful", "")),
        threads_idle=_int(row.get("threads idle", "")),
        async_wait_io=None if wait_io is None else _int(wait_io),
        async_writing=_int(row.get("async connections writing", "")),
        async_keep_alive=_int(row.get("async connections keep-alive", "")),
        async_closing=_int(row.get("async connections closing", "")),
    )


def _rows(table: list[list[Cell]], names: list[str], skip: int) -> list[dict[str, str]]:
    out = []
    for row in table[skip:]:
        if not row or any(c.header for c in row):
            continue
        out.append({name: cell.text for name, cell in zip(names, row, strict=False)})
    return out


def _read_tables(
    page: Page,
) -> tuple[tuple[Worker, ...], tuple[ProcessRow, ...], bool, bool]:
    """Workers, event processes, whether the worker table was there, whether it is a status page."""
    workers: list[Worker] = []
    processes: list[ProcessRow] = []
    extended = False
    for table in page.tables:
        names, nhead = _header_names(table)
        if "srv" in names and "m" in names:
            extended = True
            workers.extend(_worker(r) for r in _rows(table, names, nhead))
        elif "slot" in names and "stopping" in names:
            for r in _rows(table, names, nhead):
                if r.get("slot", "").strip().isdigit() and "Sum" not in r.values():
                    processes.append(_process(r))
    is_status = (
        page.title.startswith("Apache Status")
        or page.h1.startswith("Apache Server Status")
        or extended
    )
    return tuple(workers), tuple(processes), extended, is_status


def _parse_page(text: str) -> tuple[Page, tuple[Worker, ...], tuple[ProcessRow, ...], bool]:
    page = scan(text)
    workers, processes, extended, is_status = _read_tables(page)
    if not is_status:
        # Not mod_status's page, as far as the scan can tell: html.parser has the last word.
        try:
            page = Page.parse(text)
        except (AssertionError, ValueError) as exc:  # html.parser on badly broken markup
            raise NotModStatus(f"unreadable HTML: {exc}") from exc
        workers, processes, extended, is_status = _read_tables(page)
    if not is_status:
        raise NotModStatus("an HTML page that is not Apache's server-status")
    return page, workers, processes, extended


def _page_scoreboard(page: Page) -> str | None:
    # Apache breaks the scoreboard into lines of 64 slots.
    boards = ("".join(p.split()) for p in page.pres)
    return next((b for b in boards if b and set(b) <= set(BUSY_CHARS + "_.")), None)


def parse_html(text: str) -> tuple[tuple[Worker, ...], tuple[ProcessRow, ...], dict[str, object]]:
    """Parse the ``server-status`` HTML page.

    Returns the worker rows (ExtendedStatus table, every row Apache printed), the event MPM
    per-process rows (without the ``Sum`` row), and a dict of the page's ``<dt>`` lines as
    ``{"Server MPM": "event", ...}`` plus ``Scoreboard`` (the ``<pre>`` string, when present)
    and ``extended`` (True when the worker table was there). Raises :class:`NotModStatus`
    for a page that is not Apache's status page.
    """
    page, workers, processes, extended = _parse_page(text)
    if len(workers) > MAX_SLOTS or len(processes) > MAX_SLOTS:
        raise NotModStatus(
            f"{max(len(workers), len(processes))} worker rows, more than the {MAX_SLOTS} "
            "slots any Apache has: not read"
        )
    info: dict[str, object] = {}
    for dt in page.dts:
        key, sep, value = dt.partition(": ")
        if sep:
            info[key.strip()] = value.strip()
    scoreboard = _page_scoreboard(page)
    if scoreboard is not None:
        info["Scoreboard"] = scoreboard
    info["extended"] = extended
    return workers, processes, info


#: HTML ``<dt>`` labels and the ``?auto`` keys that hold the same value.
_DT_KEYS = {
    "Server Version": "ServerVersion",
    "Server MPM": "ServerMPM",
    "Server Built": "Server Built",
    "Current Time": "CurrentTime",
    "Restart Time": "RestartTime",
    "Parent Server Config. Generation": "ParentServerConfigGeneration",
    "Parent Server MPM Generation": "ParentServerMPMGeneration",
    "Server uptime": "ServerUptime",
}
_DT_PATTERNS = (
    (re.compile(r"^Server load: (\S+) (\S+) (\S+)$"), ("Load1", "Load5", "Load15")),
    (
        re.compile(r"^Total accesses: (\d+) .*Total Duration: (\d+)"),
        ("Total Accesses", "Total Duration"),
    ),
    (
        re.compile(r"^CPU Usage: u(\S*) s(\S*) cu(\S*) cs(\S*)(?: - (\S+)% CPU load)?"),
        ("CPUUser", "CPUSystem", "CPUChildrenUser", "CPUChildrenSystem", "CPULoad"),
    ),
    (
        re.compile(
            r"^(\d+) requests currently being processed, (\d+) workers gracefully "
            r"restarting, (\d+) idle workers"
        ),
        ("BusyWorkers", "GracefulWorkers", "IdleWorkers"),
    ),
    (
        re.compile(r"^(\d+) requests currently being processed, (\d+) idle workers"),
        ("BusyWorkers", "IdleWorkers"),
    ),
)


_UPTIME_UNITS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}
_UPTIME_PART = re.compile(r"(\d+)\s+(day|hour|minute|second)s?")


def uptime_seconds(text: str) -> int:
    """``"1 day 2 hours 3 minutes 4 seconds"`` (Apache's wording) to seconds; ``""`` to 0."""
    return sum(int(n) * _UPTIME_UNITS[unit] for n, unit in _UPTIME_PART.findall(text))


def auto_from_html(text: str) -> str:
    """The ``?auto`` text that the HTML page's summary and scoreboard amount to.

    For a saved HTML page with no ``?auto`` beside it. Traffic in bytes is not rebuilt (the
    page rounds it to kB/MB); everything else the summary says is. Raises
    :class:`NotModStatus` for a page that is not Apache's status page.
    """
    page, _, _, _ = _parse_page(text)
    return _auto_text(page)


def read_page(text: str) -> tuple[str, tuple[Worker, ...], tuple[ProcessRow, ...], bool]:
    """Everything the HTML page says, parsed once: its summary as ``?auto`` text (see
    :func:`auto_from_html`), the worker rows, the event per-process rows, and whether the
    worker table was there. Raises :class:`NotModStatus` like :func:`parse_html`."""
    page, workers, processes, extended = _parse_page(text)
    if len(workers) > MAX_SLOTS or len(processes) > MAX_SLOTS:
        raise NotModStatus(
            f"{max(len(workers), len(processes))} worker rows, more than the {MAX_SLOTS} "
            "slots any Apache has: not read"
        )
    return _auto_text(page), workers, processes, extended


def _auto_text(page: Page) -> str:
    out: list[str] = []
    for dt in page.dts:
        label, sep, value = dt.partition(":")
        if sep and label.strip() in _DT_KEYS:
            out.append(f"{_DT_KEYS[label.strip()]}: {value.strip()}")
            if label.strip() == "Server uptime":
                out.append(f"ServerUptimeSeconds: {uptime_seconds(value)}")
            continue
        for pattern, keys in _DT_PATTERNS:
            m = pattern.match(dt)
            if m is not None:
                out += [f"{k}: {v}" for k, v in zip(keys, m.groups(), strict=True) if v]
                break
    scoreboard = _page_scoreboard(page)
    if scoreboard is not None:
        out.append(f"Scoreboard: {scoreboard}")
    return "\n".join(out) + "\n"
