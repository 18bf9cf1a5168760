"""Rewind: a frozen snapshot as it was at an earlier instant, and the instants to step through.

The recorder keeps about 15 minutes of samples and the last records; while the screen is
frozen, ``[`` ``]`` move the instant shown one sample back or forward and ``{`` ``}`` ten
seconds. :func:`cut` makes the snapshot of that instant out of the frozen one, so every pane
draws what it would have drawn then, with the same code as live. Pure: no Textual, no I/O.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from console.core.events import LogRecord, SourceState
from console.core.recorder import Snapshot

#: ``{`` and ``}`` move the instant by this much.
JUMP_SECONDS = 10.0
#: The log rates at an instant count the records of the seconds before it.
RATE_SPAN = 5.0
#: A system sample is a step of its own only with no status sample this close: where the
#: status page was not polled (before it was, or while it did not answer) memory still moves.
NEAR = timedelta(seconds=2)


def cut(snap: Snapshot, instant: datetime) -> Snapshot:
    """``snap`` as it was at ``instant``: records, samples and state changes at or before it,
    each source's state then, the log rates of the seconds before it; ``snap`` itself when
    ``instant`` is not before it was taken.

    Records keep the order they have in ``snap`` (a subsequence of it), so a log view of the
    cut files them the same way.
    """
    if instant >= snap.taken_at:
        return snap
    records = tuple(r for r in snap.records if r.ts <= instant)
    later = Counter(r.source for r in snap.records if r.ts > instant)
    history = tuple(s for s in snap.state_history if s.ts <= instant)
    return replace(
        snap,
        taken_at=instant,
        records=records,
        status=tuple(s for s in snap.status if s.ts <= instant),
        system=tuple(s for s in snap.system if s.ts <= instant),
        fpm=tuple(s for s in snap.fpm if s.ts <= instant),
        mysql=tuple(s for s in snap.mysql if s.ts <= instant),
        states=states_at(snap, history),
        state_history=history,
        counts={name: max(0, n - later[name]) for name, n in snap.counts.items()},
        rates=rates_at(records, instant, snap.sources),
        total=max(0, snap.total - sum(later.values())),
        hosts=tuple(h.at(instant, cut) for h in snap.hosts),
    )


def states_at(snap: Snapshot, history: Sequence[SourceState]) -> dict[str, SourceState]:
    """Each source's state at the end of ``history`` (the changes up to an instant).

    A source whose first known change came later keeps the oldest state known of it (it was
    starting, or the history lost its older changes): every source keeps a state, so the kinds
    that decide which sources are logs, and their number keys, stay as they are.
    """
    out: dict[str, SourceState] = {}
    for state in history:
        out[state.source] = state
    first: dict[str, SourceState] = {}
    for state in snap.state_history:
        first.setdefault(state.source, state)
    return {
        name: out.get(name) or first.get(name) or current for name, current in snap.states.items()
    }


def rates_at(
    records: Sequence[LogRecord], instant: datetime, sources: Sequence[str]
) -> dict[str, float]:
    """Records per second per source in the :data:`RATE_SPAN` seconds up to ``instant``."""
    since = instant - timedelta(seconds=RATE_SPAN)
    counted = Counter(r.source for r in records if since < r.ts <= instant)
    return {name: counted[name] / RATE_SPAN for name in (*sources, *counted)}


def marks(snap: Snapshot) -> tuple[datetime, ...]:
    """The sample instants ``[`` and ``]`` step through, oldest first: every status sample,
    and the system samples where no status sample is near (none at all, before the first,
    while the status page did not answer)."""
    end = snap.taken_at
    status = sorted({s.ts for s in snap.status if s.ts <= end})
    fill = [t for t in {s.ts for s in snap.system if s.ts <= end} if not _near(status, t)]
    return tuple(sorted((*status, *fill)))


def _near(times: Sequence[datetime], t: datetime) -> bool:
    i = bisect_left(times, t - NEAR)
    return i < len(times) and times[i] <= t + NEAR


def oldest(snap: Snapshot, steps: Sequence[datetime]) -> datetime:
    """How far back rewinding goes: the oldest sample (the oldest record without samples)."""
    if steps:
        return min(steps[0], snap.taken_at)
    return min((r.ts for r in snap.records), default=snap.taken_at)


def step(snap: Snapshot, steps: Sequence[datetime], instant: datetime, n: int) -> datetime:
    """The instant ``n`` samples after (``n`` < 0: before) the one shown at ``instant``.

    ``steps`` are :func:`marks` of ``snap``. The newest sample is what the frozen screen
    shows, so going forward onto it goes to the instant frozen; back stops at the oldest.
    Without samples a step is one second.
    """
    if not steps:
        return shift(snap, steps, instant, float(n))
    shown = bisect_right(steps, instant) - 1  # the sample shown at instant (-1: none yet)
    target = shown + n
    if target >= len(steps) - 1:
        return snap.taken_at
    return steps[max(0, target)]


def shift(snap: Snapshot, steps: Sequence[datetime], instant: datetime, seconds: float) -> datetime:
    """``instant`` moved by ``seconds``, kept between the oldest sample and the instant frozen."""
    moved = instant + timedelta(seconds=seconds)
    return max(oldest(snap, steps), min(moved, snap.taken_at))


def offset_text(instant: datetime, frozen: datetime) -> str:
    """How far before the instant frozen ``instant`` is: ``-34 s``."""
    return f"-{round((frozen - instant).total_seconds())} s"
