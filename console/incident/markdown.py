"""Markdown pieces of report.md: tables, code spans and lamptop's own figures.

Every value that came from outside goes into a code span (:func:`console.core.text.md_code`),
so that no link, image, emphasis or HTML in a log line or a query renders; lamptop's own
numbers and words (:class:`Own`) go in as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from console.core.text import bound, md_code
from console.core.timefmt import utc_text

MB = 1024 * 1024


class Own(str):
    """Text lamptop wrote itself (a time, a size): goes into the report as it is."""


def cell(value: object, width: int = 80) -> str:
    """A table cell: lamptop's own numbers and words as they are; anything from outside in a
    code span, so that no link, image or HTML in it renders."""
    if isinstance(value, Own) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return str(value)
    return md_code(bound(" ".join(str(value).split()), width), in_table=True)


def code(value: object, width: int = 200) -> str:
    """Outside text in a line of prose, as a code span."""
    return md_code(bound(" ".join(str(value).split()), width))


def md_table(
    head: Sequence[str], rows: Iterable[Sequence[object]], widths: Sequence[int] = ()
) -> list[str]:
    """A table; ``widths`` bounds the outside text of each column (80 characters when not
    given)."""
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    most = [*widths, *[80] * (len(head) - len(widths))]
    out += [
        "| " + " | ".join(cell(c, w) for c, w in zip(row, most, strict=False)) + " |"
        for row in rows
    ]
    return out


def mb(n: int | None) -> Own:
    return Own("-" if n is None else f"{n / MB:.0f} MB")


def when(ts: datetime) -> Own:
    return Own(utc_text(ts))
