"""Writing a bundle's files: in a new private directory, renamed when complete, what was
written kept as ``NAME-PARTIAL`` when writing fails part way (see :mod:`console.incident.bundle`).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from console.incident.private_dir import NewFile, exists, make_temp_dir, write_new


class BundleError(Exception):
    """Writing or reading a bundle failed; the message is for the user."""


class Side:
    """A file of the bundle filled while an earlier one is written (``logs.txt`` while
    ``snapshot.json`` reads the records): its text goes to its file a buffer at a time rather
    than waiting in memory for its turn. It is finished (fsynced) in its place in the order
    of the files; if writing stops before, it is removed with the files that are missing."""

    def __init__(self) -> None:
        self.file: NewFile | None = None

    def write(self, text: str) -> None:
        if self.file is None:
            raise RuntimeError("a side file is written only while its bundle is")
        self.file.write(text)


Make = Callable[[], str | Iterable[str]] | Side
"""What a bundle file is made of: a function giving its text (whole or in pieces), or a
:class:`Side` filled while an earlier file is written."""


def write_in(parent_fd: int, parent: Path, name: str, files: list[tuple[str, Make]]) -> Path:
    """Write ``files`` in a new private directory of ``parent_fd`` and give it a free name
    from ``name``; a failure keeps what was written as ``NAME-PARTIAL``."""
    try:
        temp, temp_fd = make_temp_dir(parent_fd, name)
    except OSError as exc:
        raise BundleError(f"cannot write in {parent}: {exc.strerror or exc}") from None
    sides = [(fname, make) for fname, make in files if isinstance(make, Side)]
    for fname, side in sides:
        side.file = NewFile(temp_fd, fname)
    written: list[str] = []
    try:
        for fname, make in files:
            try:
                if isinstance(make, Side):
                    assert make.file is not None
                    make.file.close()
                else:
                    write_new(temp_fd, fname, make())
                written.append(fname)
            except OSError as exc:
                missing = [f for f, _ in files if f not in written]
                for sname, side in sides:
                    if sname not in written and side.file is not None:
                        side.file.discard()  # cut short: its space is free for the note
                kept = _salvage(
                    parent_fd,
                    temp,
                    temp_fd,
                    _free_name(parent_fd, f"{name}-PARTIAL"),
                    written,
                    missing,
                    exc,
                )
                what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
                raise BundleError(
                    f"snapshot incomplete ({what}): kept {', '.join(written) or 'nothing'} in "
                    f"{parent / kept}; missing {', '.join(missing)}"
                ) from None
    finally:
        for _, side in sides:
            if side.file is not None:
                side.file.release()
                side.file = None
        os.close(temp_fd)
    final = _free_name(parent_fd, name)
    try:
        os.rename(temp, final, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
    except OSError as exc:
        raise BundleError(
            f"cannot finish {parent / final}: {exc.strerror}; files are in {parent / temp}"
        ) from None
    return parent / final


def _free_name(parent_fd: int, name: str) -> str:
    candidate, n = name, 2
    while exists(parent_fd, candidate):
        candidate = f"{name}-{n}"
        n += 1
    return candidate


def _salvage(
    parent_fd: int,
    temp: str,
    temp_fd: int,
    target: str,
    written: list[str],
    missing: list[str],
    exc: OSError,
) -> str:
    """Keep what was written under a name that says it is partial; returns the name kept."""
    note = (
        "This snapshot is PARTIAL: writing stopped with "
        f"{exc.strerror or exc}.\nWritten: {', '.join(written) or 'nothing'}\n"
        f"Missing: {', '.join(missing)}\n"
    )
    if missing:  # the file being written when it stopped (files go in order): cut, not kept
        with contextlib.suppress(OSError):
            os.unlink(missing[0], dir_fd=temp_fd)
    try:
        write_new(temp_fd, "PARTIAL.txt", note)
    except OSError:
        pass
    try:
        os.rename(temp, target, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
        return target
    except OSError:
        return temp
