"""Servers started by a test end with the test process, even when it is killed.

A pytest worker stopped by ``-x`` or killed by a timeout runs no fixture teardown: a MariaDB,
php-fpm or Apache it started would live on, orphaned, holding its port and its temp dir. The
kernel's parent-death signal ends them instead (Linux ``prctl(PR_SET_PDEATHSIG)``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: SIGTERM this child when its parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the fixture's teardown is all there is


def end_process(proc: subprocess.Popen[bytes], timeout: float, *, group: bool = True) -> None:
    """SIGTERM, then, after ``timeout`` seconds, SIGKILL of its process group; with ``group``,
    SIGKILL of what is left of the group (children such as CGIs) after it ended."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.stderr is not None:
        proc.stderr.close()
