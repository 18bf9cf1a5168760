"""PHP-FPM's status page, ``?json&full``: one :class:`~console.core.stack.FpmSample` per page.

Pure: the page's text and the time it was read in, a sample out; no I/O, no clock. php-fpm
writes the page (``sapi/fpm/fpm/fpm_status.c``) with the pool's counters and, with ``full``,
one object per process of the pool::

    {"pool":"www","process manager":"dynamic","start time":1795705716,"start since":308,
     "accepted conn":2960,"listen queue":0,"max listen queue":0,"listen queue len":0,
     "idle processes":0,"active processes":8,"total processes":8,"max active processes":8,
     "max children reached":1,"slow requests":40, "processes":[{"pid":30513,"state":"Running",
     "start time":1795706005,"start since":19,"requests":20,"request duration":17029,
     "request method":"GET","request uri":"\\/app\\/sleep.php?s=1.1","content length":0,
     "user":"-","script":"\\/var\\/www\\/webapp\\/app\\/sleep.php","last request cpu":0.00,
     "last request memory":0}, ...]}

``request duration`` is in microseconds; the sample has seconds. Keys an older php-fpm does not
write default to 0 (or ``-``). Every string is a stranger's (the request URI and the user come
from the client): each is cleaned and bounded, and so are the page's size and its number of
processes. Anything else than this JSON (the HTML, XML or text page, another server's JSON)
raises :class:`NotFpmStatus`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime

from console.core.stack import FpmProcess, FpmSample
from console.core.text import bound, clean

#: Largest page read: 4,096 processes with 8 KiB URIs are under it.
MAX_PAGE = 4 * 1024 * 1024
#: Processes kept from one page; a pool never has this many children.
MAX_PROCESSES = 4096
#: Longest request URI kept (php-fpm itself keeps 128 bytes of it and 512 of the query).
MAX_URI = 8192
#: Longest script path kept.
MAX_PATH = 4096
#: Longest other string (pool, state, method, user, process manager).
MAX_WORD = 256


class NotFpmStatus(ValueError):
    """The page is not php-fpm's JSON status page; ``what`` says what it looked like."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what
        """``empty``, ``too-big``, ``html``, ``xml``, ``text``, ``openmetrics``, ``json``
        (JSON, but not the status page) or ``not-json``."""


def _text(value: object, limit: int = MAX_WORD, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        value = json.dumps(value) if isinstance(value, list | dict) else str(value)
    return clean(bound(value, limit))


def _int(value: object) -> int:
    """A counter; 0 for a missing, negative, non-numeric or non-finite value."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float):
        return max(int(value), 0) if math.isfinite(value) else 0
    if isinstance(value, str):
        try:
            return _int(float(value)) if len(value) < 40 else 0
        except ValueError:
            return 0
    return 0


def _float(value: object) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        f = float(value)
        return f if math.isfinite(f) and f >= 0 else 0.0
    if isinstance(value, str) and len(value) < 40:
        try:
            return _float(float(value))
        except ValueError:
            return 0.0
    return 0.0


def _looks_like(text: str) -> str:
    """What a page that is not JSON looks like, for the error message."""
    head = text[:512].lstrip().lower()
    if head.startswith("<?xml") or head.startswith("<status"):
        return "xml"
    if head.startswith("<"):
        return "html"
    if head.startswith("# help") or head.startswith("# type"):
        return "openmetrics"
    return "text"


_WHAT = {
    "html": "an HTML page",
    "xml": "an XML page",
    "openmetrics": "OpenMetrics text",
    "text": "text",
}


def load_page(page: str | bytes) -> dict[str, object]:
    """The page's JSON object, checked to be php-fpm's status; :class:`NotFpmStatus` if not."""
    if len(page) > MAX_PAGE:
        raise NotFpmStatus("too-big", f"the page is larger than {MAX_PAGE >> 20} MiB")
    text = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    if not text.strip():
        raise NotFpmStatus("empty", "the page is empty")
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        kind = _looks_like(stripped)
        if kind == "text" and stripped.startswith("pool:"):
            raise NotFpmStatus("text", "the plain-text status page, not its JSON (?json)")
        raise NotFpmStatus(kind, f"{_WHAT[kind]}, not JSON")
    try:
        # strict=False: an older php-fpm wrote control characters in strings unescaped
        data = json.loads(text, strict=False)
    except (ValueError, RecursionError) as exc:
        raise NotFpmStatus("not-json", "broken JSON") from exc
    if not isinstance(data, dict) or "pool" not in data:
        raise NotFpmStatus("json", "JSON, but not PHP-FPM's status page (it names no pool)")
    return data


def parse_process(item: Mapping[str, object]) -> FpmProcess:
    """One entry of the page's ``processes``."""
    return FpmProcess(
        pid=_int(item.get("pid")),
        state=_text(item.get("state"), default="-"),
        started=_float(item.get("start time")),
        requests=_int(item.get("requests")),
        duration=_int(item.get("request duration")) / 1_000_000,
        method=_text(item.get("request method"), default="-"),
        uri=_text(item.get("request uri"), MAX_URI, default="-"),
        script=_text(item.get("script"), MAX_PATH, default="-"),
        user=_text(item.get("user"), default="-"),
        content_length=_int(item.get("content length")),
        cpu=_float(item.get("last request cpu")),
        memory=_int(item.get("last request memory")),
    )


def parse_fpm_status(
    page: str | bytes,
    *,
    ts: datetime,
    source: str = "php-fpm",
    target: str = "",
    max_children: int | None = None,
) -> FpmSample:
    """A sample from one ``?json&full`` page read at ``ts`` (without ``full``, no processes).

    ``source`` and ``target`` say where it was read; ``max_children`` is the pool's
    ``pm.max_children`` when discovery read it. Raises :class:`NotFpmStatus`.
    """
    data = load_page(page)
    listed = data.get("processes")
    items = listed[:MAX_PROCESSES] if isinstance(listed, list) else []
    processes = tuple(parse_process(p) for p in items if isinstance(p, dict))
    return FpmSample(
        ts=ts,
        source=source,
        target=target,
        pool=_text(data.get("pool"), default="-"),
        process_manager=_text(data.get("process manager"), default="-"),
        start_time=_float(data.get("start time")),
        accepted=_int(data.get("accepted conn")),
        listen_queue=_int(data.get("listen queue")),
        max_listen_queue=_int(data.get("max listen queue")),
        listen_queue_len=_int(data.get("listen queue len")),
        idle=_int(data.get("idle processes")),
        active=_int(data.get("active processes")),
        total=_int(data.get("total processes")),
        max_active=_int(data.get("max active processes")),
        max_children_reached=_int(data.get("max children reached")),
        slow_requests=_int(data.get("slow requests")),
        processes=processes,
        max_children=max_children,
    )
