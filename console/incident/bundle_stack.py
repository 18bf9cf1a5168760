"""Reading the PHP-FPM and MySQL samples of a bundle (schema version 2) for ``lamptop open``.

Like the rest of :mod:`console.incident.bundle_read`: the document's strings were cleaned
(``clean_value``) before these run, every field is checked with an error that names it
(``fpm[0].processes[2].pid: expected int, got text '12'``), counts of rows are bounded, and so
is each text (a query or a URI longer than :data:`MAX_TEXT` is cut, and says so). A version 1
bundle has neither list: it opens with none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.core.check import as_list, get
from console.core.decode import MAX_TEXT, fpm_from_dict, mysql_from_dict
from console.core.stack import FpmSample, MysqlSample

__all__ = ["MAX_TEXT", "fpm_from_dict", "mysql_from_dict", "stack_lists"]


def stack_lists(
    doc: Mapping[str, Any], most: int
) -> tuple[tuple[FpmSample, ...], tuple[MysqlSample, ...]]:
    """The ``fpm`` and ``mysql`` samples of a bundle's document, each list at most ``most``
    long; both empty for a version 1 bundle."""
    fpm = as_list(get(doc, "fpm", "", []), "fpm", most)
    mysql = as_list(get(doc, "mysql", "", []), "mysql", most)
    return (
        tuple(fpm_from_dict(s, f"fpm[{i}]") for i, s in enumerate(fpm)),
        tuple(mysql_from_dict(s, f"mysql[{i}]") for i, s in enumerate(mysql)),
    )
