"""The log pane's rows by kind: real lines of the corpus cut to a row, keeping their meaning."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.core.events import LogRecord
from console.core.text import clean
from console.parsing import parse_lines
from console.view.compact import (
    compact_line,
    compact_record,
    php_parts,
    source_tags,
)
from console.view.compact_forms import select_list_elided
from console.view.elide import (
    cells,
    cut_end,
    cut_middle,
    cut_words,
    elide_path,
    elide_url,
    short_names,
    shorten_paths,
)
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.paths import FIXTURES

T = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
#: The body of a log row at 80 columns (76 inside the pane, less time, source, level, mark).
ROW_80 = 52
WIDTHS = (12, 30, 40, ROW_80, 80, 128)

CORPUS: list[tuple[str, Path]] = [
    ("apache-access", FIXTURES / "apache" / "access_combined.log"),
    ("apache-access", FIXTURES / "apache" / "access_vhost_combined.log"),
    ("apache-access", FIXTURES / "apache" / "access_with_duration.log"),
    ("apache-error", FIXTURES / "apache" / "error.log"),
    ("php-error", FIXTURES / "php" / "error.log"),
    ("php-fpm", FIXTURES / "php" / "fpm.log"),
    ("php-fpm-slow", FIXTURES / "php" / "fpm_slow.log"),
    ("php-fpm-access", FIXTURES / "php" / "fpm_access.log"),
    ("mysql-slow", FIXTURES / "mysql" / "slow.log"),
    ("mysql-error", FIXTURES / "mysql" / "error.log"),
    ("mysql-general", FIXTURES / "mysql" / "general.log"),
]


def corpus(kind: str, path: Path) -> list[LogRecord]:
    return parse_lines(kind, path.read_text(encoding="utf-8").splitlines(), arrival=T)


def record(text: str, kind: str = "php-error", **fields: object) -> LogRecord:
    return LogRecord(ts=T, source="php", kind=kind, level="error", text=text, fields=fields)


# -- the corpus, every record at every width ---------------------------------------------------
@pytest.mark.parametrize(("kind", "path"), CORPUS, ids=[p.name + ":" + k for k, p in CORPUS])
def test_every_record_of_the_corpus_fits_its_row_and_keeps_its_script(
    kind: str, path: Path
) -> None:
    records = corpus(kind, path)
    assert records
    located = 0
    for rec in records:
        for width in WIDTHS:
            row = compact_record(rec, width)
            assert cells(row) <= width, (rec.text, width, row)
            assert "\n" not in row and "\t" not in row
            if cells(rec.text) <= width and kind not in ("apache-access", "mysql-slow"):
                assert len(row) > 0
        parts = php_parts(re.sub(r"^\[pool [^\]]*\] child \d+: ", "", rec.text))
        if parts is not None and parts[2]:
            # a PHP message names its script and line at the end of a row of 80 columns
            script = parts[2].rsplit("/", 1)[-1]
            assert compact_record(rec, ROW_80).endswith(f"{script}:{parts[3]}"), rec.text
            located += 1
    if kind in ("apache-error", "php-error", "php-fpm"):
        assert located > 5


@pytest.mark.parametrize(
    ("path", "status"),
    [(FIXTURES / "apache" / "access_with_duration.log", 500)],
)
def test_access_rows_show_the_status_once(path: Path, status: int) -> None:
    """The level column shows the status: the row's text does not repeat it."""
    rows = [r for r in corpus("apache-access", path) if r.fields.get("status") == status]
    assert rows
    for rec in rows:
        assert f" {status} " in f"{rec.text} "  # the parser's summary has it
        row = compact_record(rec, ROW_80)
        assert f" {status} " not in f" {row} ", row
        assert row.startswith(f"{rec.fields['client']} {rec.fields['method']} /")


# -- PHP ----------------------------------------------------------------------------------------
MEMORY = (
    "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate "
    "20480 bytes) in /var/www/html/report.php on line 41"
)
GONE = (
    "PHP Fatal error:  Uncaught mysqli_sql_exception: MySQL server has gone away in "
    "/var/www/html/lib/db.php:27"
)


def test_a_php_memory_fatal_keeps_its_limit_script_and_line() -> None:
    rec = record(MEMORY)
    assert compact_record(rec, ROW_80) == "PHP Fatal: memory 128M exhausted report.php:41"
    assert compact_record(rec, 80) == "PHP Fatal: memory 128M exhausted /var/www/html/report.php:41"
    # the cut that hid the script before: a plain cut at 52 cells
    assert not rec.text[:ROW_80].endswith("report.php on line 41")
    narrow = compact_record(rec, 36)
    assert narrow.endswith("report.php:41") and narrow.startswith("PHP Fatal: ")


def test_an_uncaught_exception_keeps_its_reason_and_script() -> None:
    rec = record(GONE)
    assert (
        compact_record(rec, 69)
        == "PHP Fatal: mysqli_sql_exception: MySQL server has gone away db.php:27"
    )
    assert compact_record(rec, ROW_80) == "PHP Fatal: MySQL server has gone away db.php:27"
    assert compact_record(rec, 120).endswith("gone away /var/www/html/lib/db.php:27")


def test_proxy_fcgi_lines_read_like_php_s_own() -> None:
    """``AH01071: Got error 'PHP message: ...'``, kept whole by a parser or a bundle."""
    text = f"AH01071: Got error 'PHP message: {MEMORY}; PHP message: PHP Warning:  x in /a.php:1'"
    rec = record(text, kind="apache-error")
    assert compact_record(rec, ROW_80) == "PHP Fatal: memory 128M exhausted report.php:41"
    # and the real one, as Apache 2.4.71 wrote it: the parser makes a record of each message
    line = next(
        ln
        for ln in (FIXTURES / "apache" / "error.log").read_text().splitlines()
        if "AH01071" in ln and "Allowed memory size" in ln
    )
    rows = [compact_record(r, ROW_80) for r in parse_lines("apache-error", [line], arrival=T)]
    assert "PHP Fatal: memory 32M exhausted memory.php:4" in rows


def test_a_stream_warning_keeps_its_reason() -> None:
    text = (
        "PHP Warning:  file_put_contents(/var/www/html/cache/report-2025-03.json): Failed to "
        "open stream: Permission denied in /var/www/html/report.php on line 58"
    )
    row = compact_record(record(text), ROW_80)
    assert row.startswith("PHP Warning: file_put_contents")
    assert row.endswith("denied report.php:58") and cells(row) <= ROW_80
    wide = compact_record(record(text), 92)
    assert wide == (
        "PHP Warning: file_put_contents(…/cache/report-2025-03.json): Permission denied "
        "report.php:58"
    )


def test_php_fpm_children_and_the_master_in_few_words() -> None:
    records = {r.text: r for r in corpus("php-fpm", FIXTURES / "php" / "fpm.log")}
    limit = next(r for t, r in records.items() if "pm.max_children setting (8)" in t)
    assert compact_record(limit, 60) == "[pool www] server reached pm.max_children setting (8)"
    assert compact_record(limit, 40) == "www: reached pm.max_children (8)"
    slow = next(r for t, r in records.items() if 'sleep.php?s=2")' in t)
    assert compact_record(slow, 60) == "[pool www] child 24907 too slow 1.1s GET /app/sleep.php?s=2"
    assert compact_record(slow, ROW_80) == "www: too slow 1.1s GET /app/sleep.php?s=2"
    assert compact_record(slow, 36) == "www: too slow 1.1s GET …/sleep.php?…"
    killed = next(r for t, r in records.items() if "execution timed out" in t and "upload" in t)
    assert compact_record(killed, 40) == "api: timed out 6.2s POST /…/index.php"
    fatal = next(
        r for t, r in records.items() if "child 24907: PHP Fatal error:  Uncaught Runtime" in t
    )
    assert compact_record(fatal, ROW_80).startswith("www: PHP Fatal: ")
    assert compact_record(fatal, ROW_80).endswith(" exception.php:12")


# -- requests -----------------------------------------------------------------------------------
def test_urls_keep_the_script_name_and_the_end_of_the_query() -> None:
    one = elide_url("/app/product.php?category=shoes&sort=price&page=4&id=3", 30)
    other = elide_url("/app/products.php?category=shoes&sort=price&page=4&id=3", 30)
    assert one != other
    assert one.startswith("/app/product.php?") and one.endswith("id=3") and cells(one) == 30
    assert other.startswith("/app/products.php?") and other.endswith("id=3")
    # a deep path loses its middle folders first, never the script
    deep = elide_url("/shop/v2/catalogue/items/listing/products.php?cat=7", 28)
    assert deep.startswith("/…/listing/products.php?c") and cells(deep) <= 28
    assert elide_url("/a/b/c/really-very-long-script-name-for-this.php", 20).endswith(".php")
    # a proxy request keeps its host while there is room, else its path
    proxy = "http://example.com/app/products.php?cat=7"
    assert elide_url(proxy, 38) == "http://example.com/app/products.php?c…"
    assert elide_url(proxy, 24) == "…/app/products.php?cat=7"
    # a request that is no request (a scanner's garbage, a timed-out connection) as it came
    rows = {
        r.fields.get("request"): compact_record(r, ROW_80)
        for r in corpus("apache-access", FIXTURES / "apache" / "access_combined.log")
    }
    assert rows["GARBAGE"].endswith(' "GARBAGE" 523B') and rows["-"].endswith(' "-" 0B')


def test_access_rows_cut_the_url_not_the_duration() -> None:
    rec = LogRecord(
        ts=T,
        source="access",
        kind="apache-access",
        level="info",
        text="",
        fields={
            "client": "2001:db8:85a3:0:0:8a2e:370:7334",
            "method": "GET",
            "url": "/app/products.php?cat=7&sort=price&q=caf%C3%A9+cr%C3%A8me&id=3",
            "status": 200,
            "bytes": 51234,
            "duration_us": 2_400_000,
            "vhost": "shop.example.test",
        },
    )
    row = compact_record(rec, ROW_80)
    assert row.endswith(" 2.4s") and "/app/products.php?" in row and "id=3" in row
    assert row.startswith("2001:db8:85a3:…") and "shop.example" not in row
    assert compact_record(rec, 128).startswith("shop.example.test 2001:db8:85a3:0:0:8a2e:370:7334")
    redacted = compact_record(rec, 128, redacted=True)
    assert "8a2e" not in redacted and "cat=7" not in redacted and redacted.endswith(" 2.4s")


# -- MySQL --------------------------------------------------------------------------------------
def test_slow_queries_show_their_tables_rather_than_their_columns() -> None:
    query = (
        "SELECT o.id, o.status, (SELECT SUM(qty) FROM order_items oi WHERE oi.order_id = o.id) "
        "AS q, 'a FROM b' AS s FROM orders o WHERE o.customer_id IN (1, 2) ORDER BY q DESC"
    )
    assert select_list_elided(query) == (
        "SELECT … FROM orders o WHERE o.customer_id IN (1, 2) ORDER BY q DESC"
    )
    assert select_list_elided("UPDATE t SET a = 1") == "UPDATE t SET a = 1"
    rows = [
        compact_record(r, ROW_80)
        for r in corpus("mysql-slow", FIXTURES / "mysql" / "slow.log")
        if "a.customer_id = b.customer_id" in r.text
    ]
    assert rows == ["3.5s shop SELECT … FROM orders a JOIN orders b ON a…"]


# -- free text ------------------------------------------------------------------------------------
def test_paths_in_free_text_keep_their_file_names() -> None:
    text = "AH01630: client denied by server configuration: /var/www/webapp/private/secret.txt"
    assert shorten_paths(text, 1) == (
        "AH01630: client denied by server configuration: …/private/secret.txt"
    )
    assert shorten_paths(text, 0).endswith(": …/secret.txt")
    assert shorten_paths("Cannot serve directory /var/www/webapp/static/: x", 0) == (
        "Cannot serve directory …/static/: x"
    )
    assert compact_line(text, 70).endswith("…/private/secret.txt")
    assert elide_path("/var/www/webapp/app/report.php", 20) == "/…/app/report.php"


def test_cuts_measure_terminal_cells() -> None:
    wide = "日本語のパス/とても長い名前のファイル.php"
    for width in range(1, 30):
        for cut in (cut_end, cut_middle, cut_words, elide_path, elide_url):
            assert cells(cut(wide, width)) <= width, (cut.__name__, width)
    assert cells("日本") == 4 and cells("e\u0301") == 1
    gone = "Uncaught mysqli_sql_exception: MySQL server has gone away"
    assert cut_words(gone, 30) == "Uncaught mysqli… has gone away"
    assert cut_words(gone, 40) == "Uncaught mysqli_sql_excep… has gone away"
    assert cut_words("Creation of dynamic property Cart::$total is deprecated", 30) == (
        "Creation of… is deprecated"
    )


def test_source_tags_fit_the_column_and_stay_apart() -> None:
    names = ("access", "apache", "php", "mysql-slow", "mysql")
    width, tags = source_tags(names, 76)
    assert width == 6 and tags["mysql-slow"] == "m-slow" and tags["access"] == "access"
    assert len(set(tags.values())) == len(names)
    width, tags = source_tags(names, 156)
    assert width == 10 and tags["mysql-slow"] == "mysql-slow"
    clash = short_names(["mysql-slow", "mail-slow", "m-slow", "access:shop"], 6)
    assert len(set(clash.values())) == 4 and all(cells(t) <= 6 for t in clash.values())
    assert clash["access:shop"] == "a:shop"


# -- hostile text ---------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_text_stays_inert_and_in_its_row(payload: str) -> None:
    cleaned = clean(payload)
    texts = [
        f"PHP Fatal error:  Uncaught {cleaned} in /var/www/{cleaned}.php:3",
        f"[pool {cleaned}] child 12: PHP Warning:  {cleaned} in /x/y/z.php on line 2",
        f"AH01071: Got error 'PHP message: PHP Fatal error:  {cleaned}'",
        f"{cleaned} /var/www/{cleaned}/x/y.php",
    ]
    for kind in ("php-error", "php-fpm", "apache-error", "mysql-error"):
        for text in texts:
            for width in (8, ROW_80, 200):
                row = compact_record(record(text, kind=kind, pool=cleaned), width)
                assert cells(row) <= width
                assert_inert(row, f"{kind} row")
    access = LogRecord(
        ts=T,
        source="access",
        kind="apache-access",
        level="info",
        text="",
        fields={
            "client": cleaned,
            "method": cleaned,
            "url": f"/{cleaned}?{cleaned}",
            "vhost": cleaned,
        },
    )
    slow = record("", kind="mysql-slow", query_time=2.5, query=cleaned, user=cleaned, host=cleaned)
    for rec in (access, slow):
        for width in (8, ROW_80, 200):
            row = compact_record(rec, width, redacted=width == ROW_80)
            assert cells(row) <= width
            assert_inert(row, rec.kind)


def test_huge_values_are_cut_quickly_and_keep_their_ends() -> None:
    url = "/report.php?" + "a=1&" * 250_000 + "id=3"
    rec = LogRecord(
        ts=T,
        source="access",
        kind="apache-access",
        level="info",
        text="",
        fields={"client": "192.0.2.1", "method": "GET", "url": url, "status": 200},
    )
    row = compact_record(rec, ROW_80)
    assert row.startswith("192.0.2.1 GET /report.php?a=1") and cells(row) <= ROW_80
    assert row.endswith("&id=3")
    message = "PHP Fatal error:  " + "x" * 1_000_000 + " in /var/www/html/big.php on line 9"
    assert compact_record(record(message), ROW_80).endswith(" big.php:9")
    assert cells(compact_line("y" * 1_000_000, 40)) == 40
