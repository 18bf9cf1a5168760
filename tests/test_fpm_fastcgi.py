"""The FastCGI client: its encoding, a real php-fpm, and servers that misbehave."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from console.sources.fpm.fastcgi import (
    AnswerTooBig,
    FastCgiClient,
    FastCgiError,
    encode_params,
    request_bytes,
    split_cgi,
    status_params,
)
from tests.support.fake_fcgi import FakeFcgi, answer, end_request, record
from tests.support.fpm_server import FpmServer
from tests.support.wait import wait_for

# -- encoding ------------------------------------------------------------------------------------


def test_name_value_pairs_use_one_or_four_length_bytes() -> None:
    assert encode_params({"A": "xy"}) == b"\x01\x02Axy"
    long = "v" * 200
    encoded = encode_params({"K": long})
    assert encoded[:1] == b"\x01"
    assert struct.unpack("!I", encoded[1:5])[0] == 200 | 0x80000000
    assert encoded[5:] == b"K" + long.encode()
    assert encode_params({"B": b"\xff\x00"}) == b"\x01\x02B\xff\x00"


def _records(data: bytes) -> list[tuple[int, int, bytes]]:
    out = []
    while data:
        version, kind, rid, length, pad = struct.unpack_from("!BBHHBx", data)
        assert version == 1 and rid == 1
        out.append((kind, length, data[8 : 8 + length]))
        data = data[8 + length + pad :]
    return out


def test_a_request_is_begin_params_empty_params_and_empty_stdin() -> None:
    params = {"SCRIPT_NAME": "/fpm-status", "BIG": "x" * 70_000}
    recs = _records(request_bytes(params))
    kinds = [k for k, _, _ in recs]
    assert kinds == [1, 4, 4, 4, 5]  # the 70 kB of params take two records
    assert recs[0][2] == struct.pack("!HB5x", 1, 0)  # responder; the server closes after
    assert recs[-2][1] == 0 and recs[-1][1] == 0
    assert b"".join(c for k, _, c in recs if k == 4) == encode_params(params)


def test_status_params_name_the_script_and_the_query() -> None:
    p = status_params("/fpm-status", "json&full")
    assert p["SCRIPT_NAME"] == p["SCRIPT_FILENAME"] == "/fpm-status"
    assert p["REQUEST_URI"] == "/fpm-status?json&full"
    assert (p["QUERY_STRING"], p["REQUEST_METHOD"]) == ("json&full", "GET")
    assert p["SERVER_PROTOCOL"] == "HTTP/1.1"


@pytest.mark.parametrize(
    ("raw", "status", "reason", "body"),
    [
        (b"Content-type: application/json\r\n\r\n{}", 200, "OK", b"{}"),
        (b"Status: 404 Not Found\r\nContent-type: text/html\r\n\r\nFile not found.\n", 404,
         "Not Found", b"File not found.\n"),
        (b"Status: 403\nX: y\n\nAccess denied.", 403, "", b"Access denied."),
        (b"X-A: 1\r\n\r\nbody\r\n\r\nmore", 200, "OK", b"body\r\n\r\nmore"),
    ],
)  # fmt: skip
def test_cgi_headers_are_split_from_the_body(
    raw: bytes, status: int, reason: str, body: bytes
) -> None:
    code, said, headers, rest = split_cgi(raw)
    assert (code, said, rest) == (status, reason, body)
    assert all(k == k.lower() for k in headers)


@pytest.mark.parametrize(
    "raw",
    [b"no headers at all", b"Status: abc\r\n\r\n", b"bad header line\r\n\r\nbody", b"x" * 70_000],
)
def test_answers_without_proper_headers_are_errors(raw: bytes) -> None:
    with pytest.raises(FastCgiError):
        split_cgi(raw)


# -- a real php-fpm ------------------------------------------------------------------------------


@pytest.mark.fpm
def test_the_status_page_of_a_real_pool(fpm: FpmServer) -> None:
    got = FastCgiClient(str(fpm.socket)).get("/fpm-status", "json&full")
    assert got.status == 200 and got.content_type == "application/json"
    page = json.loads(got.body)
    assert page["pool"] == "www" and page["process manager"] == "dynamic"
    assert any(p["request uri"] == "/fpm-status?json&full" for p in page["processes"])


@pytest.mark.fpm
def test_a_script_and_its_headers(fpm: FpmServer) -> None:
    got = fpm.run("sleep.php", "s=0")
    assert got.status == 200
    assert got.content_type.startswith("text/plain")
    assert got.headers["x-powered-by"].startswith("PHP/8.2")
    assert got.body == b"slept 0 4194304\n"


@pytest.mark.fpm
@pytest.mark.parametrize("fpm", [{"status_path": None}], indirect=True)
def test_no_status_path_is_phps_404_with_its_stderr(fpm: FpmServer) -> None:
    got = FastCgiClient(str(fpm.socket)).get("/fpm-status", "json&full")
    assert (got.status, got.reason, got.body) == (404, "Not Found", b"File not found.\n")
    assert got.stderr == b"Primary script unknown"


@pytest.mark.fpm
@pytest.mark.parametrize("fpm", [{"max_children": 1}], indirect=True)
def test_a_request_waiting_for_a_busy_pool_times_out_and_can_be_cut(fpm: FpmServer) -> None:
    fpm.hold(1, 30)
    fpm.wait_sleeping(1)
    with pytest.raises(TimeoutError):
        FastCgiClient(str(fpm.socket), read_timeout=0.3).get("/fpm-status", "json&full")
    # a request left waiting is ended at once by cut(), from another thread
    client = FastCgiClient(str(fpm.socket), read_timeout=60)
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            client.get("/fpm-status", "json&full")
        except BaseException as exc:  # noqa: BLE001 (kept for the assertion)
            outcome.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    wait_for(lambda: client._sock is not None, what="the request is sent")
    client.cut()
    thread.join(10)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], FastCgiError)
    with pytest.raises(FastCgiError, match="cut"):
        client.get("/fpm-status", "json&full")  # a cut client is done


def test_socket_errors_reach_the_caller_unchanged() -> None:
    with pytest.raises(FileNotFoundError):
        FastCgiClient("/nonexistent/lamptop/php-fpm.sock").get("/fpm-status")
    with socket.socket(socket.AF_INET) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        FastCgiClient(("127.0.0.1", port)).get("/fpm-status")


# -- servers that misbehave ----------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[Callable[[Callable[[socket.socket, bytes], None]], FakeFcgi]]:
    servers: list[FakeFcgi] = []

    def start(respond: Callable[[socket.socket, bytes], None]) -> FakeFcgi:
        servers.append(FakeFcgi(respond))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def test_the_request_sent_is_what_php_fpm_reads(fake: Callable[..., FakeFcgi]) -> None:
    server = fake(lambda c, _: c.sendall(answer(b"Content-type: text/plain\r\n\r\nok")))
    got = FastCgiClient(str(server.path)).get("/fpm-status", "json&full")
    assert got.body == b"ok"
    recs = _records(server.requests[0])
    params = b"".join(c for k, _, c in recs if k == 4)
    assert params == encode_params(status_params("/fpm-status", "json&full"))


def test_stderr_is_kept_apart_and_bounded(fake: Callable[..., FakeFcgi]) -> None:
    noise = b"E" * 60_000

    def respond(c: socket.socket, _: bytes) -> None:
        c.sendall(record(7, noise) + record(7, noise) + answer(b"Status: 500 Oops\r\n\r\nx"))

    got = FastCgiClient(str(fake(respond).path)).get("/x")
    assert (got.status, got.reason, got.body) == (500, "Oops", b"x")
    assert len(got.stderr) == 64 * 1024


def test_an_answer_past_the_size_limit_is_cut(fake: Callable[..., FakeFcgi]) -> None:
    def respond(c: socket.socket, _: bytes) -> None:
        c.sendall(record(6, b"Content-type: text/plain\r\n\r\n"))
        chunk = record(6, b"y" * 65_000)
        for _ in range(100):
            c.sendall(chunk)

    with pytest.raises(AnswerTooBig):
        FastCgiClient(str(fake(respond).path), max_bytes=1_000_000).get("/x")


def test_a_dripping_answer_is_cut_at_the_deadline(fake: Callable[..., FakeFcgi]) -> None:
    def respond(c: socket.socket, _: bytes) -> None:
        c.sendall(record(6, b"Content-type: text/plain\r\n\r\n")[:8])
        for _ in range(200):
            c.sendall(b"a")
            time.sleep(0.05)

    client = FastCgiClient(str(fake(respond).path), read_timeout=1.0, deadline=0.5)
    with pytest.raises(TimeoutError, match="did not finish"):
        client.get("/x")


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "protocol version"),
        (record(6, b"Content-type: x\r\n\r\n"), "closed the connection"),
        (record(6, b"Content-type: x\r\n\r\nok") + end_request(protocol_status=2), "overloaded"),
        (record(9, b"?") + answer(b"\r\n\r\n"), "unexpected FastCGI record"),
        (record(3, b"\0\0"), "short FCGI_END_REQUEST"),
        (answer(b"just a body"), "no CGI headers"),
    ],
)
def test_what_is_not_fastcgi_is_a_fastcgi_error(
    fake: Callable[..., FakeFcgi], reply: bytes, words: str
) -> None:
    server = fake(lambda c, _: c.sendall(reply))
    with pytest.raises(FastCgiError, match=words):
        FastCgiClient(str(server.path), read_timeout=5).get("/x")
