"""Make the README's screenshots from the seeded demo, through the real console.

    python screenshots/generate.py [--out DIR] [--size 120x40]

Writes main.svg (the outage, live), fpm.svg and mysql.svg (``w``: the PHP-FPM pool and the
MySQL queries), filter.svg (a filter in use), frozen.svg (space pressed) and help.svg; hosts.svg
(several hosts: the scripted fleet of the tests, one host saturated and one down, the saturated
one chosen with ``h``); and a PNG of each when ``rsvg-convert`` (Debian's librsvg2-bin) is
installed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.core.config import Config  # noqa: E402
from console.core.recorder import Recorder  # noqa: E402
from console.demo import OUTAGE_AT, Demo  # noqa: E402
from console.sources.engine import Engine  # noqa: E402
from console.sources.plan import make_plan  # noqa: E402
from console.tui.app import LamptopApp  # noqa: E402


async def shoot(out: Path, size: tuple[int, int], seed: int) -> list[Path]:
    written: list[Path] = []
    with Demo(seed=seed, start_at=OUTAGE_AT + 12) as demo:
        cfg = demo.config(Config(status_interval=0.5, system_interval=0.5, refresh=0.25))
        recorder = Recorder(max_records=cfg.max_records, max_samples=cfg.max_samples)
        engine = Engine(
            cfg,
            recorder,
            make_plan(cfg),
            system=demo.system_source(recorder),
            extra=demo.extra_sources(recorder),
        )
        app = LamptopApp(recorder, config=cfg, engine=engine, title_note="DEMO")
        async with app.run_test(size=size) as pilot:
            for _ in range(100):  # until every pane has something to show
                await pilot.pause(0.1)
                snap = app.live_snapshot
                if (
                    snap is not None
                    and snap.latest_status is not None
                    and len(snap.system) >= 4
                    and len(snap.records) > 50
                    and snap.fpm
                    and snap.mysql
                ):
                    break
            await pilot.pause(1.0)

            def save(name: str) -> None:
                app.save_screenshot(filename=f"{name}.svg", path=str(out))
                written.append(out / f"{name}.svg")

            save("main")
            await pilot.press("w")
            await pilot.pause(0.5)
            save("fpm")
            await pilot.press("w")
            await pilot.pause(0.5)
            save("mysql")
            await pilot.press("w")
            await pilot.press("slash", *"report", "enter")
            await pilot.pause(0.5)
            save("filter")
            await pilot.press("escape", "space")
            await pilot.pause(1.5)
            save("frozen")
            await pilot.press("space", "question_mark")
            await pilot.pause(0.5)
            save("help")
            await pilot.press("escape")
    written.append(await shoot_hosts(out, size))
    return written


async def shoot_hosts(out: Path, size: tuple[int, int]) -> Path:
    """Several hosts: the tests' scripted fleet (``web1`` here, ``fleet-a`` saturated,
    ``fleet-b`` down), ``fleet-a`` chosen."""
    from tests.support.fleet_scripted import fleet_app

    app = fleet_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        await pilot.press("h")
        await pilot.pause(0.5)
        app.save_screenshot(filename="hosts.svg", path=str(out))
    return out / "hosts.svg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--size", default="120x40", help="terminal size, COLSxROWS")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    cols, rows = (int(x) for x in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = asyncio.run(shoot(out, (cols, rows), args.seed))
    converter = shutil.which("rsvg-convert")
    for svg in written:
        if converter:
            subprocess.run([converter, str(svg), "-o", str(svg.with_suffix(".png"))], check=True)
        print(svg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
