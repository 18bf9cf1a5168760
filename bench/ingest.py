"""Ingest cost inside one process: what each access-log line costs from bytes to the ring.

The load of ``follow.py`` (``gen.py``'s combined access lines, an error log at a tenth of the
rate) is cut into the chunks a tail reads every 0.25 s at ``--rate`` lines/s and sent through
what ``lamptop record`` and the console do with it, stage by stage:

* ``split``: :class:`~console.sources.tail.lines.LineSplitter`, bytes to clean lines;
* ``parse``: the access and error parsers;
* ``record``: :meth:`Recorder.add_records` and the release into the ring (20,000 records);
* ``rules``: every spike rule's ``on_records`` (the error lines are ones that do not fire
  ``log_trouble``, so it reads every line, as it does until something goes wrong);
* ``view``: the console's :class:`~console.view.logindex.LogIndex` taking each snapshot with
  the default filter, twice a second.

Each stage's CPU time (``time.process_time``) is divided by the access lines: µs per line,
and lines per second per core for the whole. ``--memory`` also fills a ring and reports what
a record costs in it (tracemalloc), and what making every text and fields of the ring adds.

    python3 bench/ingest.py                 # 200,000 access lines
    python3 bench/ingest.py --quick         # 20,000
    python3 bench/ingest.py --max-percent 6 # exit 1 when 10,000 lines/s costs more than 6 %

``--max-percent`` makes it a guard of the 10,000 lines/s figure: the CPU it measures in
process is what ``lamptop record`` spends on the lines, without the event loop and the
sources' polls (``follow.py`` measures the whole process, with a generator beside it).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import Lines  # noqa: E402
from measure import ROOT, dump  # noqa: E402

sys.path.insert(0, str(ROOT))

#: Error lines of ``gen.py`` that ``log_trouble``'s default patterns match: left out here.
_TROUBLE = ("AH00161", "Allowed memory size")


def chunks(n: int, rate: int, seed: int = 1) -> list[tuple[bytes, bytes]]:
    """(access bytes, error bytes) per 0.25 s of load at ``rate`` access lines/s."""
    g = Lines(seed)
    per = max(1, rate // 4)
    t0 = time.time() - n / rate
    out: list[tuple[bytes, bytes]] = []
    err_n = 0
    for start in range(0, n, per):
        acc = []
        err = []
        for i in range(start, min(start + per, n)):
            t = t0 + i / rate
            acc.append(g.access(t, i))
            if i % 10 == 0:
                while True:
                    err_n += 1
                    line = g.error(t, err_n)
                    if not any(word in line for word in _TROUBLE):
                        break
                err.append(line)
        out.append((("\n".join(acc) + "\n").encode(), ("\n".join(err) + "\n").encode()))
    return out


def _timed_rules(base: type, book: Any, clock: Any, spent: dict[str, float]) -> Any:
    """A recorder listener running the rules on each released batch, its CPU time counted."""

    class Rules(base):  # type: ignore[misc, valid-type]
        def on_records(self, batch: tuple[object, ...]) -> None:
            c = time.process_time()
            book.on_records(batch, clock.now())
            spent["rules"] += time.process_time() - c

    return Rules()


def run(n: int = 200_000, rate: int = 10_000, repeat: int = 3) -> dict[str, object]:
    from console.core.clock import ManualClock
    from console.core.recorder import Listener, Recorder
    from console.incident.rules import RuleBook, build_rules
    from console.parsing import make_parser
    from console.sources.tail.lines import LineSplitter
    from console.view.logindex import LogIndex

    data = chunks(n, rate)
    best: dict[str, float] | None = None
    for _ in range(repeat):
        clock = ManualClock(datetime.now(UTC))
        recorder = Recorder(clock=clock)
        book = RuleBook(build_rules())
        spent = {"split": 0.0, "parse": 0.0, "record": 0.0, "rules": 0.0, "view": 0.0}

        recorder.subscribe(_timed_rules(Listener, book, clock, spent))
        index = LogIndex()
        split_a, split_e = LineSplitter(65536), LineSplitter(65536)
        parse_a = make_parser("apache-access", "access")
        parse_e = make_parser("apache-error", "error")
        gc.collect()
        for k, (acc, err) in enumerate(data):
            clock.advance(0.25)
            now = clock.now()
            c0 = time.process_time()
            lines_a = split_a.feed(acc)
            lines_e = split_e.feed(err)
            c1 = time.process_time()
            recs_a = parse_a.feed(lines_a, now)
            recs_e = parse_e.feed(lines_e, now)
            c2 = time.process_time()
            rules0 = spent["rules"]
            recorder.add_records(recs_a)
            recorder.add_records(recs_e)
            recorder.release(force=True)
            c3 = time.process_time()
            if k % 2:
                index.sync(tuple(recorder.records))
            c4 = time.process_time()
            spent["split"] += c1 - c0
            spent["parse"] += c2 - c1
            spent["record"] += c3 - c2 - (spent["rules"] - rules0)
            spent["view"] += c4 - c3
        total = sum(spent.values())
        if best is None or total < sum(best.values()):
            best = spent
    assert best is not None
    total = sum(best.values())
    us = {k: round(v / n * 1e6, 3) for k, v in best.items()}
    result: dict[str, object] = {
        "lines": n,
        "rate": rate,
        "us_per_line": us,
        "us_per_line_total": round(total / n * 1e6, 3),
        "lines_per_s": round(n / total) if total else 0,
        "cpu_at_rate_percent": round(100 * total / n * rate, 2),
    }
    return result


def memory(rate: int = 10_000) -> dict[str, object]:
    """Bytes a record costs in a full ring, then with every text and fields made."""
    from console.core.clock import ManualClock
    from console.core.recorder import DEFAULT_RECORDS, Recorder
    from console.parsing import make_parser
    from console.sources.tail.lines import LineSplitter

    data = chunks(DEFAULT_RECORDS, rate)
    clock = ManualClock(datetime.now(UTC))
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    recorder = Recorder(clock=clock)
    split, parser = LineSplitter(65536), make_parser("apache-access", "access")
    for acc, _ in data:
        recorder.add_records(parser.feed(split.feed(acc), clock.now()))
    recorder.release(force=True)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    for r in recorder.records:
        _ = r.text, r.fields
    gc.collect()
    expanded = tracemalloc.get_traced_memory()[0] - base
    from console.core import events

    fold = getattr(events, "fold", None)  # a tree without lazy records has nothing to fold
    if fold is not None:
        fold(recorder.records)
    gc.collect()
    folded = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    count = len(recorder.records)
    return {
        "records": count,
        "bytes_per_record": round(held / count),
        "bytes_per_record_expanded": round(expanded / count),
        "bytes_per_record_folded": round(folded / count),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--lines", type=int, default=200_000, help="access lines (default 200,000)")
    p.add_argument("--rate", type=int, default=10_000, help="access lines/s the chunks stand for")
    p.add_argument("--repeat", type=int, default=3, help="runs; the cheapest is kept")
    p.add_argument("--memory", action="store_true", help="also bytes per record in the ring")
    p.add_argument("--quick", action="store_true", help="20,000 lines, one run")
    p.add_argument("--json", metavar="FILE")
    p.add_argument(
        "--max-percent",
        type=float,
        metavar="P",
        help="exit 1 when the lines at --rate cost more than P %% of a core",
    )
    args = p.parse_args(argv)
    n, repeat = (20_000, 1) if args.quick else (args.lines, args.repeat)
    res = run(n, args.rate, repeat)
    us = res["us_per_line"]
    assert isinstance(us, dict)
    stages = "  ".join(f"{k} {v:.2f}" for k, v in us.items())
    print(
        f"ingest: {res['lines_per_s']:,} lines/s per core, {res['us_per_line_total']:.2f} µs/line "
        f"({stages}); at {args.rate:,} lines/s: {res['cpu_at_rate_percent']:.1f} % of a core"
    )
    if args.memory:
        mem = memory(args.rate)
        res["memory"] = mem
        print(
            f"ring of {mem['records']:,} records: {mem['bytes_per_record']:,} B/record, "
            f"{mem['bytes_per_record_expanded']:,} with text and fields made, "
            f"{mem['bytes_per_record_folded']:,} folded again"
        )
    if args.json:
        dump(res, args.json)
    cost = res["cpu_at_rate_percent"]
    assert isinstance(cost, float | int)
    if args.max_percent is not None and cost > args.max_percent:
        print(f"over budget: {cost:.1f} % > {args.max_percent:g} % of a core", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
