"""The lines the PHP-FPM and MySQL panes draw: counters as rises over the last minute."""

from __future__ import annotations

from datetime import timedelta

from console.view.stackpanes import pool_lines, server_line
from tests.support.scripted import T0
from tests.support.stack_scripted import fpm_process, fpm_sample, mysql_sample, mysql_thread


def test_a_pool_counts_what_rose_in_the_last_minute_only() -> None:
    busy = (fpm_process(1, "/a", 3.0), fpm_process(2, "/b", 1.0, state="Idle"))
    samples = [
        fpm_sample(busy, T0 - timedelta(seconds=90), max_children_reached=1, slow_requests=1),
        fpm_sample(busy, T0 - timedelta(seconds=50), max_children_reached=4, slow_requests=2),
        fpm_sample(busy, T0, max_children_reached=6, slow_requests=2, max_children=2),
    ]
    (line,) = pool_lines(samples)
    assert (line.reached, line.reached_rise, line.slow_rise) == (6, 2, 0)
    assert line.full  # it hit max_children within the minute
    assert line.text() == "www dynamic  busy 1/2  idle 1  max_children hit 6 (+2)  slow 2"
    assert line.text(30) == "www 1/2 busy maxed +2"


def test_a_pool_restarted_counts_from_zero_and_pools_stay_apart() -> None:
    samples = [
        fpm_sample((), T0 - timedelta(seconds=10), pool="www", max_children_reached=9),
        fpm_sample((), T0 - timedelta(seconds=9), pool="api", max_children_reached=0),
        fpm_sample((), T0, pool="www", max_children_reached=1),  # restarted: counters reset
        fpm_sample((), T0, pool="api", listen_queue=3),
    ]
    www, api = pool_lines(samples)
    assert (www.pool, www.reached_rise, www.full) == ("www", 1, True)
    assert (api.pool, api.reached_rise, api.queue, api.full) == ("api", 0, 3, True)
    idle = pool_lines([fpm_sample((), T0)])[0]
    assert not idle.full and "busy 0 of 0" in idle.text()


def test_the_server_line() -> None:
    q = mysql_thread(1, "SELECT SLEEP(9)", 9.0)
    old = mysql_sample((q,), T0 - timedelta(seconds=30), status={"Slow_queries": 5})
    new = mysql_sample(
        (q, mysql_thread(2)),
        T0,
        max_connections=100,
        questions_per_s=12.4,
        status={"Threads_connected": 91, "Slow_queries": 8, "Aborted_connects": 2},
    )
    line = server_line([old, new])
    assert line is not None
    assert (line.connected, line.running, line.slow_rise, line.aborted_rise) == (91, 1, 3, 2)
    assert line.ratio == 0.91
    assert line.text() == "conn 91/100 91%  running 1  q/s 12  slow +3  aborted +2"
    assert server_line([]) is None
