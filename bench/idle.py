"""Idle cost: lamptop (``record`` and the console in tmux) with every source quiet.

The access and error logs exist and nobody writes to them; the loopback mod_status page
answers once a second as usual; the system sampler runs. CPU % of one core and peak RSS over
``--duration`` seconds (60), after a 1.5 s settle. This is the follow matrix of
``follow.py`` at 0 lines/s, run for longer.

    python3 bench/idle.py
    python3 bench/idle.py --quick      # 5 s
    python3 bench/idle.py --tools tui --duration 30
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from follow import run_one, summary, tools  # noqa: E402
from measure import StatusServer, dump  # noqa: E402


def run(
    duration: float = 60.0, names: tuple[str, ...] = ("record", "tui")
) -> list[dict[str, object]]:
    out = []
    all_tools = tools()
    with StatusServer() as status:
        for name in names:
            r = run_one(all_tools[name], 0, duration, status_url=status.url, catchup_wait=10.0)
            print(summary(r))
            out.append(asdict(r))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--tools", default="record,tui", help="comma-separated: record, tui")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    names = tuple(t for t in args.tools.split(",") if t)
    res = run(5.0 if args.quick else args.duration, names)
    if args.json:
        dump(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
