"""The regular-expression scan of mod_status's HTML page reads what html.parser reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.parsing.modstatus import NotModStatus, parse_html
from console.parsing.modstatus_markup import Page, scan
from tests.support.paths import FIXTURES
from tests.support.status_pages import OLDER_PAGE

PAGES = sorted((FIXTURES / "status").rglob("*.html"))


def _as_data(page: Page) -> tuple[object, ...]:
    tables = [
        [[(c.header, c.text, c.rowspan, c.colspan) for c in row] for row in table]
        for table in page.tables
    ]
    return page.title, page.h1, page.dts, page.pres, tables


def test_every_kind_of_page_is_captured() -> None:
    names = {p.parent.name for p in PAGES}
    assert {"prefork", "event", "extended_off"} <= names
    assert len(PAGES) >= 90


@pytest.mark.parametrize("path", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_scan_reads_every_captured_page_as_html_parser_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    scanned = _as_data(scan(text))
    assert scanned == _as_data(Page.parse(text))
    assert scanned[2] and scanned[3]  # not a comparison of two empty pages


ODD_MARKUP = {
    "older release": OLDER_PAGE,
    "upper case, quotes and spans": (
        "<HTML><TITLE>Apache Status</TITLE><TABLE BORDER=0>"
        "<TR><TH ROWSPAN='2'>Srv</TH><Th colspan=2>Mode</Th></TR>"
        '<TR><TH>m</TH><TH class="x>y">x</TH></TR>'
        "<TR><TD><B>0-0</B></TD><TD>W\n</TD><td nowrap>GET /a?b=1&amp;c=&lt;2&gt; HTTP/1.1</td>"
        "</TR></TABLE></HTML>"
    ),
    "comments and a cell before any row": (
        "<title>Apache Status</title><!-- <table><tr><td>not this</td></tr></table> -->"
        "<table><td>first</td><tr><td>a<!-- hidden --> b</td></tr><tr></tr>"
        "<tr><td>c &nbsp; d</td></tr></table>"
    ),
    "table left open": (
        "<h1>Apache Server Status for x</h1><dl><dt>Server MPM:\n event</dt></dl>"
        "<pre>\nW_\n__\n</pre><table><tr><th>Srv</th><th>M</th></tr><tr><td>0-0</td><td>_</td>"
    ),
}


@pytest.mark.parametrize("text", ODD_MARKUP.values(), ids=ODD_MARKUP.keys())
def test_scan_reads_odd_markup_as_html_parser_does(text: str) -> None:
    assert _as_data(scan(text)) == _as_data(Page.parse(text))


def test_script_text_is_not_markup() -> None:
    text = "<html><script>var t = '<title>Apache Status</title>';</script><p>hi</p></html>"
    assert scan(text).title == Page.parse(text).title == ""
    with pytest.raises(NotModStatus):
        parse_html(text)
    with pytest.raises(NotModStatus):
        parse_html("<html><head><title>Login</title></head><body>who?</body></html>")
