"""report.md and logs.txt of a bundle that holds several hosts.

The report opens with a table of the hosts (link, busy/limit, memory, the likely culprit and
the trigger of each), then gives each host the report a bundle of that host alone would have
(:func:`console.incident.report.make_report`, its headings one level down): its own samples,
its own records, its own verdict. Each remote host's trigger is the newest rule that fired on
it in the window (its rules run there); the local host's, and a host where none fired, is the
bundle's. Everything from a remote is a stranger's: in code spans (``md_code``), as the rest of
the report. logs.txt names every record's host (``web1:access``, ``fleet-a:access``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from console.core.events import LogRecord
from console.core.fleet import HOST_SEP, HostShot, tagged
from console.core.recorder import Snapshot
from console.incident.markdown import Own, code, md_table
from console.incident.report import logs_chunks, make_report
from console.incident.rules import Trigger
from console.incident.tally import Tally
from console.view.metrics import human_bytes
from console.view.suspects import suspects

#: The trigger column's words for a bundle not saved by a rule.
WHAT = {"key": "saved by hand", "exit": "saved on exit"}


def host_window(win: Snapshot, shot: HostShot) -> Snapshot:
    """``win`` as a bundle of ``shot`` alone: its samples, states and records."""
    remote = {h.name for h in win.hosts if not h.local}
    prefix = shot.name + HOST_SEP

    def mine(source: str) -> bool:
        head, sep, _ = source.partition(HOST_SEP)
        return source.startswith(prefix) if not shot.local else not (sep and head in remote)

    own = shot.samples if shot.samples is not None else win
    return replace(
        win,
        records=tuple(r for r in win.records if mine(r.source)),
        status=own.status,
        system=own.system,
        fpm=own.fpm,
        mysql=own.mysql,
        states={k: v for k, v in win.states.items() if mine(k)},
        state_history=tuple(s for s in win.state_history if mine(s.source)),
        sources=tuple(s for s in win.sources if mine(s)),
        hosts=(),
    )


def host_trigger(shot: HostShot, trigger: Trigger) -> Trigger:
    """The trigger of one host's part: the newest rule that fired on a remote host in the
    window, else the bundle's."""
    if shot.local or not shot.alerts:
        return trigger
    newest = shot.alerts[-1]
    return Trigger("rule", newest.ts, rule=newest.rule, message=newest.message)


def _culprit(part: Snapshot, at: datetime) -> str:
    found = suspects(part.status, part.system, part.records, at=at, most=1, fpm=part.fpm)
    return found[0].path if found else "-"


def _link(shot: HostShot) -> str:
    link = shot.link
    if link.status in ("up", "local"):
        return link.status
    return f"{link.status}: {link.message}" if link.message else link.status


def fleet_report(
    win: Snapshot,
    trigger: Trigger,
    *,
    host: str,
    start: datetime,
    end: datetime,
    tally: Tally | None = None,
) -> str:
    """report.md: :func:`make_report` with one host (``tally``: its records counted already);
    with several, the hosts' table, then each host's report."""
    if not win.hosts:
        return make_report(win, trigger, host=host, start=start, end=end, tally=tally)
    rows = []
    parts: list[tuple[HostShot, Snapshot, Trigger]] = []
    for shot in win.hosts:
        part, own = host_window(win, shot), host_trigger(shot, trigger)
        parts.append((shot, part, own))
        status = part.latest_status
        system = part.latest_system
        what = (
            f"rule {own.rule}" if own.kind == "rule" and own.rule else WHAT.get(own.kind, own.kind)
        )
        rows.append(
            (
                shot.name,
                shot.link.hostname or "-",
                _link(shot),
                Own(f"{status.busy}/{status.limit}" if status is not None else "-"),
                Own(human_bytes(system.mem_used) if system is not None else "-"),
                _culprit(part, own.at),
                what,
            )
        )
    out = [f"# lamptop snapshot: {len(win.hosts)} hosts, saved on {code(host)}", ""]
    out += ["## Hosts", ""]
    out += md_table(
        ("host", "hostname", "link", "busy", "memory", "likely culprit", "trigger"), rows
    )
    out += [""]
    for shot, part, own in parts:
        text = make_report(part, own, host=shot.name, start=start, end=end)
        out += [_demoted(line) for line in text.splitlines()]
        out += [""]
    return "\n".join(out)


def _demoted(line: str) -> str:
    """A heading one level down (a host's report inside the bundle's)."""
    return "#" + line if line.startswith("#") else line


def fleet_logs(records: Sequence[LogRecord], hosts: Sequence[HostShot]) -> Iterator[str]:
    """logs.txt's text in pieces: with several hosts, the local host's records named with it
    too (a remote host's are already: ``fleet-a:access``)."""
    local = next((h.name for h in hosts if h.local), "")
    if not local:
        yield from logs_chunks(records)
        return
    remote = {h.name for h in hosts if not h.local}

    def named(r: LogRecord) -> LogRecord:
        head, sep, _ = r.source.partition(HOST_SEP)
        return r if sep and head in remote else replace(r, source=tagged(local, r.source))

    for i in range(0, len(records), 1000):
        yield from logs_chunks([named(r) for r in records[i : i + 1000]], per_chunk=1000)
