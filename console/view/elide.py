"""Cutting text to a width without losing what it means: measured in terminal cells.

A plain cut keeps the start and drops the end, which is where a path keeps its file name, a
URL its script and its ids, a PHP message its script and line. These cut in the middle
instead, at the boundaries that matter (path segments, the query string), and say so with
``…``. Pure functions of strings: no Textual, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

ELLIPSIS = "…"


def char_cells(ch: str) -> int:
    """Cells a character takes in a terminal: 2 for wide East Asian ones, 0 for combining."""
    if ch < "\u0300":  # Latin and the rest of the first blocks: one cell each
        return 1
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cells(text: str) -> int:
    """The width of ``text`` in terminal cells."""
    if text.isascii():
        return len(text)
    return sum(char_cells(ch) for ch in text)


def head(text: str, width: int) -> str:
    """The longest start of ``text`` that takes at most ``width`` cells."""
    if cells(text) <= width:
        return text
    used = 0
    for i, ch in enumerate(text):
        used += char_cells(ch)
        if used > width:
            return text[:i]
    return text


def tail(text: str, width: int) -> str:
    """The longest end of ``text`` that takes at most ``width`` cells."""
    if cells(text) <= width:
        return text
    used = 0
    for i in range(len(text) - 1, -1, -1):
        used += char_cells(text[i])
        if used > width:
            return text[i + 1 :]
    return text


def cut_end(text: str, width: int) -> str:
    """``text`` in ``width`` cells, its end replaced by ``…`` when it does not fit."""
    if width <= 0:
        return ""
    if cells(text) <= width:
        return text
    return head(text, width - 1) + ELLIPSIS


def cut_middle(text: str, width: int, keep_end: float = 0.5) -> str:
    """``text`` in ``width`` cells, its middle replaced by ``…``; ``keep_end``: the share of
    the room given to the end."""
    if width <= 0:
        return ""
    if cells(text) <= width:
        return text
    if width == 1:
        return ELLIPSIS
    room = width - 1
    end = round(room * keep_end)
    return head(text, room - end) + ELLIPSIS + tail(text, end)


def cut_words(text: str, width: int, keep_end: float = 0.5) -> str:
    """``text`` in ``width`` cells with its middle dropped (``Uncaught mysqli_sql_exception:…
    has gone away``): whole words at the end, up to ``keep_end`` of the room; the start cut
    after a word when that wastes little room, else inside one."""
    if cells(text) <= width:
        return text
    words = text.split(" ")
    room = width - 1
    back: list[str] = []
    used = 0
    for word in reversed(words[1:]):
        if used + 1 + cells(word) > round(room * keep_end):
            break
        back.insert(0, word)
        used += 1 + cells(word)
    start = head(text, room - used)
    space = start.rfind(" ")
    if space > 0 and cells(start) - space <= WORD_SLACK:
        start = start[:space]
    return start + ELLIPSIS + "".join(" " + w for w in back)


#: Cells :func:`cut_words` gives up to end its start on a whole word.
WORD_SLACK = 6


def elide_segments(parts: Sequence[str], sep: str, width: int) -> str:
    """Parts joined by ``sep`` in ``width`` cells, whole parts dropped from the middle: the
    last part kept first, then the ones before it, then the first (a path's root)."""
    joined = sep.join(parts)
    if cells(joined) <= width:
        return joined
    if not parts:
        return ""
    last = parts[-1]
    if cells(last) + 1 + cells(sep) > width:
        return cut_middle(joined, width, keep_end=0.6)
    back = [last]
    size = cells(ELLIPSIS) + cells(sep) + cells(last)
    hi = len(parts) - 2
    while hi > 0 and size + cells(parts[hi]) + cells(sep) <= width:
        back.insert(0, parts[hi])
        size += cells(parts[hi]) + cells(sep)
        hi -= 1
    front = [parts[0]] if size + cells(parts[0]) + cells(sep) <= width else []
    return sep.join([*front, ELLIPSIS, *back])


def elide_path(path: str, width: int) -> str:
    """A file path in ``width`` cells, keeping its file name: ``/var/…/html/report.php``."""
    if cells(path) <= width:
        return path
    return elide_segments(path.split("/"), "/", width)


#: ``http://host`` at the start of a URL (a proxy request), kept while the rest gets
#: ORIGIN_ROOM cells.
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,15}://[^/?#]*")
ORIGIN_ROOM = 16


def elide_url(url: str, width: int) -> str:
    """A request URL in ``width`` cells, keeping the script name and the end of the query:
    ``/app/products.php?cat=7…&id=3``, so that product.php and products.php stay apart."""
    if cells(url) <= width:
        return url
    if width <= 1:
        return ELLIPSIS[:width]
    origin = _ORIGIN.match(url)
    if origin is not None:  # a proxy request: http://host/path
        rest = url[origin.end() :] or "/"
        if cells(origin.group()) + ORIGIN_ROOM <= width:
            return origin.group() + elide_url(rest, width - cells(origin.group()))
        return ELLIPSIS + elide_url(rest, width - 1)
    path, mark, query = url.partition("?")
    if not mark:
        return elide_path(path, width)
    # the path whole and as much of the query as fits, its start and its end
    if cells(path) + 4 <= width:
        return path + cut_middle(mark + query, width - cells(path), keep_end=0.6)
    # the path cut in its folders, then the query as a mark
    short = elide_path(path, width - 2)
    return short + cut_end(mark + query, width - cells(short))


#: An absolute path of at least three segments inside free text (a message, a stack frame).
_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"()<>,;:\[\]]+/){2,}[^\s/'\"()<>,;:\[\]]*")


def shorten_paths(text: str, keep: int = 1) -> str:
    """``text`` with each absolute path of three or more segments cut to its last ``keep``
    folders and file name (``/var/www/html/app/report.php`` → ``…/app/report.php``); with
    ``keep`` 0, ``…/report.php``. A folder's trailing ``/`` stays (``…/static/``)."""

    def short(m: re.Match[str]) -> str:
        path = m.group(0)
        folder = path.endswith("/")
        parts = path.rstrip("/").split("/")
        kept = parts[-(keep + 1) :]
        if len(kept) >= len(parts) - 1:
            return path
        return f"{ELLIPSIS}/" + "/".join(kept) + ("/" if folder else "")

    return _PATH.sub(short, text)


def first_fit(candidates: Sequence[str], width: int) -> str:
    """The first of ``candidates`` (fullest first) that fits ``width`` cells, else the last
    one cut at its end."""
    for text in candidates:
        if cells(text) <= width:
            return text
    return cut_end(candidates[-1], width) if candidates else ""


def fit_parts(before: str, middle: str, after: str, width: int, keep_end: float = 0.0) -> str:
    """``before + middle + after`` in ``width`` cells, the middle cut so that the start (what
    happened) and the end (where) both stay: at its end, or with ``keep_end`` in its middle
    (``Uncaught mysqli_sql…server has gone away``: the kind of error and its reason)."""
    whole = before + middle + after
    if cells(whole) <= width:
        return whole
    room = width - cells(before) - cells(after)
    if room >= 4:
        cut = cut_words(middle, room, keep_end) if keep_end else cut_end(middle, room)
        return before + cut + after
    return cut_end(whole, width)


def short_names(names: Sequence[str], width: int) -> dict[str, str]:
    """A tag of at most ``width`` cells for each name, all different where the names are:
    names that fit stay; ``mysql-slow`` becomes ``m-slow``, ``access:shop`` ``a:shop``
    (the first letters of all but the last part), else the name cut."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if cells(name) <= width:
            out[name] = name
            taken.add(name)
    for name in names:
        if name in out:
            continue
        parts = re.split(r"([-:_.])", name)
        tag = (
            "".join(p[:1] for p in parts[:-1]) + parts[-1] if len(parts) >= 3 and parts[0] else name
        )
        tag = cut_end(tag, width)
        n = 2
        while tag in taken and width > 1:
            suffix = str(n)
            tag = head(cut_end(name, width), width - len(suffix)) + suffix
            n += 1
        out[name] = tag
        taken.add(tag)
    return out
