"""A unix-socket server that answers FastCGI requests the way a test says, even badly.

For what a real php-fpm never does (a wrong protocol, an endless or dripping answer, a close
in the middle): ``FakeFcgi(respond)`` accepts on a socket in a short temp directory and calls
``respond(conn, request)`` from a thread for each connection, with the request's bytes read up
to its empty ``FCGI_STDIN`` record. :func:`record` builds a record to send.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

Responder = Callable[[socket.socket, bytes], None]
END_OF_STDIN = struct.pack("!BBHHBx", 1, 5, 1, 0, 0)


def record(kind: int, content: bytes = b"", request_id: int = 1, version: int = 1) -> bytes:
    pad = -len(content) % 8
    head = struct.pack("!BBHHBx", version, kind, request_id, len(content), pad)
    return head + content + b"\0" * pad


def end_request(app_status: int = 0, protocol_status: int = 0) -> bytes:
    return record(3, struct.pack("!IB3x", app_status, protocol_status))


def answer(stdout: bytes, stderr: bytes = b"") -> bytes:
    """A complete, well-formed answer."""
    out = record(6, stdout) + record(6)
    if stderr:
        out += record(7, stderr) + record(7)
    return out + end_request()


class FakeFcgi:
    def __init__(self, respond: Responder) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="lamptop-fcgi-"))
        self.path = self.dir / "fake.sock"
        self.respond = respond
        self.requests: list[bytes] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        self.sock.listen(16)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            conn.settimeout(10)
            with contextlib.suppress(OSError):
                while END_OF_STDIN not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data)
                self.respond(conn, data)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)
