"""Bytes to lines for the tail, and the words that tell a user how to read a log."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

from console.core.text import clean_block

#: What a NUL byte (or any byte that is not UTF-8) becomes in a line.
NUL_MARK = "\ufffd"
#: The bytes a line may hold that need nothing done to them: printable ASCII and tab (and the
#: newlines between lines). A chunk of only these decodes as it is and needs no cleaning.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"


def owner_text(st: os.stat_result) -> str:
    """``user:group mode`` of a file, as ``ls -l`` people read it."""
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    return f"{user}:{group_name(st)} mode {stat.S_IMODE(st.st_mode):04o}"


def group_name(st: os.stat_result) -> str:
    try:
        return grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        return str(st.st_gid)


def permission_hint(path: str | Path, st: os.stat_result) -> str:
    """How to get read access to a log that exists but cannot be opened."""
    group, mode = group_name(st), stat.S_IMODE(st.st_mode)
    if mode & 0o040 and group not in ("root", "wheel") and not group.isdigit():
        return (
            f"add your user to the {group} group: sudo usermod -aG {group} $USER, then log in again"
        )
    return (
        f"{path} is {owner_text(st)}: run lamptop with sudo, or have the log created "
        "group-readable (logrotate: create 640 root adm) and join that group"
    )


class LineSplitter:
    """Bytes in, complete decoded lines out; holds the unfinished last line, bounded."""

    __slots__ = ("max_line", "held", "dropped")

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self.held = bytearray()
        """Start of the unfinished line (at most ``max_line`` bytes)."""
        self.dropped = 0
        """Bytes of the unfinished line beyond ``max_line``, counted and thrown away."""

    def feed(self, data: bytes) -> list[str]:
        nl = data.rfind(b"\n")
        if nl < 0:
            self._hold(data)
            return []
        view = memoryview(data)
        out: list[str] = []
        start = 0
        if self.held or self.dropped:
            first = data.find(b"\n")
            self._hold(view[: first - 1 if first and data[first - 1] == 13 else first])
            out.extend(self.end())
            start = first + 1
        if start <= nl:
            # Nearly every chunk of a log is plain ASCII: two passes in C tell, and then it
            # is decoded and split as it is, without a search for characters to escape.
            if data.isascii() and not data.translate(None, _PLAIN_ASCII):
                out.extend(self._plain(view[start:nl]))
            else:
                out.extend(self._decode(view[start:nl]))
        self._hold(view[nl + 1 :])
        return out

    def end(self) -> list[str]:
        """The unfinished line as a line (file closed or truncated); empty when there is none."""
        if not self.held and not self.dropped:
            return []
        text = self._clean(str(self.held, "utf-8", "replace"))
        if self.dropped:
            text += f" …[cut: {self.dropped} bytes]"
        self.held, self.dropped = bytearray(), 0
        return [text]

    def _hold(self, data: bytes | memoryview) -> None:
        room = self.max_line - len(self.held)
        if len(data) <= room:
            self.held += data
        else:
            self.held += data[: max(room, 0)]
            self.dropped += len(data) - max(room, 0)

    @staticmethod
    def _clean(text: str) -> str:
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if text.endswith("\r"):
                text = text[:-1]
        if "\0" in text:
            text = text.replace("\0", NUL_MARK)
        return clean_block(text)

    def _plain(self, block: memoryview) -> list[str]:
        """:meth:`_decode` of a block of plain ASCII (see :data:`_PLAIN_ASCII`)."""
        lines = str(block, "ascii").split("\n")
        m = self.max_line
        if len(block) > m and max(map(len, lines)) > m:
            lines = [s if len(s) <= m else f"{s[:m]} …[cut: {len(s) - m} bytes]" for s in lines]
        return lines

    def _decode(self, block: memoryview) -> list[str]:
        lines = self._clean(str(block, "utf-8", "replace")).split("\n")
        m = self.max_line
        if len(block) > m and max(map(len, lines)) > m:
            lines = [
                s if len(s) <= m else f"{s[:m]} …[cut: {len(s[m:].encode())} bytes]" for s in lines
            ]
        return lines


__all__ = ["NUL_MARK", "LineSplitter", "group_name", "owner_text", "permission_hint"]
