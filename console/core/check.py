"""Checks of values read from outside (a bundle, a remote host's stream): each field's type,
with an error naming the field.

A bundle or a stream may come from anyone. Every reader (:mod:`console.core.decode`,
:mod:`console.incident.bundle_read`, :mod:`console.core.wire`) goes through these: a wrong
type gives :class:`Invalid`, whose message names the field (``records[3].level: expected one
of ...``), never a traceback.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from console.core.timefmt import from_iso

T = TypeVar("T")


class Invalid(Exception):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def fail(where: str, want: str, value: object) -> Invalid:
    shown = repr(value) if isinstance(value, (int, float, bool)) or value is None else ""
    if isinstance(value, str):
        shown = repr(value[:40] + ("…" if len(value) > 40 else ""))
    return Invalid(where, f"expected {want}, got {_kind_of(value)}{' ' + shown if shown else ''}")


def get(d: Mapping[str, Any], key: str, where: str, default: Any = MISSING) -> Any:
    if key in d:
        return d[key]
    if default is MISSING:
        raise Invalid(f"{where}.{key}" if where else key, "missing")
    return default


def as_text(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise fail(where, "text", v)
    return v


def as_int(v: Any, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise fail(where, "a whole number", v)
    return v


def as_obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise fail(where, "an object", v)
    return v


def as_list(v: Any, where: str, most: int) -> list[Any]:
    if not isinstance(v, list):
        raise fail(where, "a list", v)
    if len(v) > most:
        raise Invalid(where, f"{len(v)} items, more than the {most} lamptop reads")
    return v


def as_time(v: Any, where: str) -> Any:
    try:
        return from_iso(as_text(v, where))
    except ValueError:
        raise Invalid(where, f"expected an ISO 8601 time with a zone, got {v!r:.50}") from None


_WORDS: dict[object, str] = {
    int: "a whole number",
    float: "a number",
    str: "text",
    bool: "true/false",
    type(None): "null",
}


def _type_words(hint: object) -> str:
    """A declared type in words: ``a whole number or null``."""
    union = get_origin(hint) in (Union, types.UnionType)
    return " or ".join(_WORDS.get(a, str(a)) for a in (get_args(hint) if union else (hint,)))


def _scalar_ok(value: object, hint: object) -> bool:
    union = get_origin(hint) in (Union, types.UnionType)
    for a in get_args(hint) if union else (hint,):
        if a is type(None) and value is None:
            return True
        if isinstance(value, bool):
            if a is bool:
                return True
            continue
        if (a is int and isinstance(value, int)) or (a is str and isinstance(value, str)):
            return True
        if a is float and isinstance(value, (int, float)):
            return True
    return False


def scalars(
    cls: type, d: Mapping[str, Any], where: str, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The scalar fields of dataclass ``cls`` read from ``d``, each checked against the type
    the class declares (fields in ``skip`` are the caller's)."""
    hints = get_type_hints(cls)
    kw: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        if f.name not in d:
            if f.default is MISSING and f.default_factory is MISSING:
                raise Invalid(f"{where}.{f.name}", "missing")
            continue
        value = d[f.name]
        if not _scalar_ok(value, hints[f.name]):
            raise fail(f"{where}.{f.name}", _type_words(hints[f.name]), value)
        kw[f.name] = float(value) if hints[f.name] is float else value
    return kw


def flat(cls: type[T], v: Any, where: str) -> T:
    """A flat dataclass (scalars only) from an object, each field's type checked."""
    return cls(**scalars(cls, as_obj(v, where), where))


def count_map(v: Any, where: str) -> dict[str, int]:
    return {str(k): as_int(n, f"{where}.{k}") for k, n in as_obj(v, where).items()}
