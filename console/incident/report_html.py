"""``report.html``: report.md for a postmortem, with a timeline of the window drawn in SVG.

One self-contained file: no script, no stylesheet or image fetched from anywhere, and a
Content-Security-Policy that forbids both, should anything slip through. The text is report.md
rendered with raw HTML disabled (every outside value is already in a code span there); the
timeline's labels are escaped for XML. Three panels share the time axis: workers busy against
the limit, memory and swap used, and 5xx answers per 10 s; the trigger and every rule that
fired with it are marked across them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from markdown_it import MarkdownIt

from console.core.recorder import Snapshot
from console.core.timefmt import from_iso, utc_text
from console.incident.rules import Trigger
from console.view.filters import is_5xx

WIDTH, LEFT, RIGHT = 960, 64, 16
PANEL, GAP, TOP = 90, 26, 22
BUCKET = 10.0
"""Seconds per bar of the 5xx panel."""

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 62rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1f21; background: #fff; }
code { font: 13px ui-monospace, monospace; background: #f3f4f6; padding: 0 .2em;
       word-break: break-all; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d4da; padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
blockquote { margin: 0; padding-left: 1rem; border-left: 3px solid #d0d4da; }
h2 { border-bottom: 1px solid #e5e7eb; padding-bottom: .2rem; margin-top: 2rem; }
svg text { font: 11px system-ui, sans-serif; fill: #4b5563; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'"


def make_report_html(
    markdown: str, win: Snapshot, trigger: Trigger, *, host: str, start: datetime, end: datetime
) -> str:
    """The HTML page of a bundle: ``markdown`` (report.md) rendered, with the timeline after
    its verdict."""
    body = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    rendered = body.render(markdown)
    timeline = _timeline(win, trigger, start, end)
    at = rendered.find("<h2>", rendered.find("<h2>") + 1)  # after the verdict's section
    if at < 0:
        at = len(rendered)
    section = f"<h2>Timeline</h2>\n{timeline}\n"
    title = escape(f"lamptop snapshot: {host} · {utc_text(trigger.at)}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style></head><body>\n"
        f"{rendered[:at]}{section}{rendered[at:]}</body></html>\n"
    )


def _timeline(win: Snapshot, trigger: Trigger, start: datetime, end: datetime) -> str:
    span = max((end - start).total_seconds(), 1.0)
    inner = WIDTH - LEFT - RIGHT

    def x(ts: datetime) -> float:
        return LEFT + inner * min(max((ts - start).total_seconds() / span, 0.0), 1.0)

    height = TOP + 3 * PANEL + 2 * GAP + 24
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="timeline of the window">'
    ]
    tops = [TOP + i * (PANEL + GAP) for i in range(3)]
    status, system = win.status, win.system
    limit = max((s.limit for s in status), default=0)
    out += _panel(tops[0], f"workers busy of {limit}" if limit else "workers busy (no sample)")
    if limit:
        out.append(_line([(x(s.ts), s.busy / limit) for s in status], tops[0], "#b45309"))
        out.append(_hline(tops[0], 1.0, "#9ca3af"))
    out += _panel(tops[1], "memory used (blue), swap used (red), of each total")
    if system:
        out.append(
            _line([(x(s.ts), s.mem_used / max(s.mem_total, 1)) for s in system], tops[1], "#2563eb")
        )
        if any(s.swap_total for s in system):
            out.append(
                _line(
                    [(x(s.ts), s.swap_used / max(s.swap_total, 1)) for s in system],
                    tops[1],
                    "#dc2626",
                )
            )
    bars = _errors_per_bucket(win, start, span)
    most = max(bars, default=0)
    out += _panel(tops[2], f"5xx answers per {BUCKET:.0f} s (most: {most})")
    if most:
        w = inner * BUCKET / span
        for i, n in enumerate(bars):
            if n:
                h = PANEL * n / most
                out.append(
                    f'<rect x="{LEFT + i * w:.1f}" y="{tops[2] + PANEL - h:.1f}" '
                    f'width="{max(w - 1, 1):.1f}" height="{h:.1f}" fill="#dc2626"/>'
                )
    marks = [(trigger.at, trigger.rule or trigger.kind, "#111827")]
    for a in trigger.values.get("also_fired") or ():
        when = _when(a.get("at"))
        if when is not None:
            marks.append((when, str(a.get("rule", "")), "#6b7280"))
    bottom = tops[2] + PANEL
    for when, label, colour in marks:
        px = x(when)
        out.append(
            f'<line x1="{px:.1f}" y1="{TOP - 8}" x2="{px:.1f}" y2="{bottom}" '
            f'stroke="{colour}" stroke-dasharray="4 3"/>'
        )
        out.append(f'<text x="{px + 3:.1f}" y="{TOP - 10}">{escape(label[:40])}</text>')
    out.append(f'<text x="{LEFT}" y="{height - 6}">{escape(utc_text(start))}</text>')
    out.append(
        f'<text x="{WIDTH - RIGHT}" y="{height - 6}" text-anchor="end">'
        f"{escape(utc_text(end))}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def _panel(top: int, title: str) -> list[str]:
    return [
        f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - RIGHT}" height="{PANEL}" '
        'fill="#f9fafb" stroke="#e5e7eb"/>',
        f'<text x="{LEFT}" y="{top - 4}">{escape(title)}</text>',
    ]


def _line(points: Sequence[tuple[float, float]], top: int, colour: str) -> str:
    coords = " ".join(
        f"{px:.1f},{top + PANEL * (1 - min(max(v, 0.0), 1.0)):.1f}" for px, v in points
    )
    return f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.5"/>'


def _hline(top: int, value: float, colour: str) -> str:
    y = top + PANEL * (1 - value)
    return (
        f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
        f'stroke="{colour}" stroke-dasharray="2 2"/>'
    )


def _errors_per_bucket(win: Snapshot, start: datetime, span: float) -> list[int]:
    bars = [0] * (int(span // BUCKET) + 1)
    for r in win.records:
        if is_5xx(r):
            i = int((r.ts - start).total_seconds() // BUCKET)
            if 0 <= i < len(bars):
                bars[i] += 1
    return bars


def _when(text: object) -> datetime | None:
    try:
        return from_iso(str(text))
    except ValueError:
        return None
