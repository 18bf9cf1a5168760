"""What the demo writes, in the exact shapes real daemons write it, and the traffic it writes.

No I/O: the mod_status ``?auto`` text and ExtendedStatus page of Apache 2.4 prefork, the lines
of the combined access log, the Apache 2.4 error log, PHP's error_log file and MariaDB's slow
log, and :class:`Traffic`, the requests of the story (the shop's pages, the report, their PHP
messages and slow queries) drawn from one seeded random generator. Field order, spacing and
number formats follow pages and logs captured from Apache 2.4.71, PHP 8.2 and MariaDB 10.11
(``tests/fixtures/status/prefork``):

* numbers on the status pages are printed the way APR's ``%g`` prints them, without the
  leading zero (``CPUSystem: .14``); request and byte rates are computed in single precision,
  as mod_status does;
* the worker table prints a row for every slot that has served a request or is busy, with
  ``-`` as the PID of a slot whose process is gone; modes other than ``_``, ``.`` and ``G``
  are bold;
* PHP writes two spaces after ``PHP Fatal error:``; MariaDB pads the hour of ``# Time:``
  with a space and writes ``# Time:`` only when the second changed since its last entry.
"""

from __future__ import annotations

import html
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

KBYTE = 1024
MBYTE = 1024 * 1024
GBYTE = 1024 * 1024 * 1024


# -- time stamps (every ``datetime`` given here is aware UTC) -----------------------------------


def status_time(dt: datetime) -> str:
    """``Thursday, 26-Nov-2026 15:04:44 UTC`` (mod_status CurrentTime / RestartTime)."""
    return (
        f"{_LONG_DAYS[dt.weekday()]}, {dt.day:02d}-{_MONTHS[dt.month - 1]}-{dt.year:04d} "
        f"{dt:%H:%M:%S} UTC"
    )


def clf_time(dt: datetime) -> str:
    """``26/Nov/2026:15:01:35 +0000`` (access log ``%t``, without the brackets)."""
    return f"{dt.day:02d}/{_MONTHS[dt.month - 1]}/{dt.year:04d}:{dt:%H:%M:%S} +0000"


def error_time(dt: datetime) -> str:
    """``Thu Nov 26 15:01:29.566736 2026`` (Apache 2.4 error log, local time)."""
    return (
        f"{_DAYS[dt.weekday()]} {_MONTHS[dt.month - 1]} {dt.day:02d} "
        f"{dt:%H:%M:%S}.{dt.microsecond:06d} {dt.year:04d}"
    )


def php_time(dt: datetime) -> str:
    """``26-Nov-2026 15:01:35 UTC`` (PHP error_log with ``date.timezone = UTC``)."""
    return f"{dt.day:02d}-{_MONTHS[dt.month - 1]}-{dt.year:04d} {dt:%H:%M:%S} UTC"


def slow_time(dt: datetime) -> str:
    """``261126 15:07:42``; the hour is space-padded (``261126  9:05:01``)."""
    return f"{dt:%y%m%d} {dt.hour:2d}:{dt:%M:%S}"


# -- numbers the way mod_status prints them -----------------------------------------------------


def apr_g(value: float, digits: int = 6) -> str:
    """C's ``%g`` as APR prints it: no leading zero before the point (``.55``)."""
    text = f"{value:.{digits}g}"
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def f32(value: float) -> float:
    """``value`` rounded to single precision (mod_status divides ``float`` values)."""
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def show_time(seconds: int) -> str:
    """`` 3 minutes 15 seconds``: mod_status's uptime, with its leading space."""
    secs, rest = seconds % 60, seconds // 60
    mins, rest = rest % 60, rest // 60
    hours, days = rest % 24, rest // 24
    out = ""
    for n, unit in ((days, "day"), (hours, "hour"), (mins, "minute"), (secs, "second")):
        if n:
            out += f" {n} {unit}{'' if n == 1 else 's'}"
    return out


def byte_out(n: int) -> str:
    """``726 B``, ``13.3 kB``, ``23.1 MB`` (mod_status ``format_byte_out``)."""
    if n < 5 * KBYTE:
        return f"{n} B"
    if n < MBYTE // 2:
        return f"{f32(n / KBYTE):.1f} kB"
    if n < GBYTE // 2:
        return f"{f32(n / MBYTE):.1f} MB"
    return f"{f32(n / GBYTE):.1f} GB"


def kbyte_out(kb: int) -> str:
    """``890 kB``, ``23.1 MB`` (mod_status ``format_kbyte_out``)."""
    if kb < KBYTE:
        return f"{kb} kB"
    if kb < MBYTE:
        return f"{f32(kb / KBYTE):.1f} MB"
    return f"{f32(kb / MBYTE):.1f} GB"


# -- mod_status -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageInfo:
    """The server-wide values of one status page."""

    now: datetime
    restart: datetime
    config_generation: int
    mpm_generation: int
    uptime: int
    """Seconds since the restart."""
    load: tuple[float, float, float]
    accesses: int
    kbytes: int
    duration_ms: int
    cpu: tuple[float, float, float, float]
    """CPU seconds: user, system, children user, children system."""
    scoreboard: str
    host: str = "127.0.0.1"
    version: str = "Apache/2.4.71 (Debian)"
    built: str = "2026-11-12T08:58:41"
    mpm: str = "prefork"
    port: int = 80


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the ExtendedStatus worker table, as the values Apache prints."""

    slot: int
    generation: int
    pid: int | None
    acc: tuple[int, int, int]
    """Accesses this connection / this child / this slot."""
    mode: str
    cpu: float
    ss: int
    req_ms: int
    dur_ms: int
    conn_kb: float
    child_mb: float
    slot_mb: float
    client: str
    vhost: str
    request: str
    protocol: str = "http/1.1"


def cpu_load(cpu: tuple[float, float, float, float], uptime: int) -> float:
    """CPU percent as mod_status computes it: clock ticks over a single-precision uptime."""
    ticks = sum(round(x * 100) for x in cpu)
    return f32(f32(ticks / 100.0) / uptime) * 100.0


def _counts(scoreboard: str) -> tuple[int, int, int]:
    """(busy, graceful, idle) as mod_status counts them."""
    busy = sum(1 for c in scoreboard if c not in "_.SIG")
    return busy, scoreboard.count("G"), scoreboard.count("_")


def render_auto(info: PageInfo) -> str:
    """The ``server-status?auto`` text of Apache 2.4 prefork."""
    u, s, cu, cs = info.cpu
    up = info.uptime
    busy, graceful, idle = _counts(info.scoreboard)
    lines = [
        info.host,
        f"ServerVersion: {info.version}",
        f"ServerMPM: {info.mpm}",
        f"Server Built: {info.built}",
        f"CurrentTime: {status_time(info.now)}",
        f"RestartTime: {status_time(info.restart)}",
        f"ParentServerConfigGeneration: {info.config_generation}",
        f"ParentServerMPMGeneration: {info.mpm_generation}",
        f"ServerUptimeSeconds: {up}",
        f"ServerUptime:{show_time(up)}",
        f"Load1: {info.load[0]:.2f}",
        f"Load5: {info.load[1]:.2f}",
        f"Load15: {info.load[2]:.2f}",
        f"Total Accesses: {info.accesses}",
        f"Total kBytes: {info.kbytes}",
        f"Total Duration: {info.duration_ms}",
        f"CPUUser: {apr_g(u)}",
        f"CPUSystem: {apr_g(s)}",
        f"CPUChildrenUser: {apr_g(cu)}",
        f"CPUChildrenSystem: {apr_g(cs)}",
    ]
    if up > 0 and (u or s or cu or cs):
        lines.append(f"CPULoad: {apr_g(cpu_load(info.cpu, up))}")
    lines.append(f"Uptime: {up}")
    if up > 0:
        lines.append(f"ReqPerSec: {apr_g(f32(info.accesses / up))}")
        lines.append(f"BytesPerSec: {apr_g(f32(KBYTE * info.kbytes / up))}")
    if info.accesses > 0:
        lines.append(f"BytesPerReq: {apr_g(f32(KBYTE * info.kbytes / info.accesses))}")
        lines.append(f"DurationPerReq: {apr_g(info.duration_ms / info.accesses)}")
    lines += [
        f"BusyWorkers: {busy}",
        f"GracefulWorkers: {graceful}",
        f"IdleWorkers: {idle}",
        f"Scoreboard: {info.scoreboard}",
    ]
    return "\n".join(lines) + "\n"


_HEAD = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n'
    "<html><head>\n<title>Apache Status</title>\n</head><body>\n"
)
_KEY = (
    "<p>Scoreboard Key:<br />\n"
    '"<b><code>_</code></b>" Waiting for Connection, \n'
    '"<b><code>S</code></b>" Starting up, \n'
    '"<b><code>R</code></b>" Reading Request,<br />\n'
    '"<b><code>W</code></b>" Sending Reply, \n'
    '"<b><code>K</code></b>" Keepalive (read), \n'
    '"<b><code>D</code></b>" DNS Lookup,<br />\n'
    '"<b><code>C</code></b>" Closing connection, \n'
    '"<b><code>L</code></b>" Logging, \n'
    '"<b><code>G</code></b>" Gracefully finishing,<br /> \n'
    '"<b><code>I</code></b>" Idle cleanup of worker, \n'
    '"<b><code>.</code></b>" Open slot with no current process<br />\n'
    "</p>\n\n\n"
)
_TABLE_HEAD = (
    '<table border="0"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU\n'
    "</th><th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th>"
    "<th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>\n\n"
)
_LEGEND = (
    "</table>\n <hr /> <table>\n"
    " <tr><th>Srv</th><td>Child Server number - generation</td></tr>\n"
    " <tr><th>PID</th><td>OS process ID</td></tr>\n"
    " <tr><th>Acc</th><td>Number of accesses this connection / this child / this slot</td></tr>\n"
    " <tr><th>M</th><td>Mode of operation</td></tr>\n"
    "<tr><th>CPU</th><td>CPU usage, number of seconds</td></tr>\n"
    "<tr><th>SS</th><td>Seconds since beginning of most recent request</td></tr>\n"
    " <tr><th>Req</th><td>Milliseconds required to process most recent request</td></tr>\n"
    " <tr><th>Dur</th><td>Sum of milliseconds required to process all requests</td></tr>\n"
    " <tr><th>Conn</th><td>Kilobytes transferred this connection</td></tr>\n"
    " <tr><th>Child</th><td>Megabytes transferred this child</td></tr>\n"
    " <tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n"
    " </table>\n"
)


def _row_html(row: Row) -> str:
    mode = row.mode if row.mode in "_.G" else f"<b>{row.mode}</b>"
    pid = "-" if row.pid is None else str(row.pid)
    acc = "/".join(str(n) for n in row.acc)
    return (
        f"<tr><td><b>{row.slot}-{row.generation}</b></td><td>{pid}</td><td>{acc}</td>"
        f"<td>{mode}\n</td><td>{row.cpu:.2f}</td><td>{row.ss}</td><td>{row.req_ms}</td>"
        f"<td>{row.dur_ms}</td><td>{row.conn_kb:.1f}</td><td>{row.child_mb:.2f}</td>"
        f"<td>{row.slot_mb:.2f}\n</td><td>{html.escape(row.client, quote=False)}</td>"
        f"<td>{row.protocol}</td><td nowrap>{html.escape(row.vhost, quote=False)}</td>"
        f"<td nowrap>{html.escape(row.request, quote=False)}</td></tr>\n\n"
    )


def render_html(info: PageInfo, rows: Sequence[Row]) -> str:
    """The ``server-status`` page of Apache 2.4 prefork with ``ExtendedStatus On``."""
    u, s, cu, cs = info.cpu
    up = info.uptime
    busy, graceful, idle = _counts(info.scoreboard)
    out = [
        _HEAD,
        f"<h1>Apache Server Status for {info.host} (via {info.host})</h1>\n\n",
        f"<dl><dt>Server Version: {info.version}</dt>\n",
        f"<dt>Server MPM: {info.mpm}</dt>\n",
        f"<dt>Server Built: {info.built}\n</dt></dl><hr /><dl>\n",
        f"<dt>Current Time: {status_time(info.now)}</dt>\n",
        f"<dt>Restart Time: {status_time(info.restart)}</dt>\n",
        f"<dt>Parent Server Config. Generation: {info.config_generation}</dt>\n",
        f"<dt>Parent Server MPM Generation: {info.mpm_generation}</dt>\n",
        f"<dt>Server uptime: {show_time(up)}</dt>\n",
        f"<dt>Server load: {info.load[0]:.2f} {info.load[1]:.2f} {info.load[2]:.2f}</dt>\n",
        f"<dt>Total accesses: {info.accesses} - Total Traffic: {kbyte_out(info.kbytes)}"
        f" - Total Duration: {info.duration_ms}</dt>\n",
        f"<dt>CPU Usage: u{apr_g(u)} s{apr_g(s)} cu{apr_g(cu)} cs{apr_g(cs)}",
    ]
    if up > 0 and (u or s or cu or cs):
        out.append(f" - {apr_g(cpu_load(info.cpu, up), 3)}% CPU load</dt>\n")
    rates = ""
    if up > 0:
        rates += f"<dt>{apr_g(f32(info.accesses / up), 3)} requests/sec - "
        rates += f"{byte_out(int(f32(KBYTE * info.kbytes / up)))}/second - "
    if info.accesses > 0:
        rates += f"{byte_out(int(f32(KBYTE * info.kbytes / info.accesses)))}/request"
        rates += f" - {apr_g(info.duration_ms / info.accesses)} ms/request"
    out.append(rates + "</dt>\n")
    out.append(
        f"<dt>{busy} requests currently being processed, {graceful} workers gracefully"
        f" restarting, {idle} idle workers</dt>\n"
    )
    out.append(f"</dl><pre>{info.scoreboard}</pre>\n")
    out.append(_KEY)
    out.append(_TABLE_HEAD)
    out.extend(_row_html(r) for r in rows)
    out.append(_LEGEND)
    out.append(
        f"<hr />\n<address>{info.version} Server at {info.host} Port {info.port}</address>\n"
        "</body></html>\n"
    )
    return "".join(out)


# -- log lines -------------------------------------------------------------------------------


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


# -- the traffic of the story ----------------------------------------------------------------

MIB = 1024 * 1024
CULPRIT = "/report.php"
DOCROOT = "/var/www/html"
VHOST = "shop.example.com:80"
SITE = "https://shop.example.com"
NOT_FOUND = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
    "<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on this server.</p>\n<hr>\n"
    "<address>Apache/2.4.71 (Debian) Server at 127.0.0.1 Port 80</address>\n</body></html>\n"
)
_BROWSERS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
)
_BOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
_MONITOR = ("192.0.2.10", "curl/7.88.1")
_SCANNER = ("198.51.100.201", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101")
#: The dashboards that keep asking for the report.
REPORT_CLIENTS = (
    ("198.51.100.23", _BROWSERS[0]),
    ("198.51.100.24", _BROWSERS[1]),
    ("203.0.113.77", _BROWSERS[5]),
)
#: The shop's pages: share of requests, [method:]path, status, bytes sent, seconds, referer
#: (a path on the site, or -), and whether PHP runs.
_PAGE_TABLE = """
0.15  /                             200 5200-6400   0.1-0.5     -                           php
0.05  /index.php                    200 5200-6400   0.1-0.5     -                           php
0.18  /app/products.php?cat={cat}   200 9000-15000  0.2-0.9     /                           php
0.12  /app/product.php?id={item}    200 3500-6000   0.12-0.5    /app/products.php?cat={cat} php
0.03  POST:/app/cart.php            302 240-260     0.05-0.2    /app/product.php?id={item}  php
0.12  /static/css/site.css          200 8106-8106   0.001-0.004 /                           -
0.10  /static/js/app.js             200 21797-21797 0.001-0.004 /                           -
0.08  /static/img/logo.png          200 6885-6885   0.001-0.004 /                           -
0.04  /favicon.ico                  404 489-489     0.001-0.003 -                           -
0.02  /robots.txt                   200 330-330     0.001-0.002 -                           -
0.07  /health.php                   200 236-236     0.01-0.03   -                           php
0.025 /app/search.php?q={term}      200 7000-11000  0.05-0.15   /                           php
0.015 /wp-login.php                 404 455-455     0.001-0.003 -                           -
"""


def _page(row: str) -> tuple[float, str, int, tuple[int, int], tuple[float, float], str, bool]:
    share, path, status, size, secs, referer, php = row.split()
    small, large = size.split("-")
    fast, slow = secs.split("-")
    referer = "-" if referer == "-" else SITE + referer
    return (
        float(share), path.replace(":", " "), int(status), (int(small), int(large)),
        (float(fast), float(slow)), referer, php == "php",
    )  # fmt: skip


_PAGES = tuple(_page(row) for row in _PAGE_TABLE.strip().splitlines())
_TERMS = ("gadget", "widget", "gizmo", "doohickey")
_EXPLAIN_HEAD = (
    "id\tselect_type\ttable\ttype\tpossible_keys\tkey\tkey_len\tref\trows\tr_rows\tfiltered"
    "\tr_filtered\tExtra"
)
_REPORT_EXPLAIN = (
    _EXPLAIN_HEAD,
    "1\tSIMPLE\to\tALL\tPRIMARY\tNULL\tNULL\tNULL\t29861\t30000.00\t100.00\t10.33"
    "\tUsing where; Using temporary; Using filesort",
    "1\tSIMPLE\toi\tALL\tNULL\tNULL\tNULL\tNULL\t119871\t120000.00\t100.00\t0.00"
    "\tUsing where; Using join buffer (flat, BNL join)",
    "1\tSIMPLE\tp\teq_ref\tPRIMARY,idx_cat\tPRIMARY\t4\tshop.oi.product_id\t1\t1.00\t100.00"
    "\t100.00\t",
    "1\tSIMPLE\tc\teq_ref\tPRIMARY\tPRIMARY\t4\tshop.p.category_id\t1\t1.00\t100.00\t100.00\t",
)
_SEARCH_EXPLAIN = (
    _EXPLAIN_HEAD,
    "1\tPRIMARY\tp\tALL\tNULL\tNULL\tNULL\tNULL\t2000\t2000.00\t100.00\t4.05"
    "\tUsing where; Using filesort",
    "2\tMATERIALIZED\toi\tALL\tNULL\tNULL\tNULL\tNULL\t119871\t120000.00\t100.00\t1.02"
    "\tUsing where",
)
_GONE_TRACE = (
    "Stack trace:",
    f"#0 {DOCROOT}/lib/db.php(27): mysqli->query()",
    f"#1 {DOCROOT}/report.php(31): Db->select()",
    "#2 {main}",
    f"  thrown in {DOCROOT}/lib/db.php on line 27",
)


@dataclass(slots=True, eq=False)
class Request:
    """One HTTP request of the story, from arrival to its access-log line."""

    client: str
    method: str
    path: str
    status: int
    size: int
    """Bytes sent, headers included (``%O``)."""
    referer: str
    agent: str
    duration: float
    """Story seconds from start to end."""
    arrived: float
    report: bool = False
    sql: str = ""
    """``report`` or ``search`` when it runs a query that reaches the slow log."""
    query: float = 0.0
    """Story seconds of SQL at the start of the request."""
    outcome: str = "ok"
    """report.php: ``ok``, ``oom`` (memory limit) or ``gone`` (lost the database)."""
    peak: float = 0.0
    """Bytes the child grows by while PHP builds the report."""
    php: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    """(label, message, continuation lines) written to the PHP log when it ends."""
    error: tuple[str, str, str] | None = None
    """(module, level, message) written to the Apache error log when it ends."""
    keepalive: float = 0.0
    cpu: float = 0.0
    port: int = 0
    thread: int = 0
    started: float = 0.0
    wall: datetime | None = None

    @property
    def line(self) -> str:
        return f"{self.method} {self.path} HTTP/1.1"


class Traffic:
    """Draws the requests of the story from one random generator."""

    def __init__(self, rng: Random, now: datetime) -> None:
        self.rng = rng
        prev = now.replace(day=1) - timedelta(days=1)
        self.month = f"{prev.year:04d}-{prev.month:02d}"
        self.report_path = f"{CULPRIT}?month={self.month}"
        self._bounds = (f"{self.month}-01", f"{now.year:04d}-{now.month:02d}-01")
        self._thread = 1200 + rng.randint(0, 500)
        nets = ("203.0.113", "198.51.100", "192.0.2")
        self.clients = [
            (f"{rng.choice(nets)}.{rng.randint(2, 254)}", rng.choice(_BROWSERS)) for _ in range(40)
        ]
        self.clients.append(("198.51.100.77", _BOT))

    def _new(self, t: float, who: tuple[str, str], path: str, referer: str = "-") -> Request:
        method, _, path = path.rpartition(" ")
        self._thread += 1
        return Request(
            client=who[0],
            method=method or "GET",
            path=path,
            status=200,
            size=0,
            referer=referer,
            agent=who[1],
            duration=0.0,
            arrived=t,
            port=self.rng.randint(32768, 60999),
            thread=self._thread,
        )

    def site(self, t: float) -> Request:
        """One request of the shop's ordinary traffic."""
        rng = self.rng
        who = rng.choice(self.clients)
        x = rng.random()
        share, path, status, (small, large), (fast, slow), referer, php = _PAGES[-1]
        for page in _PAGES:
            if x < page[0]:
                share, path, status, (small, large), (fast, slow), referer, php = page
                break
            x -= page[0]
        item = rng.randint(1, 2040)
        values = {"cat": rng.randint(1, 20), "item": item, "term": rng.choice(_TERMS)}
        if path == "/health.php":
            who = _MONITOR
        elif path == "/wp-login.php":
            who = _SCANNER
        req = self._new(t, who, path.format(**values), referer.format(**values))
        req.status, req.size = status, rng.randint(small, large)
        req.duration = rng.uniform(fast, slow)
        if path.startswith("/static/") and rng.random() < 0.3:
            req.status, req.size = 304, 190
        elif path.startswith("/app/product.php") and item > 2000:
            message = f"Trying to access array offset on value of type null in {DOCROOT}"
            req.php.append(("Warning", message + "/app/product.php on line 21", ()))
        elif path.startswith("/app/search.php"):
            req.sql, req.query = "search", rng.uniform(1.05, 1.8)
            req.duration += req.query
        elif path == "/favicon.ico":
            req.error = ("core", "info", f"AH00128: File does not exist: {DOCROOT}/favicon.ico")
        elif path == "/wp-login.php":
            message = f"script '{DOCROOT}/wp-login.php' not found or unable to stat"
            req.error = ("php", "error", message)
        if req.agent in _BROWSERS and rng.random() < 0.25:
            req.keepalive = rng.uniform(0.2, 1.5)
        req.cpu = req.duration * (0.6 if php else 0.8)
        return req

    def report(self, t: float) -> Request:
        """One more request for the report; :meth:`plan_report` decides its fate."""
        who = self.rng.choice(REPORT_CLIENTS)
        req = self._new(t, who, self.report_path, f"{SITE}/admin/dashboard.php")
        req.report, req.sql = True, "report"
        return req

    def plan_report(self, req: Request, concurrent: int, phase: str, pressure: float) -> None:
        """Duration and outcome of a report request as it starts: the more reports already
        run, the slower its query; under swap pressure, the slower its PHP."""
        rng = self.rng
        req.query = min(8.0, max(2.0, rng.uniform(1.7, 2.6) * (1 + 0.09 * concurrent)))
        php = rng.uniform(0.6, 1.8) * (1 + 2 * pressure)
        fail = {"build-up": 0.2, "outage": 0.75}.get(phase, 0.5)
        if rng.random() >= fail:
            req.duration = req.query + php
            req.peak = rng.uniform(15, 30) * MIB
            req.size = rng.randint(48000, 52000)
            req.php.append(
                (
                    "Warning",
                    f"file_put_contents({DOCROOT}/cache/report-{self.month}"
                    ".json): Failed to open stream: Permission denied in"
                    f" {DOCROOT}/report.php on line 58",
                    (),
                )
            )
        elif rng.random() < 0.15:
            req.outcome, req.status, req.size = "gone", 500, 185
            req.duration = rng.uniform(1.0, req.query)
            req.php.append(
                (
                    "Fatal error",
                    "Uncaught mysqli_sql_exception: MySQL server has gone"
                    f" away in {DOCROOT}/lib/db.php:27",
                    _GONE_TRACE,
                )
            )
        else:
            req.outcome, req.status, req.size = "oom", 500, 185
            req.duration = req.query + php
            req.peak = rng.uniform(40, 70) * MIB
            tried = rng.choice((20480, 20480, 20480, 65536, 4096))
            req.php.append(
                (
                    "Fatal error",
                    f"Allowed memory size of 134217728 bytes exhausted"
                    f" (tried to allocate {tried} bytes) in {DOCROOT}/report.php on"
                    " line 42",
                    (),
                )
            )
        req.cpu = max(0.05, (req.duration - req.query) * 0.9)

    def slow_entry(self, req: Request, end: datetime, swapping: bool) -> SlowEntry:
        """The slow-log entry of a request's query, which ended at ``end``."""
        rng = self.rng
        assert req.wall is not None
        start = int(req.wall.timestamp())
        if req.sql == "report":
            read = rng.randint(200, 2400) if swapping else 0
            return SlowEntry(
                end=end,
                start_unix=start,
                user_host="app[app] @ localhost []",
                thread_id=req.thread,
                schema="shop",
                query_time=req.query,
                lock_time=rng.uniform(0.00011, 0.00034),
                rows_sent=20,
                rows_examined=150021 + rng.randint(0, 40),
                bytes_sent=rng.randint(1380, 1520),
                pages_accessed=rng.randint(47000, 47300),
                pages_read=read,
                pages_read_ms=read * rng.uniform(0.05, 0.4),
                engine_ms=req.query * 1000 * rng.uniform(0.55, 0.85),
                tmp_tables=1,
                tmp_disk_tables=1 if swapping and rng.random() < 0.3 else 0,
                full_join=True,
                filesort=True,
                explain=_REPORT_EXPLAIN,
                query=_REPORT_SQL.format(start=self._bounds[0], end=self._bounds[1]),
            )
        term = req.path.rsplit("=", 1)[-1]
        return SlowEntry(
            end=end,
            start_unix=start,
            user_host="app[app] @ localhost []",
            thread_id=req.thread,
            schema="shop",
            query_time=req.query,
            lock_time=rng.uniform(0.00008, 0.0002),
            rows_sent=50,
            rows_examined=124050 + rng.randint(0, 30),
            bytes_sent=rng.randint(2900, 3300),
            pages_accessed=rng.randint(38800, 39100),
            pages_read=0,
            pages_read_ms=0.0,
            engine_ms=req.query * 1000 * rng.uniform(0.6, 0.9),
            tmp_tables=0,
            tmp_disk_tables=0,
            full_join=False,
            filesort=True,
            explain=_SEARCH_EXPLAIN,
            query=_SEARCH_SQL.format(term=term),
        )


_REPORT_SQL = """SELECT DATE_FORMAT(o.created_at, '%Y-%m') AS month,
       c.name                      AS category,
       COUNT(DISTINCT o.id)        AS orders,
       SUM(oi.qty * oi.unit_price) AS revenue
  FROM orders o
  JOIN order_items oi ON oi.order_id = o.id
  JOIN products p     ON p.id = oi.product_id
  JOIN categories c   ON c.id = p.category_id
 WHERE o.created_at >= '{start}' AND o.created_at < '{end}'
 GROUP BY month, c.name
 ORDER BY revenue DESC;"""
_SEARCH_SQL = (
    "SELECT p.id, p.name, p.price FROM products p WHERE p.name LIKE '%{term}%' OR p.id IN"
    " (SELECT oi.product_id FROM order_items oi WHERE oi.note LIKE '%{term}%')"
    " ORDER BY p.price DESC LIMIT 50;"
)
