"""What a test needs from the machine: skip on a laptop, fail in CI.

A developer's machine may lack Apache, root, a second user, the adm group or the right to
mount a tmpfs; the test then skips and says why. ``.ci/run`` (``CI=true``, as root, with the
packages installed) provides all of it, so there a missing piece is a failure: a test that
skips in CI tests nothing, and would go on testing nothing unnoticed.
"""

from __future__ import annotations

import grp
import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """Whether the tests run in CI (``CI=true``), where nothing may be skipped."""
    return os.environ.get("CI") == "true"


def unavailable(why: str) -> NoReturn:
    """Something the test needs is missing: skip, or fail under ``CI=true``."""
    if in_ci():
        pytest.fail(f"{why} (CI=true: nothing may be skipped)")
    pytest.skip(why)


def need(ok: object, why: str) -> None:
    """:func:`unavailable` with ``why`` unless ``ok`` is true."""
    if not ok:
        unavailable(why)


def need_root(what: str) -> None:
    """The test must run as root (to chown, mount, or drop to another user) to do ``what``."""
    need(os.geteuid() == 0, f"needs root to {what}")


def adm_gid() -> int:
    """The adm group's id (Debian's group for reading logs), or :func:`unavailable`."""
    try:
        return grp.getgrnam("adm").gr_gid
    except KeyError:
        unavailable("this system has no adm group")
