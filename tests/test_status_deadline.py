"""The total time limit of a status request: one watchdog thread, asleep between requests."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from console.sources.status.deadline import Deadline
from tests.support.local_http import LocalServer, send
from tests.support.wait import wait_for


def watchdogs() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "lamptop-deadline"}


def _answer(handler: BaseHTTPRequestHandler) -> None:
    if handler.path == "/slow":
        time.sleep(10.0)  # far beyond the 0.3 s limit, however late the watchdog wakes
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
        with deadline.limit(30.0):  # far beyond a loopback request, even on a loaded machine
            assert session.get(url, timeout=30).status_code == 200
        assert not deadline.expired
    (mine,) = watchdogs() - before
    deadline.close()
    session.close()
    wait_for(lambda: not mine.is_alive(), what="the watchdog thread to end")


def test_overrun_is_cut_and_the_next_request_is_limited_again(server: LocalServer) -> None:
    session = requests.Session()
    deadline = Deadline(session)
    with pytest.raises(requests.RequestException), deadline.limit(0.3):
        session.get(f"http://127.0.0.1:{server.port}/slow", timeout=5)
    assert deadline.expired
    with deadline.limit(30.0):
        assert session.get(f"http://127.0.0.1:{server.port}/fast", timeout=30).ok
    assert not deadline.expired
    deadline.close()
    session.close()


def test_a_deadline_nobody_closed_lets_its_watchdog_end(server: LocalServer) -> None:
    before = watchdogs()
    session = requests.Session()
    deadline = Deadline(session)
    with deadline.limit(30.0):  # its wait would end 30 s from now
        session.get(f"http://127.0.0.1:{server.port}/fast", timeout=30)
    (mine,) = watchdogs() - before
    session.close()
    del deadline, session
    gc.collect()
    wait_for(lambda: not mine.is_alive(), what="the watchdog thread to end")
