"""The total time limit of a status request: one watchdog thread, asleep between requests."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from console.sources.status.deadline import Deadline
from tests.support.local_http import LocalServer, send


def watchdogs() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "lamptop-deadline"}


def _wait_for(cond: Callable[[], bool], within: float = 3.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def _answer(handler: BaseHTTPRequestHandler) -> None:
    if handler.path == "/slow":
        time.sleep(1.5)
    send(handler, 200, b"Scoreboard: W_\n")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer(_answer)
    yield srv
    srv.close()


def test_one_watchdog_for_many_requests_and_none_after_close(server: LocalServer) -> None:
    before = watchdogs()
    session = requests.Session()
    deadline = Deadline(session)
    url = f"http://127.0.0.1:{server.port}/fast"
    for _ in range(5):
        with deadline.limit(2.0):
            assert session.get(url, timeout=2).status_code == 200
        assert not deadline.expired
    (mine,) = watchdogs() - before
    deadline.close()
    session.close()
    assert _wait_for(lambda: not mine.is_alive())


def test_overrun_is_cut_and_the_next_request_is_limited_again(server: LocalServer) -> None:
    session = requests.Session()
    deadline = Deadline(session)
    with pytest.raises(requests.RequestException), deadline.limit(0.3):
        session.get(f"http://127.0.0.1:{server.port}/slow", timeout=5)
    assert deadline.expired
    with deadline.limit(2.0):
        assert session.get(f"http://127.0.0.1:{server.port}/fast", timeout=2).ok
    assert not deadline.expired
    deadline.close()
    session.close()


def test_a_deadline_nobody_closed_lets_its_watchdog_end(server: LocalServer) -> None:
    before = watchdogs()
    session = requests.Session()
    deadline = Deadline(session)
    with deadline.limit(30.0):  # its wait would end 30 s from now
        session.get(f"http://127.0.0.1:{server.port}/fast", timeout=2)
    (mine,) = watchdogs() - before
    session.close()
    del deadline, session
    gc.collect()
    assert _wait_for(lambda: not mine.is_alive())
