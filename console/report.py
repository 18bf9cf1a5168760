"""``report.md`` and ``logs.txt`` of a bundle: what a person reads first."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from console.events import LogRecord
from console.filters import is_own_request
from console.recorder import Snapshot
from console.rules import Trigger

MB = 1024 * 1024
_NUMBERS = re.compile(r"\b\d+(\.\d+)?\b|0x[0-9a-f]+", re.IGNORECASE)


def _t(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(text: object, width: int = 80) -> str:
    s = str(text).replace("|", "\\|").replace("\n", " ")
    return s if len(s) <= width else s[: width - 1] + "…"


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / MB:.0f} MB"


def make_report(
    win: Snapshot, trigger: Trigger, *, host: str, start: datetime, end: datetime
) -> str:
    out: list[str] = [f"# lamptop snapshot: {host}", ""]
    what = (
        f"rule `{trigger.rule}`"
        if trigger.kind == "rule"
        else {"key": "saved by hand", "exit": "saved on exit"}.get(trigger.kind, trigger.kind)
    )
    out += [f"**Trigger:** {what} at {_t(trigger.at)}"]
    if trigger.message:
        out += ["", f"> {trigger.message}"]
    values = {k: v for k, v in trigger.values.items() if k != "also_fired"}
    if values:
        out += [""] + [f"- {k}: {v}" for k, v in values.items()]
    also = trigger.values.get("also_fired") or []
    if also:
        out += ["", "Also fired while this bundle was being taken:", ""]
        out += [f"- rule `{a['rule']}`: {a['message']}" for a in also]
    out += ["", f"**Window:** {_t(start)} to {_t(end)}", ""]

    sysw = win.system
    if sysw:
        used = [s.mem_used for s in sysw]
        last = sysw[-1]
        out += [
            "## Memory",
            "",
            f"Used {_mb(min(used))} to {_mb(max(used))} of {_mb(last.mem_total)} in the window; "
            f"at the end {_mb(last.mem_used)}, swap {_mb(last.swap_used)} of "
            f"{_mb(last.swap_total)}, load {last.load1:.2f}.",
            "",
        ]

    status = win.status[-1] if win.status else None
    rss = next((s.rss_by_pid for s in reversed(sysw) if s.rss_by_pid), {})
    out += ["## In-flight requests (oldest first)", ""]
    if status is None:
        out += ["No mod_status sample in the window.", ""]
    else:
        out += [
            f"{status.busy} busy of {status.limit} slots at {_t(status.ts)}, "
            f"scoreboard `{status.scoreboard}`",
            "",
        ]
        live = [w for w in status.workers if w.mode not in "_." and w.request]
        live.sort(key=lambda w: -w.seconds)
        if live:
            out += _table(
                ("seconds", "pid", "state", "RSS", "client", "vhost", "request"),
                (
                    (
                        f"{w.seconds:.0f}",
                        w.pid or "-",
                        w.mode,
                        _mb(rss.get(w.pid or -1)),
                        w.client,
                        w.vhost,
                        w.request,
                    )
                    for w in live[:30]
                ),
            )
            urls = Counter(_path(w.request) for w in live)
            top, n = urls.most_common(1)[0]
            out += ["", f"Most common in-flight URL: `{top}` ({n} of {len(live)} workers)."]
        else:
            out += ["No request in flight (or ExtendedStatus is off)."]
        out += [""]

    access = [r for r in win.records if r.kind == "apache-access" and not is_own_request(r)]
    out += ["## Requests in the window", ""]
    if access:
        out += [f"{len(access)} access log records.", ""]
        for title, key in (
            ("Top URLs", "url"),
            ("Top clients", "client"),
            ("Status codes", "status"),
        ):
            counts = Counter(
                str(r.fields.get(key, "-"))
                if key != "url"
                else _path(str(r.fields.get("url", "-")))
                for r in access
            )
            out += [f"### {title}", ""]
            out += _table((key, "count"), counts.most_common(10))
            out += [""]
        errs = Counter(
            _path(str(r.fields.get("url", "-")))
            for r in access
            if isinstance(r.fields.get("status"), int) and r.fields["status"] >= 500
        )
        if errs:
            out += ["### URLs answering 5xx", ""] + _table(("url", "count"), errs.most_common(10))
            out += [""]
    else:
        out += ["No access log records in the window.", ""]

    errors = [r for r in win.records if r.level in ("error", "crit")]
    out += ["## Errors by message", ""]
    if errors:
        groups: Counter[tuple[str, str]] = Counter()
        example: dict[tuple[str, str], str] = {}
        for r in errors:
            group = (r.source, _NUMBERS.sub("N", str(r.fields.get("message") or r.text))[:200])
            groups[group] += 1
            example.setdefault(group, r.text)
        out += _table(
            ("count", "source", "message"),
            ((n, src, example[(src, msg)]) for (src, msg), n in groups.most_common(20)),
        )
    else:
        out += ["No error records in the window."]
    out += [""]

    slow = [r for r in win.records if r.kind == "mysql-slow" and "query_time" in r.fields]
    if slow:
        slow.sort(key=lambda r: -float(r.fields["query_time"]))
        out += ["## Slowest queries", ""]
        out += _table(
            ("seconds", "time", "user", "query"),
            (
                (
                    f"{float(r.fields['query_time']):.2f}",
                    _t(r.ts),
                    r.fields.get("user", "-"),
                    " ".join(str(r.fields.get("query", r.text)).split())[:120],
                )
                for r in slow[:10]
            ),
        )
        out += [""]

    if sysw:
        procs = next((s.top for s in reversed(sysw) if s.top), ())
        grew = sorted(procs, key=lambda p: -p.growth)[:10]
        out += ["## Processes that grew most", ""]
        if grew:
            out += _table(
                ("pid", "name", "RSS", "grew", "command"),
                ((p.pid, p.name, _mb(p.rss), _mb(p.growth), p.cmdline) for p in grew),
            )
        else:
            out += ["No process scan in the window."]
        out += [""]

    down = [s for s in win.state_history if s.status != "ok" and start <= s.ts <= end]
    down += [s for s in win.states.values() if s.status != "ok" and s not in down]
    out += ["## Sources that were down", ""]
    if down:
        out += _table(
            ("time", "source", "state", "message"),
            ((_t(s.ts), s.source, s.status, s.message) for s in down),
        )
    else:
        out += ["Every source was readable."]
    out += [""]
    return "\n".join(out)


def _path(request_or_url: str) -> str:
    """``GET /a.php?x=1 HTTP/1.1`` or ``/a.php?x=1`` to ``/a.php``."""
    parts = request_or_url.split()
    target = parts[1] if len(parts) >= 2 else (parts[0] if parts else "-")
    return target.split("?", 1)[0]


def logs_text(records: Sequence[LogRecord]) -> str:
    """The interleaved records as text: one line each, continuation lines indented."""
    out: list[str] = []
    for r in records:
        out.append(f"{r.ts.strftime('%Y-%m-%d %H:%M:%S')} {r.source:<10} {r.level:<8} {r.text}")
        out.extend(f"    {line}" for line in r.lines)
    return "\n".join(out) + ("\n" if out else "")
