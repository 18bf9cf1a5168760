"""The PHP-FPM and MySQL spike rules, on samples PHP-FPM really gave and on built ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

from console.incident.rules import DEFAULTS, RULES, RuleBook, RuleError, build_rules
from console.incident.stack_rules import STACK_DEFAULTS
from tests.support.hostile import HOSTILE, assert_inert
from tests.support.stack_samples import (
    FPM_STATUS,
    T0,
    fpm,
    fpm_from_page,
    mysql,
    proc,
    saturated_www,
    thread,
)


def only(name: str, **settings: object) -> RuleBook:
    cfg = {n: {"enabled": n == name} for n in DEFAULTS}
    cfg[name].update(settings)
    return RuleBook(build_rules(cfg))


def seconds(t: object) -> float:
    return round((t.at - T0).total_seconds(), 1)  # type: ignore[attr-defined]


def test_the_stack_rules_are_registered_with_the_others() -> None:
    assert set(STACK_DEFAULTS) <= set(DEFAULTS) and set(STACK_DEFAULTS) <= set(RULES)
    names = [r.name for r in build_rules()]
    assert names[-4:] == [
        "fpm_max_children",
        "fpm_slow",
        "mysql_connections_high",
        "mysql_long_query",
    ]
    for name in STACK_DEFAULTS:
        assert {"enabled", "cooldown"} <= set(DEFAULTS[name])


@pytest.mark.parametrize(
    ("cfg", "needle"),
    [
        ({"fpm_slow": {"count": "one"}}, "rules.fpm_slow.count: expected int"),
        ({"fpm_slow": {"count": 1.5}}, "rules.fpm_slow.count: expected int"),
        ({"mysql_long_query": {"seconds": True}}, "rules.mysql_long_query.seconds"),
        ({"fpm_max_children": {"ratio": 0.9}}, "rules.fpm_max_children.ratio: unknown setting"),
    ],
)
def test_bad_settings_name_the_rule_and_the_key(cfg: dict, needle: str) -> None:
    with pytest.raises(RuleError, match=needle.replace(".", r"\.")):
        build_rules(cfg)


# -- fpm_max_children ----------------------------------------------------------------------------


def test_the_real_saturation_fires_once_when_the_pool_hits_max_children() -> None:
    book = only("fpm_max_children")
    fired = [t for s in saturated_www() for t in book.on_fpm(s)]
    assert [seconds(t) for t in fired] == [3.0]  # page 03: max children reached 0 -> 1
    t = fired[0]
    assert t.rule == "fpm_max_children"
    v = t.values
    assert (v["pool"], v["reason"], v["rose"]) == ("www", "max_children_reached", 1)
    assert (v["active"], v["total"], v["max_children"], v["listen_queue"]) == (8, 8, 8, 0)
    assert v["uri"] == "/app/sleep.php?s=1.1" and v["duration"] == 1.0
    assert t.message == (
        "PHP-FPM pool www reached pm.max_children 1 more time: active 8/8, max_children 8, "
        f"listen queue 0; longest /app/sleep.php?s=1.1 (1 s, pid {v['pid']})"
    )


def test_a_counter_already_up_at_the_first_sample_does_not_fire() -> None:
    """The counter counts since the pool started: the api pool had reached its limit twice
    before lamptop started watching."""
    book = only("fpm_max_children")
    api = fpm_from_page(FPM_STATUS / "api_json_full.json", T0, max_children=6)
    assert api.max_children_reached == 2
    assert book.on_fpm(api) == []
    assert book.on_fpm(replace(api, ts=T0.replace(second=1))) == []  # no rise, no fire


def test_the_own_status_poll_is_not_the_longest_request() -> None:
    book = only("fpm_max_children")
    procs = (
        proc(1, "/fpm-status?json&full", 99.0, script="-"),
        proc(2, "/cart.php?id=4", 12.0),
        proc(3, "/", 5.0, state="Idle"),
    )
    book.on_fpm(fpm(0, processes=procs))
    [t] = book.on_fpm(fpm(1, reached=1, processes=procs))
    assert t.values["uri"] == "/cart.php?id=4" and t.values["pid"] == 2
    assert "fpm-status" not in t.message


def test_a_listen_queue_fires_when_it_held_and_restarts_when_it_empties() -> None:
    book = only("fpm_max_children", seconds=5.0)
    fired = []
    for sec in range(0, 4):
        fired += book.on_fpm(fpm(sec, active=8, idle=0, queue=3))
    fired += book.on_fpm(fpm(4, active=8, idle=0, queue=0))  # drained: the clock restarts
    for sec in range(5, 12):
        fired += book.on_fpm(fpm(sec, active=8, idle=0, queue=2))
    assert [seconds(t) for t in fired] == [10.0]
    v = fired[0].values
    assert v["reason"] == "listen_queue" and v["seconds"] == 5.0 and v["listen_queue"] == 2
    assert "had 2 requests waiting 5 s" in fired[0].message
    assert "no request running but the status poll" in fired[0].message


def test_pools_interleave_and_keep_their_own_history_and_cooldown() -> None:
    book = only("fpm_max_children", cooldown=60.0)
    fired = []
    fired += book.on_fpm(fpm(0, pool="www", reached=3))
    fired += book.on_fpm(fpm(0.5, pool="api", reached=7))  # first sample of api: no fire
    fired += book.on_fpm(fpm(1, pool="www", reached=4))  # www rose
    fired += book.on_fpm(fpm(1.5, pool="api", reached=7))
    fired += book.on_fpm(fpm(2, pool="www", reached=5))  # www again: cooling down
    fired += book.on_fpm(fpm(2.5, pool="api", reached=8))  # api rose: its own cooldown
    fired += book.on_fpm(fpm(70, pool="www", reached=6))  # www after its cooldown
    assert [(t.values["pool"], seconds(t)) for t in fired] == [
        ("www", 1.0),
        ("api", 2.5),
        ("www", 70.0),
    ]


def test_a_restarted_pool_is_a_first_sample_again() -> None:
    book = only("fpm_max_children")
    assert book.on_fpm(fpm(0, reached=5, slow=9)) == []
    restarted = fpm(1, reached=1, started=1795709999.0)
    assert book.on_fpm(restarted) == []  # fell to 1: a new pool, not a rise
    assert book.on_fpm(fpm(2, reached=9, started=1795719999.0)) == []  # restarted again
    assert len(book.on_fpm(fpm(3, reached=10, started=1795719999.0))) == 1


def test_a_disabled_rule_never_fires() -> None:
    book = only("fpm_max_children", enabled=False)
    book.rules = [r for r in book.rules if r.name == "fpm_max_children"]
    assert [t for s in saturated_www() for t in book.on_fpm(s)] == []


# -- fpm_slow ------------------------------------------------------------------------------------


def test_slow_requests_rising_fire_per_pool_with_a_cooldown() -> None:
    book = only("fpm_slow")
    fired = [t for s in saturated_www() for t in book.on_fpm(s)]
    assert [seconds(t) for t in fired] == [2.0]  # 22 -> 28
    v = fired[0].values
    assert (v["rose"], v["slow_requests"]) == (6, 28)
    assert fired[0].message.startswith("PHP-FPM pool www: 6 more slow requests (28 since")
    book = only("fpm_slow", cooldown=2.0)
    fired = [t for s in saturated_www() for t in book.on_fpm(s)]
    assert [(seconds(t), t.values["rose"]) for t in fired] == [(2.0, 6), (4.0, 6), (6.0, 1)]


def test_slow_requests_need_to_rise_by_count() -> None:
    book = only("fpm_slow", count=7)
    assert [t for s in saturated_www() for t in book.on_fpm(s)] == []  # at most +6 a poll
    book = only("fpm_slow", count=2)
    assert book.on_fpm(fpm(0, slow=5)) == [] and book.on_fpm(fpm(1, slow=6)) == []
    assert len(book.on_fpm(fpm(2, slow=8))) == 1


# -- mysql_connections_high ----------------------------------------------------------------------


def test_connections_near_max_connections() -> None:
    book = only("mysql_connections_high", ratio=0.9, cooldown=30.0)
    assert book.on_mysql(mysql(0, connected=135)) == []  # 0.894 of 151
    [t] = book.on_mysql(mysql(1, connected=136))
    assert (t.values["connected"], t.values["max_connections"]) == (136, 151)
    assert t.message == "mysql: 136 of 151 connections in use (90%), 1 running"
    assert book.on_mysql(mysql(20, connected=150)) == []  # cooling down
    assert len(book.on_mysql(mysql(31, connected=150))) == 1
    assert book.on_mysql(mysql(100, connected=0, max_connections=0)) == []


# -- mysql_long_query ----------------------------------------------------------------------------


def test_a_long_query_fires_once_not_every_poll() -> None:
    book = only("mysql_long_query", seconds=30.0, cooldown=300.0)
    idle = thread(3, 500.0, "", command="Sleep", state="")
    fired = []
    for sec in range(0, 10):
        q = thread(7, 27.0 + sec, "SELECT  *\n FROM orders WHERE id = 42", user="report")
        fired += book.on_mysql(mysql(sec, threads=(q, idle)))
    assert [seconds(t) for t in fired] == [3.0]
    v = fired[0].values
    assert (v["id"], v["user"], v["db"], v["seconds"], v["more"]) == (7, "report", "shop", 30.0, 0)
    assert fired[0].message == (
        "mysql: query 7 by report on shop running 30 s: SELECT * FROM orders WHERE id = 42"
    )
    # another query turns long while 7 runs on: it fires, 7 is not named again
    q7, q9 = thread(7, 40.0), thread(9, 31.0, "UPDATE stock SET n = n - 1")
    [t] = book.on_mysql(mysql(10, threads=(q7, q9)))
    assert t.values["id"] == 9 and t.values["more"] == 1 and sorted(t.values["ids"]) == [7, 9]
    assert "(1 more running that long)" in t.message
    assert book.on_mysql(mysql(11, threads=(q7, q9))) == []
    # after the cooldown the same query is news again
    assert len(book.on_mysql(mysql(400, threads=(thread(7, 430.0),)))) == 1


def test_a_pile_up_of_long_queries_is_one_trigger() -> None:
    book = only("mysql_long_query")
    pile = tuple(thread(i, 30.0 + i, f"UPDATE t SET a = {i}") for i in range(1, 41))
    [t] = book.on_mysql(mysql(0, threads=pile))
    assert t.values["id"] == 40 and t.values["more"] == 39
    assert book.on_mysql(mysql(1, threads=pile)) == []


def test_hostile_query_user_and_uri_reach_the_message_inert_and_short() -> None:
    book = only("mysql_long_query")
    huge = "SELECT '" + "x" * 1_000_000 + "'"
    for text in [*HOSTILE, huge]:
        q = thread(1, 99.0, text, user=text[:60], db=text[:40])
        book = only("mysql_long_query")
        [t] = book.on_mysql(mysql(0, threads=(q,)))
        assert_inert(t.message, "message")
        assert len(t.message) < 600 and len(t.values["query"]) <= 200
    book = only("fpm_max_children")
    for i, text in enumerate(HOSTILE):
        book = only("fpm_max_children")
        book.on_fpm(fpm(0, pool=text))
        [t] = book.on_fpm(fpm(1, pool=text, reached=1, processes=(proc(1, text + "x" * 9999),)))
        assert_inert(t.message, f"fpm message {i}")
        assert len(t.values["uri"]) <= 160


# -- from the recorder to a bundle ---------------------------------------------------------------


async def test_a_pool_at_its_limit_saves_a_bundle_that_shows_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from console.core.clock import ManualClock
    from console.core.recorder import Recorder
    from console.incident.bundle_read import read_bundle
    from console.incident.watch import IncidentWatch
    from tests.support.wait import async_wait_for

    pages = saturated_www()
    recorder = Recorder(reorder=0, clock=ManualClock(pages[3].ts))
    cfg = {n: {"enabled": n in ("fpm_max_children", "mysql_long_query")} for n in DEFAULTS}
    incidents = IncidentWatch(recorder, RuleBook(build_rules(cfg)), tmp_path, tail=0.0)
    task = asyncio.create_task(incidents.run())
    try:
        for s in pages[:4]:
            recorder.add_fpm(s)
        recorder.add_mysql(mysql(3, threads=(thread(5, 45.0, "SELECT SLEEP(90)"),)))
        await async_wait_for(lambda: incidents.saved, what="the bundle to be saved")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    [saved] = incidents.saved
    assert saved.path is not None and saved.trigger.rule == "fpm_max_children"
    # the query fired while the pool's bundle waited: it joined it, with its values
    [also] = saved.trigger.values["also_fired"]
    assert also["rule"] == "mysql_long_query" and also["values"]["id"] == 5
    snap, meta = read_bundle(saved.path)
    assert meta["trigger"]["rule"] == "fpm_max_children"
    assert [s.max_children_reached for s in snap.fpm] == [0, 0, 0, 1]
    report = (saved.path / "report.md").read_text()
    assert "- PHP-FPM pool `www` at its limit: 8 of 8 busy, pm.max_children reached once" in report
    assert "**Pool `www` at its limit:** 8 of 8 processes busy." in report
