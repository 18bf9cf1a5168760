"""Write an Apache access log and error log at a steady rate, every line numbered.

Each access line is a realistic ``combined`` line whose URL carries the line number and the
time it was written: ``/bench/NUMBER?t=EPOCH``. Each error line carries ``bench-err NUMBER
t=EPOCH`` in its message. A reader can then tell which lines it lost (numbers missing) and how
late it is (now minus the ``t`` of the newest line it shows).

Lines go out in batches about every 10 ms (one ``write`` per file per batch), the way a busy
Apache's buffered log writes arrive. The error log gets a tenth of the access rate.

When the run ends, one more access line is written: ``/bench/end/NUMBER`` with a time in the
line one second ahead, so that it sorts after every error line of the last second in a
console that interleaves by time. A TUI has caught up when that line is on its screen.

    python3 bench/gen.py --access /tmp/a.log --error /tmp/e.log --rate 1000 --duration 30

prints one JSON object when done: lines written per file, start and end wall times, and how
far the writer itself fell behind its schedule (it should not, at these rates).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
METHODS = ("GET",) * 12 + ("POST",) * 3 + ("HEAD",)
STATUS = (200,) * 30 + (304,) * 4 + (301, 302, 404, 404, 403, 500, 503)
REFERERS = (
    "-",
    "https://shop.example.com/",
    "https://shop.example.com/category/shoes?page=2",
    "https://www.google.com/",
)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/7.88.1",
)
ERRORS = (
    ("php:warn", 'PHP Warning:  Undefined array key "id" in /var/www/shop/cart.php on line 42'),
    (
        "php:error",
        "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted "
        "(tried to allocate 20480 bytes) in /var/www/shop/report.php on line 88",
    ),
    ("core:error", "AH00124: Request exceeded the limit of 10 internal redirects"),
    ("mpm_prefork:error", "AH00161: server reached MaxRequestWorkers setting"),
    ("proxy_fcgi:error", "AH01071: Got error 'Primary script unknown'"),
)


def access_time(t: float) -> str:
    """``[26/Nov/2026:15:01:35 +0000]`` for epoch ``t`` (UTC)."""
    g = time.gmtime(t)
    day = f"{g.tm_mday:02d}/{MONTHS[g.tm_mon - 1]}/{g.tm_year}"
    return f"[{day}:{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} +0000]"


def error_time(t: float) -> str:
    """``[Thu Nov 26 15:01:35.449692 2026]`` for epoch ``t`` (local time, as Apache writes)."""
    g = time.localtime(t)
    us = int((t % 1) * 1e6)
    return (
        f"[{DAYS[g.tm_wday]} {MONTHS[g.tm_mon - 1]} {g.tm_mday:02d} "
        f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d}.{us:06d} {g.tm_year}]"
    )


class Lines:
    """Numbered lines of both logs. Deterministic for a seed; cheap enough for 10,000/s."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.access_n = 0
        self.error_n = 0
        self._stamp_sec = -1
        self._stamp = ""

    def access(self, t: float, n: int) -> str:
        rng = self.rng
        sec = int(t)
        if sec != self._stamp_sec:
            self._stamp_sec, self._stamp = sec, access_time(t)
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        return (
            f'{ip} - - {self._stamp} "{rng.choice(METHODS)} /bench/{n}?t={t:.3f} HTTP/1.1" '
            f'{rng.choice(STATUS)} {rng.randrange(120, 60000)} "{rng.choice(REFERERS)}" '
            f'"{rng.choice(AGENTS)}"'
        )

    def error(self, t: float, n: int) -> str:
        rng = self.rng
        module, msg = rng.choice(ERRORS)
        pid = rng.randrange(1000, 32000)
        client = f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}:{rng.randrange(1024, 65535)}"
        return (
            f"{error_time(t)} [{module}] [pid {pid}:tid {pid}] [client {client}] "
            f"{msg} bench-err {n} t={t:.3f}"
        )

    def end_marker(self, t: float, n: int) -> str:
        return (
            f'10.0.0.1 - - {access_time(t + 1.0)} "GET /bench/end/{n}?t={t:.3f} HTTP/1.1" 200 1 '
            f'"-" "bench"'
        )


def write_all(fd: int, text: str) -> None:
    data = text.encode()
    while data:
        n = os.write(fd, data)
        data = data[n:]


def run(
    access: str,
    error: str | None,
    rate: float,
    duration: float,
    *,
    error_ratio: float = 0.1,
    batch: float = 0.01,
    seed: int = 1,
    end_marker: bool = True,
) -> dict[str, float]:
    """Append to the logs at ``rate`` access lines/s for ``duration`` s; return the figures."""
    lines = Lines(seed)
    afd = os.open(access, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    efd = os.open(error, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if error else -1
    start = time.time()
    t0 = time.monotonic()
    worst = 0.0
    a_n = e_n = 0
    try:
        while True:
            now_m = time.monotonic()
            elapsed = min(now_m - t0, duration)
            a_due = int(rate * elapsed)
            e_due = int(rate * error_ratio * elapsed) if efd >= 0 else 0
            t = time.time()
            if a_due > a_n:
                chunk = [lines.access(t, n) for n in range(a_n + 1, a_due + 1)]
                write_all(afd, "\n".join(chunk) + "\n")
                a_n = a_due
            if e_due > e_n:
                chunk = [lines.error(t, n) for n in range(e_n + 1, e_due + 1)]
                write_all(efd, "\n".join(chunk) + "\n")
                e_n = e_due
            if elapsed >= duration:
                break
            spent = time.monotonic() - now_m
            worst = max(worst, spent - batch)
            time.sleep(max(batch - spent, 0.0))
        end = time.time()
        if end_marker:
            write_all(afd, lines.end_marker(end, a_n) + "\n")
    finally:
        os.close(afd)
        if efd >= 0:
            os.close(efd)
    return {
        "access_lines": a_n,
        "error_lines": e_n,
        "end_marker": bool(end_marker),
        "start": start,
        "end": end,
        "rate": rate,
        "duration": duration,
        "writer_late_max": round(max(worst, 0.0), 4),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--access", required=True, help="access log to append to")
    p.add_argument("--error", help="error log to append to (a tenth of the rate)")
    p.add_argument("--rate", type=float, default=1000.0, help="access lines per second")
    p.add_argument("--duration", type=float, default=30.0, help="seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-end-marker", action="store_true", help="do not write /bench/end/N")
    args = p.parse_args(argv)
    result = run(
        args.access,
        args.error,
        args.rate,
        args.duration,
        seed=args.seed,
        end_marker=not args.no_end_marker,
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
