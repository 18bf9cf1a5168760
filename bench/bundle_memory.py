"""What writing a bundle allocates on top of full rings, file by file.

A :class:`~console.core.recorder.Recorder` is filled as ``snapshot.py`` fills it (20,000 lazy
access and error records, 900 status and 900 system samples), then ``snapshot()`` and
``write_bundle()`` run under :mod:`tracemalloc`, with a ``screen.svg`` of ``--svg-kb`` as the
console hands one. Printed: the peak of Python allocations over what the rings held before,
for the whole bundle and while each file was written, and (``--top N``) the lines that held
most at the peak of the largest file.

This is the in-process side of the console's peak RSS at 10,000 lines/s, where every record
of the ring is in the window of a rule's bundle. It measures memory, not time (tracemalloc
slows everything down several times).

    python3 bench/bundle_memory.py --top 15
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, dump  # noqa: E402
from snapshot import full_recorder  # noqa: E402

sys.path.insert(0, str(ROOT))

MB = 1e6


def fake_svg(kb: int) -> str:
    """An SVG of about ``kb`` kilobytes in the shape of a Textual screenshot (many text rows)."""
    row = '<text class="r1" x="0" y="{y}" textLength="976" clip-path="url(#c)">{t}</text>\n'
    out = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 1000">\n']
    size, y = 0, 0
    while size < kb * 1000:
        piece = row.format(y=y, t=f"access  200 GET /bench/{y}?t=1 " * 3)
        out.append(piece)
        size += len(piece)
        y += 1
    out.append("</svg>\n")
    return "".join(out)


def measure(svg_kb: int = 300, top: int = 0, redact: bool = False) -> dict[str, Any]:
    from console.incident import bundle_files
    from console.incident.bundle import write_bundle
    from console.incident.rules import Trigger

    rec = full_recorder()
    svg = fake_svg(svg_kb) if svg_kb else None
    real_write_new = bundle_files.write_new
    per_file: dict[str, float] = {}
    worst: list[Any] = [0.0, None]

    def note_peak() -> None:
        current, _ = tracemalloc.get_traced_memory()
        if top and (current - base) / MB > worst[0] + 0.25:
            worst[0] = (current - base) / MB
            worst[1] = tracemalloc.take_snapshot()

    def watched(pieces: Iterable[str]) -> Iterable[str]:
        for piece in pieces:
            note_peak()
            yield piece
        note_peak()

    def traced_write_new(dir_fd: int, name: str, data: str | bytes | Iterable[str]) -> None:
        tracemalloc.reset_peak()
        if not isinstance(data, str | bytes):
            data = watched(data)
        real_write_new(dir_fd, name, data)
        _, peak = tracemalloc.get_traced_memory()
        per_file[name] = round((peak - base) / MB, 2)

    def traced_make(name: str, make: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            tracemalloc.reset_peak()
            data = make()
            _, peak = tracemalloc.get_traced_memory()
            per_file[name + " (made)"] = round((peak - base) / MB, 2)
            note_peak()
            return data

        return run

    real_write_in = bundle_files.write_in
    side = getattr(bundle_files, "Side", ())  # a file filled while another is written

    def traced_write_in(
        parent_fd: int, parent: Path, name: str, files: list[tuple[str, Callable[[], Any]]]
    ) -> Path:
        traced = [(f, m if isinstance(m, side) else traced_make(f, m)) for f, m in files]
        return real_write_in(parent_fd, parent, name, traced)

    import console.incident.bundle as bundle_mod

    bundle_mod.write_in = traced_write_in  # type: ignore[assignment]
    bundle_files.write_new = traced_write_new  # type: ignore[assignment]
    tmp = Path(tempfile.mkdtemp(prefix="lamptop-bundlemem-"))
    try:
        gc.collect()
        tracemalloc.start(12)
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        snap = rec.snapshot()
        path = write_bundle(
            snap, Trigger("key", snap.taken_at), tmp, window=300.0, screen_svg=svg, redact=redact
        )
        _, peak = tracemalloc.get_traced_memory()
        del snap
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sizes = {p.name: round(p.stat().st_size / MB, 2) for p in sorted(path.iterdir())}
    finally:
        bundle_mod.write_in = real_write_in  # type: ignore[assignment]
        bundle_files.write_new = real_write_new  # type: ignore[assignment]
        shutil.rmtree(tmp, ignore_errors=True)
    res: dict[str, Any] = {
        "records": len(rec.records),
        # each file's measure restarts tracemalloc's peak: the bundle's is the largest of all
        "peak_mb": round(max((peak - base) / MB, *per_file.values()), 2),
        "kept_mb": round((after - base) / MB, 2),
        "per_file_mb": per_file,
        "file_sizes_mb": sizes,
    }
    if top and worst[1] is not None:
        stats = worst[1].statistics("traceback")
        res["top"] = [
            {"mb": round(s.size / MB, 2), "where": [str(f) for f in s.traceback[-4:]]}
            for s in stats[:top]
        ]
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--svg-kb", type=int, default=300, help="size of screen.svg (0: none)")
    p.add_argument("--top", type=int, default=0, help="show the N biggest holders at the peak")
    p.add_argument("--redact", action="store_true", help="a bundle with --redact")
    p.add_argument("--quick", action="store_true", help="the same run (it takes seconds)")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    res = measure(args.svg_kb, args.top, args.redact)
    print(
        f"bundle of {res['records']} records: peak {res['peak_mb']} MB of Python allocations "
        f"over the rings, {res['kept_mb']} MB kept after"
    )
    for name, mb in res["per_file_mb"].items():
        print(f"  {name:<26} {mb:>7} MB")
    print("  file sizes: " + ", ".join(f"{k} {v} MB" for k, v in res["file_sizes_mb"].items()))
    for t in res.get("top", []):
        print(f"{t['mb']:>7} MB")
        for w in t["where"]:
            print(f"          {w}")
    if args.json:
        dump(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
