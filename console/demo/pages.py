"""The pages of Apache 2.4 prefork's mod_status, as the demo serves them; no I/O.

The ``server-status?auto`` text, the ``ExtendedStatus On`` page and the 404 page, rendered from
plain values (:class:`PageInfo`, one :class:`Row` per worker). Field order, spacing and number
formats follow pages captured from Apache 2.4.71 (``tests/fixtures/status/prefork``):

* numbers are printed the way APR's ``%g`` prints them, without the leading zero
  (``CPUSystem: .14``); request and byte rates are computed in single precision, as mod_status
  does;
* the worker table prints a row for every slot that has served a request or is busy, with
  ``-`` as the PID of a slot whose process is gone; modes other than ``_``, ``.`` and ``G``
  are bold.
"""

from __future__ import annotations

import html
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from console.demo.stamps import status_time

KBYTE = 1024
MBYTE = 1024 * 1024
GBYTE = 1024 * 1024 * 1024

#: What Apache sends for any other URL.
NOT_FOUND = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
    "<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on this server.</p>\n<hr>\n"
    "<address>Apache/2.4.71 (Debian) Server at 127.0.0.1 Port 80</address>\n</body></html>\n"
)


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
