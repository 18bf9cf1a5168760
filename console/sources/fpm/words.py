"""PHP-FPM status failures in words: what went wrong, and what to change to fix it."""

from __future__ import annotations

import os
import re
import stat

from console.core.text import bound, clean
from console.discover.files import owner_group
from console.sources.status.http import PollFailure

#: Largest page read (the parser refuses more too).
MAX_BYTES = 4 * 1024 * 1024
_VERSIONED = re.compile(r"php(\d+(?:\.\d+)?)-fpm")


def service_name(text: str) -> str:
    """The systemd unit of the php-fpm a socket belongs to (``php8.2-fpm``), as far as its
    name tells; ``php-fpm`` (RHEL's) when it does not."""
    m = _VERSIONED.search(os.path.basename(text))
    return f"php{m.group(1)}-fpm" if m else "php-fpm"


def busy_hint(pool: str | None) -> str:
    """How to read the status even when every child of the pool is busy."""
    name = pool or "www"
    sock = f"/run/php/fpm-status-{name}.sock"
    return (
        f"set pm.status_listen = {sock} in pool {name} (php-fpm >= 8.0): the status page then "
        f"answers on that socket even when all children are busy; poll unix:{sock}:/fpm-status"
    )


def status_path_hint(path: str, pool: str | None) -> str:
    name = pool or "www"
    return f"set pm.status_path = {path} in pool {name} and reload php-fpm"


def said(data: bytes) -> str:
    """A short answer or message from php-fpm, as one clean line."""
    text = data[:300].decode("utf-8", errors="replace").strip()
    return clean(bound(" ".join(text.split()), 200))


def fpm_words(body: bytes) -> bool:
    """Whether an error page is php-fpm's own (passed on by the web server)."""
    head = body[:100].strip()
    return head in (b"File not found.", b"Access denied.")


def is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return True  # cannot tell: say what the refusal usually means


def denied(path: str) -> PollFailure:
    """Permission denied on a pool's socket: who may connect, and how to be one of them."""
    try:
        st = os.stat(path)
    except PermissionError:
        return PollFailure(
            "unreadable",
            f"permission denied on a folder above {path}",
            "run lamptop as root, or as the user php-fpm gives the socket to",
        )
    except OSError:
        st = None
    if st is None:
        return PollFailure("unreadable", f"permission denied on {path}", "run lamptop as root")
    owner, group = owner_group(st)
    return PollFailure(
        "unreadable",
        f"permission denied on {path} ({owner}:{group} {stat.S_IMODE(st.st_mode):04o}): php-fpm "
        "lets connect whom the pool's listen.owner, listen.group and listen.mode "
        "(or listen.acl_users / listen.acl_groups) allow",
        f"run lamptop as root or as a member of group {group} "
        f"(sudo usermod -aG {group} $USER, then log in again)",
    )


def too_big() -> PollFailure:
    return PollFailure(
        "not-status",
        f"the answer is larger than {MAX_BYTES >> 20} MiB: not a PHP-FPM status page",
        "give the pool's status path (pm.status_path)",
    )


def refused(
    code: int, reason: str, body: bytes, stderr: str, path: str, pool: str | None
) -> PollFailure:
    """php-fpm's own refusals (``File not found.``, ``Access denied.``): most often, the
    pool has no status page at this path."""
    words = said(body) or f"{code} {reason}".strip()
    if code == 404:
        return PollFailure(
            "not-status",
            f"the pool has no status page at {path} (php-fpm answered {code}: {words}"
            + (f"; {stderr}" if stderr else "")
            + ")",
            status_path_hint(path, pool),
        )
    if code == 403 and "access denied" in words.lower():
        return PollFailure(
            "not-status",
            f"php-fpm refused {path} with {words!r}: it is not the pool's status path, and "
            "security.limit_extensions refuses to run it as a script",
            status_path_hint(path, pool),
        )
    return PollFailure(
        "http-error",
        f"php-fpm answered {code} {clean(bound(reason, 80))}".rstrip()
        + (f": {stderr}" if stderr else ""),
    )
