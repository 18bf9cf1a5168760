"""Running a piece of a test as an ordinary user.

Root reads every file whatever its mode, so a test of "permission denied" run by root (as in
CI) must do the reading as someone else. :func:`as_ordinary_user` runs a function in a forked
child: as root, the child first drops to ``nobody`` (no supplementary groups); as anyone else
it already is an ordinary user. The result comes back as JSON.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NOBODY = 65534
"""uid and gid of ``nobody`` / ``nogroup`` on Debian."""


PRELOAD = ("asyncio", "concurrent.futures.thread")
"""Modules imported before the fork: the child may not be allowed to read the interpreter's
files (a Python installed under ``/root``), and asyncio imports its thread pool lazily."""


def as_ordinary_user(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a forked child that is not root; return its JSON-able result.

    An exception in the child fails the caller with the child's ``repr`` of it.
    """
    for name in PRELOAD:
        importlib.import_module(name)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        code = 0
        try:
            os.close(r)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            out = json.dumps(fn(*args)).encode()
        except BaseException as exc:  # noqa: BLE001 (report anything to the parent)
            out = json.dumps({"child error": repr(exc)}).encode()
            code = 1
        os.write(w, out)
        os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    result = json.loads(data)
    assert not (isinstance(result, dict) and "child error" in result), result
    return result


@contextmanager
def shared_dir(prefix: str = "lamptop-user-") -> Iterator[Path]:
    """A fresh directory that the user of :func:`as_ordinary_user` owns (``nobody`` when
    running as root), outside pytest's root-only temp tree; removed after."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        d.chmod(0o755)
        if os.geteuid() == 0:
            os.chown(d, NOBODY, NOBODY)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
