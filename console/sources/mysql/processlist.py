"""The processlist's rows as :class:`~console.core.stack.MysqlThread` values: cleaned, bounded,
capped, running statements first.

Every column is a stranger's text: a user or database name, a client's host, a query with its
literals. The session reads them as bytes (a query may hold bytes that are not UTF-8, which
``SHOW FULL PROCESSLIST`` sends as they came); here they are decoded with replacement, made one
line (a statement's newlines and indentation become one space), cleaned of control and bidi
characters, and bounded. At most ``cap`` rows are kept, the rest counted.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from typing import Any

from console.core.stack import MysqlThread
from console.core.text import bound, clean

#: Rows kept per poll; a server with more threads than this has its count in ``truncated``.
MAX_THREADS = 2000
#: Characters of a statement kept.
MAX_INFO = 16 * 1024
#: Characters of a user, host, database, command or state kept.
MAX_SMALL = 200

#: MariaDB: sub-second times (``TIME_MS``), the server's own sort and cap, and the total
#: before the cap (a window count), in one statement. ``%d``: the statement's length to read
#: (one more than kept, so that a cut shows), the row cap.
MARIADB_QUERY = (
    "SELECT ID, USER, HOST, DB, COMMAND, TIME_MS, STATE, LEFT(INFO, %d), COUNT(*) OVER () "
    "FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() "
    "ORDER BY COMMAND = 'Sleep', TIME_MS DESC LIMIT %d"
)
#: MySQL (no ``TIME_MS``): every row comes, whole seconds; capped here.
SHOW_QUERY = "SHOW FULL PROCESSLIST"

_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_IDLE = frozenset({"Sleep", "Daemon", "Binlog Dump", "Binlog Dump GTID"})


def text(value: object, limit: int = MAX_SMALL) -> str:
    """A column as one clean, bounded line (``NULL`` is empty)."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    one_line = _SPACES.sub(" ", str(value)).strip()
    return bound(clean(one_line), limit)


def _number(value: object) -> float:
    try:
        return max(0.0, float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def thread_of(row: Sequence[Any], *, millis: bool) -> MysqlThread:
    """One row: ``Id, User, Host, db, Command, Time[_ms], State, Info`` (more columns are
    ignored); ``millis``: the time column is in milliseconds."""
    seconds = _number(row[5])
    return MysqlThread(
        id=int(_number(row[0])),
        user=text(row[1]),
        host=text(row[2]),
        db=text(row[3]),
        command=text(row[4]),
        time=seconds / 1000.0 if millis else seconds,
        state=text(row[6]),
        info=text(row[7], MAX_INFO),
    )


def sort_key(thread: MysqlThread) -> tuple[bool, float]:
    """Statements at work first, then the idle connections; longest first within each."""
    return (thread.command in _IDLE, -thread.time)


def from_mariadb(rows: Iterable[Sequence[Any]]) -> tuple[tuple[MysqlThread, ...], int]:
    """The rows of :data:`MARIADB_QUERY`: the threads, and how many the cap left out."""
    threads: list[MysqlThread] = []
    total = 0
    for row in rows:
        threads.append(thread_of(row, millis=True))
        total = int(_number(row[8]))
    threads.sort(key=sort_key)
    return tuple(threads), max(0, total - len(threads))


def from_show(
    rows: Iterable[Sequence[Any]], own_id: int, cap: int = MAX_THREADS
) -> tuple[tuple[MysqlThread, ...], int]:
    """The rows of :data:`SHOW_QUERY` (read one at a time), lamptop's own connection
    ``own_id`` left out: the ``cap`` first by :func:`sort_key`, and how many were left out."""
    kept: list[tuple[tuple[bool, float], int, MysqlThread]] = []
    seen = 0
    for n, row in enumerate(rows):
        thread = thread_of(row, millis=False)
        if thread.id == own_id:
            continue
        seen += 1
        # a max-heap of the kept rows by sort key (inverted), the worst on top
        item = (_inverse(sort_key(thread)), n, thread)
        if len(kept) < cap:
            heapq.heappush(kept, item)
        elif item[0] > kept[0][0]:
            heapq.heapreplace(kept, item)
    threads = sorted((t for _, _, t in kept), key=sort_key)
    return tuple(threads), seen - len(threads)


def _inverse(key: tuple[bool, float]) -> tuple[bool, float]:
    idle, minus_time = key
    return (not idle, -minus_time)
