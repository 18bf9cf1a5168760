"""The PHP-FPM poller through a real Apache (event MPM, mod_proxy_fcgi) in front of a real
php-fpm, as Debian sets them up: ``*.php`` and ``/fpm-status`` handed to the pool's socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from console.core.stack import FpmSample
from console.sources.fpm.poll import FpmPoller
from tests.support.apache_server import ApacheServer, running_apache
from tests.support.fpm_server import FpmServer, running_fpm
from tests.support.helpers import MemorySink
from tests.support.wait import TIMEOUT

FAST = {"interval": 0.1, "connect_timeout": 0.5, "read_timeout": 1.0}


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Iterator[tuple[ApacheServer, FpmServer]]:
    """php-fpm (pool www, 2 children) behind Apache event."""
    options = dict(getattr(request, "param", None) or {})
    with running_fpm(**options) as fpm, running_apache("event", fpm_socket=fpm.socket) as apache:
        yield apache, fpm


async def sample_where(
    poller: FpmPoller, check: Callable[[FpmSample], object], what: str
) -> FpmSample:
    deadline = time.monotonic() + TIMEOUT
    while True:
        got = await poller.poll_once()
        if got is not None and check(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached: {what} (last: {got})")
        await asyncio.sleep(0.1)


@pytest.mark.apache
@pytest.mark.fpm
async def test_through_apache_a_slow_php_request_is_seen(
    stack: tuple[ApacheServer, FpmServer],
) -> None:
    apache, fpm = stack
    url = apache.url + "fpm-status"
    sink = MemorySink()
    poller = FpmPoller(url, sink, name="php-fpm:www", **FAST)
    first = await poller.poll_once()
    assert first is not None, sink.states
    assert (first.pool, first.target, first.source) == ("www", url, "php-fpm:www")
    assert not [p for p in first.busy if p.uri.startswith("/fpm-status")]  # its own request
    answers: list[int] = []

    def slow() -> None:
        answers.append(requests.get(apache.url + "sleep.php?s=3", timeout=60).status_code)

    task = asyncio.create_task(asyncio.to_thread(slow))
    try:
        seen = await sample_where(
            poller, lambda s: [p for p in s.busy if p.uri == "/sleep.php?s=3"], "sleep.php"
        )
        (busy,) = [p for p in seen.busy if p.uri == "/sleep.php?s=3"]
        assert busy.script == str(apache.docroot / "sleep.php")
        await task
    finally:
        poller.close()
    assert answers == [200]
    assert [s.status for s in sink.states] == ["ok"]


@pytest.mark.apache
@pytest.mark.fpm
@pytest.mark.parametrize("stack", [{"max_children": 1}], indirect=True)
async def test_through_apache_a_saturated_pool_times_out(
    stack: tuple[ApacheServer, FpmServer],
) -> None:
    apache, fpm = stack
    sink = MemorySink()
    poller = FpmPoller(apache.url + "fpm-status", sink, **FAST)
    assert await poller.poll_once() is not None
    fpm.hold(1, 30)
    fpm.wait_sleeping(1)
    try:
        assert await poller.poll_once() is None
    finally:
        poller.close()
    status, message, hint = sink.states[-1].status, sink.states[-1].message, sink.states[-1].hint
    assert status == "timeout"
    assert message.startswith("no answer within 1s from pool www: every child may be busy")
    assert "pm.status_listen" in hint


@pytest.mark.apache
@pytest.mark.fpm
async def test_through_apache_paths_that_are_not_the_status_page(
    stack: tuple[ApacheServer, FpmServer],
) -> None:
    apache, _ = stack
    cases = {
        # Apache hands nothing to php-fpm there: its own 404 page
        "nothing-here": (
            "http-error",
            "HTTP 404: the web server does not send /nothing-here to php-fpm",
            '<Location /nothing-here> SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|'
            'fcgi://localhost" </Location> (Debian: a2enmod proxy_fcgi)',
        ),
        # handed to php-fpm, which has no such script: php-fpm's "File not found."
        "missing.php": (
            "not-status",
            "the pool has no status page at /missing.php (php-fpm answered 404: File not found.)",
            "set pm.status_path = /missing.php in pool www and reload php-fpm",
        ),
    }
    for path, expected in cases.items():
        sink = MemorySink()
        poller = FpmPoller(apache.url + path, sink, pool="www", **FAST)
        assert await poller.poll_once() is None
        poller.close()
        state = sink.states[-1]
        assert (state.status, state.message, state.hint) == expected
    sink = MemorySink()
    poller = FpmPoller(apache.url, sink, **FAST)  # the docroot's index.html
    assert await poller.poll_once() is None
    poller.close()
    assert sink.states[-1].status == "not-status"
    assert "(an HTML page, not JSON)" in sink.states[-1].message


@pytest.mark.apache
@pytest.mark.fpm
async def test_through_apache_a_stopped_php_fpm_is_a_503(
    stack: tuple[ApacheServer, FpmServer],
) -> None:
    apache, fpm = stack
    fpm.stop()
    sink = MemorySink()
    poller = FpmPoller(apache.url + "fpm-status", sink, **FAST)
    assert await poller.poll_once() is None
    poller.close()
    state = sink.states[-1]
    assert (state.status, state.message) == (
        "http-error",
        "HTTP 503: the web server cannot reach php-fpm (is php-fpm running?)",
    )
