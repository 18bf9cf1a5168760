"""The command line run as a user would: a child process with no terminal and no input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT


def lamptop(
    *args: str,
    tmp: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    text: bool = True,
) -> subprocess.CompletedProcess[Any]:
    """``lamptop ARGS``; with ``tmp``, its config and state live there (XDG dirs), so that the
    user's own files are neither read nor written, and no status password is inherited."""
    full_env = dict(os.environ)
    if tmp is not None:
        full_env |= {"XDG_CONFIG_HOME": str(tmp / "xdg"), "XDG_STATE_HOME": str(tmp)}
        full_env.pop("LAMPTOP_STATUS_PASSWORD", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=text,
        timeout=timeout,
        env=full_env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
