"""Where lamptop writes, it trusts nothing in the path: the snapshot dir is treated the way
ssh treats ``~/.ssh``.

* The directory is created 0700 when it is missing. One that is a symlink, is not owned by the
  user running lamptop, or that group or others can write, is refused with a message that
  names it and why: nothing is written there.
* Everything inside is done through directory file descriptors with ``O_NOFOLLOW`` and
  ``O_EXCL``: a bundle is written in a fresh private directory with a random name, its files
  created new (never opened if something is already there), and renamed when complete. No
  symlink is ever followed, whatever another user does to the path meanwhile.
"""

from __future__ import annotations

import os
import pwd
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_BUFFER = 1 << 18
"""Characters gathered before a write: a bundle file is written a quarter MiB at a time."""


class UnsafeDir(OSError):
    """The snapshot dir is not private; the message names it and says why."""


class CannotCreate(OSError):
    """The snapshot dir is missing and cannot be created; the message says why."""


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check_private(st: os.stat_result, path: Path) -> None:
    """Raise :class:`UnsafeDir` unless ``st`` is a directory of ours that only we can write."""
    me = os.geteuid()
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDir(f"{path} is not a directory")
    if st.st_uid != me:
        raise UnsafeDir(
            f"{path} belongs to {_owner(st.st_uid)}, not to {_owner(me)}: "
            "lamptop saves snapshots only in a directory of your own"
        )
    if st.st_mode & 0o022:
        raise UnsafeDir(
            f"{path} can be written by {'group and others' if st.st_mode & 0o002 else 'its group'}"
            f" (mode {stat.S_IMODE(st.st_mode):04o}): make it private (chmod 700 {path}) "
            "or choose another --snapshot-dir"
        )


def open_private_dir(path: Path) -> int:
    """A file descriptor of the snapshot dir ``path``, created 0700 when missing, checked
    private; :class:`UnsafeDir` or another OSError when it cannot be used."""
    if not path.exists() and not path.is_symlink():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(path, 0o700)
        except FileExistsError:
            if not path.exists():  # a file where a folder of the path should be
                raise CannotCreate(f"cannot create {path}: Not a directory") from None
        except OSError as exc:
            raise CannotCreate(f"cannot create {path}: {exc.strerror or exc}") from None
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError as exc:
        if path.is_symlink():
            raise UnsafeDir(
                f"{path} is a symlink: lamptop does not follow one where it writes; "
                "give the directory it points to"
            ) from None
        raise exc
    try:
        check_private(os.fstat(fd), path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_temp_dir(parent_fd: int, prefix: str) -> tuple[str, int]:
    """A new 0700 directory in ``parent_fd`` with a random name: (its name, its fd)."""
    for _ in range(100):
        name = f".{prefix}.{secrets.token_hex(6)}.partial"
        try:
            os.mkdir(name, 0o700, dir_fd=parent_fd)
        except FileExistsError:
            continue
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        try:
            check_private(os.fstat(fd), Path(name))
        except BaseException:
            os.close(fd)
            raise
        return name, fd
    raise FileExistsError("no free temporary name")


def exists(parent_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def write_new(dir_fd: int, name: str, data: str | bytes | Iterable[str]) -> None:
    """Create ``name`` (0600) in ``dir_fd``, new, never through a symlink, write ``data``
    (text, bytes or text in pieces, gathered a buffer at a time) and fsync it."""
    out = NewFile(dir_fd, name)
    try:
        out.open()
        if isinstance(data, bytes):
            _write_all(out.fd, data)
        elif isinstance(data, str):
            # a buffer at a time: a long text is never held twice (as text and as bytes)
            for i in range(0, len(data), _BUFFER):
                _write_all(out.fd, data[i : i + _BUFFER].encode("utf-8"))
        else:
            for piece in data:
                out.write(piece)
        out.close()
    finally:
        out.release()


class NewFile:
    """A file created new (0600) in ``dir_fd``, never through a symlink, when it is first
    written: text is gathered and written a buffer at a time, so that a file filled piece by
    piece is never held whole."""

    def __init__(self, dir_fd: int, name: str) -> None:
        self.dir_fd, self.name = dir_fd, name
        self.fd = -1
        self.created = False
        self._buf: list[str] = []
        self._size = 0

    def open(self) -> None:
        if self.fd < 0:
            self.fd = os.open(self.name, _NEW_FILE, 0o600, dir_fd=self.dir_fd)
            self.created = True

    def write(self, text: str) -> None:
        self._buf.append(text)
        self._size += len(text)
        if self._size >= _BUFFER:
            self._flush()

    def _flush(self) -> None:
        self.open()
        if self._buf:
            text = "".join(self._buf)
            self._buf, self._size = [], 0
            _write_all(self.fd, text.encode("utf-8"))

    def close(self) -> None:
        """Write what is gathered, fsync and close (the file is created if it was not)."""
        self._flush()
        os.fsync(self.fd)
        self.release()

    def release(self) -> None:
        """Close the file if it is open, without writing what is gathered."""
        self._buf, self._size = [], 0
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    def discard(self) -> None:
        """Close and remove a file left unfinished."""
        self.release()
        if self.created:
            try:
                os.unlink(self.name, dir_fd=self.dir_fd)
            except OSError:
                pass


def _write_all(fd: int, raw: bytes) -> None:
    view = memoryview(raw)
    while view:
        n = os.write(fd, view)
        view = view[n:]
