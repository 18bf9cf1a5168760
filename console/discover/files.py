"""What every config reader of discovery shares: host paths under a root, origins, globs, and
the :class:`Declared` log a configuration names.

Paths handled by discovery are *host* paths (``/etc/...``); :func:`rooted` maps them under the
tree being read (``/`` in real use, a ``tmp_path`` in tests).
"""

from __future__ import annotations

import glob
import grp
import os
import pwd
from dataclasses import dataclass


def rooted(root: str, path: str) -> str:
    """``path`` (absolute, as on the host) under ``root``."""
    if root in ("", "/"):
        return os.path.normpath(path)
    return os.path.join(root, os.path.normpath(path).lstrip("/"))


def where(path: str, lineno: int, what: str) -> str:
    """An origin label: the file relative to ``/etc`` when it is there, its line, the key."""
    shown = path[len("/etc/") :] if path.startswith("/etc/") else path
    return f"{shown}:{lineno} {what}"


def expand_glob(root: str, pattern: str) -> list[str]:
    """Host paths matching ``pattern`` (a host path) under ``root``, sorted."""
    base = "" if root in ("", "/") else root.rstrip("/")
    hits = glob.glob(glob.escape(base) + os.path.normpath(pattern))
    return sorted(h[len(base) :] for h in hits)


@dataclass(frozen=True)
class Declared:
    """A log file named by a configuration (or a default), before its state is probed."""

    path: str
    """Host path (not yet under the root)."""
    kind: str
    fmt: str | None
    origin: str
    vhost: str = ""
    from_config: bool = True
    """False for a default path nothing configured."""


def owner_group(st: os.stat_result) -> tuple[str, str]:
    """The names of a file's owner and group (their numbers when the names are unknown)."""
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return owner, group
