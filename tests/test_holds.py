"""The join of an Apache request, its PHP-FPM process and its MySQL thread."""

from __future__ import annotations

from dataclasses import replace

from console.core.events import Worker
from console.view.holds import holds
from tests.support.scripted import T0, status_sample
from tests.support.stack_scripted import fpm_process, fpm_sample, mysql_sample, mysql_thread


def _worker(slot: str, request: str, seconds: float, client: str = "203.0.113.9") -> Worker:
    return Worker(slot, 900, "W", 0.0, seconds, 0.0, client, "shop:80", request)


def _status(*workers: Worker):  # type: ignore[no-untyped-def]
    return replace(status_sample(T0, 10, 10.0), workers=workers)


def test_a_process_joins_the_worker_of_the_same_request_closest_in_time() -> None:
    p = fpm_process(41, "/report.php?month=3", duration=30.0)
    status = _status(
        _worker("0-0", "GET /report.php?month=3 HTTP/1.1", 2.0, "198.51.100.1"),
        _worker("1-0", "GET /report.php?month=3 HTTP/1.1", 30.4, "198.51.100.2"),
        _worker("2-0", "GET /other.php HTTP/1.1", 30.0, "198.51.100.3"),
    )
    (hold,) = holds([fpm_sample((p,))], status)
    assert hold.worker is not None and hold.client == "198.51.100.2"


def test_a_request_line_cut_by_mod_status_still_matches_by_its_start() -> None:
    uri = "/search.php?q=" + "x" * 80
    cut = ("GET " + uri)[:63]
    p = fpm_process(7, uri, duration=3.0)
    (hold,) = holds([fpm_sample((p,))], _status(_worker("0-0", cut, 3.0)))
    assert hold.worker is not None
    # but an uncut line must match exactly: /search.php is not /search.php?q=...
    (hold,) = holds([fpm_sample((p,))], _status(_worker("0-0", "GET /search.php HTTP/1.1", 3.0)))
    assert hold.worker is None


def test_a_query_joins_its_process_by_the_tcp_port_exactly() -> None:
    a = fpm_process(10, "/a.php", duration=20.0, tcp=((50001, "127.0.0.1:3306"),))
    b = fpm_process(11, "/b.php", duration=25.0, tcp=((50002, "127.0.0.1:3306"),))
    threads = (
        mysql_thread(5, "SELECT SLEEP(18)", 18.0, host="127.0.0.1:50001"),
        mysql_thread(6, "", 3.0, host="127.0.0.1:50002"),  # b holds an idle connection
    )
    out = {h.process.pid: h for h in holds([fpm_sample((a, b))], mysql=mysql_sample(threads))}
    assert out[10].query is not None and out[10].query.id == 5 and out[10].exact
    assert out[11].query is not None and out[11].query.id == 6 and out[11].exact
    assert "mysql #5 18s SELECT SLEEP(18)" in out[10].describe()
    assert "≈" not in out[10].describe()


def test_socket_queries_are_paired_by_time_and_marked_inferred() -> None:
    long_ = fpm_process(1, "/report.php", duration=40.0)
    short = fpm_process(2, "/cart.php", duration=5.0)
    idle = fpm_process(3, "/x.php", duration=99.0, state="Idle")
    threads = (
        mysql_thread(70, "SELECT * FROM orders", 38.0),
        mysql_thread(71, "UPDATE cart SET n=1", 4.0),
        mysql_thread(72, "SELECT 1", 120.0),  # older than any request: held by no PHP process
    )
    out = {
        h.process.pid: h
        for h in holds([fpm_sample((long_, short, idle))], None, mysql_sample(threads))
    }
    assert set(out) == {1, 2}  # the idle process holds nothing
    assert out[1].query is not None and out[1].query.id == 70 and not out[1].exact
    assert out[2].query is not None and out[2].query.id == 71
    assert out[1].describe().count("≈mysql #70") == 1


def test_holds_are_longest_first_with_rss_and_survive_missing_sources() -> None:
    ps = (fpm_process(1, "/a", duration=1.0), fpm_process(2, "/b", duration=9.0))
    out = holds([fpm_sample(ps)], None, None, {2: 96 * 1024 * 1024})
    assert [h.process.pid for h in out] == [2, 1]
    assert out[0].rss == 96 * 1024 * 1024 and "96M" in out[0].describe()
    assert holds([]) == ()


def test_several_pools_are_joined_together() -> None:
    www = fpm_sample((fpm_process(1, "/a.php", duration=3.0),), pool="www")
    api = fpm_sample((fpm_process(2, "/v1/items", duration=8.0),), pool="api")
    out = holds([www, api])
    assert [(h.pool, h.process.pid) for h in out] == [("api", 2), ("www", 1)]
