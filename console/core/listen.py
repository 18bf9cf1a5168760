"""``HOST:PORT`` for a listening socket (``lamptop record --metrics 127.0.0.1:9177``).

The address is never guessed: a port alone is refused, so that nothing listens on every
interface unless the user wrote ``0.0.0.0`` (or ``[::]``) themselves.
"""

from __future__ import annotations

import re

from console.core.text import bound, clean

_FORM = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+)):(?P<port>\d{1,5})$")

EXAMPLE = "127.0.0.1:9177 (or [::1]:9177; 0.0.0.0:9177 for every interface)"


class ListenError(ValueError):
    """An address that cannot be listened on, in words."""


def parse_listen(text: str, *, what: str = "--metrics") -> tuple[str, int]:
    """``(host, port)`` of ``HOST:PORT`` or ``[IPV6]:PORT``; :class:`ListenError` otherwise."""
    shown = bound(clean(text), 80)
    m = _FORM.match(text.strip()) if len(text) <= 300 else None
    if m is None:
        if text.strip().isdigit() or text.strip().startswith(":"):
            raise ListenError(
                f"{what} '{shown}': give the address to listen on too, like {EXAMPLE}"
            )
        raise ListenError(f"{what} '{shown}': expected HOST:PORT, like {EXAMPLE}")
    port = int(m.group("port"))
    if not 1 <= port <= 65535:
        raise ListenError(f"{what} '{shown}': the port must be between 1 and 65535, like {EXAMPLE}")
    return (m.group("v6") or m.group("host")), port
