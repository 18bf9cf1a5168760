"""The traffic of the demo's story, drawn from one seeded random generator; no I/O.

:class:`Traffic` makes the requests: the shop's pages, the report the dashboards keep asking
for, the PHP messages they end with and the slow-log entries of their queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from random import Random

from console.demo.logs import SlowEntry

MIB = 1024 * 1024
CULPRIT = "/report.php"
DOCROOT = "/var/www/html"
VHOST = "shop.example.com:80"
SITE = "https://shop.example.com"
_BROWSERS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
)
_BOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
_MONITOR = ("192.0.2.10", "curl/7.88.1")
_SCANNER = ("198.51.100.201", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101")
#: The dashboards that keep asking for the report.
REPORT_CLIENTS = (
    ("198.51.100.23", _BROWSERS[0]),
    ("198.51.100.24", _BROWSERS[1]),
    ("203.0.113.77", _BROWSERS[5]),
)
#: The shop's pages: share of requests, [method:]path, status, bytes sent, seconds, referer
#: (a path on the site, or -), and whether PHP runs.
_PAGE_TABLE = """
0.15  /                             200 5200-6400   0.1-0.5     -                           php
0.05  /index.php                    200 5200-6400   0.1-0.5     -                           php
0.18  /app/products.php?cat={cat}   200 9000-15000  0.2-0.9     /                           php
0.12  /app/product.php?id={item}    200 3500-6000   0.12-0.5    /app/products.php?cat={cat} php
0.03  POST:/app/cart.php            302 240-260     0.05-0.2    /app/product.php?id={item}  php
0.12  /static/css/site.css          200 8106-8106   0.001-0.004 /                           -
0.10  /static/js/app.js             200 21797-21797 0.001-0.004 /                           -
0.08  /static/img/logo.png          200 6885-6885   0.001-0.004 /                           -
0.04  /favicon.ico                  404 489-489     0.001-0.003 -                           -
0.02  /robots.txt                   200 330-330     0.001-0.002 -                           -
0.07  /health.php                   200 236-236     0.01-0.03   -                           php
0.025 /app/search.php?q={term}      200 7000-11000  0.05-0.15   /                           php
0.015 /wp-login.php                 404 455-455     0.001-0.003 -                           -
"""


def _page(row: str) -> tuple[float, str, int, tuple[int, int], tuple[float, float], str, bool]:
    share, path, status, size, secs, referer, php = row.split()
    small, large = size.split("-")
    fast, slow = secs.split("-")
    referer = "-" if referer == "-" else SITE + referer
    return (
        float(share), path.replace(":", " "), int(status), (int(small), int(large)),
        (float(fast), float(slow)), referer, php == "php",
    )  # fmt: skip


_PAGES = tuple(_page(row) for row in _PAGE_TABLE.strip().splitlines())
_TERMS = ("gadget", "widget", "gizmo", "doohickey")
_EXPLAIN_HEAD = (
    "id\tselect_type\ttable\ttype\tpossible_keys\tkey\tkey_len\tref\trows\tr_rows\tfiltered"
    "\tr_filtered\tExtra"
)
_REPORT_EXPLAIN = (
    _EXPLAIN_HEAD,
    "1\tSIMPLE\to\tALL\tPRIMARY\tNULL\tNULL\tNULL\t29861\t30000.00\t100.00\t10.33"
    "\tUsing where; Using temporary; Using filesort",
    "1\tSIMPLE\toi\tALL\tNULL\tNULL\tNULL\tNULL\t119871\t120000.00\t100.00\t0.00"
    "\tUsing where; Using join buffer (flat, BNL join)",
    "1\tSIMPLE\tp\teq_ref\tPRIMARY,idx_cat\tPRIMARY\t4\tshop.oi.product_id\t1\t1.00\t100.00"
    "\t100.00\t",
    "1\tSIMPLE\tc\teq_ref\tPRIMARY\tPRIMARY\t4\tshop.p.category_id\t1\t1.00\t100.00\t100.00\t",
)
_SEARCH_EXPLAIN = (
    _EXPLAIN_HEAD,
    "1\tPRIMARY\tp\tALL\tNULL\tNULL\tNULL\tNULL\t2000\t2000.00\t100.00\t4.05"
    "\tUsing where; Using filesort",
    "2\tMATERIALIZED\toi\tALL\tNULL\tNULL\tNULL\tNULL\t119871\t120000.00\t100.00\t1.02"
    "\tUsing where",
)
_GONE_TRACE = (
    "Stack trace:",
    f"#0 {DOCROOT}/lib/db.php(27): mysqli->query()",
    f"#1 {DOCROOT}/report.php(31): Db->select()",
    "#2 {main}",
    f"  thrown in {DOCROOT}/lib/db.php on line 27",
)


@dataclass(slots=True, eq=False)
class Request:
    """One HTTP request of the story, from arrival to its access-log line."""

    client: str
    method: str
    path: str
    status: int
    size: int
    """Bytes sent, headers included (``%O``)."""
    referer: str
    agent: str
    duration: float
    """Story seconds from start to end."""
    arrived: float
    report: bool = False
    sql: str = ""
    """``report`` or ``search`` when it runs a query that reaches the slow log."""
    query: float = 0.0
    """Story seconds of SQL at the start of the request."""
    outcome: str = "ok"
    """report.php: ``ok``, ``oom`` (memory limit) or ``gone`` (lost the database)."""
    peak: float = 0.0
    """Bytes the child grows by while PHP builds the report."""
    php: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    """(label, message, continuation lines) written to the PHP log when it ends."""
    error: tuple[str, str, str] | None = None
    """(module, level, message) written to the Apache error log when it ends."""
    keepalive: float = 0.0
    cpu: float = 0.0
    port: int = 0
    thread: int = 0
    started: float = 0.0
    wall: datetime | None = None

    @property
    def line(self) -> str:
        return f"{self.method} {self.path} HTTP/1.1"


class Traffic:
    """Draws the requests of the story from one random generator."""

    def __init__(self, rng: Random, now: datetime) -> None:
        self.rng = rng
        prev = now.replace(day=1) - timedelta(days=1)
        self.month = f"{prev.year:04d}-{prev.month:02d}"
        self.report_path = f"{CULPRIT}?month={self.month}"
        self._bounds = (f"{self.month}-01", f"{now.year:04d}-{now.month:02d}-01")
        self._thread = 1200 + rng.randint(0, 500)
        nets = ("203.0.113", "198.51.100", "192.0.2")
        self.clients = [
            (f"{rng.choice(nets)}.{rng.randint(2, 254)}", rng.choice(_BROWSERS)) for _ in range(40)
        ]
        self.clients.append(("198.51.100.77", _BOT))

    def _new(self, t: float, who: tuple[str, str], path: str, referer: str = "-") -> Request:
        method, _, path = path.rpartition(" ")
        self._thread += 1
        return Request(
            client=who[0],
            method=method or "GET",
            path=path,
            status=200,
            size=0,
            referer=referer,
            agent=who[1],
            duration=0.0,
            arrived=t,
            port=self.rng.randint(32768, 60999),
            thread=self._thread,
        )

    def site(self, t: float) -> Request:
        """One request of the shop's ordinary traffic."""
        rng = self.rng
        who = rng.choice(self.clients)
        x = rng.random()
        share, path, status, (small, large), (fast, slow), referer, php = _PAGES[-1]
        for page in _PAGES:
            if x < page[0]:
                share, path, status, (small, large), (fast, slow), referer, php = page
                break
            x -= page[0]
        item = rng.randint(1, 2040)
        values = {"cat": rng.randint(1, 20), "item": item, "term": rng.choice(_TERMS)}
        if path == "/health.php":
            who = _MONITOR
        elif path == "/wp-login.php":
            who = _SCANNER
        req = self._new(t, who, path.format(**values), referer.format(**values))
        req.status, req.size = status, rng.randint(small, large)
        req.duration = rng.uniform(fast, slow)
        if path.startswith("/static/") and rng.random() < 0.3:
            req.status, req.size = 304, 190
        elif path.startswith("/app/product.php") and item > 2000:
            message = f"Trying to access array offset on value of type null in {DOCROOT}"
            req.php.append(("Warning", message + "/app/product.php on line 21", ()))
        elif path.startswith("/app/search.php"):
            req.sql, req.query = "search", rng.uniform(1.05, 1.8)
            req.duration += req.query
        elif path == "/favicon.ico":
            req.error = ("core", "info", f"AH00128: File does not exist: {DOCROOT}/favicon.ico")
        elif path == "/wp-login.php":
            message = f"script '{DOCROOT}/wp-login.php' not found or unable to stat"
            req.error = ("php", "error", message)
        if req.agent in _BROWSERS and rng.random() < 0.25:
            req.keepalive = rng.uniform(0.2, 1.5)
        req.cpu = req.duration * (0.6 if php else 0.8)
        return req

    def report(self, t: float) -> Request:
        """One more request for the report; :meth:`plan_report` decides its fate."""
        who = self.rng.choice(REPORT_CLIENTS)
        req = self._new(t, who, self.report_path, f"{SITE}/admin/dashboard.php")
        req.report, req.sql = True, "report"
        return req

    def plan_report(self, req: Request, concurrent: int, phase: str, pressure: float) -> None:
        """Duration and outcome of a report request as it starts: the more reports already
        run, the slower its query; under swap pressure, the slower its PHP."""
        rng = self.rng
        req.query = min(8.0, max(2.0, rng.uniform(1.7, 2.6) * (1 + 0.09 * concurrent)))
        php = rng.uniform(0.6, 1.8) * (1 + 2 * pressure)
        fail = {"build-up": 0.2, "outage": 0.75}.get(phase, 0.5)
        if rng.random() >= fail:
            req.duration = req.query + php
            req.peak = rng.uniform(15, 30) * MIB
            req.size = rng.randint(48000, 52000)
            req.php.append(
                (
                    "Warning",
                    f"file_put_contents({DOCROOT}/cache/report-{self.month}"
                    ".json): Failed to open stream: Permission denied in"
                    f" {DOCROOT}/report.php on line 58",
                    (),
                )
            )
        elif rng.random() < 0.15:
            req.outcome, req.status, req.size = "gone", 500, 185
            req.duration = rng.uniform(1.0, req.query)
            req.php.append(
                (
                    "Fatal error",
                    "Uncaught mysqli_sql_exception: MySQL server has gone"
                    f" away in {DOCROOT}/lib/db.php:27",
                    _GONE_TRACE,
                )
            )
        else:
            req.outcome, req.status, req.size = "oom", 500, 185
            req.duration = req.query + php
            req.peak = rng.uniform(40, 70) * MIB
            tried = rng.choice((20480, 20480, 20480, 65536, 4096))
            req.php.append(
                (
                    "Fatal error",
                    f"Allowed memory size of 134217728 bytes exhausted"
                    f" (tried to allocate {tried} bytes) in {DOCROOT}/report.php on"
                    " line 42",
                    (),
                )
            )
        req.cpu = max(0.05, (req.duration - req.query) * 0.9)

    def slow_entry(self, req: Request, end: datetime, swapping: bool) -> SlowEntry:
        """The slow-log entry of a request's query, which ended at ``end``."""
        rng = self.rng
        assert req.wall is not None
        entry = partial(
            SlowEntry,
            end=end,
            start_unix=int(req.wall.timestamp()),
            user_host="app[app] @ localhost []",
            thread_id=req.thread,
            schema="shop",
            query_time=req.query,
        )
        if req.sql == "report":
            read = rng.randint(200, 2400) if swapping else 0
            return entry(
                lock_time=rng.uniform(0.00011, 0.00034),
                rows_sent=20,
                rows_examined=150021 + rng.randint(0, 40),
                bytes_sent=rng.randint(1380, 1520),
                pages_accessed=rng.randint(47000, 47300),
                pages_read=read,
                pages_read_ms=read * rng.uniform(0.05, 0.4),
                engine_ms=req.query * 1000 * rng.uniform(0.55, 0.85),
                tmp_tables=1,
                tmp_disk_tables=1 if swapping and rng.random() < 0.3 else 0,
                full_join=True,
                filesort=True,
                explain=_REPORT_EXPLAIN,
                query=_REPORT_SQL.format(start=self._bounds[0], end=self._bounds[1]),
            )
        term = req.path.rsplit("=", 1)[-1]
        return entry(
            lock_time=rng.uniform(0.00008, 0.0002),
            rows_sent=50,
            rows_examined=124050 + rng.randint(0, 30),
            bytes_sent=rng.randint(2900, 3300),
            pages_accessed=rng.randint(38800, 39100),
            pages_read=0,
            pages_read_ms=0.0,
            engine_ms=req.query * 1000 * rng.uniform(0.6, 0.9),
            tmp_tables=0,
            tmp_disk_tables=0,
            full_join=False,
            filesort=True,
            explain=_SEARCH_EXPLAIN,
            query=_SEARCH_SQL.format(term=term),
        )


_REPORT_SQL = """SELECT DATE_FORMAT(o.created_at, '%Y-%m') AS month,
       c.name                      AS category,
       COUNT(DISTINCT o.id)        AS orders,
       SUM(oi.qty * oi.unit_price) AS revenue
  FROM orders o
  JOIN order_items oi ON oi.order_id = o.id
  JOIN products p     ON p.id = oi.product_id
  JOIN categories c   ON c.id = p.category_id
 WHERE o.created_at >= '{start}' AND o.created_at < '{end}'
 GROUP BY month, c.name
 ORDER BY revenue DESC;"""
_SEARCH_SQL = (
    "SELECT p.id, p.name, p.price FROM products p WHERE p.name LIKE '%{term}%' OR p.id IN"
    " (SELECT oi.product_id FROM order_items oi WHERE oi.note LIKE '%{term}%')"
    " ORDER BY p.price DESC LIMIT 50;"
)
