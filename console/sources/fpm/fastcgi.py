"""A small synchronous FastCGI client: one responder request, one answer.

Enough of the protocol (FastCGI 1.0) to ask a PHP-FPM pool for its status page the way a web
server would, straight on the pool's socket: ``FCGI_BEGIN_REQUEST`` (role responder, the
connection closed after the answer), the ``FCGI_PARAMS`` stream, an empty ``FCGI_STDIN``, then
``FCGI_STDOUT`` and ``FCGI_STDERR`` records until ``FCGI_END_REQUEST``. The CGI headers php-fpm
writes at the top of its output (``Status: 404 Not Found``, ``Content-type``) are split from the
body.

Everything is bounded: the connect time, the wait for each read, the whole answer's time when a
deadline is given, and its size. A blocked request can be ended from another thread with
:meth:`FastCgiClient.cut`. Socket errors (``FileNotFoundError``, ``PermissionError``,
``ConnectionRefusedError``, ``TimeoutError``) go to the caller unchanged, so it can say what
they mean; what breaks the protocol is a :class:`FastCgiError`.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

VERSION = 1
BEGIN_REQUEST = 1
ABORT_REQUEST = 2
END_REQUEST = 3
PARAMS = 4
STDIN = 5
STDOUT = 6
STDERR = 7
UNKNOWN_TYPE = 11
RESPONDER = 1
REQUEST_ID = 1

#: Largest answer (headers and body) read; a pool of 4,096 busy processes is under 4 MiB.
MAX_BYTES = 4 * 1024 * 1024 + 64 * 1024
#: What is kept of ``FCGI_STDERR`` (PHP's messages): the rest is counted and dropped.
MAX_STDERR = 64 * 1024
#: Largest block of CGI headers before the body.
MAX_HEADERS = 64 * 1024

_HEADER = struct.Struct("!BBHHBx")
_PROTOCOL_STATUS = {
    1: "the server cannot multiplex connections",
    2: "the server is overloaded",
    3: "the server does not know the responder role",
}

#: A unix socket's path, or (host, port).
Address = str | tuple[str, int]


class FastCgiError(Exception):
    """The other end does not speak FastCGI as expected (or was cut)."""


class AnswerTooBig(FastCgiError):
    """The answer went past the size limit."""


class ConnectTimeout(TimeoutError):
    """No connection within the connect timeout (a read that times out is a TimeoutError)."""


@dataclass(frozen=True)
class FcgiAnswer:
    """What the application answered."""

    status: int
    """The ``Status:`` header's code, 200 when there is none (CGI's default)."""
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    """CGI headers, names in lower case."""
    body: bytes = b""
    stderr: bytes = b""
    """What the application wrote to ``FCGI_STDERR`` (at most :data:`MAX_STDERR` bytes)."""
    app_status: int = 0

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def encode_params(params: Mapping[str, str | bytes]) -> bytes:
    """FastCGI name-value pairs: each length in 1 byte below 128, else 4 with the top bit."""
    out = bytearray()
    for name, value in params.items():
        key = name.encode("latin-1")
        val = value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")
        for n in (len(key), len(val)):
            out += bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
        out += key + val
    return bytes(out)


def _record(kind: int, content: bytes = b"") -> bytes:
    pad = -len(content) % 8
    return _HEADER.pack(VERSION, kind, REQUEST_ID, len(content), pad) + content + b"\0" * pad


def request_bytes(params: Mapping[str, str | bytes], stdin: bytes = b"") -> bytes:
    """The records of one responder request whose connection the server closes after."""
    out = [_record(BEGIN_REQUEST, struct.pack("!HB5x", RESPONDER, 0))]
    body = encode_params(params)
    for i in range(0, len(body), 65535):
        out.append(_record(PARAMS, body[i : i + 65535]))
    out.append(_record(PARAMS))
    for i in range(0, len(stdin), 65535):
        out.append(_record(STDIN, stdin[i : i + 65535]))
    out.append(_record(STDIN))
    return b"".join(out)


def status_params(path: str, query: str, *, method: str = "GET") -> dict[str, str]:
    """The CGI variables php-fpm needs to serve ``path?query`` as its status page (or any
    script): it matches ``pm.status_path`` against ``SCRIPT_NAME``."""
    uri = f"{path}?{query}" if query else path
    return {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "lamptop",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": path,
        "SCRIPT_FILENAME": path,
        "DOCUMENT_URI": path,
        "REQUEST_URI": uri,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "CONTENT_LENGTH": "0",
        "HTTP_HOST": "localhost",
    }


def split_cgi(stdout: bytes) -> tuple[int, str, dict[str, str], bytes]:
    """(status, reason, headers, body) of a CGI answer; FastCgiError when it has no headers."""
    ends = [(i, n) for i, n in ((stdout.find(b"\r\n\r\n"), 4), (stdout.find(b"\n\n"), 2)) if i >= 0]
    if not ends:
        raise FastCgiError("the answer has no CGI headers")
    at, size = min(ends)
    if at > MAX_HEADERS:
        raise FastCgiError("the answer's CGI headers are too long")
    headers: dict[str, str] = {}
    for line in stdout[:at].decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise FastCgiError("the answer's CGI headers are malformed")
        headers[name.strip().lower()] = value.strip()
    status, reason = 200, "OK"
    said = headers.get("status", "")
    if said:
        code, _, reason = said.partition(" ")
        if not (code.isdigit() and len(code) == 3):
            raise FastCgiError("the answer's Status header is not a code")
        status = int(code)
    return status, reason.strip(), headers, stdout[at + size :]


class FastCgiClient:
    """Sends one request to a FastCGI server and reads its answer (a new connection each time).

    ``read_timeout`` bounds each wait for bytes (the first ones included: a pool whose children
    are all busy leaves the connection in its listen queue); ``deadline`` bounds the whole
    request once connected, however steadily the bytes trickle in.
    """

    def __init__(
        self,
        address: Address,
        *,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        deadline: float | None = None,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.address = address
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._cut = False

    def cut(self) -> None:
        """End the request in progress now, from any thread (it raises FastCgiError), and
        every later one at once: a cut client is done."""
        with self._lock:
            self._cut = True
            sock = self._sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def request(self, params: Mapping[str, str | bytes], stdin: bytes = b"") -> FcgiAnswer:
        """Send one request; the answer, or an OSError / FastCgiError."""
        sock = self._connect()
        try:
            sock.settimeout(self.read_timeout)
            sock.sendall(request_bytes(params, stdin))
            return self._answer(sock)
        except OSError:
            if self._cut:
                raise FastCgiError("the request was cut") from None
            raise
        finally:
            with self._lock:
                self._sock = None
            sock.close()

    def get(self, path: str, query: str = "") -> FcgiAnswer:
        """``GET path?query`` with the variables of :func:`status_params`."""
        return self.request(status_params(path, query))

    # -- inside -----------------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        if self._cut:
            raise FastCgiError("the request was cut")
        try:
            if isinstance(self.address, str):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.connect_timeout)
                try:
                    sock.connect(self.address)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection(self.address, timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise ConnectTimeout(f"no connection within {self.connect_timeout:g}s") from exc
        with self._lock:
            if self._cut:
                sock.close()
                raise FastCgiError("the request was cut")
            self._sock = sock
        return sock

    def _answer(self, sock: socket.socket) -> FcgiAnswer:
        started = time.monotonic()
        buf = bytearray()
        stdout = bytearray()
        stderr = bytearray()
        total = 0
        while True:
            while len(buf) < _HEADER.size:
                self._fill(sock, buf, started)
            version, kind, _rid, length, pad = _HEADER.unpack_from(buf)
            if version != VERSION:
                raise FastCgiError("not a FastCGI answer (wrong protocol version)")
            need = _HEADER.size + length + pad
            total += length
            if total > self.max_bytes:
                raise AnswerTooBig(f"the answer is larger than {self.max_bytes >> 20} MiB")
            while len(buf) < need:
                self._fill(sock, buf, started)
            content = bytes(buf[_HEADER.size : _HEADER.size + length])
            del buf[:need]
            if kind == STDOUT:
                stdout += content
            elif kind == STDERR:
                stderr += content[: max(0, MAX_STDERR - len(stderr))]
            elif kind == END_REQUEST:
                if len(content) < 5:
                    raise FastCgiError("a short FCGI_END_REQUEST record")
                app_status, protocol = struct.unpack_from("!IB", content)
                if protocol:
                    raise FastCgiError(
                        _PROTOCOL_STATUS.get(protocol, f"protocol status {protocol}")
                    )
                status, reason, headers, body = split_cgi(bytes(stdout))
                return FcgiAnswer(status, reason, headers, body, bytes(stderr), app_status)
            elif kind != UNKNOWN_TYPE:
                raise FastCgiError(f"an unexpected FastCGI record (type {kind})")

    def _fill(self, sock: socket.socket, buf: bytearray, started: float) -> None:
        late = TimeoutError(f"the answer did not finish within {self.deadline or 0:g}s")
        if self.deadline is not None:
            left = self.deadline - (time.monotonic() - started)
            if left <= 0:
                raise late
            sock.settimeout(min(self.read_timeout, left))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if self.deadline is not None and time.monotonic() - started >= self.deadline:
                raise late from None
            raise
        if not chunk:
            if self._cut:
                raise FastCgiError("the request was cut")
            raise FastCgiError("the server closed the connection before the end of its answer")
        buf += chunk
