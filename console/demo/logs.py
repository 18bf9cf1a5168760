"""The lines of the demo's four logs, in the exact shapes the daemons write them; no I/O.

The combined access log and the error log of Apache 2.4, PHP's error_log file and MariaDB's
slow log, as captured from Apache 2.4.71, PHP 8.2 and MariaDB 10.11:

* PHP writes two spaces after ``PHP Fatal error:``;
* MariaDB pads the hour of ``# Time:`` with a space and writes ``# Time:`` only when the second
  changed since its last entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from console.demo.stamps import clf_time, error_time, php_time, slow_time


def _quoted(text: str) -> str:
    """A value inside ``"..."`` in the access log, escaped as Apache escapes it."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def access_line(
    client: str,
    when: datetime,
    request: str,
    status: int,
    size: int,
    referer: str = "-",
    agent: str = "-",
) -> str:
    """One line of the ``combined`` format.

    ``%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"``
    """
    return (
        f'{client} - - [{clf_time(when)}] "{_quoted(request)}" {status} {size}'
        f' "{_quoted(referer)}" "{_quoted(agent)}"'
    )


def error_line(
    when: datetime,
    module: str,
    level: str,
    pid: int,
    message: str,
    client: str | None = None,
) -> str:
    """``[Thu Nov 26 15:02:14.801017 2026] [core:error] [pid 1:tid 1] [client a:p] message``.

    Apache 2.4.71 prefork prints ``:tid`` equal to the pid.
    """
    where = f" [client {client}]" if client else ""
    return f"[{error_time(when)}] [{module}:{level}] [pid {pid}:tid {pid}]{where} {message}"


def php_entry(when: datetime, label: str, message: str, trace: Sequence[str] = ()) -> list[str]:
    """``[26-Nov-2026 15:01:35 UTC] PHP Fatal error:  message`` and any continuation lines."""
    return [f"[{php_time(when)}] PHP {label}:  {message}", *trace]


#: What MariaDB writes at the top of the slow log each time it opens the file.
SLOW_HEADER = (
    "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:",
    "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock",
    "Time\t\t    Id Command\tArgument",
)


@dataclass(frozen=True, slots=True)
class SlowEntry:
    """The values of one slow-log entry (``log_slow_verbosity = full``)."""

    end: datetime
    """When the query finished (``# Time:``)."""
    start_unix: int
    """When it started (``SET timestamp=``)."""
    user_host: str
    thread_id: int
    schema: str
    query_time: float
    lock_time: float
    rows_sent: int
    rows_examined: int
    bytes_sent: int
    pages_accessed: int
    pages_read: int
    pages_read_ms: float
    engine_ms: float
    tmp_tables: int
    tmp_disk_tables: int
    full_join: bool
    filesort: bool
    explain: tuple[str, ...]
    query: str
    """Query text; may span lines; ends with ``;``."""


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def slow_entry(entry: SlowEntry, *, time_line: bool, use_db: bool) -> list[str]:
    """The lines of one entry; ``time_line`` when the second changed, ``use_db`` on a new db."""
    out = [f"# Time: {slow_time(entry.end)}"] if time_line else []
    tmp = entry.tmp_tables > 0
    out += [
        f"# User@Host: {entry.user_host}",
        f"# Thread_id: {entry.thread_id}  Schema: {entry.schema}  QC_hit: No",
        f"# Query_time: {entry.query_time:.6f}  Lock_time: {entry.lock_time:.6f}"
        f"  Rows_sent: {entry.rows_sent}  Rows_examined: {entry.rows_examined}",
        f"# Rows_affected: 0  Bytes_sent: {entry.bytes_sent}",
        f"# Pages_accessed: {entry.pages_accessed}  Pages_read: {entry.pages_read}"
        "  Pages_prefetched: 0  Pages_updated: 0  Old_rows_read: 0",
        f"# Pages_read_time: {entry.pages_read_ms:.4f}  Engine_time: {entry.engine_ms:.4f}",
    ]
    if tmp:
        out.append(
            f"# Tmp_tables: {entry.tmp_tables}  Tmp_disk_tables: {entry.tmp_disk_tables}"
            "  Tmp_table_sizes: 4194240"
        )
    out += [
        f"# Full_scan: Yes  Full_join: {_yes(entry.full_join)}  Tmp_table: {_yes(tmp)}"
        f"  Tmp_table_on_disk: {_yes(entry.tmp_disk_tables > 0)}",
        f"# Filesort: {_yes(entry.filesort)}  Filesort_on_disk: No  Merge_passes: 0"
        "  Priority_queue: No",
    ]
    if entry.explain:
        out += ["#", *(f"# explain: {row}" for row in entry.explain), "#"]
    if use_db:
        out.append(f"use `{entry.schema}`;")
    out.append(f"SET timestamp={entry.start_unix};")
    out.extend(entry.query.split("\n"))
    return out
