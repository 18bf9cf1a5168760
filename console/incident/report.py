"""``report.md`` and ``logs.txt`` of a bundle: what a person reads first."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from console.core.events import LogRecord
from console.core.recorder import Snapshot
from console.core.timefmt import utc_date_time, utc_text
from console.incident.markdown import Own, code, mb, md_table, when
from console.incident.report_stack import stack_sections, stack_verdict
from console.incident.rules import Trigger
from console.parsing.apache_access import is_own_request
from console.parsing.modstatus import request_path
from console.view.metrics import in_flight
from console.view.suspects import MINUTE, suspects

_NUMBERS = re.compile(r"\b\d+(\.\d+)?\b|0x[0-9a-f]+", re.IGNORECASE)


def make_report(
    win: Snapshot,
    trigger: Trigger,
    *,
    host: str,
    start: datetime,
    end: datetime,
    tally: Tally | None = None,
) -> str:
    """report.md of a snapshot cut to its window; ``tally``: its records counted already
    (while they were written), else they are counted here."""
    out: list[str] = [f"# lamptop snapshot: {code(host)}", ""]
    out += _verdict(win, trigger.at)
    what = (
        f"rule {code(trigger.rule)}"
        if trigger.kind == "rule"
        else {"key": "saved by hand", "exit": "saved on exit"}.get(trigger.kind, code(trigger.kind))
    )
    out += [f"**Trigger:** {what} at {utc_text(trigger.at)}"]
    if trigger.message:
        out += ["", f"> {code(trigger.message, 400)}"]
    values = {k: v for k, v in trigger.values.items() if k != "also_fired"}
    if values:
        out += [""] + [f"- {code(k)}: {code(v)}" for k, v in values.items()]
    also = trigger.values.get("also_fired") or []
    if also:
        out += ["", "Also fired while this bundle was being taken:", ""]
        out += [f"- rule {code(a.get('rule'))}: {code(a.get('message'))}" for a in also]
    out += ["", f"**Window:** {utc_text(start)} to {utc_text(end)}", ""]

    sysw = win.system
    if sysw:
        used = [s.mem_used for s in sysw]
        last = sysw[-1]
        out += [
            "## Memory",
            "",
            f"Used {mb(min(used))} to {mb(max(used))} of {mb(last.mem_total)} in the window; "
            f"at the end {mb(last.mem_used)}, swap {mb(last.swap_used)} of "
            f"{mb(last.swap_total)}, load {last.load1:.2f}.",
            "",
        ]

    status = win.status[-1] if win.status else None
    rss = next((s.rss_by_pid for s in reversed(sysw) if s.rss_by_pid), {})
    out += ["## In-flight requests (oldest first)", ""]
    if status is None:
        out += ["No mod_status sample in the window.", ""]
    else:
        out += [
            f"{status.busy} busy of {status.limit} slots at {utc_text(status.ts)}, "
            f"scoreboard {code(status.scoreboard, 1024)}",
            "",
        ]
        # the worker table of the newest sample that had one: while the server is saturated
        # some polls may have read only the counters
        table = next((s for s in reversed(win.status) if s.extended), None)
        own = request_path(f"GET {status.url}")
        live = in_flight(table, rss, exclude_path=own)
        if table is not None and table is not status:
            age = (status.ts - table.ts).total_seconds()
            out += [
                f"Worker table from {utc_text(table.ts)}, {age:.0f} s before the last sample "
                "(the later polls could not read it).",
                "",
            ]
        if live:
            out += md_table(
                ("seconds", "pid", "state", "RSS", "client", "vhost", "request"),
                (
                    (
                        Own(f"{w.seconds:.0f}"),
                        w.pid or "-",
                        w.mode,
                        mb(w.rss),
                        w.client,
                        w.vhost,
                        w.request,
                    )
                    for w in live[:30]
                ),
            )
            urls = Counter(w.path or w.request for w in live)
            top, n = urls.most_common(1)[0]
            out += ["", f"Most common in-flight URL: {code(top)} ({n} of {len(live)} workers)."]
        elif table is None:
            out += [
                "No worker table in the window: ExtendedStatus is off, or the status page "
                "could not be read (the scoreboard above is from the counters)."
            ]
        else:
            out += ["No request in flight (lamptop's own status requests left out)."]
        out += [""]

    out += stack_sections(win, trigger.at)

    tally = (tally or Tally(win.records, trigger.at)).done()
    out += ["## Requests in the window", ""]
    if tally.access:
        out += [f"{tally.access} access log records.", ""]
        if tally.urls_minute:
            out += ["### Top URLs in the minute before the trigger", ""]
            out += md_table(("url", "count"), tally.urls_minute.most_common(10))
            out += [""]
        for title, key, counts in (
            ("Top URLs of the window", "url", tally.urls),
            ("Top clients", "client", tally.clients),
            ("Status codes", "status", tally.codes),
        ):
            out += [f"### {title}", ""]
            out += md_table((key, "count"), counts.most_common(10))
            out += [""]
        if tally.errs:
            out += ["### URLs answering 5xx", ""]
            out += md_table(("url", "count"), tally.errs.most_common(10))
            out += [""]
    else:
        out += ["No access log records in the window.", ""]

    out += ["## Errors by message", ""]
    if tally.groups:
        example = tally.example
        clients = tally.group_clients
        out += md_table(
            ("count", "clients", "source", "message"),
            (
                (n, len(clients.get((src, msg), ())) or Own("-"), src, example[(src, msg)])
                for (src, msg), n in tally.groups.most_common(20)
            ),
        )
    else:
        out += ["No error records in the window."]
    out += [""]

    slow = tally.slow
    if slow:
        slow.sort(key=lambda r: -float(r.fields["query_time"]))
        out += ["## Slowest queries", ""]
        out += md_table(
            ("seconds", "time", "user", "query"),
            (
                (
                    Own(f"{float(r.fields['query_time']):.2f}"),
                    when(r.ts),
                    r.fields.get("user", "-"),
                    " ".join(str(r.fields.get("query", r.text)).split())[:120],
                )
                for r in slow[:10]
            ),
        )
        out += [""]

    if sysw:
        procs = next((s.top for s in reversed(sysw) if s.top), ())
        # a process born while lamptop watched holds nothing old: it ranks by all it holds
        grew = sorted(procs, key=lambda p: -(p.rss if p.new else p.growth))[:10]
        out += ["## Processes that grew most", ""]
        if grew:
            out += md_table(
                ("pid", "name", "RSS", "grew", "command"),
                (
                    (p.pid, p.name, mb(p.rss), "new" if p.new else mb(p.growth), p.cmdline)
                    for p in grew
                ),
            )
        else:
            out += ["No process scan in the window."]
        out += [""]

    down = [s for s in win.state_history if s.status != "ok" and start <= s.ts <= end]
    down += [s for s in win.states.values() if s.status != "ok" and s not in down]
    out += ["## Sources that were down", ""]
    if down:
        out += md_table(
            ("time", "source", "state", "message"),
            ((when(s.ts), s.source, s.status, s.message) for s in down),
        )
    else:
        out += ["Every source was readable."]
    out += [""]
    return "\n".join(out)


class Tally:
    """What the report counts in the records of the window, gathered in one pass: all at
    once (``Tally(records, at)``), or piece by piece with :meth:`add` while a bundle writes
    the records, then :meth:`done`."""

    def __init__(self, records: Iterable[LogRecord], at: datetime) -> None:
        self.at = at
        self._minute_from = at - MINUTE
        self._minute: list[str] = []
        self.group_clients: dict[tuple[str, str], set[str]] = {}
        """The clients named by the records of each error group."""
        self._paths: list[str] = []
        self._clients: list[str] = []
        self._codes: list[int | str] = []
        self._errs: list[str] = []
        self._groups: list[tuple[str, str]] = []
        self.example: dict[tuple[str, str], str] = {}
        """The text of the first record of each error group."""
        self.slow: list[LogRecord] = []
        """MySQL slow-log records with a query time."""
        self.add(records)

    def add(self, records: Iterable[LogRecord]) -> None:
        """Count these records too."""
        at, minute_from = self.at, self._minute_from
        paths, minute, clients, codes = self._paths, self._minute, self._clients, self._codes
        errs, groups = self._errs, self._groups
        example, slow, blank = self.example, self.slow, _NUMBERS.sub
        for r in records:
            kind, f = r.kind, r.fields
            if kind == "apache-access" and not is_own_request(r):
                url = str(f.get("url") or "-")
                path = request_path(url) or url.split("?", 1)[0]
                paths.append(path)
                if minute_from <= r.ts <= at:
                    minute.append(path)
                clients.append(str(f.get("client", "-")))
                status = f.get("status", "-")
                codes.append(status if isinstance(status, int) else str(status))
                if isinstance(status, int) and status >= 500:
                    errs.append(path)
            elif kind == "mysql-slow" and "query_time" in f:
                slow.append(r)
            if r.level in ("error", "crit"):
                group = (r.source, blank("N", str(f.get("message") or r.text))[:200])
                groups.append(group)
                if group not in example:
                    example[group] = r.text
                if client := f.get("client"):
                    self.group_clients.setdefault(group, set()).add(str(client))

    def done(self) -> Tally:
        """The counts of everything added (and itself, to chain)."""
        self.access = len(self._paths)
        """Access log records, lamptop's own status polls left out."""
        # Counting lists at the end is Counter's C loop; += per record would be Python's.
        self.urls = Counter(self._paths)
        self.urls_minute = Counter(self._minute)
        """URL paths of the access records in the minute before the trigger."""
        self.clients = Counter(self._clients)
        self.codes = Counter(self._codes)
        self.errs = Counter(self._errs)
        """URL paths of the access records answered with a 5xx."""
        self.groups = Counter(self._groups)
        """Error and critical records by (source, message with its numbers blanked)."""
        return self


def logs_chunks(records: Sequence[LogRecord], per_chunk: int = 1000) -> Iterator[str]:
    """:func:`logs_text` in pieces of ``per_chunk`` records, to stream to a file."""
    for i in range(0, len(records), per_chunk):
        out: list[str] = []
        for r in records[i : i + per_chunk]:
            out.append(f"{utc_date_time(r.ts)} {r.source:<10} {r.level:<8} {r.text}\n")
            for line in r.lines:
                out.append(f"    {line}\n")
        yield "".join(out)


def logs_text(records: Sequence[LogRecord]) -> str:
    """The interleaved records as text: one line each, continuation lines indented."""
    return "".join(logs_chunks(records))


def _verdict(win: Snapshot, at: datetime) -> list[str]:
    """The report's opening: the likely culprit, then what PHP-FPM and MySQL were doing."""
    return _culprit(win, at) + stack_verdict(win, at)


def _culprit(win: Snapshot, at: datetime) -> list[str]:
    """The script most likely behind the trouble, then the next two."""
    found = suspects(win.status, win.system, win.records, at=at, fpm=win.fpm)
    out = ["## Likely culprit", ""]
    if not found:
        return out + [
            "No script stands out: no request in flight held workers, and no script's requests "
            "failed in the minute before the trigger.",
            "",
        ]
    first, *rest = found
    out += [f"**{code(first.path)}**: {first.figures()}.", ""]
    if rest:
        out += ["Next:", ""] + [f"- {code(s.path)}: {s.figures()}." for s in rest] + [""]
    return out
