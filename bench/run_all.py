"""Run every benchmark and write ``bench/RESULTS.md`` (and ``bench/results.json``).

    python3 bench/run_all.py                  # everything: about 35 minutes
    python3 bench/run_all.py --quick          # a smoke run of each part: about a minute
    python3 bench/run_all.py --soak 180       # the soak shortened to 3 minutes (said so)
    python3 bench/run_all.py --skip soak,peers

RESULTS.md is rewritten after each part, so an interrupted run still leaves what it measured.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import first_paint  # noqa: E402
import fleet  # noqa: E402
import follow  # noqa: E402
import idle  # noqa: E402
import parse  # noqa: E402
import snapshot  # noqa: E402
import soak  # noqa: E402
from measure import machine, median  # noqa: E402

TARGET_CPU = {
    "lamptop record": {100: 3.0, 1000: 5.0, 10000: 6.0},
    "lamptop (TUI)": {100: 3.0, 1000: 5.0, 10000: 12.0},
}
"""CPU % of one core by tool and access lines/s (idle: ``TARGET_IDLE``)."""
TARGET_IDLE = 1.0
TARGET_RSS_MB = 80
NORULES = """\
[rules.log_trouble]
enabled = false
[rules.http_5xx_burst]
enabled = false
"""


def _f(v: Any, fmt: str = "{:.1f}", none: str = "–") -> str:
    if v is None:
        return none
    return fmt.format(v)


def _ok(cond: bool | None) -> str:
    return "–" if cond is None else ("met" if cond else "**missed**")


def tmux_alone(r: dict[str, Any]) -> dict[str, Any]:
    """Results taken before ``tmux_own`` existed counted the pane's program in tmux's CPU."""
    if r.get("tmux_cpu_pct") is not None and not r.get("tmux_own"):
        r["tmux_cpu_pct"] = round(max(r["tmux_cpu_pct"] - (r["cpu_pct"] or 0.0), 0.0), 2)
        r["tmux_own"] = True
    return r


def follow_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians over repeats of each (tool, rate)."""
    cells: dict[tuple[str, int], list[dict[str, Any]]] = {}
    order: list[tuple[str, int]] = []
    for r in rows:
        if "skipped" in r:
            continue
        key = (r["tool"], r["rate"])
        if key not in cells:
            order.append(key)
        cells.setdefault(key, []).append(r)
    out = []
    for rs in cells.values():
        for r in rs:
            tmux_alone(r)
    for key in order:
        rs = cells[key]
        m: dict[str, Any] = {"tool": key[0], "rate": key[1], "n": len(rs)}
        for k in (
            "cpu_pct",
            "peak_rss_mb",
            "lag_median_s",
            "lag_max_s",
            "catchup_s",
            "behind_mb",
            "lost",
            "tmux_cpu_pct",
        ):
            vals = [r.get(k) for r in rs]
            m[k] = median(vals)
            if k == "catchup_s" and any(v is None for v in vals):
                m[k] = None
            if k == "lost" and any(v for v in vals if v):
                m[k] = max(v for v in vals if v is not None)
        m["note"] = "; ".join(sorted({r["note"] for r in rs if r.get("note")}))
        out.append(m)
    return out


def render(res: dict[str, Any]) -> str:
    m = res["machine"]
    L: list[str] = []
    L.append("# lamptop benchmark results\n")
    L.append(
        f"Measured {m['date']} on `{m['host']}`: {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gb']} GB RAM, Linux {m['kernel']}, Python {m['python']}, "
        f"Textual {m['textual']}. A shared, noisy machine: compare rows of one run, not runs. "
        "How each figure is taken: [README.md](README.md).\n"
    )
    if res.get("notes"):
        for n in res["notes"]:
            L.append(f"> {n}\n")
    fol = res.get("follow")
    if fol:
        rows = follow_rows(fol)
        L.append("## 1. Follow cost\n")
        L.append(
            f"Access log at the rate shown plus an error log at a tenth of it, "
            f"{res.get('follow_duration', 30):.0f} s per cell; lamptop rows are the median of "
            f"{res.get('follow_repeat', 1)} run(s), peers one run. "
            "CPU is user+sys over wall, % of one core, "
            "for the tool's process tree; tmux is the terminal's own CPU (it renders what a TUI "
            "draws), apart. Lag: median (worst) seconds between a line's write and the tool "
            "having it, during the load. Catch-up: seconds after the last write until the tool "
            "has everything (– = not within the wait). Behind: access-log MB not yet read "
            "when the load stopped. Lost: lines written − records counted (lamptop record).\n"
        )
        L.append(
            "| tool | lines/s | CPU % | peak RSS MB | lag s (worst) | catch-up s | behind MB "
            "| lost | tmux CPU % | notes |"
        )
        L.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---|")
        for r in rows:
            L.append(
                f"| {r['tool']} | {r['rate']:,} | {_f(r['cpu_pct'])} | "
                f"{_f(r['peak_rss_mb'], '{:.0f}')} | "
                f"{_f(r['lag_median_s'], '{:.2f}')} ({_f(r['lag_max_s'], '{:.2f}')}) | "
                f"{_f(r['catchup_s'], '{:.1f}')} | {_f(r['behind_mb'], '{:.1f}')} | "
                f"{_f(r['lost'], '{:.0f}')} | {_f(r['tmux_cpu_pct'])} | {r['note']} |"
            )
        skipped = [r for r in fol if "skipped" in r]
        for s in skipped:
            L.append(f"\n{s['tool']}: skipped ({s['skipped']}).")
        L.append("")
    nr = res.get("follow_norules")
    if nr:
        L.append("### The same, spike rules off\n")
        L.append(
            "The generated error log holds lines that fire the `log_trouble` rule and the access "
            "log enough 5xx to fire `http_5xx_burst`; each fired rule writes a bundle of the "
            "whole window (up to 20,000 records). With both rules off, what is left is "
            "following, parsing, recording and drawing:\n"
        )
        L.append("| tool | lines/s | CPU % | peak RSS MB | lag s (worst) | lost |")
        L.append("|---|---:|---:|---:|---|---:|")
        for r in follow_rows(nr):
            L.append(
                f"| {r['tool']} | {r['rate']:,} | {_f(r['cpu_pct'])} | "
                f"{_f(r['peak_rss_mb'], '{:.0f}')} | {_f(r['lag_median_s'], '{:.2f}')} "
                f"({_f(r['lag_max_s'], '{:.2f}')}) | {_f(r['lost'], '{:.0f}')} |"
            )
        L.append("")
    L += render_peers(res)
    tg = targets(res)
    if tg:
        L.append("## Targets\n")
        L.append("| target | measured | |")
        L.append("|---|---|---|")
        for name, measured, ok in tg:
            L.append(f"| {name} | {measured} | {_ok(ok)} |")
        L.append("")
    if res.get("parse"):
        L.append("## 2. Parse throughput\n")
        L.append(
            "Lines per second per core (CPU time), generated data, 1,000-line chunks, best of 3.\n"
        )
        L.append("| format | lines/s per core | lines | records |")
        L.append("|---|---:|---:|---:|")
        for r in res["parse"]:
            L.append(f"| {r['kind']} | {r['lines_per_s']:,} | {r['lines']:,} | {r['records']:,} |")
        L.append("")
    if res.get("idle") or res.get("first_paint") or res.get("snapshot"):
        L.append("## 3. Idle, first paint, snapshot\n")
        L.append("| measure | value |")
        L.append("|---|---|")
        for r in res.get("idle", []):
            tmux_alone(r)
            L.append(
                f"| idle {res.get('idle_duration', 60):.0f} s, {r['tool']}: CPU % / peak RSS MB | "
                f"{_f(r['cpu_pct'], '{:.2f}')} % / {_f(r['peak_rss_mb'], '{:.0f}')} MB "
                f"(tmux {_f(r['tmux_cpu_pct'], '{:.2f}')} %) |"
            )
        fp = res.get("first_paint")
        if fp:
            L.append(
                f"| first frame (all panes drawn), median of {len(fp['runs'])} | "
                f"{_f(fp['frame_s'], '{:.2f}')} s |"
            )
            L.append(
                f"| full first screen (scoreboard + backfilled logs) | "
                f"{_f(fp['full_s'], '{:.2f}')} s |"
            )
        sn = res.get("snapshot")
        if sn:
            b, k = sn["bundle"], sn["key"]
            L.append(
                f"| snapshot + write_bundle, full rings ({b['records']:,} records, {b['status']} "
                f"status, {b['system']} system samples; {b['bundle_mb']} MB), median | "
                f"{_f(b['median_s'], '{:.3f}')} s |"
            )
            L.append(
                f"| console: key `s` to bundle complete, 20,000-record log ring, median | "
                f"{_f(k['median_s'], '{:.3f}')} s {k.get('note', '')} |"
            )
        L.append("")
    so = res.get("soak")
    if so:
        L.append("## 4. Soak\n")
        L.append(
            f"`lamptop record` at {so['rate']:,} lines/s (+ a tenth on the error log) for "
            f"{so['duration']:.0f} s: CPU {so['cpu_pct']} %, RSS after {so['first_s']:.0f} s "
            f"{so['rss_after_first_mb']} MB, at the end {so['rss_end_mb']} MB "
            f"(**{so['growth_pct']:+} %**, target within 10 %: {_ok(so['bounded'])}), peak "
            f"{so['peak_rss_mb']} MB, lag {so['lag_median_s']} s (worst {so['lag_max_s']}), lost "
            f"{so['lost']}.\n"
        )
        L.append(
            "RSS over time (s, MB): " + ", ".join(f"{t}: {mb}" for t, mb in so["rss_curve"]) + "\n"
        )
    L += render_fleet(res)
    if res.get("analysis"):
        L.append("## What bounds the misses\n")
        L.append(res["analysis"].strip() + "\n")
    return "\n".join(L)


def versus_peers(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Each lamptop row beside each peer's row of the same rate and run: CPU and peak RSS,
    and whether lamptop is ahead (lower) on both."""
    rows = follow_rows(res.get("follow") or [])
    ours = [r for r in rows if r["tool"].startswith("lamptop")]
    theirs = [r for r in rows if not r["tool"].startswith("lamptop")]
    out = []
    for o in ours:
        for t in theirs:
            if t["rate"] != o["rate"] or o["cpu_pct"] is None or t["cpu_pct"] is None:
                continue
            cpu_ahead = o["cpu_pct"] <= t["cpu_pct"]
            rss_ahead = (
                None
                if o["peak_rss_mb"] is None or t["peak_rss_mb"] is None
                else o["peak_rss_mb"] <= t["peak_rss_mb"]
            )
            out.append(
                {
                    "tool": o["tool"],
                    "peer": t["tool"],
                    "rate": o["rate"],
                    "cpu": (o["cpu_pct"], t["cpu_pct"]),
                    "rss": (o["peak_rss_mb"], t["peak_rss_mb"]),
                    "cpu_ahead": cpu_ahead,
                    "rss_ahead": rss_ahead,
                    "peer_kept_up": t.get("catchup_s") is not None,
                }
            )
    return out


def render_peers(res: dict[str, Any]) -> list[str]:
    vs = versus_peers(res)
    if not vs:
        return []
    peers = list(dict.fromkeys(v["peer"] for v in vs))
    rows: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for v in vs:
        rows.setdefault((v["tool"], v["rate"]), {})[v["peer"]] = v
    L = ["### lamptop beside each peer\n"]
    L.append(
        "The same run, CPU % / peak RSS MB at each rate; under each peer, whether lamptop is "
        "ahead (lower) on CPU and on RSS (✓ ahead, ✗ behind). A peer that did not keep up (it "
        "fell behind the log and had not caught up within the wait) is marked *: its CPU is "
        "that of a tool doing less than the work.\n"
    )
    L.append("| lamptop | lines/s | lamptop | " + " | ".join(peers) + " |")
    L.append("|---|---:|---|" + "---|" * len(peers))
    for (tool, rate), by_peer in rows.items():
        any_v = next(iter(by_peer.values()))
        ours = f"{_f(any_v['cpu'][0])} / {_f(any_v['rss'][0], '{:.0f}')}"
        cells = []
        for peer in peers:
            v = by_peer.get(peer)
            if v is None:
                cells.append("–")
                continue
            mark = ("✓" if v["cpu_ahead"] else "✗") + (
                "✓" if v["rss_ahead"] else "✗" if v["rss_ahead"] is False else "–"
            )
            late = "" if v["peer_kept_up"] else "*"
            cells.append(f"{_f(v['cpu'][1])} / {_f(v['rss'][1], '{:.0f}')}{late} {mark}")
        L.append(f"| {tool} | {rate:,} | {ours} | " + " | ".join(cells) + " |")
    L.append("")
    return L


def render_fleet(res: dict[str, Any]) -> list[str]:
    fl = res.get("fleet")
    if not fl:
        return []
    bw = fl["bandwidth"]
    L = ["## 5. Several hosts\n"]
    L.append(
        f"`lamptop record --stream` following {bw['rate']:,} access lines/s (+ a tenth on the "
        f"error log) sends **{bw['bytes_per_s'] / 1024:.0f} KiB/s** ({bw['bytes_per_record']} "
        "bytes a record). One console process reading N such streams (simulated hosts, "
        f"{fl['duration']:.0f} s per cell), headless: its CPU and whether it kept up.\n"
    )
    L.append("| hosts | lines/s each | console CPU % | received / sent | kept up |")
    L.append("|---:|---:|---:|---|---|")
    for c in fl["console"]:
        L.append(
            f"| {c['hosts']} | {c['rate_each']:,} | {c['cpu_pct']} | {c['received']:,} / "
            f"{c['sent']:,} | {'yes' if c['kept_up'] else '**no**'} |"
        )
    L.append("")
    return L


def targets(res: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    out: list[tuple[str, str, bool | None]] = []
    rows = follow_rows(res.get("follow") or [])
    for r in rows:
        if not r["tool"].startswith("lamptop"):
            continue
        lim = TARGET_CPU.get(r["tool"], {}).get(r["rate"])
        if lim is not None and r["rate"] > 0 and r["cpu_pct"] is not None:
            out.append(
                (
                    f"{r['tool']} at {r['rate']:,}/s: CPU ≤ {lim:g} %",
                    f"{r['cpu_pct']:.1f} %",
                    r["cpu_pct"] <= lim,
                )
            )
        if r["rate"] == 10000:
            if r["lag_median_s"] is not None:
                out.append(
                    (
                        f"{r['tool']} at 10,000/s: lag ≤ 1 s",
                        f"{r['lag_median_s']:.2f} s median, {r['lag_max_s']:.2f} s worst",
                        r["lag_max_s"] <= 1.0,
                    )
                )
            if r["peak_rss_mb"] is not None:
                out.append(
                    (
                        f"{r['tool']} at 10,000/s: peak RSS ≤ {TARGET_RSS_MB} MB",
                        f"{r['peak_rss_mb']:.0f} MB",
                        r["peak_rss_mb"] <= TARGET_RSS_MB,
                    )
                )
            if r["lost"] is not None:
                out.append(
                    (
                        f"{r['tool']} at 10,000/s: nothing lost",
                        f"{r['lost']:.0f} lost",
                        r["lost"] == 0,
                    )
                )
    for r in res.get("idle", []):
        if r.get("cpu_pct") is not None:
            out.append(
                (
                    f"idle, {r['tool']}: CPU ≤ {TARGET_IDLE:g} %",
                    f"{r['cpu_pct']:.2f} %",
                    r["cpu_pct"] <= TARGET_IDLE,
                )
            )
    fp = res.get("first_paint")
    if fp and fp.get("full_s") is not None:
        out.append(
            (
                "first paint ≤ 0.5 s",
                f"frame {fp['frame_s']:.2f} s, full {fp['full_s']:.2f} s",
                fp["full_s"] <= 0.5,
            )
        )
    sn = res.get("snapshot")
    if sn and sn["bundle"].get("median_s") is not None:
        out.append(
            (
                "snapshot written ≤ 0.3 s, full rings",
                f"{sn['bundle']['median_s']:.2f} s",
                sn["bundle"]["median_s"] <= 0.3,
            )
        )
    if sn and sn["key"].get("median_s") is not None:
        out.append(
            (
                "console key s to bundle ≤ 0.3 s",
                f"{sn['key']['median_s']:.2f} s",
                sn["key"]["median_s"] <= 0.3,
            )
        )
    so = res.get("soak")
    if so:
        out.append(
            (
                f"soak: RSS at end within 10 % of RSS at {so['first_s']:.0f} s",
                f"{so['rss_after_first_mb']} → {so['rss_end_mb']} MB",
                so["bounded"],
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run of every part")
    p.add_argument(
        "--skip",
        default="",
        help="comma-separated: parse,paint,snapshot,idle,follow,peers,norules,soak,fleet",
    )
    p.add_argument("--duration", type=float, default=30.0, help="seconds per follow cell")
    p.add_argument("--repeat", type=int, default=1, help="runs per lamptop follow cell")
    p.add_argument("--soak", type=float, default=600.0, help="soak seconds")
    p.add_argument("--catchup", type=float, default=30.0, help="seconds to wait for catch-up")
    p.add_argument("--out", default=str(HERE / "RESULTS.md"))
    p.add_argument("--analysis", help="a markdown file appended as 'What bounds the misses'")
    p.add_argument("--resume", metavar="JSON", help="keep the parts already in this results.json")
    p.add_argument("--render", metavar="JSON", help="only write RESULTS.md from this results.json")
    args = p.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    if args.render:
        res0 = json.loads(Path(args.render).read_text())
        if args.analysis:
            res0["analysis"] = Path(args.analysis).read_text()
        Path(args.out).write_text(render(res0))
        print(f"wrote {args.out}")
        return 0
    q = args.quick
    res: dict[str, Any] = {"machine": machine(), "notes": []}
    done: dict[str, Any] = json.loads(Path(args.resume).read_text()) if args.resume else {}
    if done:
        res["machine"] = done["machine"]
    duration = 3.0 if q else args.duration
    res["follow_duration"], res["follow_repeat"] = duration, args.repeat
    if args.soak < 600 and not q:
        res["notes"].append(
            f"The soak ran {args.soak:.0f} s instead of the 10 minutes `soak.py` runs by default."
        )
    if args.analysis:
        res["analysis"] = Path(args.analysis).read_text()
    out = Path(args.out)

    def save() -> None:
        out.write_text(render(res))
        out.with_name("results.json").write_text(json.dumps(res, indent=1, default=str) + "\n")

    def part(name: str, fn: Any, key: str = "") -> None:
        if name in skip:
            return
        if key and key in done:
            res[key] = done[key]
            return
        t0 = time.monotonic()
        print(f"== {name}", flush=True)
        fn()
        print(f"== {name} done in {time.monotonic() - t0:.0f} s", flush=True)
        save()

    part(
        "parse",
        lambda: res.__setitem__("parse", parse.run(20_000 if q else 200_000, 1 if q else 3)),
        "parse",
    )
    part(
        "paint",
        lambda: res.__setitem__("first_paint", first_paint.run(2 if q else 5)),
        "first_paint",
    )
    part("snapshot", lambda: res.__setitem__("snapshot", snapshot.run(5, q)), "snapshot")
    res["idle_duration"] = 5.0 if q else 60.0
    part("idle", lambda: res.__setitem__("idle", idle.run(res["idle_duration"])), "idle")
    rates = (1000,) if q else follow.RATES

    def do_follow() -> None:
        rows = follow.run(
            ["record", "tui"], rates, duration, args.repeat, catchup_wait=args.catchup
        )
        res["follow"] = rows
        if "peers" not in skip:
            save()
            peers = [k for k in follow.tools() if k not in ("record", "tui")]
            res["follow"] = rows + follow.run(peers, rates, duration, 1, catchup_wait=args.catchup)

    part("follow", do_follow, "follow")

    def do_norules() -> None:
        # the same cells with the spike rules off: what the rules' bundles cost
        cfg = HERE / ".norules.toml"
        cfg.write_text(NORULES)
        try:
            res["follow_norules"] = follow.run(
                ["record", "tui"],
                (1000,) if q else (1000, 10000),
                duration,
                1,
                catchup_wait=args.catchup,
                extra_args=("--config", str(cfg)),
                label=" (rules off)",
            )
        finally:
            cfg.unlink()

    part("norules", do_norules, "follow_norules")
    part(
        "soak",
        lambda: res.__setitem__(
            "soak", soak.run(20.0 if q else args.soak, 5000, 5.0 if q else 60.0)
        ),
        "soak",
    )
    part("fleet", lambda: res.__setitem__("fleet", fleet.run(duration)), "fleet")
    save()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
