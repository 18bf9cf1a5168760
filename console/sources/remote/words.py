"""Why a link to a remote host is down, in words, from what ssh left behind.

A link ends with ssh's exit code, the last lines ssh wrote to stderr (its own errors, and the
remote command's: a shell's ``command not found``, argparse's usage error, the remote
``record``'s human lines) and what the stream reader made of stdout (a :class:`StreamEnd`,
or a :class:`StreamError`'s words). :func:`link_words` turns that into one short line, the
Link's message; the host line shows it after the host's name
(``fleet-b: ssh: connection refused``).

ssh's own errors are recognised by their wording on a line of their own (``ssh: connect to
host ... Connection refused``, ``Host key verification failed.``, ``user@host: Permission
denied (publickey).``), never anywhere in the stream of remote stderr: a remote lamptop saying
its mod_status refused a connection must not read as ssh refused.
"""

from __future__ import annotations

import re

from console.core.text import bound, clean

MAX_SHOWN = 160
"""Longest quote of stderr in a message."""

NOT_FOUND = "lamptop not found (install it there, or set --remote-command)"
TOO_OLD = "lamptop there is too old for --stream (upgrade it)"

_CONNECT = r"^ssh: connect to host .*: "
#: ssh's own failures: a line pattern and the words for it (``{0}``: the pattern's group).
_SSH_TEXT: tuple[tuple[str, str], ...] = (
    (_CONNECT + "connection refused", "ssh: connection refused"),
    (_CONNECT + "connection timed out", "ssh: connection timed out"),
    (_CONNECT + "no route to host", "ssh: no route to host"),
    (_CONNECT + "network is unreachable", "ssh: network is unreachable"),
    (r"^ssh: could not resolve hostname", "ssh: could not resolve hostname"),
    (r"^host key verification failed", "ssh: host key verification failed"),
    (r"^@+ *warning: remote host identification has changed", "ssh: host key verification failed"),
    (r"^\S*: ?permission denied \(([a-z0-9,@.+-]{1,80})\)", "ssh: permission denied ({0})"),
    (r"^connection timed out during banner exchange", "ssh: connection timed out"),
    (r"^kex_exchange_identification: ", "ssh: connection closed by the host before login"),
    (r"^connection closed by \S+ port \d+", "ssh: connection closed by the host"),
    (r"^connection to \S+ closed by remote host", "ssh: connection closed by the host"),
    (r"^(?:client_loop|packet_write_wait|ssh_dispatch_run_fatal): ", "ssh: connection lost"),
    (r"^can't open user config file ", "ssh: cannot read the ssh config file"),
    (r"^ssh: (.{1,200})", "ssh: {0}"),
)
_SSH = tuple((re.compile(p, re.I), words) for p, words in _SSH_TEXT)

_NOT_FOUND = re.compile(r"(command not found|no such file or directory|not found)$", re.I)
_USAGE = re.compile(r"^usage: |unrecognized arguments: .*--stream|invalid choice: 'record'", re.I)
_FAILED_BEFORE = "the stream ended before its header"


def stderr_lines(raw: bytes) -> list[str]:
    """The text lines of a stderr tail, cleaned (a stranger wrote part of it), empty ones left
    out; the first may be cut (the tail starts anywhere)."""
    text = raw.decode("utf-8", "replace").replace("\r", "\n")
    return [clean(bound(line.strip(), 400)) for line in text.split("\n") if line.strip()]


def ssh_failure(lines: list[str]) -> str | None:
    """ssh's own error among the stderr lines (the last one that is one), in words."""
    for line in reversed(lines):
        for pattern, words in _SSH:
            m = pattern.match(line)
            if m:
                return words.format(*(g.lower().rstrip(".") for g in m.groups()))
    return None


def link_words(
    returncode: int | None,
    stderr: bytes,
    *,
    stream_error: str | None = None,
    ended: str | None = None,
    was_up: bool = False,
) -> str:
    """One line saying why the link ended.

    ``returncode``: ssh's exit code (None: killed by lamptop). ``stream_error``: the
    :class:`~console.sources.remote.stream.StreamError`'s words, when the stream could not be
    read. ``ended``: ``"eof"`` or ``"silent"`` (with its seconds: ``"silent 20"``) when the
    stream ended after its header. ``was_up``: the header was read.
    """
    lines = stderr_lines(stderr)
    if ended is not None and ended.startswith("silent"):
        seconds = ended.partition(" ")[2] or "20"
        return f"silent for {seconds} s"
    own = ssh_failure(lines) if returncode == 255 else None
    if own is not None:
        return own
    if was_up:
        if returncode not in (None, 0, 255) and lines:
            # the remote lamptop failed (a traceback's last line says how)
            return f"stream ended (exit {returncode}: {bound(lines[-1], MAX_SHOWN)})"
        return "stream ended"
    if returncode == 127 or (lines and _NOT_FOUND.search(lines[-1]) and returncode not in (0, 2)):
        return NOT_FOUND
    if returncode == 126:
        return "the remote command cannot be run there (permission denied): check --remote-command"
    if returncode == 2 and any(_USAGE.search(line) for line in lines):
        return TOO_OLD
    if stream_error and stream_error != _FAILED_BEFORE:
        return stream_error
    last = bound(lines[-1], MAX_SHOWN) if lines else ""
    if returncode == 255:
        return f"ssh failed: {last}" if last else "ssh failed"
    if returncode is None:
        return "stream ended"
    said = f": {last}" if last else ""
    return f"the remote command exited with code {returncode} before its stream began{said}"
