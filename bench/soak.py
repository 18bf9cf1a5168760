"""Soak: ``lamptop record`` following 5,000 access lines/s (and 500 error lines/s) for 10
minutes. The rings are bounded, so memory must level off: the RSS at the end must be within
10 % of the RSS after the first minute. Also reports CPU, peak RSS and lines lost.

    python3 bench/soak.py                  # 600 s
    python3 bench/soak.py --duration 180   # shorter
    python3 bench/soak.py --quick          # 20 s, RSS compared at 5 s (a smoke run only)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import follow  # noqa: E402
from measure import Sampler, StatusServer, dump  # noqa: E402


def run(duration: float = 600.0, rate: int = 5000, first: float = 60.0) -> dict[str, object]:
    samplers: list[Sampler] = []
    real_start = Sampler.start

    def keep(self: Sampler) -> Sampler:  # remember the lamptop sampler to read its RSS curve
        samplers.append(self)
        return real_start(self)

    Sampler.start = keep  # type: ignore[method-assign]
    try:
        with StatusServer() as status:
            r = follow.run_one(
                follow.tools()["record"], rate, duration, status_url=status.url, catchup_wait=30
            )
    finally:
        Sampler.start = real_start  # type: ignore[method-assign]
    usage = samplers[0].usage
    rss_first = usage.rss_at(first)
    rss_end = usage.rss_mb[-1][1] if usage.rss_mb else 0.0
    growth = (rss_end - rss_first) / rss_first * 100 if rss_first else None
    curve = [(round(t), round(mb, 1)) for t, mb in usage.rss_mb[:: max(len(usage.rss_mb) // 40, 1)]]
    out = {
        **{k: v for k, v in asdict(r).items() if k != "lags"},
        "rss_after_first_mb": round(rss_first, 1),
        "first_s": first,
        "rss_end_mb": round(rss_end, 1),
        "growth_pct": round(growth, 1) if growth is not None else None,
        "bounded": growth is not None and growth <= 10.0,
        "rss_curve": curve,
    }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--rate", type=int, default=5000)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    duration, first = (20.0, 5.0) if args.quick else (args.duration, 60.0)
    res = run(duration, args.rate, first)
    print(
        f"soak {duration:.0f} s at {args.rate}/s: cpu {res['cpu_pct']}%, RSS after {first:.0f} s "
        f"{res['rss_after_first_mb']} MB, at end {res['rss_end_mb']} MB "
        f"({res['growth_pct']}%), peak {res['peak_rss_mb']} MB, lost {res['lost']}"
    )
    if args.json:
        dump(res, args.json)
    return 0 if res["bounded"] and res["lost"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
