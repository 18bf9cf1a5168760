"""Parse throughput: lines per second per core for each log format lamptop reads.

Generates realistic text in each of the 9 formats (multi-line entries where the format has
them: PHP-FPM slow log stacks, MySQL slow-log entries), feeds it to the parser in chunks of
1,000 lines as the tail does, and divides the lines by the process CPU time spent (so the
figure is per core, whatever else the machine is doing). Best of ``--repeat`` runs.

    python3 bench/parse.py            # 200,000 lines per format
    python3 bench/parse.py --quick    # 20,000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import Lines  # noqa: E402
from measure import ROOT, dump  # noqa: E402

sys.path.insert(0, str(ROOT))


def _php_time(t: float) -> str:
    return time.strftime("%d-%b-%Y %H:%M:%S", time.gmtime(t))


def lines_for(kind: str, n: int, seed: int = 1) -> list[str]:
    """About ``n`` lines of ``kind``, newest last, one entry per ~10 ms."""
    rng = random.Random(seed)
    g = Lines(seed)
    t0 = time.time() - n * 0.01
    out: list[str] = []
    i = 0
    while len(out) < n:
        i += 1
        t = t0 + i * 0.01
        if kind == "apache-access":
            out.append(g.access(t, i))
        elif kind == "apache-error":
            out.append(g.error(t, i))
        elif kind == "php-error":
            out.append(
                f'[{_php_time(t)} UTC] PHP Warning:  Undefined array key "id{i}" in '
                f"/var/www/shop/cart.php on line {rng.randrange(1, 400)}"
            )
            if i % 10 == 0:
                out += [
                    f"[{_php_time(t)} UTC] PHP Fatal error:  Uncaught Exception: bench {i} in "
                    "/var/www/shop/lib/db.php:77",
                    "Stack trace:",
                    "#0 /var/www/shop/cart.php(12): Db->query('SELECT...')",
                    "#1 {main}",
                    "  thrown in /var/www/shop/lib/db.php on line 77",
                ]
        elif kind == "php-fpm":
            pid = rng.randrange(1000, 30000)
            out.append(
                f'[{_php_time(t)}] WARNING: [pool www] child {pid} said into stderr: "NOTICE: '
                f'PHP message: PHP Warning:  Undefined variable $x{i} in /var/www/a.php on line 6"'
            )
        elif kind == "php-fpm-slow":
            out += [
                "",
                f"[{_php_time(t)}]  [pool www] pid {rng.randrange(1000, 30000)}",
                "script_filename = /var/www/webapp/app/sleep.php",
                "[0x00007fcd95613160] usleep() /var/www/webapp/app/sleep.php:3",
                "[0x00007fcd956130e0] wait_for_backend() /var/www/webapp/app/sleep.php:4",
            ]
        elif kind == "mysql-slow":
            out += [
                f"# Time: {time.strftime('%y%m%d %H:%M:%S', time.gmtime(t))}",
                "# User@Host: shop[shop] @ localhost []",
                f"# Thread_id: {i}  Schema: shop  QC_hit: No",
                f"# Query_time: {rng.random() * 5:.6f}  Lock_time: 0.000234  Rows_sent: 0  "
                "Rows_examined: 20",
                "# Rows_affected: 0  Bytes_sent: 51",
                f"SET timestamp={int(t)};",
                f"SELECT * FROM orders WHERE customer_id = {i} ORDER BY created DESC;",
            ]
        elif kind == "mysql-error":
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
            out.append(f"{stamp} {i} [Warning] Aborted connection {i} to db: 'shop' user: 'shop'")
        elif kind == "mysql-general":
            if i % 20 == 1:
                stamp = time.strftime("%y%m%d %H:%M:%S", time.gmtime(t))
                out.append(f"{stamp}\t{i:6d} Connect\tshop@localhost on shop using Socket")
            out.append(f"\t\t{i:6d} Query\tSELECT * FROM orders WHERE customer_id = {i}")
        elif kind == "php-fpm-access":
            stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(t))
            script = rng.choice(("index.php", "cart.php", "report.php"))
            out.append(
                f'- -  {stamp} "GET /{script}?id={i}" 200 /var/www/shop/{script} '
                f"{rng.random() * 900:.3f} {rng.choice((2048, 4096, 131072))} "
                f"{rng.random() * 90:.2f}%"
            )
        else:
            raise ValueError(kind)
    return out


def measure(kind: str, n: int, repeat: int = 3, chunk: int = 1000) -> dict[str, object]:
    from console.parsing import make_parser

    text = lines_for(kind, n)
    best = 0.0
    records = 0
    unparsed = 0
    for _ in range(repeat):
        parser = make_parser(kind, kind)
        arrival = datetime.now(UTC)
        c0 = time.process_time()
        out = []
        for i in range(0, len(text), chunk):
            out.extend(parser.feed(text[i : i + chunk], arrival))
        out.extend(parser.flush(arrival))
        spent = time.process_time() - c0
        best = max(best, len(text) / spent if spent > 0 else 0.0)
        records = len(out)
        unparsed = sum(1 for r in out if r.level == "unparsed")
    return {
        "kind": kind,
        "lines": len(text),
        "records": records,
        "unparsed": unparsed,
        "lines_per_s": round(best),
    }


def run(n: int = 200_000, repeat: int = 3) -> list[dict[str, object]]:
    from console.core.events import LOG_KINDS

    return [measure(kind, n, repeat) for kind in LOG_KINDS]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--lines", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    n, repeat = (20_000, 1) if args.quick else (args.lines, args.repeat)
    results = run(n, repeat)
    for r in results:
        print(
            f"{r['kind']:14} {r['lines_per_s']:>10,} lines/s per core  "
            f"({r['records']:,} records, {r['unparsed']} unparsed)"
        )
    if args.json:
        dump(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
