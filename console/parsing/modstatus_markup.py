"""The markup of mod_status's HTML page, read into its title, headings, ``<dt>`` lines,
``<pre>`` blocks and table cells (:class:`Page`).

:func:`scan` reads it with a few regular expressions: mod_status writes regular, well-formed
markup (every cell closed, no scripts), and a scan costs a quarter of what :mod:`html.parser`'s
tag-by-tag walk costs, which matters on a page of hundreds of workers read every second.
:class:`Page` is also an :class:`~html.parser.HTMLParser`, for pages that do not look like
mod_status's: the tests check that both ways read every captured page alike.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser


def _span(attrs: list[tuple[str, str | None]], name: str) -> int:
    """A ``rowspan`` or ``colspan`` attribute's value: the first one given, 1 when not a number."""
    for key, value in attrs:
        if key == name and value is not None:
            try:
                return max(1, int(value.strip().strip('"')))
            except ValueError:
                return 1
    return 1


class Cell:
    """One ``<td>`` or ``<th>``: its text with whitespace collapsed, and its spans."""

    __slots__ = ("header", "text", "rowspan", "colspan")

    def __init__(self, header: bool, rowspan: int, colspan: int) -> None:
        self.header = header
        self.text = ""
        self.rowspan = rowspan
        self.colspan = colspan


class Page(HTMLParser):
    """The title, headings, ``<dt>`` lines, ``<pre>`` blocks and table cells of a page.

    Filled by :func:`scan`, or, as an :class:`~html.parser.HTMLParser`, by :meth:`feed`.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.dts: list[str] = []
        self.pres: list[str] = []
        self.tables: list[list[list[Cell]]] = []
        self._text: list[str] | None = None
        self._capture: str | None = None
        self._cell: Cell | None = None

    @classmethod
    def parse(cls, text: str) -> Page:
        """Read ``text`` with :mod:`html.parser` (which may raise on badly broken markup)."""
        page = cls()
        page.feed(text)
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            if not self.tables[-1]:
                self.tables[-1].append([])
            self._cell = Cell(tag == "th", _span(attrs, "rowspan"), _span(attrs, "colspan"))
            self.tables[-1][-1].append(self._cell)
            self._text = []
        elif tag in ("title", "h1", "dt", "pre"):
            self._capture = tag
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._text is not None:
            self._cell.text = " ".join("".join(self._text).split())
            self._cell = None
            self._text = None
        elif tag == self._capture and self._text is not None:
            text = "".join(self._text)
            if tag == "title":
                self.title = text.strip()
            elif tag == "h1":
                self.h1 = text.strip()
            elif tag == "dt":
                self.dts.append(" ".join(text.split()))
            else:
                self.pres.append(text.strip())
            self._capture = None
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


#: A start tag's attributes (quoted values may hold ``>``).
_ATTRS = r"""(?:[\s/](?:[^>"']|"[^"]*"|'[^']*')*)?"""
#: What holds no markup: comments, and the text of scripts and style sheets.
_SKIP = re.compile(rf"<!--.*?-->|<(script|style){_ATTRS}>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_ANY_TAG = re.compile(r"</?[a-zA-Z](?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_CAPTURE = re.compile(rf"<(title|h1|dt|pre){_ATTRS}>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_TABLE = re.compile(rf"<table{_ATTRS}>(.*?)(?:</table\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_ROW = re.compile(rf"<tr{_ATTRS}>", re.IGNORECASE)
_CELL = re.compile(rf"<t([dh])({_ATTRS})>(.*?)</t[dh]\s*>", re.IGNORECASE | re.DOTALL)
_SPAN_ATTR = re.compile(
    r"(?:^|\s)(rowspan|colspan)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))", re.IGNORECASE
)


def _text(markup: str) -> str:
    """The text of a piece of markup: tags dropped, entities decoded."""
    if "<" in markup:
        markup = _ANY_TAG.sub("", markup)
    return unescape(markup) if "&" in markup else markup


def _spans(attrs: str) -> tuple[int, int]:
    """``rowspan`` and ``colspan`` of a cell's attributes (1 when absent or not a number)."""
    found: dict[str, str | None] = {}
    for m in _SPAN_ATTR.finditer(attrs):
        found.setdefault(m[1].lower(), m[2] or m[3] or m[4])  # the first of a repeated one
    pairs = list(found.items())
    return _span(pairs, "rowspan"), _span(pairs, "colspan")


def _cells(row: str) -> list[Cell]:
    cells = []
    for kind, attrs, inner in _CELL.findall(row):
        rowspan, colspan = _spans(attrs) if "span" in attrs.lower() else (1, 1)
        cell = Cell(kind in "hH", rowspan, colspan)
        cell.text = " ".join(_text(inner).split())
        cells.append(cell)
    return cells


def scan(text: str) -> Page:
    """What :class:`Page` collects from a page, read with a few regular expressions over
    the page's well-formed, regular markup instead of :mod:`html.parser`'s tag-by-tag walk."""
    page = Page()
    text = _SKIP.sub("", text)
    for tag, inner in _CAPTURE.findall(text):
        tag = tag.lower()
        if tag == "title":
            page.title = _text(inner).strip()
        elif tag == "h1":
            page.h1 = _text(inner).strip()
        elif tag == "dt":
            page.dts.append(" ".join(_text(inner).split()))
        else:
            page.pres.append(_text(inner).strip())
    for body in _TABLE.findall(text):
        head, *rows = _ROW.split(body)
        table = [cells] if (cells := _cells(head)) else []
        table.extend(_cells(row) for row in rows)
        page.tables.append(table)
    return page
