"""Spike rules: conditions that save a bundle by themselves when nobody is watching.

Each rule looks at one stream (system, mod_status, PHP-FPM or MySQL samples, or log records) as
it arrives, keeps the little history it needs, and returns a :class:`Trigger` when it fires. A
rule that fired waits its cooldown before it can fire again. Defaults suit a small server; every
value can be changed in the config file's ``[rules.NAME]`` tables (``enabled = false`` turns one
off). The PHP-FPM and MySQL rules live in :mod:`console.incident.stack_rules` and are registered
here with the others.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from console.core.events import LogRecord, StatusSample, SystemSample
from console.core.stack import FpmSample, MysqlSample
from console.incident.rule_base import Rule, RuleError, Trigger
from console.incident.stack_rules import STACK_DEFAULTS, STACK_RULES
from console.view.filters import is_5xx

MB = 1024 * 1024


#: Default settings of every rule.
DEFAULTS: dict[str, dict[str, Any]] = {
    "memory_jump": {"enabled": True, "percent": 15.0, "seconds": 30.0, "cooldown": 300.0},
    "memory_high": {"enabled": True, "percent": 92.0, "cooldown": 300.0},
    "workers_near_limit": {"enabled": True, "ratio": 0.9, "seconds": 5.0, "cooldown": 300.0},
    "http_5xx_burst": {"enabled": True, "count": 20, "seconds": 10.0, "cooldown": 300.0},
    "load_high": {"enabled": True, "per_core": 4.0, "cooldown": 300.0},
    "swap_growing": {"enabled": True, "mb": 64.0, "seconds": 60.0, "cooldown": 300.0},
    "log_trouble": {
        "enabled": True,
        "seconds": 60.0,
        "cooldown": 300.0,
        "patterns": [
            r"AH00161|server reached MaxRequestWorkers",
            r"Allowed memory size of \d+ bytes exhausted",
            r"Too many connections",
            r"Out of memory: Kill|invoked oom-killer|oom-kill",
            r"server reached (pm\.)?max_children",
        ],
    },
    **STACK_DEFAULTS,
}


class MemoryJump(Rule):
    name = "memory_jump"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._hist: deque[tuple[datetime, int]] = deque()

    def on_system(self, s: SystemSample) -> Trigger | None:
        span = timedelta(seconds=float(self.settings["seconds"]))
        self._hist.append((s.ts, s.mem_used))
        while self._hist and s.ts - self._hist[0][0] > span:
            self._hist.popleft()
        low = min(used for _, used in self._hist)
        rise = s.mem_used - low
        pct = 100.0 * rise / s.mem_total if s.mem_total else 0.0
        if pct >= float(self.settings["percent"]) and self.ready(s.ts):
            return self.fire(
                s.ts,
                f"memory used rose {rise // MB} MB ({pct:.0f}% of RAM) within "
                f"{self.settings['seconds']:.0f} s",
                rise_bytes=rise,
                percent=round(pct, 1),
                mem_used=s.mem_used,
                mem_total=s.mem_total,
            )
        return None


class MemoryHigh(Rule):
    name = "memory_high"

    def on_system(self, s: SystemSample) -> Trigger | None:
        pct = 100.0 * s.mem_used / s.mem_total if s.mem_total else 0.0
        if pct >= float(self.settings["percent"]) and self.ready(s.ts):
            return self.fire(
                s.ts,
                f"memory used {pct:.0f}% ({s.mem_used // MB} of {s.mem_total // MB} MB)",
                percent=round(pct, 1),
                mem_used=s.mem_used,
                mem_total=s.mem_total,
            )
        return None


class WorkersNearLimit(Rule):
    name = "workers_near_limit"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._since: datetime | None = None

    def on_status(self, s: StatusSample) -> Trigger | None:
        if not s.limit:
            return None
        ratio = s.busy / s.limit
        if ratio < float(self.settings["ratio"]):
            self._since = None
            return None
        if self._since is None:
            self._since = s.ts
        held = (s.ts - self._since).total_seconds()
        if held >= float(self.settings["seconds"]) and self.ready(s.ts):
            return self.fire(
                s.ts,
                f"{s.busy} of {s.limit} workers busy for {held:.0f} s",
                busy=s.busy,
                limit=s.limit,
                seconds=round(held, 1),
            )
        return None


class Http5xxBurst(Rule):
    name = "http_5xx_burst"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._times: deque[datetime] = deque()

    def on_records(self, records: Sequence[LogRecord], now: datetime) -> Trigger | None:
        span = timedelta(seconds=float(self.settings["seconds"]))
        # Only a count: an access record's level says 5xx (``error``) without its fields
        # (:func:`is_5xx`); other levels are never a 5xx, so their fields are not read.
        for r in records:
            if r.level == "error" and is_5xx(r):
                self._times.append(r.ts)
        while self._times and now - self._times[0] > span:
            self._times.popleft()
        count = len(self._times)
        if count >= int(self.settings["count"]) and self.ready(now):
            self._times.clear()
            return self.fire(
                now,
                f"{count} HTTP 5xx responses within {self.settings['seconds']:.0f} s",
                count=count,
            )
        return None


class LoadHigh(Rule):
    name = "load_high"

    def on_system(self, s: SystemSample) -> Trigger | None:
        cores = max(1, s.cpu_count)
        if s.load1 >= float(self.settings["per_core"]) * cores and self.ready(s.ts):
            return self.fire(
                s.ts, f"load {s.load1:.1f} on {cores} cores", load1=s.load1, cores=cores
            )
        return None


class SwapGrowing(Rule):
    name = "swap_growing"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._hist: deque[tuple[datetime, int]] = deque()

    def on_system(self, s: SystemSample) -> Trigger | None:
        span = timedelta(seconds=float(self.settings["seconds"]))
        self._hist.append((s.ts, s.swap_used))
        while self._hist and s.ts - self._hist[0][0] > span:
            self._hist.popleft()
        grew = s.swap_used - min(used for _, used in self._hist)
        if grew >= float(self.settings["mb"]) * MB and self.ready(s.ts):
            return self.fire(
                s.ts,
                f"swap in use grew {grew // MB} MB within {self.settings['seconds']:.0f} s",
                grew_bytes=grew,
                swap_used=s.swap_used,
            )
        return None


#: Kinds whose lines are requests, not messages: a URL naming a trouble fires nothing (and a
#: stranger's request cannot make lamptop save bundles), and their lines are not read.
_REQUEST_KINDS = frozenset({"apache-access", "php-fpm-access"})
#: What in an expression could answer otherwise when the line it reads is followed or preceded
#: by a newline and another line (``\A``, ``\Z``, lookbehinds, negative lookaheads, atomic and
#: possessive parts): such expressions are run line by line instead of over a joined batch.
_LINE_BOUND = re.compile(r"\\[AZz]|\(\?<[=!]|\(\?!|\(\?>|[*+?}]\+")


class LogTrouble(Rule):
    name = "log_trouble"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        patterns = self.settings.get("patterns", [])
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise RuleError("rules.log_trouble.patterns must be a list of regular expressions")
        joined = "|".join(f"(?:{p})" for p in patterns)
        try:
            self._re = re.compile(joined) if patterns else None
            # The same, over a batch's texts joined by newlines: ^ and $ at each text's ends.
            self._batch_re = re.compile(joined, re.MULTILINE) if patterns else None
        except re.error as exc:
            raise RuleError(f"rules.log_trouble.patterns: bad regular expression: {exc}") from None
        self._by_line = bool(_LINE_BOUND.search(joined))

    def on_records(self, records: Sequence[LogRecord], now: datetime) -> Trigger | None:
        if self._re is None or self._batch_re is None or not self.ready(now):
            return None
        # Only what is happening now: a line of last night read back at start is not a spike.
        oldest = now - timedelta(seconds=float(self.settings["seconds"]))
        skip = _REQUEST_KINDS
        read = [r for r in records if r.kind not in skip and r.ts >= oldest]
        if not read:
            return None
        if not self._by_line:
            # One search over the batch: the first record of a match is where to look, as a
            # search record by record would have found it, unless the match ran across records.
            texts = [r.text for r in read]
            joined = "\n".join(texts)
            found = self._batch_re.search(joined)
            if found is None:
                return None
            ends = list(accumulate(len(t) + 1 for t in texts))
            read = read[bisect_right(ends, found.start()) :]
        for r in read:
            m = self._re.search(r.text)
            if m:
                return self.fire(
                    now,
                    f"{r.source} says: {r.text[:160]}",
                    source=r.source,
                    match=m.group(0),
                    text=r.text[:500],
                )
        return None


RULES: dict[str, type[Rule]] = {
    cls.name: cls
    for cls in (
        MemoryJump,
        MemoryHigh,
        WorkersNearLimit,
        Http5xxBurst,
        LoadHigh,
        SwapGrowing,
        LogTrouble,
    )
}
RULES.update((cls.name, cls) for cls in STACK_RULES)


def build_rules(config: Mapping[str, Mapping[str, Any]] | None = None) -> list[Rule]:
    """Every rule with its defaults, overridden by the config's ``[rules.NAME]`` tables."""
    config = config or {}
    unknown = set(config) - set(RULES)
    if unknown:
        raise RuleError(f"unknown rule(s): {', '.join(sorted(unknown))}; known: {', '.join(RULES)}")
    rules = []
    for name, cls in RULES.items():
        settings = dict(DEFAULTS[name])
        for key, value in config.get(name, {}).items():
            if key not in settings:
                raise RuleError(
                    f"rules.{name}.{key}: unknown setting; known: {', '.join(settings)}"
                )
            want = type(settings[key])
            ok = isinstance(value, want) or (want is float and isinstance(value, int))
            if not ok or (isinstance(value, bool) and want is not bool):
                raise RuleError(f"rules.{name}.{key}: expected {want.__name__}, got {value!r}")
            settings[key] = value
        rules.append(cls(settings))
    return rules


class RuleBook:
    """All rules together, fed from the recorder's stream of events."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.fired: list[Trigger] = []

    def on_system(self, sample: SystemSample) -> list[Trigger]:
        """The triggers a system sample fires."""
        return self._fired([r.on_system(sample) for r in self.rules if r.enabled])

    def on_status(self, sample: StatusSample) -> list[Trigger]:
        """The triggers a mod_status sample fires."""
        return self._fired([r.on_status(sample) for r in self.rules if r.enabled])

    def on_records(self, batch: Sequence[LogRecord], now: datetime) -> list[Trigger]:
        """The triggers a batch of released records fires, ``now`` being the recorder's time."""
        return self._fired([r.on_records(batch, now) for r in self.rules if r.enabled])

    def on_fpm(self, sample: FpmSample) -> list[Trigger]:
        """The triggers a PHP-FPM pool sample fires."""
        return self._fired([r.on_fpm(sample) for r in self.rules if r.enabled])

    def on_mysql(self, sample: MysqlSample) -> list[Trigger]:
        """The triggers a MySQL sample fires."""
        return self._fired([r.on_mysql(sample) for r in self.rules if r.enabled])

    def _fired(self, results: list[Trigger | None]) -> list[Trigger]:
        out = [t for t in results if t is not None]
        self.fired.extend(out)
        return out


__all__ = [
    "DEFAULTS",
    "RULES",
    "Rule",
    "RuleBook",
    "RuleError",
    "Trigger",
    "build_rules",
]
