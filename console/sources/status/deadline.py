"""A total time limit for one HTTP request of a :class:`requests.Session`.

``requests`` only knows per-operation timeouts: a server that sends one byte a second never
lets a read time out, so an answer can take as long as the server likes. :class:`Deadline`
tracks the sockets its session opens and, when a request overruns, shuts them down from a
watchdog thread; the blocked read then fails at once and the caller reports a timeout.

The watchdog is one thread per deadline, started with the first request and asleep on a
condition in between: starting a timer thread per request would cost more CPU than the request.
"""

from __future__ import annotations

import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


def _pool_classes(track: Callable[[HTTPConnection], None]) -> dict[str, type[HTTPConnectionPool]]:
    class Conn(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            track(self)

    class TLSConn(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            track(self)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConn

    return {"http": Pool, "https": TLSPool}


class Deadline:
    """Cuts a session's connections when a request started with :meth:`limit` overruns."""

    def __init__(self, session: requests.Session) -> None:
        self._conns: weakref.WeakSet[HTTPConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.expired = False
        """Whether the last limited request was cut."""
        self._wake = threading.Condition(threading.Lock())
        self._due: float | None = None
        """``time.monotonic()`` at which the request in progress is cut; None: none is."""
        self._closed = False
        self._watcher: threading.Thread | None = None
        classes = _pool_classes(self._track)
        for adapter in session.adapters.values():
            manager: Any = getattr(adapter, "poolmanager", None)
            if manager is not None:
                manager.pool_classes_by_scheme = classes
        # A deadline dropped without close() still lets its watchdog end.
        weakref.finalize(self, _notify, self._wake)

    def _track(self, conn: HTTPConnection) -> None:
        with self._lock:
            self._conns.add(conn)

    def cut(self) -> None:
        """Cut the connections now (the poller is closing with a request still waiting)."""
        with self._lock:
            self.expired = True
            conns = list(self._conns)
        for conn in conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    @contextmanager
    def limit(self, seconds: float) -> Iterator[None]:
        """Within the block, requests of the session are cut after ``seconds`` in all."""
        self.expired = False
        with self._wake:
            self._closed = False
            self._due = time.monotonic() + seconds
            if self._watcher is None or not self._watcher.is_alive():
                self._watcher = threading.Thread(
                    target=_watch,
                    args=(weakref.ref(self), self._wake),
                    name="lamptop-deadline",
                    daemon=True,
                )
                self._watcher.start()
            else:
                self._wake.notify()
        try:
            yield
        finally:
            with self._wake:
                # No wake-up: the watchdog finds nothing due when its wait ends, and sleeps on.
                self._due = None

    def reset(self, seconds: float) -> None:
        """Within a :meth:`limit` block: the request in progress is now due ``seconds`` from
        now (the answer began: the rest of it gets its own, shorter, budget)."""
        with self._wake:
            if self._due is not None:
                self._due = time.monotonic() + seconds
                self._wake.notify()

    def close(self) -> None:
        """Let the watchdog end, once a request still running has finished or been cut."""
        with self._wake:
            self._closed = True
            self._wake.notify()


def _notify(wake: threading.Condition) -> None:
    with wake:
        wake.notify()


def _watch(ref: weakref.ReferenceType[Deadline], wake: threading.Condition) -> None:
    """The watchdog: sleep until the request in progress is due, and cut it if it still runs.

    It holds its deadline only weakly, so that a deadline nobody closed can still be freed.
    """
    with wake:
        while True:
            deadline = ref()
            if deadline is None or (deadline._closed and deadline._due is None):
                return
            due = deadline._due
            if due is not None and time.monotonic() >= due:
                deadline._due = due = None
                deadline.cut()
            del deadline
            wake.wait(None if due is None else due - time.monotonic())
