"""Servers started by a test die with the test process, even when it is killed.

A pytest worker stopped by ``-x`` or killed by a timeout runs no fixture teardown: a MariaDB,
php-fpm or Apache it started would live on, orphaned, holding its port and its temp dir. The
kernel's parent-death signal ends them instead (Linux ``prctl(PR_SET_PDEATHSIG)``).
"""

from __future__ import annotations

import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: SIGTERM this child when its parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the fixture's teardown is all there is
