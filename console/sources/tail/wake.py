"""When a tail reads again: when the kernel says its file changed (inotify), else on a timer.

A :class:`~console.sources.tail.follow.FileTail` reads in rounds. Polled, a quiet log costs a
round (a ``stat``, a wake-up of the process) every ``poll_interval``. With inotify the tail
sleeps until something happens to its name in the directory that holds it: bytes written, a
rename (rotation), a delete, a create, a chmod. The directory is watched rather than the file,
so that a file that does not exist yet, or that replaced the one being read, wakes the tail
too; a symbolic link's target directory is watched as well. One inotify instance serves every
tail of an event loop (:class:`_Hub`), one watch every directory.

Even with inotify a tail reads again after ``idle`` seconds of silence: that round checks the
events. A round woken by that timer that finds new bytes means this filesystem does not report
its changes (NFS written by another host, some FUSE mounts, a directory swapped under the path):
the tail polls from then on (:meth:`Wake.deaf`).

Polling is what is left when inotify cannot be had: not Linux, the binding (``asyncinotify``)
missing, no inotify instance or watch left (``EMFILE``, ``ENOSPC``: the per-user limits). A
directory that is missing or unreadable is polled and watched again on every round, until
the watch takes.
"""

from __future__ import annotations

import asyncio
import errno
import os
import struct
import sys
import weakref
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

#: The header of one inotify event: wd, mask, cookie, length of the name that follows.
_EVENT = struct.Struct("iIII")
# Masks, from inotify(7).
_MODIFY, _ATTRIB, _CLOSE_WRITE = 0x2, 0x4, 0x8
_MOVED_FROM, _MOVED_TO, _CREATE, _DELETE = 0x40, 0x80, 0x100, 0x200
_DELETE_SELF, _MOVE_SELF, _UNMOUNT, _OVERFLOW, _IGNORED = 0x400, 0x800, 0x2000, 0x4000, 0x8000
#: What a tail wants to hear of in a directory.
_MASK = (
    _MODIFY
    | _ATTRIB
    | _CLOSE_WRITE
    | _MOVED_FROM
    | _MOVED_TO
    | _CREATE
    | _DELETE
    | _DELETE_SELF
    | _MOVE_SELF
)
#: The watch is gone (the directory was deleted, moved or unmounted): watch again.
_GONE = _DELETE_SELF | _MOVE_SELF | _UNMOUNT | _IGNORED
#: Errors of a watch that another round may not get: the directory is not there or not ours.
_RETRY = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM})

Mode = Literal["inotify", "poll"]

_lib: ModuleType | None | bool = False
"""``asyncinotify`` once loaded; None: it cannot be had here; False: not tried yet."""
_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hub] = weakref.WeakKeyDictionary()


def _load() -> ModuleType | None:
    try:
        import asyncinotify
    except (ImportError, OSError, RuntimeError, AttributeError):
        return None
    return asyncinotify


async def _binding() -> ModuleType | None:
    """The binding, imported once, in a thread (it loads libc: not on the loop's time)."""
    global _lib
    if _lib is False:
        _lib = await asyncio.to_thread(_load) if sys.platform.startswith("linux") else None
    return _lib if isinstance(_lib, ModuleType) else None


class _Hub:
    """One inotify instance for the tails of one event loop: a watch per directory, each
    event handed to the tails that watch its directory."""

    def __init__(self, lib: ModuleType, loop: asyncio.AbstractEventLoop) -> None:
        self.notify: Any = lib.Inotify()
        self.fd: int = self.notify.fd
        os.set_blocking(self.fd, False)
        self.loop = loop
        self.watches: dict[int, Any] = {}
        self.subs: dict[int, set[Wake]] = {}
        self.closed = False
        loop.add_reader(self.fd, self._readable)

    def watch(self, wake: Wake, directory: str) -> int:
        """Watch ``directory`` for ``wake``; raises OSError."""
        w = self.notify.add_watch(directory, _MASK)
        self.watches[w.wd] = w
        self.subs.setdefault(w.wd, set()).add(wake)
        return int(w.wd)

    def unwatch(self, wake: Wake, wd: int) -> None:
        subs = self.subs.get(wd)
        if subs is None:
            return
        subs.discard(wake)
        if not subs:
            del self.subs[wd]
            watch = self.watches.pop(wd, None)
            if watch is not None:
                try:
                    self.notify.rm_watch(watch)
                except OSError:
                    pass  # gone already (the directory was deleted)
        if not self.subs:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if _hubs.get(self.loop) is self:
            del _hubs[self.loop]
        if not self.loop.is_closed():
            self.loop.remove_reader(self.fd)
        self.notify.close()

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        at, end = 0, len(data)
        while at + _EVENT.size <= end:
            wd, mask, _cookie, length = _EVENT.unpack_from(data, at)
            start = at + _EVENT.size
            name = data[start : start + length].split(b"\0", 1)[0]
            at = start + length
            if mask & _OVERFLOW:  # events were dropped: everyone looks
                for subs in list(self.subs.values()):
                    for wake in list(subs):
                        wake.fire()
                continue
            for wake in list(self.subs.get(wd, ())):
                wake.event(wd, name, mask)
            if mask & _IGNORED:  # the kernel dropped the watch
                self.subs.pop(wd, None)
                self.watches.pop(wd, None)


class Wake:
    """When the tail of ``path`` reads next: :meth:`wait` between two rounds."""

    def __init__(self, path: Path, *, inotify: bool = True) -> None:
        self.path = path
        self.mode: Mode = "inotify" if inotify else "poll"
        """``poll`` once inotify cannot serve this path (it does not come back)."""
        self._hub: _Hub | None = None
        self._wds: set[int] = set()
        self._names: frozenset[bytes] = frozenset()
        self._armed = False
        self._fired = False
        self._waiter: asyncio.Future[bool] | None = None
        self.events = 0
        """Events seen for the path since start: a round that read bytes with no event since
        its wait began was not announced (:meth:`deaf`)."""

    @property
    def armed(self) -> bool:
        """The directories are watched: :meth:`wait` sleeps until an event or ``idle``."""
        return self._armed

    async def wait(self, poll: float, idle: float) -> bool | None:
        """Sleep until the next round. True: an event woke it (or the watch was just set up,
        and the round must read what came before); False: ``idle`` passed without one;
        None: it slept ``poll`` (polling)."""
        if self.mode == "inotify" and not self._armed and await self._arm():
            return True
        if not self._armed:
            await asyncio.sleep(poll)
            return None
        if self._fired:
            self._fired = False
            return True
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(idle, _settle, waiter, False)
        try:
            woke: bool = await waiter
            return woke
        finally:
            timer.cancel()
            self._waiter = None
            self._fired = False

    def aim(self) -> None:
        """The path may name another file now (a new symbolic link target): watch again."""
        self._unwatch()

    def deaf(self) -> None:
        """Events do not come for this path: poll from now on."""
        self._unwatch()
        self.mode = "poll"

    def close(self) -> None:
        self._unwatch()

    # -- from the hub ------------------------------------------------------------------------
    def event(self, wd: int, name: bytes, mask: int) -> None:
        if mask & _GONE and not name:  # the directory itself went: watch it again
            self._wds.discard(wd)
            self._armed = False
            self.fire()
        elif name in self._names:
            self.fire()

    def fire(self) -> None:
        self._fired = True
        self.events += 1
        if self._waiter is not None:
            _settle(self._waiter, True)

    # -- watching ----------------------------------------------------------------------------
    async def _arm(self) -> bool:
        """Watch the directories of the path (and of its link's target); False when that
        cannot be done now (polled meanwhile) or here at all (polled from now on)."""
        lib = await _binding()
        if lib is None or self.mode != "inotify":
            self.mode = "poll"
            return False
        loop = asyncio.get_running_loop()
        try:
            hub = _hubs.get(loop)
            if hub is None:
                hub = _hubs[loop] = _Hub(lib, loop)
        except (OSError, RuntimeError):  # no instance left (EMFILE), no loop reader
            self.mode = "poll"
            return False
        directories, self._names = _places(self.path)
        self._unwatch()
        self._hub = hub
        for directory in directories:
            try:
                self._wds.add(hub.watch(self, directory))
            except OSError as exc:
                self._unwatch()
                if exc.errno not in _RETRY:  # ENOSPC: no watch left for this user
                    self.mode = "poll"
                return False
        self._armed, self._fired = True, False
        return True

    def _unwatch(self) -> None:
        hub, wds = self._hub, self._wds
        self._armed, self._hub, self._wds = False, None, set()
        if hub is not None:
            for wd in wds:
                hub.unwatch(self, wd)
            if not wds and not hub.subs:
                hub.close()


def _places(path: Path) -> tuple[list[str], frozenset[bytes]]:
    """The directories to watch for ``path`` and the names that matter in them: its own,
    and its symbolic link's final target's."""
    plain = os.path.abspath(path)
    real = os.path.realpath(plain)
    names = frozenset(os.fsencode(os.path.basename(p)) for p in (plain, real))
    return list(dict.fromkeys((os.path.dirname(plain), os.path.dirname(real)))), names


def _settle(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)
