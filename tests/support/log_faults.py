"""A log writer that numbers its lines and does to its file what servers and logrotate do.

Used by the exactly-once test (tests/test_faults_logs.py) and the soak (soak_faults.py).
Every line is an Apache combined access log line whose URL is ``/n/<number>``. The writer
keeps a file descriptor open like Apache does and, between bursts of lines, does one fault
at a time to the watched path:

* ``rename_create``: rename to ``rotated/``, write a few lines more to the old descriptor
  (Apache until its graceful restart), then create the file again;
* ``copytruncate``: copy the file to ``rotated/``, then truncate it in place; lines written
  between the copy and the truncate exist only in the copy (logrotate's own window);
* ``delete_recreate``: delete it and create it again (what was in it is gone for good);
* ``missing``: rename it away and leave the path empty for a while;
* ``directory``: rename it away, put a directory at the path for a while, then a file again;
* ``dangling_symlink``: rename it away, make the path a symbolic link to a file that does not
  exist yet, then create that file;
* ``repoint_symlink``: rename it away, then point the path (a symbolic link) at a new file;
* ``unreadable``: chmod 000 for a while, then 644 again (denied only to a non-root reader).

:func:`kept` reads every regular file left under the directory: what the OS kept.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

FAULTS = (
    "rename_create",
    "copytruncate",
    "delete_recreate",
    "missing",
    "directory",
    "dangling_symlink",
    "repoint_symlink",
    "unreadable",
)
NUMBER = re.compile(rb'"GET /n/(\d+) HTTP')


def line(n: int) -> bytes:
    stamp = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'127.0.0.1 - - [{stamp}] "GET /n/{n} HTTP/1.1" 200 5 "-" "faults"\n'.encode()


def number_of(url: object) -> int | None:
    """The line number in a record's ``url`` field (``/n/123``)."""
    if isinstance(url, str) and url.startswith("/n/") and url[3:].isdigit():
        return int(url[3:])
    return None


def kept(root: Path) -> list[int]:
    """Line numbers in every regular file under ``root`` (symbolic links not followed)."""
    out: list[int] = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                continue
            out.extend(int(m) for m in NUMBER.findall(p.read_bytes()))
    return out


class FaultyWriter:
    """Writes numbered lines to ``root/access.log`` in a thread, doing faults at random."""

    def __init__(
        self,
        root: Path,
        *,
        seed: int = 1,
        burst: tuple[int, int] = (5, 40),
        pause: float = 0.01,
        fault_every: tuple[float, float] = (0.2, 0.6),
        away: float = 0.3,
        faults: tuple[str, ...] = FAULTS,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root
        self.path = root / "access.log"
        self.rotated = root / "rotated"
        self.targets = root / "targets"
        self.rotated.mkdir(parents=True, exist_ok=True)
        self.targets.mkdir(parents=True, exist_ok=True)
        self.rng = random.Random(seed)
        self.burst, self.pause, self.fault_every, self.away = burst, pause, fault_every, away
        self.faults = faults
        self.log = log or (lambda _msg: None)
        self.n = 0
        self.k = 0
        self.written_at: dict[int, float] = {}
        """Monotonic time each line was written."""
        self.truncated: list[tuple[float, Path]] = []
        """(time, copy) of every copytruncate."""
        self.done: list[str] = []
        """The faults done, in order."""
        self._deck: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fd = self._create(self.path)

    # -- files ---------------------------------------------------------------------------------
    def _create(self, path: Path) -> int:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def _write(self, count: int) -> None:
        for _ in range(count):
            self.n += 1
            self.written_at[self.n] = time.monotonic()
            os.write(self._fd, line(self.n))

    def _name(self, what: str) -> Path:
        self.k += 1
        return self.rotated / f"access.log.{self.k}.{what}"

    def _reopen(self, path: Path) -> None:
        os.close(self._fd)
        self._fd = self._create(path)

    def _move_away(self) -> None:
        os.rename(self.path, self._name("moved"))
        self._write(self.rng.randint(0, 5))  # the server writes to the old file a bit longer

    def _wait(self, seconds: float) -> None:
        """Keep the clock honest while the path is odd: no lines can be written meanwhile."""
        self._stop.wait(seconds)

    # -- faults --------------------------------------------------------------------------------
    def fault(self, name: str) -> None:
        self.done.append(name)
        self.log(f"fault {name} at line {self.n}")
        if name == "rename_create":
            self._move_away()
            self._reopen(self.path)
        elif name == "copytruncate":
            copy = self._name("copy")
            shutil.copyfile(self.path, copy)
            self._write(self.rng.randint(0, 3))  # logrotate's window: these are only in the copy
            os.truncate(self.path, 0)
            self.truncated.append((time.monotonic(), copy))
        elif name == "delete_recreate":
            os.close(self._fd)
            os.unlink(self.path)
            self._fd = self._create(self.path)
        elif name == "missing":
            self._move_away()
            self._wait(self.away)
            self._reopen(self.path)
        elif name == "directory":
            self._move_away()
            self.path.mkdir()
            self._wait(self.away)
            self.path.rmdir()
            self._reopen(self.path)
        elif name == "dangling_symlink":
            self._move_away()
            self.k += 1
            target = self.targets / f"t{self.k}.log"
            self.path.symlink_to(target)
            self._wait(self.away)
            self._reopen(target)
        elif name == "repoint_symlink":
            self._move_away()
            self.k += 1
            target = self.targets / f"t{self.k}.log"
            self._reopen(target)
            link = self.root / ".link"
            link.symlink_to(target)
            os.replace(link, self.path)
        elif name == "unreadable":
            os.chmod(self.path, 0)
            self._write(self.rng.randint(1, 10))
            self._wait(self.away)
            os.chmod(self.path, 0o644)
        else:
            raise ValueError(name)

    # -- the thread ----------------------------------------------------------------------------
    def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        next_fault = time.monotonic() + self.rng.uniform(*self.fault_every)
        while time.monotonic() < end and not self._stop.is_set():
            self._write(self.rng.randint(*self.burst))
            if time.monotonic() >= next_fault:
                if not self._deck:  # every fault once, in a random order, then again
                    self._deck = self.rng.sample(self.faults, len(self.faults))
                self.fault(self._deck.pop())
                next_fault = time.monotonic() + self.rng.uniform(*self.fault_every)
            time.sleep(self.pause)
        os.close(self._fd)

    def start(self, seconds: float) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, args=(seconds,), daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)


def _copy_tails(ingested: set[int], writer: FaultyWriter) -> set[int]:
    """Lines of copytruncate copies written after the last one of that copy that was read.

    The tail reads a file from start to end: when logrotate truncates it, what the tail had
    not reached yet exists only in the copy, lost to any tail. That is a suffix of the copy,
    however slow the machine was; a line missing before one that was read is not excused.
    """
    out: set[int] = set()
    for _at, copy in writer.truncated:
        lines = [int(m) for m in NUMBER.findall(copy.read_bytes())]
        read = [i for i, n in enumerate(lines) if n in ingested]
        out.update(lines[read[-1] + 1 :] if read else lines)
    return out


def missing_from(ingested: list[int], writer: FaultyWriter) -> list[int]:
    """Lines the OS kept that were never ingested, beyond the copytruncate losses."""
    got = set(ingested)
    missed = set(kept(writer.root)) - got
    return sorted(missed - _copy_tails(got, writer))


def check(ingested: list[int], writer: FaultyWriter) -> dict[str, object]:
    """Compare what was ingested with what was written and what the OS kept.

    Returns figures; raises AssertionError on a duplicate, an invented line, or a kept line
    missed other than at the end of a copytruncate copy (see :func:`_copy_tails`).
    """
    from collections import Counter

    dups = {n: c for n, c in Counter(ingested).items() if c > 1}
    assert not dups, f"ingested more than once: {sorted(dups)[:20]} ({len(dups)} lines)"
    got = set(ingested)
    invented = got - set(writer.written_at)
    assert not invented, f"ingested lines never written: {sorted(invented)[:20]}"
    on_disk = kept(writer.root)
    missed = set(on_disk) - got
    excused = missed & _copy_tails(got, writer)
    unexplained = sorted(missed - excused)
    assert not unexplained, (
        f"{len(unexplained)} kept lines never ingested: {unexplained[:20]}; faults: {writer.done}"
    )
    return {
        "written": writer.n,
        "kept": len(set(on_disk)),
        "ingested": len(got),
        "not_kept_but_ingested": len(got - set(on_disk)),
        "copytruncate_window_missed": len(excused),
        "faults": Counter(writer.done),
    }
