"""``report.md`` and ``logs.txt`` of a bundle: what a person reads first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from console.core.events import LogRecord
from console.core.recorder import Snapshot
from console.core.timefmt import utc_date_time, utc_text
from console.incident.markdown import Own, code, mb, md_table, when
from console.incident.report_stack import stack_sections, stack_verdict
from console.incident.rules import Trigger
from console.incident.tally import Tally, Top
from console.parsing.modstatus import request_path
from console.view.metrics import in_flight
from console.view.suspects import suspects


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
            out += _top("url", "URLs", tally.urls_minute)
        for title, key, many, counts in (
            ("Top URLs of the window", "url", "URLs", tally.urls),
            ("Top clients", "client", "clients", tally.clients),
            ("Status codes", "status", "status codes", tally.codes),
        ):
            out += [f"### {title}", ""]
            out += _top(key, many, counts)
        if tally.errs:
            out += ["### URLs answering 5xx", ""]
            out += _top("url", "URLs", tally.errs)
    else:
        out += ["No access log records in the window.", ""]

    out += ["## Errors by message", ""]
    if tally.groups:
        example = tally.example
        clients, cap = tally.group_clients, tally.groups.cap
        out += md_table(
            ("count", "clients", "source", "message"),
            (
                (n, _clients(len(clients.get(g, ())), cap), g[0], example[g])
                for g, n in tally.groups.most_common(20)
            ),
        )
        out += _short(tally.groups, "messages", [g for g, _ in tally.groups.most_common(20)])
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


def _top(key: str, many: str, counts: Top[Any], n: int = 10) -> list[str]:
    """The ``n`` keys counted most, as a table, and what was left out if the tally dropped
    some (:class:`~console.incident.tally.Top`)."""
    rows = counts.most_common(n)
    return md_table((key, "count"), rows) + _short(counts, many, [k for k, _ in rows]) + [""]


def _short(counts: Top[Any], many: str, shown: list[Any]) -> list[str]:
    if not counts.truncated:
        return []
    low = counts.low_by(shown)
    return [
        "",
        f"More than {counts.cap} different {many}: the rarest were set aside while counting "
        f"({counts.other} records), so this table leaves them out; "
        + (f"a count in it may be low by up to {low}." if low else "the counts in it are exact."),
    ]


def _clients(n: int, cap: int) -> object:
    """The clients column of an error group: a group names ``cap`` of them at most."""
    if not n:
        return Own("-")
    return Own(f"{n}+") if n >= cap else n


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
