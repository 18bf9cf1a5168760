"""What every spike rule shares: its settings and cooldown, and the :class:`Trigger` it returns.

Apart from :mod:`console.incident.rules` so that rules of other modules
(:mod:`console.incident.stack_rules`) can build on it while ``rules`` registers them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from console.core.events import LogRecord, StatusSample, SystemSample
from console.core.stack import FpmSample, MysqlSample


class RuleError(ValueError):
    """A rule setting that cannot be used (unknown rule, wrong type, bad regex)."""


@dataclass(frozen=True)
class Trigger:
    """Why a snapshot was taken."""

    kind: str
    """``key`` (the user pressed it), ``rule`` or ``exit``."""
    at: datetime
    """When it fired (aware UTC)."""
    rule: str | None = None
    """The rule's name, for ``kind == "rule"``."""
    message: str = ""
    """One line a person reads: what happened, with the figures."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """The values that fired it."""

    @property
    def reason(self) -> str:
        """A short word for directory names: ``key``, ``exit`` or the rule's name."""
        return self.rule if self.kind == "rule" and self.rule else self.kind


class Rule:
    """Base: settings, cooldown bookkeeping."""

    name = ""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)
        self.enabled = bool(self.settings.get("enabled", True))
        self.cooldown = timedelta(seconds=float(self.settings.get("cooldown", 300.0)))
        self._last: datetime | None = None

    def ready(self, now: datetime) -> bool:
        return self.enabled and (self._last is None or now - self._last >= self.cooldown)

    def fire(self, now: datetime, message: str, **values: Any) -> Trigger:
        self._last = now
        return Trigger("rule", now, self.name, message, values)

    def on_system(self, s: SystemSample) -> Trigger | None:
        return None

    def on_status(self, s: StatusSample) -> Trigger | None:
        return None

    def on_records(self, records: Sequence[LogRecord], now: datetime) -> Trigger | None:
        return None

    def on_fpm(self, s: FpmSample) -> Trigger | None:
        return None

    def on_mysql(self, s: MysqlSample) -> Trigger | None:
        return None
