from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from console.core.events import ServiceMem, SourceState, Worker
from console.parsing.modstatus import request_path
from console.view.filters import LogFilter
from console.view.metrics import (
    buckets,
    human_bytes,
    human_duration,
    in_flight,
    latest_rates,
    problems,
    request_rates,
    saturation,
    service_trends,
    status_state,
)
from console.view.panes import MEMORY_SPAN, memory_model, pane_titles
from tests.support.scripted import MB, T0, status_sample, system_sample


def test_rates_from_two_samples() -> None:
    a = status_sample(T0, 1000, 5000.0)
    b = status_sample(T0 + timedelta(seconds=2), 1030, 5100.0)
    rates = request_rates(a, b)
    assert rates is not None
    assert rates.requests == pytest.approx(15.0)
    assert rates.kbytes == pytest.approx(50.0)
    assert rates.seconds == pytest.approx(2.0)


def test_rates_need_two_ordered_samples_with_counters() -> None:
    a = status_sample(T0, 1000, 5000.0)
    assert request_rates(None, a) is None
    assert request_rates(a, a) is None  # no time between them
    restarted = status_sample(T0 + timedelta(seconds=1), 10, 20.0)
    assert request_rates(a, restarted) is None  # counters went backwards
    no_counters = replace(a, ts=T0 + timedelta(seconds=1), total_accesses=None)
    assert request_rates(a, no_counters) is None
    no_kb = replace(a, ts=T0 + timedelta(seconds=1), total_accesses=1010, total_kbytes=None)
    rates = request_rates(a, no_kb)
    assert rates is not None and rates.requests == 10 and rates.kbytes == 0


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "-"),
        (0, "0B"),
        (512, "512B"),
        (2048, "2.0K"),
        (870 * MB, "870M"),
        (1.5 * 1024 * MB, "1.5G"),
        (-3 * MB, "-3.0M"),
    ],
)
def test_human_bytes(n: float | None, text: str) -> None:
    assert human_bytes(n) == text


@pytest.mark.parametrize(
    ("s", "text"),
    [
        (None, "-"),
        (-1, "-"),
        (5, "5s"),
        (125, "2m05s"),
        (3 * 3600 + 300, "3h05m"),
        (4 * 86400 + 7 * 3600, "4d07h"),
    ],
)
def test_human_duration(s: float | None, text: str) -> None:
    assert human_duration(s) == text


def test_in_flight_oldest_first_with_rss_and_without_the_status_poll() -> None:
    sample = status_sample(T0, 1, 1.0)
    rows = in_flight(sample, {2101: 140 * MB}, exclude_path="/server-status")
    assert len(rows) == 11  # 11 busy workers; idle ones and lamptop's own poll left out
    assert [r.seconds for r in rows] == sorted((r.seconds for r in rows), reverse=True)
    assert rows[0].pid == 2101 and rows[0].rss == 140 * MB
    assert rows[1].rss is None
    assert rows[0].path == "/report.php"
    assert all(r.mode not in "_." for r in rows)
    assert in_flight(None) == ()
    with_poll = in_flight(sample)
    assert any(r.path == "/server-status" for r in with_poll)


def test_in_flight_skips_workers_without_request() -> None:
    sample = replace(
        status_sample(T0, 1, 1.0),
        workers=(
            Worker("0-0", 1, "W", 0, 1, 0, "c", "v", ""),
            Worker("1-0", 2, "K", 0, 1, 0, "c", "v", "NULL"),
        ),
    )
    assert in_flight(sample) == ()


def test_request_path() -> None:
    assert request_path("GET /a/b.php?x=1 HTTP/1.1") == "/a/b.php"
    assert request_path("GET http://h/x?y HTTP/1.1") == "/x"
    assert request_path("") == "" and request_path("..") == ""


def test_saturation() -> None:
    s = status_sample(T0, 1, 1.0)
    assert saturation(s) == pytest.approx(s.busy / 150)
    assert saturation(replace(s, limit=0)) == 0.0


def test_service_trends_compare_with_a_minute_ago() -> None:
    samples = [system_sample(i, 180) for i in range(180)]
    trends = {t.name: t for t in service_trends(samples)}
    assert trends["apache"].delta > 0 and trends["apache"].arrow == "↑"
    assert trends["mysql"].delta == 0 and trends["mysql"].arrow == "→"
    shrinking = replace(samples[-1], services=(ServiceMem("apache", 100 * MB, 3),))
    down = service_trends([*samples[:-1], shrinking])
    assert down[0].arrow == "↓"
    assert service_trends([]) == ()


def test_buckets_keep_the_max_of_each_run() -> None:
    assert buckets([1, 5, 2, 8], 2) == [5, 8]
    assert buckets([1, 2], 10) == [1, 2]
    assert buckets([], 3) == [] and buckets([1.0], 0) == []
    assert len(buckets(list(range(300)), 37)) == 37


def test_problems_and_status_state() -> None:
    ok = SourceState(T0, "access", "apache-access", "ok")
    bad = SourceState(T0, "php", "php-error", "unreadable", message="permission denied")
    st = SourceState(T0, "mod_status", "mod-status", "timeout")
    assert problems([ok, st, bad]) == (st, bad)
    assert status_state({"a": ok, "m": st}) is st
    assert status_state({"a": ok}) is None


# -- what the panes are handed ---------------------------------------------------------------
def test_memory_model_has_the_figures_the_memory_pane_draws() -> None:
    assert memory_model([]) is None
    samples = [system_sample(i, 180) for i in range(180)]
    m = memory_model(samples)
    assert m is not None
    now = samples[-1]
    assert (m.mem_used, m.mem_total) == (now.mem_used, 985 * MB)
    assert (m.swap_used, m.swap_total) == (now.swap_used, 512 * MB)
    assert m.mem_ratio == pytest.approx(0.92) and m.swap_ratio == pytest.approx(
        now.swap_used / (512 * MB)
    )
    assert m.minutes == 3 and m.seconds == 179 and m.span == "last 3 min"  # 179 s of samples
    assert len(m.mem_history) == len(m.swap_history) == 180
    assert m.mem_history[0] == pytest.approx(0.55) and m.mem_history[-1] == pytest.approx(0.92)
    assert m.swap_history[0] == 0.0 and m.swap_history[-1] == pytest.approx(m.swap_ratio)
    assert m.trends == service_trends(samples)
    assert [t.name for t in m.trends] == ["apache", "mysql"] and m.trends[0].arrow == "↑"
    assert [p.pid for p in m.top] == [2101 + k for k in range(6)]


def test_memory_model_reaches_back_five_minutes_and_keeps_the_last_listed_top() -> None:
    samples = [system_sample(i, 400) for i in range(400)]
    samples[-1] = replace(samples[-1], top=())  # the latest scan listed no process
    earlier = samples[-5].top[:2]
    samples[-5] = replace(samples[-5], top=earlier)  # the scan before it (i % 5 == 0) did
    m = memory_model(samples)
    assert m is not None
    assert len(m.mem_history) == MEMORY_SPAN and m.minutes == 5  # the last 300 samples
    assert m.mem_history[-1] == pytest.approx(samples[-1].mem_used / samples[-1].mem_total)
    assert m.top == earlier and len(earlier) == 2
    empty = replace(samples[-1], mem_total=0, swap_total=0)
    zero = memory_model([empty])
    assert zero is not None and zero.mem_ratio == zero.swap_ratio == 0.0 and zero.minutes == 1
    assert zero.span == "last 1 s"
    young = memory_model(samples[:40])
    assert young is not None and young.span == "last 39 s"  # not "1m": less than a minute


def test_memory_columns_fit_the_width() -> None:
    m = memory_model([system_sample(i, 180) for i in range(180)])
    assert m is not None
    assert m.mem_columns(1) == [max(m.mem_history)]
    cols = m.mem_columns(36)
    assert len(cols) == 36 and cols == sorted(cols)  # climbing memory: each run's highest
    assert m.mem_columns(500) == list(m.mem_history) and m.swap_columns(0) == []


def test_pane_titles_say_the_filter_the_counts_and_what_is_hidden() -> None:
    t = pane_titles(LogFilter(), shown=77, total=77, following=True, in_flight=0)
    assert (t.logs, t.logs_sub) == ("logs", "77 of 77 · following")
    assert (t.workers, t.workers_sub) == ("workers", "")
    narrowed = LogFilter().with_text("500").next_level()
    t = pane_titles(
        narrowed, shown=7, total=12_345, following=False, in_flight=3, tiny=True, cramped=True
    )
    assert t.logs == "logs · /500/ · warn+ · workers+memory need 20 rows"
    assert t.logs_sub == "7 of 12,345 · paused · end follows"
    assert (t.workers, t.workers_sub) == ("workers · memory needs 60 cols", "3 in flight")


def test_latest_rates_take_bytes_from_the_samples_that_count_them() -> None:
    from console.view.metrics import latest_rates

    a = status_sample(T0, 1000, 5000.0)
    b = status_sample(T0 + timedelta(seconds=1), 1010, 5040.0)
    page = replace(status_sample(T0 + timedelta(seconds=2), 1030, 0.0), total_kbytes=None)
    rates = latest_rates([a, b, page])
    assert rates is not None
    assert rates.requests == 20.0  # from the last two samples
    assert rates.kbytes == 40.0  # from the last two that count bytes, not 0 on a page sample
    assert latest_rates([a]) is None
    assert latest_rates([a, b]) == request_rates(a, b)


def test_rates_of_an_answer_collected_late_do_not_spike() -> None:
    # a saturated server's answer kept waiting, read at last, and the next poll right after:
    # 9 requests in 20 ms would read 450/s
    a = replace(status_sample(T0, 1000, 5000.0), uptime=100)
    late = replace(status_sample(T0 + timedelta(seconds=10), 1040, 5100.0), uptime=104)
    next_ = replace(status_sample(late.ts + timedelta(milliseconds=20), 1049, 5101.0), uptime=110)
    rates = latest_rates([a, late, next_])
    assert rates is not None and rates.requests == pytest.approx(49 / 10.02)
    # Apache's own uptimes stretch an interval the polls' times shrank
    short = request_rates(late, next_)
    assert short is not None and short.seconds == 6 and short.requests == pytest.approx(1.5)
