"""A total time limit for one HTTP request of a :class:`requests.Session`.

``requests`` only knows per-operation timeouts: a server that sends one byte a second never
lets a read time out, so an answer can take as long as the server likes. :class:`Deadline`
tracks the sockets its session opens and, when a request overruns, shuts them down from a
timer thread; the blocked read then fails at once and the caller reports a timeout.
"""

from __future__ import annotations

import socket
import threading
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
        classes = _pool_classes(self._track)
        for adapter in session.adapters.values():
            manager: Any = getattr(adapter, "poolmanager", None)
            if manager is not None:
                manager.pool_classes_by_scheme = classes

    def _track(self, conn: HTTPConnection) -> None:
        with self._lock:
            self._conns.add(conn)

    def _cut(self) -> None:
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
        timer = threading.Timer(seconds, self._cut)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
