"""Where a MySQL or MariaDB server is: ``unix:/run/mysqld/mysqld.sock`` or
``mysql://user@host:3306``, as ``--mysql`` and the config's ``[mysql] server`` give it.

A password is never part of a target: a command line is visible to every user in ``ps``, and a
target is shown on screen and saved in bundles. Passwords come from ``~/.my.cnf``, the config
file's ``[mysql] password`` or ``LAMPTOP_MYSQL_PASSWORD``. The text may come from a config file
someone else wrote: every error quotes it cleaned, bounded and with secrets masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from console.core.text import bound, clean, mask_secrets

DEFAULT_PORT = 3306
DEFAULT_SOCKET = "/run/mysqld/mysqld.sock"
#: Where a MySQL password goes (not ``password=...``: messages are masked for that pattern).
PASSWORD_PLACES = (
    "~/.my.cnf (a password line under [client], chmod 600), the config file's [mysql] "
    "password, or the LAMPTOP_MYSQL_PASSWORD variable"
)


class TargetError(ValueError):
    """A target that cannot be used; the message says why and what to write instead."""


@dataclass(frozen=True, slots=True)
class MysqlTarget:
    """A server to connect to: a Unix socket, or a host and port."""

    socket: str | None = None
    """The Unix socket's path; None for TCP."""
    host: str = ""
    port: int = DEFAULT_PORT
    user: str | None = None
    """The user named in a ``mysql://user@host`` URL."""

    @property
    def tcp(self) -> bool:
        return self.socket is None

    @property
    def shown(self) -> str:
        """The target as lamptop writes it (cleaned: a path or a name may hold anything)."""
        if self.socket is not None:
            return clean(f"unix:{self.socket}")
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        return clean(f"mysql://{user}{host}:{self.port}")

    @property
    def where(self) -> str:
        """The socket path, or ``host:port``, for messages."""
        if self.socket is not None:
            return clean(self.socket)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return clean(f"{host}:{self.port}")


def _quoted(text: str) -> str:
    return bound(clean(mask_secrets(text)), 200)


def parse_target(text: str) -> MysqlTarget:
    """``unix:PATH``, an absolute socket path, or ``mysql://[user@]host[:port]``.

    Raises :class:`TargetError` for anything else, and for a password in the URL.
    """
    given = text.strip()
    if not given:
        raise TargetError("the MySQL target is empty: give unix:/path/to/mysqld.sock")
    if given.startswith("unix:") or given.startswith("/"):
        path = given.removeprefix("unix:").removeprefix("//")
        if not path.startswith("/"):
            raise TargetError(
                f"MySQL target {_quoted(given)}: the socket path must be absolute "
                f"(unix:{DEFAULT_SOCKET})"
            )
        if "\x00" in path:
            raise TargetError(f"MySQL target {_quoted(given)}: a NUL byte in the socket path")
        return MysqlTarget(socket=path)
    if not given.lower().startswith("mysql://"):
        raise TargetError(
            f"MySQL target {_quoted(given)}: not understood; write "
            f"unix:{DEFAULT_SOCKET} or mysql://user@host:{DEFAULT_PORT}"
        )
    netloc = given[len("mysql://") :].split("/", 1)[0].split("?", 1)[0]
    if "@" in netloc and ":" in netloc.rsplit("@", 1)[0]:
        raise TargetError(
            "a password in the MySQL target is refused: it would be visible to every user in "
            f"`ps` and shown on screen; put it in {PASSWORD_PLACES}"
        )
    try:
        parts = urlsplit(given)
        port = parts.port
    except ValueError as exc:
        raise TargetError(f"MySQL target {_quoted(given)}: {exc}") from None
    rest = parts.path.strip("/") or parts.query or parts.fragment
    if rest:
        raise TargetError(
            f"MySQL target {_quoted(given)}: a database or options are not used; "
            f"write mysql://user@host:{DEFAULT_PORT}"
        )
    host = parts.hostname or ""
    if not host:
        raise TargetError(f"MySQL target {_quoted(given)}: no host; write mysql://user@host:3306")
    user = unquote(parts.username) if parts.username else None
    return MysqlTarget(host=host, port=port or DEFAULT_PORT, user=user or None)
