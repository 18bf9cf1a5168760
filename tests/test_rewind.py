"""Rewind without a screen: a snapshot cut at an instant, the steps, the freeze state's instant."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console.core.events import SourceState
from console.core.recorder import Recorder
from console.view import rewind
from console.view.freeze import FreezeState
from tests.support.rewind_scripted import busy_at, rewind_recorder
from tests.support.scripted import T0, access, fixed_clock, scripted_recorder, system_sample
from tests.support.stack_scripted import fpm_sample, mysql_sample


def s(seconds: float) -> datetime:
    """``seconds`` before T0."""
    return T0 - timedelta(seconds=seconds)


# -- the cut ---------------------------------------------------------------------------------
def test_a_cut_holds_what_was_there_at_the_instant_and_nothing_after() -> None:
    snap = rewind_recorder().snapshot()
    instant = s(30.5)
    past = rewind.cut(snap, instant)
    assert past.taken_at == instant
    assert past.records and all(r.ts <= instant for r in past.records)
    assert len(past.records) == sum(1 for r in snap.records if r.ts <= instant)
    # the records keep their order in the ring: the cut is a subsequence of it
    seqs = [r.seq for r in snap.records if r.ts <= instant]
    assert [r.seq for r in past.records] == seqs
    # each kind of sample: those at or before the instant, the latest being the one before it
    assert past.latest_status is not None and past.latest_status.ts == s(31)
    assert past.latest_status.busy == busy_at(s(31)) < busy_at(T0)
    assert past.status == tuple(x for x in snap.status if x.ts <= instant)
    assert past.latest_system is not None and past.latest_system.ts == s(31)
    assert past.system == tuple(x for x in snap.system if x.ts <= instant)
    assert [x.ts for x in past.latest_fpm] == [s(31)]
    assert past.fpm == tuple(x for x in snap.fpm if x.ts <= instant)
    assert past.latest_mysql is not None and past.latest_mysql.ts == s(31)
    assert past.mysql == tuple(x for x in snap.mysql if x.ts <= instant)
    # what came later is not counted either
    later = sum(1 for r in snap.records if r.ts > instant)
    assert later > 0 and past.total == snap.total - later
    assert sum(past.counts.values()) == sum(snap.counts.values()) - later
    # the frozen snapshot is untouched
    assert len(snap.status) == 60 and snap.latest_status is not None
    assert snap.latest_status.ts == T0


def test_a_cut_at_or_after_the_snapshot_is_the_snapshot() -> None:
    snap = rewind_recorder().snapshot()
    assert rewind.cut(snap, T0) is snap
    assert rewind.cut(snap, T0 + timedelta(hours=1)) is snap


def test_a_cut_before_everything_is_empty_but_keeps_the_sources() -> None:
    snap = rewind_recorder().snapshot()
    past = rewind.cut(snap, s(3600))
    assert not past.records and not past.status and not past.system
    assert not past.fpm and not past.mysql
    assert past.latest_status is None and past.latest_mysql is None and past.latest_fpm == ()
    assert past.sources == snap.sources and set(past.states) == set(snap.states)
    assert all(v == 0.0 for v in past.rates.values())
    assert all(v == 0 for v in past.counts.values())


def test_each_source_has_the_state_it_had_at_the_instant() -> None:
    recorder = Recorder(clock=fixed_clock)
    url = "http://127.0.0.1/server-status"
    changes = [
        SourceState(s(100), "mod_status", "mod-status", "ok", target=url),
        SourceState(s(60), "mod_status", "mod-status", "timeout", message="no answer"),
        SourceState(s(20), "mod_status", "mod-status", "ok", target=url),
        SourceState(s(10), "access", "apache-access", "ok"),
    ]
    for change in changes:
        recorder.set_state(change)
    snap = recorder.snapshot()
    during = rewind.cut(snap, s(30))
    assert during.states["mod_status"].status == "timeout"
    assert [x.status for x in during.state_history] == ["ok", "timeout"]
    assert rewind.cut(snap, s(15)).states["mod_status"].status == "ok"
    # before its first change a source keeps the first state known of it: still a source of
    # that kind (the number keys of the log sources do not move)
    early = rewind.cut(snap, s(50))
    assert early.states["access"].kind == "apache-access"
    assert list(early.states) == list(snap.states)


def test_the_log_rates_are_those_of_the_seconds_before_the_instant() -> None:
    recorder = Recorder(clock=fixed_clock)
    recorder.register("access")
    recorder.register("php")
    # ten access lines in the second before T0-30, none after
    recorder.add_records(
        [
            access(i, s(30.5) + timedelta(milliseconds=50 * i), 200, "/", "192.0.2.1", 1)
            for i in range(10)
        ]
    )
    recorder.release(force=True)
    recorder.add_system(system_sample(0, 1))
    snap = recorder.snapshot()
    rates = rewind.cut(snap, s(29)).rates
    assert rates["access"] == 10 / rewind.RATE_SPAN and rates["php"] == 0.0
    assert rewind.cut(snap, s(20)).rates["access"] == 0.0


# -- the steps ---------------------------------------------------------------------------------
def test_one_step_is_one_status_sample_and_the_newest_is_the_instant_frozen() -> None:
    snap = rewind_recorder().snapshot()
    steps = rewind.marks(snap)
    status_times = [x.ts for x in snap.status]
    assert set(status_times) <= set(steps)
    # system samples every second next to the status samples add no step of their own; the
    # two minutes of memory before the first status sample do
    assert not [t for t in steps if status_times[0] - rewind.NEAR < t < status_times[0]]
    assert steps[0] == snap.system[0].ts
    now = snap.taken_at
    back = rewind.step(snap, steps, now, -1)
    assert back == s(1)
    assert rewind.step(snap, steps, back, -2) == s(3)
    assert rewind.step(snap, steps, s(3), 1) == s(2)
    # forward onto the newest sample is the instant frozen, and no further
    assert rewind.step(snap, steps, s(1), 1) == now
    assert rewind.step(snap, steps, now, 5) == now
    # between two samples, back is the one before the sample shown
    assert rewind.step(snap, steps, s(2.5), -1) == s(4)
    # back stops at the oldest sample
    assert rewind.step(snap, steps, steps[1], -10) == steps[0]
    assert rewind.step(snap, steps, steps[0], -1) == steps[0]


def test_without_status_samples_a_step_is_a_system_sample() -> None:
    bare = replace(scripted_recorder(system_samples=30).snapshot(), status=())
    steps = rewind.marks(bare)
    assert steps == tuple(x.ts for x in bare.system)
    assert rewind.step(bare, steps, T0, -1) == s(1)


def test_without_samples_a_step_is_a_second_back_to_the_oldest_record() -> None:
    recorder = Recorder(clock=fixed_clock)
    recorder.add_records([access(0, s(5), 200, "/", "192.0.2.1", 1)])
    recorder.release(force=True)
    snap = recorder.snapshot()
    assert rewind.marks(snap) == ()
    assert rewind.step(snap, (), T0, -1) == s(1)
    assert rewind.step(snap, (), s(1), 1) == T0
    assert rewind.shift(snap, (), T0, -60) == s(5)


def test_ten_seconds_back_and_forth_stay_between_the_oldest_sample_and_the_freeze() -> None:
    snap = rewind_recorder().snapshot()
    steps = rewind.marks(snap)
    assert rewind.shift(snap, steps, T0, -10) == s(10)
    assert rewind.shift(snap, steps, s(3), -10) == s(13)
    assert rewind.shift(snap, steps, s(3), 10) == T0
    assert rewind.shift(snap, steps, T0, -3600) == steps[0]


def test_the_offset_is_said_in_whole_seconds() -> None:
    assert rewind.offset_text(s(34.2), T0) == "-34 s"
    assert rewind.offset_text(s(900), T0) == "-900 s"


# -- the freeze state ---------------------------------------------------------------------------
def test_the_freeze_state_keeps_the_instant_and_the_banner_says_it() -> None:
    snap = rewind_recorder().snapshot()
    state = FreezeState()
    assert not state.step(-1) and not state.shift(-10)  # live: nothing to rewind
    assert state.instant is None and not state.rewound
    state.freeze(snap)
    assert state.instant == T0 and not state.rewound and state.back == 0.0
    for _ in range(3):
        assert state.step(-1)
    assert state.rewound and state.instant == s(3) and state.back == 3.0
    assert state.whole is snap and state.snapshot is not snap
    assert state.snapshot is not None and state.snapshot.latest_status is snap.status[-4]
    assert state.banner(UTC, snap.total + 7) == (
        "13:01:57 · -3 s · [ ] sample · { } 10 s · space: live · s: save"
    )
    assert state.shift(-10) and state.instant == s(13)
    assert state.arrived_since(snap.total + 7) == 7  # counted from the freeze, not the instant
    # forward past the freeze stops there: the snapshot frozen again, not a copy
    assert state.shift(60) and state.snapshot is snap and not state.rewound
    assert not state.step(1) and not state.shift(10)
    state.step(-1)
    state.thaw()
    assert state.snapshot is None and state.whole is None and state.instant is None
    assert not state.rewound and state.banner(UTC, 0) == ""


def test_what_s_saves_ends_at_the_instant_plus_the_tail() -> None:
    snap = rewind_recorder().snapshot()
    state = FreezeState()
    state.freeze(snap)
    assert state.to_save(10.0) is snap
    state.shift(-30)
    saved = state.to_save(10.0)
    assert saved is not None and saved.taken_at == s(20)
    assert saved.latest_status is not None and saved.latest_status.ts == s(20)
    state.shift(25)  # 5 s back: the tail reaches past the freeze, which is all there is
    assert state.to_save(10.0) is snap


def test_a_bundle_steps_the_same_way_and_names_itself() -> None:
    snap = rewind_recorder().snapshot()
    state = FreezeState((snap, "20250314T130200Z-web1-key"))
    assert state.banner(UTC, 0) == "read-only · [ ] rewind · 20250314T130200Z-web1-key"
    assert state.step(-1) and state.instant == s(1)
    assert state.banner(UTC, 0) == (
        "13:01:59 · -1 s · [ ] sample · { } 10 s · 20250314T130200Z-web1-key"
    )
    state.thaw()  # a bundle has no live data: it stays, rewound
    assert state.frozen and state.instant == s(1)


def test_fpm_and_mysql_of_the_cut_follow_the_instant() -> None:
    recorder = Recorder(clock=fixed_clock)
    recorder.add_fpm(fpm_sample((), s(20), pool="www"))
    recorder.add_fpm(fpm_sample((), s(19), pool="api"))
    recorder.add_fpm(fpm_sample((), s(5), pool="www"))
    recorder.add_mysql(mysql_sample((), s(20)))
    recorder.add_mysql(mysql_sample((), s(5)))
    past = rewind.cut(recorder.snapshot(), s(10))
    assert [(x.pool, x.ts) for x in past.latest_fpm] == [("www", s(20)), ("api", s(19))]
    assert past.latest_mysql is not None and past.latest_mysql.ts == s(20)
