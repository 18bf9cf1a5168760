"""First paint: from starting ``lamptop`` to a full first screen, in a real terminal (tmux).

The access log holds 200 lines and the error log 19 before the start (what lamptop backfills), and
a loopback mod_status page answers. Two times are taken from the moment ``tmux new-session``
is called, by polling ``tmux capture-pane`` every 10 ms:

* ``frame``: the first frame with every pane (header, workers, memory, logs, footer);
* ``full``: the scoreboard shows the status page's data and the newest backfilled access line
  (``/bench/200?``) is on screen: the screen a person needs.

Median of ``--runs`` starts (5; 2 with ``--quick``).

    python3 bench/first_paint.py
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen  # noqa: E402
from measure import (  # noqa: E402
    StatusServer,
    Tmux,
    dump,
    lamptop_cmd,
    lamptop_env,
    median,
    watch_args,
)  # noqa: E402


def one(status_url: str, timeout: float = 15.0) -> dict[str, float | None]:
    tmp = Path(tempfile.mkdtemp(prefix="lamptop-paint-"))
    access, error = tmp / "access.log", tmp / "error.log"
    gen.run(str(access), str(error), 199, 1.0, end_marker=False)
    # The 200th access line is stamped a second later, so that it is the newest record:
    # access times have whole seconds, and the error lines of the same second sort after them.
    with access.open("a") as f:
        f.write(gen.Lines(seed=2).access(time.time() + 1.0, 200) + "\n")
    cmd = [*lamptop_cmd(), *watch_args(access, error, tmp / "snapshots", status_url)]
    env = lamptop_env()
    t0 = time.monotonic()
    tmux = Tmux("paint", cmd, env=env, cwd=str(tmp))
    frame = full = None
    try:
        while time.monotonic() - t0 < timeout:
            screen = tmux.capture()
            now = time.monotonic() - t0
            if frame is None and all(w in screen for w in ("workers", "memory", "logs", "quit")):
                frame = now
            if frame is not None and "busy" in screen and "/bench/200?" in screen:
                full = now
                break
            time.sleep(0.01)
    finally:
        tmux.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"frame_s": frame, "full_s": full}


def run(runs: int = 5) -> dict[str, object]:
    with StatusServer() as status:
        samples = [one(status.url) for _ in range(runs)]
    return {
        "runs": samples,
        "frame_s": median(s["frame_s"] for s in samples),
        "full_s": median(s["full_s"] for s in samples),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    res = run(2 if args.quick else args.runs)
    print(
        f"first frame {res['frame_s']} s, full first screen {res['full_s']} s (median)", res["runs"]
    )
    if args.json:
        dump(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
